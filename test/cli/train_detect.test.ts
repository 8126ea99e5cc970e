// `rwda train` and `rwda detect` end to end on the tiny fixture models (child processes, RWDA_HOME
// and --cache in a temp folder): reproducible training, text and image caches, output formats,
// non-images and unreadable images, refusals (other backbone, missing or corrupt detector), and
// the cached default detector.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AD_SAMPLES, OPENCLIP_FIXTURES, REPO_ROOT } from '../helpers/paths.ts';

const TMP = mkdtempSync(join(tmpdir(), 'rwda-train-detect-'));
const HOME = join(TMP, 'home');
const CACHE = join(TMP, 'cache.sqlite');
after(() => rmSync(TMP, { recursive: true, force: true }));

/** A model folder as rwda expects it: config, weights (a symlink into the read-only fixtures, as in hub snapshots), vocab. */
function modelFolder(name: 'tiny-gelu' | 'tiny-quickgelu'): string {
  const dir = join(TMP, name);
  mkdirSync(dir);
  copyFileSync(join(OPENCLIP_FIXTURES, name, 'open_clip_config.json'), join(dir, 'open_clip_config.json'));
  symlinkSync(join(OPENCLIP_FIXTURES, name, 'open_clip_model.safetensors'), join(dir, 'open_clip_model.safetensors'));
  for (const f of ['vocab.json', 'merges.txt']) copyFileSync(join(OPENCLIP_FIXTURES, 'hf-tokenizer', f), join(dir, f));
  return dir;
}
const GELU = modelFolder('tiny-gelu');
const QUICK = modelFolder('tiny-quickgelu');

