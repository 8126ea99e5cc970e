// `rwda detect --method clip|rwda|winclip [--reference …] [--maps DIR]` end to end on the winclip-tiny
// fixture model (child processes, RWDA_HOME and --cache in a temp folder): WinCLIP and WinCLIP+ image
// scores and maps against anomalib's goldens on the fixture's own photos (the goldens' pixels come
// from those files through open_clip's transform), the reference cache, the few-shot rwda fusion,
// and the reference errors and warnings.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPENCLIP_FIXTURES, REPO_ROOT, SHARED } from '../helpers/paths.ts';

const WINCLIP = join(SHARED, 'fixtures', 'winclip', 'winclip-tiny');
const TMP = mkdtempSync(join(tmpdir(), 'rwda-detect-methods-'));
const HOME = join(TMP, 'home');
const CACHE = join(TMP, 'cache.sqlite');
after(() => rmSync(TMP, { recursive: true, force: true }));

const MODEL = join(TMP, 'winclip-tiny');
mkdirSync(MODEL);
copyFileSync(join(WINCLIP, 'open_clip_config.json'), join(MODEL, 'open_clip_config.json'));
symlinkSync(join(WINCLIP, 'open_clip_model.safetensors'), join(MODEL, 'open_clip_model.safetensors'));
for (const f of ['vocab.json', 'merges.txt']) copyFileSync(join(OPENCLIP_FIXTURES, 'hf-tokenizer', f), join(MODEL, f));

interface Golden {
  pixels: { items: Array<{ index: number; source: string }> };
  cases: Array<{
    name: string;
    reference_indices: number[];
    query_indices: number[];
    results: Array<{ query_index: number; pred_score: number; anomaly_map?: { file: string; shape: number[] } }>;
  }>;
}
const G = JSON.parse(readFileSync(join(WINCLIP, 'goldens.json'), 'utf8')) as Golden;
const source = (i: number): string => join(SHARED, G.pixels.items[i]!.source);
const kase = (name: string) => G.cases.find((c) => c.name === name)!;
// Query 7 is torch.randn pixels, not a file: the CLI checks the photos.
const photos = (c: ReturnType<typeof kase>) => c.results.filter((r) => r.query_index !== 7);

function rwda(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/rwda.js'), ...args, '--model', MODEL, '--cache', CACHE, '--quiet'], {
    encoding: 'utf8',
    cwd: TMP,
    env: { ...process.env, RWDA_HOME: HOME, HF_HUB_OFFLINE: '1' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
function rows(stdout: string): Array<Record<string, any>> {
  return stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}
function f32(file: string): Float32Array {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
/** The float32 values of a 2-D C-order .npy written by rwda, with its shape. */
function npy(file: string): { shape: number[]; data: Float32Array } {
  const b = readFileSync(file);
  const hlen = b.readUInt16LE(8);
  const header = b.subarray(10, 10 + hlen).toString('latin1');
  assert.match(header, /'descr': '<f4'/);
  assert.match(header, /'fortran_order': False/);
  const shape = [...header.match(/'shape': \(([^)]*)\)/)![1]!.matchAll(/\d+/g)].map((m) => Number(m[0]));
  const body = b.subarray(10 + hlen);
  return { shape, data: new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)) };
}
function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('winclip zero-shot: s of every photo equals anomalib pred_score within 1e-4 (hazelnut, candle)', () => {
  for (const [name, object] of [['zero_shot_hazelnut', 'hazelnut'], ['zero_shot_candle', 'candle']] as const) {
    const c = kase(name);
    const qs = photos(c);
    const r = rwda(['detect', '--method', 'winclip', '--object', object, '--format', 'json', ...qs.map((q) => source(q.query_index))]);
    assert.equal(r.status, 0, r.stderr);
    const out = rows(r.stdout);
    assert.equal(out.length, qs.length);
    qs.forEach((q, k) => {
      assert.ok(Math.abs(out[k]!.s - q.pred_score) <= 1e-4, `${name} query ${q.query_index}: s ${out[k]!.s} vs ${q.pred_score}`);
      assert.equal(typeof out[k]!.s_zero_shot, 'number');
    });
  }
});

test('winclip 4-shot with --maps: s and the first query’s 240×240 map equal anomalib’s within 1e-4; overlay PNG written', () => {
  const c = kase('four_shot_hazelnut');
  const qs = photos(c);
  const maps = join(TMP, 'maps4');
  const args = ['detect', '--method', 'winclip', '--object', 'hazelnut', '--format', 'json', '--maps', maps];
  for (const i of c.reference_indices) args.push('--reference', source(i));
  const r = rwda([...args, ...qs.map((q) => source(q.query_index))]);
  assert.equal(r.status, 0, r.stderr);
  const out = rows(r.stdout);
  qs.forEach((q, k) => assert.ok(Math.abs(out[k]!.s - q.pred_score) <= 1e-4, `query ${q.query_index}: s ${out[k]!.s} vs ${q.pred_score}`));
  assert.ok(out.every((o) => typeof o.s_few_shot === 'number'));
  const first = qs[0]!;
  const golden = f32(join(WINCLIP, first.anomaly_map!.file));
  const name = G.pixels.items[first.query_index]!.source.split('/').pop()!.replace(/\.[^.]+$/, '');
  const m = npy(join(maps, `${name}.npy`));
  assert.deepEqual(m.shape, [240, 240]);
  const d = maxAbs(m.data, golden);
  assert.ok(d <= 1e-4, `anomaly map max |Δ| ${d}`);
  const png = readFileSync(join(maps, `${name}.png`));
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
});