// Inputs: the fixture images (a folder with .bin/.json files beside them), the hazelnut samples,
// and a folder with a note and a broken PNG.
const IMAGES = join(OPENCLIP_FIXTURES, 'images');
const HAZELNUT = join(AD_SAMPLES, 'hazelnut_toy');
const MIXED = join(TMP, 'mixed');
mkdirSync(join(MIXED, 'sub'), { recursive: true });
cpSync(join(IMAGES, 'rgb_64x48.png'), join(MIXED, 'sub', 'ok.png'));
writeFileSync(join(MIXED, 'notes.txt'), 'not an image');
writeFileSync(join(MIXED, 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\ntruncated'));
const N_FIXTURE = 8;
const N_HAZELNUT = 12;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function rwda(args: string[]): Run {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/rwda.js'), ...args], {
    encoding: 'utf8',
    cwd: TMP,
    env: { ...process.env, RWDA_HOME: HOME, HF_HUB_OFFLINE: '1' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function jsonLines(s: string): Array<Record<string, any>> {
  return s.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

const DET = join(TMP, 'det-gelu');

test('train: JSON summary, detector folder, same seed → identical weights, second run reads every prompt from the cache', () => {
  const a = rwda(['train', '--model', GELU, '--out', DET, '--pairs', '200', '--seed', '11', '--cache', CACHE]);
  assert.equal(a.status, 0, a.stderr);
  const [sa] = jsonLines(a.stdout);
  assert.equal(sa!.detector, DET);
  assert.equal(sa!.backbone, 'tiny-gelu');
  assert.match(sa!.fingerprint, /^[0-9a-f]{64}$/);
  assert.equal(sa!.pairs, 200);
  assert.equal(sa!.seed, 11);
  assert.equal(sa!.steps, 8); // 2 epochs × ceil(200 / 64)
  assert.ok(Number.isFinite(sa!.finalLoss) && sa!.finalLoss > 0);
  assert.deepEqual([sa!.textsEncoded, sa!.textsCached], [400, 0]);
  assert.deepEqual(Object.keys(sa!.seconds).sort(), ['embed', 'load', 'total', 'train']);

  const b = rwda(['train', '--model', GELU, '--out', 'det-gelu-2', '--pairs', '200', '--seed', '11', '--cache', CACHE]);
  assert.equal(b.status, 0, b.stderr);
  const [sb] = jsonLines(b.stdout);
  assert.equal(sb!.detector, join(TMP, 'det-gelu-2'), 'a relative --out resolves against the working directory');
  assert.deepEqual([sb!.textsEncoded, sb!.textsCached], [0, 400]);
  assert.deepEqual(readFileSync(join(TMP, 'det-gelu-2', 'fnn.safetensors')), readFileSync(join(DET, 'fnn.safetensors')));
  assert.equal(sb!.finalLoss, sa!.finalLoss);
  const meta = JSON.parse(readFileSync(join(DET, 'detector.json'), 'utf8'));
  assert.deepEqual(meta.fnn.hidden, [512, 256, 128]);
  assert.equal(meta.prompts.pairs, 200);

  const bad = rwda(['train', '--model', GELU, '--out', join(TMP, 'x'), '--hidden', '64,zero', '--cache', CACHE]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^rwda: --hidden must be comma-separated positive integers/);
});

test('detect: JSON lines for every image, non-images skipped with a count, a broken image reported (exit 2), image cache reused', () => {
  const args = ['detect', '--model', GELU, '--detector', DET, '--cache', CACHE, '--format', 'json', IMAGES, HAZELNUT, MIXED];
  const r = rwda(args);
  assert.equal(r.status, 2, r.stderr);
  const rows = jsonLines(r.stdout);
  assert.equal(rows.length, N_FIXTURE + N_HAZELNUT + 1);
  assert.deepEqual(rows.slice(0, N_FIXTURE).map((x) => x.file), [
    ...['gray_41x32.png', 'palette_80x60.png', 'photo_300x200.jpg', 'rgb_17x23.png', 'rgb_48x48.png', 'rgb_64x48.png', 'rgb_98x96.png', 'rgba_31x97.png'].map((f) => join(IMAGES, f)),
  ]);
  assert.equal(rows.at(-1)!.file, join(MIXED, 'sub', 'ok.png'));
  for (const x of rows) {
    assert.deepEqual(Object.keys(x), ['file', 's_clip', 's_fnn', 's']);
    for (const k of ['s_clip', 's_fnn', 's']) assert.ok(x[k] >= 0 && x[k] <= 1, `${x.file} ${k} = ${x[k]}`);
    assert.equal(x.s, (x.s_clip + x.s_fnn) / 2);
  }
  // The same pixels under two names score the same.
  assert.deepEqual({ ...rows.at(-1), file: '' }, { ...rows[5], file: '' });
  assert.match(r.stderr, /warning: .*images: skipped 9 non-image file\(s\)/);
  assert.match(r.stderr, /warning: .*mixed: skipped 1 non-image file\(s\): .*notes\.txt/);
  assert.match(r.stderr, /broken\.png/);
  // ok.png has the bytes of rgb_64x48.png, scored in an earlier chunk: its view comes from the cache.
  assert.match(r.stderr, new RegExp(`scored ${rows.length} image\\(s\\) in [0-9.]+ s; image views: ${rows.length - 1} encoded, 1 from cache`));
  assert.match(r.stderr, new RegExp(`rwda: 1 of ${rows.length + 1} image\\(s\\) could not be scored`));

  const again = rwda(args);
  assert.equal(again.status, 2);
  assert.equal(again.stdout, r.stdout);
  assert.match(again.stderr, new RegExp(`image views: 0 encoded, ${rows.length} from cache`));

  // A clean run exits 0; the table has aligned columns.
  const t = rwda(['detect', '--model', GELU, '--detector', DET, '--cache', CACHE, join(IMAGES, 'rgb_17x23.png'), join(HAZELNUT, 'hazelnut', 'good')]);
  assert.equal(t.status, 0, t.stderr);
  const lines = t.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 1 + 1 + 4);
  assert.match(lines[0]!, /^file +s_clip +s_fnn +s$/);
  assert.ok(lines.every((l) => l.length === lines[0]!.length));
  const last = lines.at(-1)!.trim().split(/ +/);
  assert.equal(last[0], join(HAZELNUT, 'hazelnut', 'good', '03.jpg'));
  const byFile = new Map(rows.map((x) => [x.file, x]));
  assert.equal(last[3], byFile.get(last[0]!)!.s.toFixed(6));
});

test('detect --crops grid --object --format csv: header, 14 views per image from the cache on a rerun', () => {
  const files = [join(IMAGES, 'photo_300x200.jpg'), join(HAZELNUT, 'hazelnut', 'colour', '00.jpg')];
  const r = rwda(['detect', '--model', GELU, '--detector', DET, '--cache', CACHE, '--crops', 'grid', '--object', 'hazelnut', '--format', 'csv', ...files]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'file,s_clip,s_fnn,s');
  assert.equal(lines.length, 3);
  for (const [i, line] of lines.slice(1).entries()) {
    const [file, ...nums] = line.split(',');
    assert.equal(file, files[i]);
    for (const v of nums.map(Number)) assert.ok(v >= 0 && v <= 1);
  }
  // Standard views were cached by the earlier run; the 13 crops per image are new.
  assert.match(r.stderr, /image views: 26 encoded, 2 from cache/);
  const plain = jsonLines(rwda(['detect', '--model', GELU, '--detector', DET, '--cache', CACHE, '--object', 'hazelnut', '--format', 'json', ...files]).stdout);
  const grid = lines.slice(1).map((l) => l.split(',').map(Number));
  assert.notEqual(grid[0]![2], plain[0]!.s_fnn, 'multi-crop changes the scores');
});

test('detect refuses a detector of another backbone, a missing detector and a corrupt detector.json (exit 1)', () => {
  const fp = JSON.parse(readFileSync(join(DET, 'detector.json'), 'utf8')).backbone.fingerprint as string;
  const img = join(IMAGES, 'rgb_48x48.png');
  const other = rwda(['detect', '--model', QUICK, '--detector', DET, '--cache', CACHE, img]);
  assert.equal(other.status, 1);
  assert.equal(other.stdout, '');
  assert.match(other.stderr, new RegExp(`^rwda: detector ${DET} was trained for backbone tiny-gelu \\(fingerprint ${fp}\\), but the model ${QUICK} has fingerprint [0-9a-f]{64}`));
  assert.doesNotMatch(other.stderr, /\n\s+at /, 'no stack trace');

  const missing = rwda(['detect', '--model', GELU, '--detector', join(TMP, 'no-such-detector'), '--cache', CACHE, img]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^rwda: detector not found: .*no-such-detector/);

  const corrupt = join(TMP, 'det-corrupt');
  cpSync(DET, corrupt, { recursive: true });
  writeFileSync(join(corrupt, 'detector.json'), '{"format":');
  const c = rwda(['detect', '--model', GELU, '--detector', corrupt, '--cache', CACHE, img]);
  assert.equal(c.status, 1);
  assert.match(c.stderr, /^rwda: .*det-corrupt[/]detector\.json: not valid JSON/);

  const nothing = rwda(['detect', '--model', GELU, '--detector', DET, '--cache', CACHE, join(TMP, 'missing-folder')]);
  assert.equal(nothing.status, 1);
  assert.match(nothing.stderr, /^rwda: no such file or folder: .*missing-folder/);
});

test('detect without --detector trains the default detector once under $RWDA_HOME/detectors and reuses it', () => {
  const args = ['detect', '--model', GELU, '--pairs', '200', '--cache', CACHE, '--format', 'json', join(HAZELNUT, 'hazelnut', 'good')];
  const first = rwda(args);
  assert.equal(first.status, 0, first.stderr);
  const m = /no default detector yet; training it into (\S+)/.exec(first.stderr);
  assert.ok(m, first.stderr);
  assert.ok(m![1]!.startsWith(join(HOME, 'detectors') + '/'));
  const meta = JSON.parse(readFileSync(join(m![1]!, 'detector.json'), 'utf8'));
  assert.equal(meta.prompts.pairs, 200);
  assert.equal(meta.prompts.seed, 0);
  assert.ok(m![1]!.includes(meta.backbone.fingerprint));
  const second = rwda(args);
  assert.equal(second.status, 0, second.stderr);
  assert.doesNotMatch(second.stderr, /training/);
  assert.match(second.stderr, /using the default detector /);
  assert.equal(second.stdout, first.stdout);
  assert.equal(jsonLines(first.stdout).length, 4);
  const both = rwda(['detect', '--model', GELU, '--detector', DET, '--pairs', '5', join(IMAGES, 'rgb_48x48.png')]);
  assert.equal(both.status, 1);
  assert.match(both.stderr, /cannot be combined with --detector/);
});