test('references are encoded once: a second few-shot run reads all of them from the cache', () => {
  const c = kase('two_shot_hazelnut');
  const args = ['detect', '--method', 'winclip', '--object', 'hazelnut', '--format', 'json'];
  for (const i of c.reference_indices) args.push('--reference', source(i));
  const q = photos(c)[0]!;
  const first = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/rwda.js'), ...args, source(q.query_index), '--model', MODEL, '--cache', CACHE], {
    encoding: 'utf8',
    env: { ...process.env, RWDA_HOME: HOME, HF_HUB_OFFLINE: '1' },
  });
  assert.equal(first.status, 0, first.stderr);
  const again = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/rwda.js'), ...args, source(q.query_index), '--model', MODEL, '--cache', CACHE], {
    encoding: 'utf8',
    env: { ...process.env, RWDA_HOME: HOME, HF_HUB_OFFLINE: '1' },
  });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /reference memory: 2 image\(s\), 0 encoded, 2 from cache/);
  assert.ok(Math.abs(rows(again.stdout)[0]!.s - q.pred_score) <= 1e-4);
});

test('clip: one component s_clip, equal to s and to the s_clip of rwda on the same images', () => {
  const files = [source(4), source(6)];
  const clip = rwda(['detect', '--method', 'clip', '--format', 'json', ...files]);
  assert.equal(clip.status, 0, clip.stderr);
  const ours = rwda(['detect', '--format', 'json', '--pairs', '64', ...files]);
  assert.equal(ours.status, 0, ours.stderr);
  const a = rows(clip.stdout);
  const b = rows(ours.stdout);
  assert.deepEqual(Object.keys(a[0]!), ['file', 's_clip', 's']);
  assert.deepEqual(Object.keys(b[0]!), ['file', 's_clip', 's_fnn', 's']);
  a.forEach((r, k) => {
    assert.equal(r.s, r.s_clip);
    assert.equal(r.s_clip, b[k]!.s_clip);
  });
});

test('rwda few-shot: s = (s_zero_shot + s_ref) / 2, s_zero_shot = (s_clip + s_fnn) / 2, s_ref = WinCLIP+’s few-shot score', () => {
  const c = kase('one_shot_hazelnut');
  const files = photos(c).map((q) => source(q.query_index));
  const r = rwda(['detect', '--format', 'json', '--pairs', '64', '--object', 'hazelnut', '--reference', source(c.reference_indices[0]!), ...files]);
  assert.equal(r.status, 0, r.stderr);
  const w = rwda(['detect', '--method', 'winclip', '--format', 'json', '--object', 'hazelnut', '--reference', source(c.reference_indices[0]!), ...files]);
  const win = rows(w.stdout);
  rows(r.stdout).forEach((o, k) => {
    assert.deepEqual(Object.keys(o), ['file', 's_clip', 's_fnn', 's_zero_shot', 's_ref', 's']);
    assert.ok(Math.abs(o.s_zero_shot - (o.s_clip + o.s_fnn) / 2) < 1e-12);
    assert.ok(Math.abs(o.s - (o.s_zero_shot + o.s_ref) / 2) < 1e-12);
    assert.ok(Math.abs(o.s_ref - win[k]!.s_few_shot) < 1e-6, 's_ref is the WinCLIP+ few-shot score');
  });
});

test('reference errors: an unreadable reference stops the command naming it; none found is an error; a reference that is also a query warns', () => {
  const bad = join(TMP, 'bad.png');
  writeFileSync(bad, 'not a png');
  const r1 = rwda(['detect', '--method', 'winclip', '--reference', source(0), '--reference', bad, source(4)]);
  assert.equal(r1.status, 1);
  assert.match(r1.stderr, /bad\.png/);
  assert.equal(r1.stdout, '');
  const empty = join(TMP, 'empty');
  mkdirSync(empty);
  const r2 = rwda(['detect', '--method', 'winclip', '--reference', empty, source(4)]);
  assert.equal(r2.status, 1);
  assert.match(r2.stderr, /no reference images found/);
  const r3 = rwda(['detect', '--method', 'winclip', '--format', 'json', '--reference', source(0), source(0), source(4)]);
  assert.equal(r3.status, 0, r3.stderr);
  assert.match(r3.stderr, /00\.jpg is also a reference image/);
  assert.ok(!existsSync(join(TMP, 'nothing')));
});

test('--method names an unknown id: the error lists the registry', () => {
  const r = rwda(['detect', '--method', 'patchcore', source(4)]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /unknown method 'patchcore' \(known: rwda, clip, winclip\)/);
});
