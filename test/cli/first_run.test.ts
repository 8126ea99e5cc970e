// Issue "Model hub", part 5 "First run": `rwda detect ./images` with no other flag pulls the default
// model (ViT-B-16-plus-240:laion400m_e31) from the hub, trains and caches the default detector, and
// prints scores. The hub is the loopback fake (test/helpers/fake_hub.ts) serving the tiny-gelu
// fixture model under the default model's repository name, with the hub's headers (git-blob ETags
// for small files, a 302 with X-Linked-Etag sha256 for the LFS weights); HF_ENDPOINT points at it,
// RWDA_HOME and HF_HOME at temp folders. The default detector is the real one (10,000 pairs): on the
// tiny model that takes a few seconds, so no shortcut is needed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPENCLIP_FIXTURES, REPO_ROOT } from '../helpers/paths.ts';
import { assertLoopback, gitBlobSha1, sha256Hex, startFakeHub, type FakeFile, type FakeHub } from '../helpers/fake_hub.ts';

const REPO = 'timm/vit_base_patch16_plus_clip_240.laion400m_e31';
const SLUG = 'timm--vit_base_patch16_plus_clip_240.laion400m_e31';
const NAME = 'ViT-B-16-plus-240:laion400m_e31';
const WEIGHTS = 'open_clip_model.safetensors';
const FILES = ['open_clip_config.json', WEIGHTS, 'vocab.json', 'merges.txt'];
const IMAGE_NAMES = ['gray_41x32.png', 'palette_80x60.png', 'photo_300x200.jpg', 'rgb_17x23.png', 'rgb_48x48.png', 'rgb_64x48.png', 'rgb_98x96.png', 'rgba_31x97.png'];

const TMP = mkdtempSync(join(tmpdir(), 'rwda-first-run-'));

/** The tiny-gelu model's four files, as the hub would hold them. */
function modelFiles(): Record<string, Buffer> {
  const folder = (f: string) => (f.startsWith('open_clip_') ? 'tiny-gelu' : 'hf-tokenizer');
  return Object.fromEntries(FILES.map((f) => [f, readFileSync(join(OPENCLIP_FIXTURES, folder(f), f))]));
}
const MODEL = modelFiles();

// The user's folder: `./images` below the working directory.
mkdirSync(join(TMP, 'images'));
for (const f of IMAGE_NAMES) copyFileSync(join(OPENCLIP_FIXTURES, 'images', f), join(TMP, 'images', f));

let hub: FakeHub;
before(async () => {
  const repo: Record<string, FakeFile> = Object.fromEntries(FILES.map((f) => [f, { data: MODEL[f]! }]));
  hub = await startFakeHub({ repos: { [REPO]: repo } });
});
after(async () => {
  await hub?.close();
  rmSync(TMP, { recursive: true, force: true });
});

// Every variable the hub, cache and method code read; the child sees only what a test sets.
const CLEARED = ['HF_ENDPOINT', 'HF_TOKEN', 'HF_HUB_OFFLINE', 'HF_HOME', 'HF_HUB_CACHE', 'XDG_CACHE_HOME', 'RWDA_HOME', 'RWDA_DOWNLOAD_TIMEOUT'];

/** A fresh user: empty rwda and huggingface_hub caches under `name`, the fake hub as HF_ENDPOINT. */
function userEnv(name: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of CLEARED) delete env[k];
  Object.assign(env, {
    HF_ENDPOINT: hub.endpoint,
    RWDA_HOME: join(TMP, name, 'rwda'),
    HF_HOME: join(TMP, name, 'hf'),
    XDG_CACHE_HOME: join(TMP, name, 'xdg'),
    ...extra,
  });
  assertLoopback(env.HF_ENDPOINT);
  return env;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node bin/rwda.js ...args` in TMP (asynchronous: the fake hub answers from this process). */
function rwda(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(REPO_ROOT, 'bin/rwda.js'), ...args], { cwd: TMP, env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface Row {
  file: string;
  sClip: number;
  sFnn: number;
  s: number;
}

/** Parses the default table output, checking its header and the score ranges. */
function tableRows(stdout: string): Row[] {
  const lines = stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^file +s_clip +s_fnn +s$/);
  return lines.slice(1).map((line) => {
    const cells = line.trim().split(/ +/);
    assert.equal(cells.length, 4, line);
    const [file, ...nums] = cells;
    const [sClip, sFnn, s] = nums.map(Number) as [number, number, number];
    for (const v of [sClip, sFnn, s]) assert.ok(v >= 0 && v <= 1, `${line}: score outside [0, 1]`);
    // s = (s_clip + s_fnn) / 2, each printed to 6 decimals.
    assert.ok(Math.abs(s - (sClip + sFnn) / 2) <= 1.5e-6, `${line}: s is not the mean of s_clip and s_fnn`);
    return { file: file!, sClip, sFnn, s };
  });
}

const EXPECTED_FILES = IMAGE_NAMES.map((f) => join('images', f));
/** The user of the first and second runs (their caches persist between the two). */
const USER = 'user';
let firstStdout = '';
let detectorDir = '';

test('first run: `rwda detect ./images` pulls the default model once, trains the default detector, prints a score row per image', async () => {
  const env = userEnv(USER);
  const r = await rwda(['detect', './images'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  const rows = tableRows(r.stdout);
  assert.deepEqual(rows.map((x) => x.file), EXPECTED_FILES);
  firstStdout = r.stdout;

  // Each of the four files was requested once from the hub; the weights went through the LFS
  // redirect to the CDN path, so there is exactly one extra request (5 in all).
  for (const f of FILES) {
    const resolveHits = hub.log.filter((e) => e.server === 'hub' && e.path === `/${REPO}/resolve/main/${f}`);
    assert.equal(resolveHits.length, 1, `${f}: resolve requests`);
    assert.equal(resolveHits[0]!.status, f === WEIGHTS ? 302 : 200, `${f}: status`);
    const bodies = hub.bodyRequests(REPO, f);
    assert.equal(bodies.length, 1, `${f}: body requests`);
    assert.equal(bodies[0]!.status, 200);
    assert.equal(bodies[0]!.bytesSent, MODEL[f]!.length);
  }
  assert.equal(hub.log.length, FILES.length + 1, hub.log.map((e) => `${e.status} ${e.path}`).join('\n'));
  assert.ok(hub.log.every((e) => e.authorization === undefined), 'no token sent when HF_TOKEN is unset');

  // The model landed in rwda's cache, byte-identical and verified against the hub's checksums.
  const modelDir = join(env.RWDA_HOME!, 'models', SLUG);
  for (const f of FILES) assert.ok(readFileSync(join(modelDir, f)).equals(MODEL[f]!), `${f} differs from the hub's`);
  const manifest = JSON.parse(readFileSync(join(modelDir, 'rwda-manifest.json'), 'utf8'));
  assert.equal(manifest.complete, true);
  assert.equal(manifest.name, NAME);
  assert.equal(manifest.commit, hub.commit);
  assert.deepEqual(
    Object.fromEntries(manifest.files.map((f: { name: string; verified: string; sha256: string }) => [f.name, [f.verified, f.sha256]])),
    Object.fromEntries(FILES.map((f) => [f, [f === WEIGHTS ? 'sha256' : 'git-sha1', sha256Hex(MODEL[f]!)]])),
  );

  // The default detector: the paper's 10,000 pairs (20,000 prompts encoded), under $RWDA_HOME/detectors.
  const m = /no default detector yet; training it into (\S+)/.exec(r.stderr);
  assert.ok(m, r.stderr);
  detectorDir = m[1]!;
  assert.equal(join(detectorDir, '..'), join(env.RWDA_HOME!, 'detectors'));
  const meta = JSON.parse(readFileSync(join(detectorDir, 'detector.json'), 'utf8'));
  assert.equal(meta.backbone.name, NAME);
  assert.equal(meta.prompts.pairs, 10_000);
  assert.equal(meta.prompts.seed, 0);
  assert.equal(meta.training.textsEncoded, 20_000);
  assert.ok(existsSync(join(env.RWDA_HOME!, 'cache.sqlite')), 'the embedding cache defaults to $RWDA_HOME/cache.sqlite');
  assert.match(r.stderr, /scored 8 image\(s\)/);
});

test('the scores of the no-flag run equal those of the explicit model folder and detector', async () => {
  assert.ok(detectorDir, 'needs the first-run test');
  // The same four files as a plain folder (copies: see the snapshot test below for symlinks).
  const dir = join(TMP, 'explicit-model');
  mkdirSync(dir);
  for (const f of FILES) writeFileSync(join(dir, f), MODEL[f]!);
  const r = await rwda(['detect', '--model', dir, '--detector', detectorDir, '--no-cache', './images'], userEnv('explicit', { HF_HUB_OFFLINE: '1' }));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, firstStdout);
});

test('second run: no request to the hub, the default detector is reused (not retrained), identical scores', async () => {
  assert.ok(detectorDir, 'needs the first-run test');
  const requests = hub.log.length;
  const stamp = (f: string) => statSync(join(detectorDir, f)).mtimeMs;
  const before = { json: stamp('detector.json'), fnn: stamp('fnn.safetensors'), listing: readdirSync(join(detectorDir, '..')) };
  const r = await rwda(['detect', './images'], userEnv(USER));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(hub.log.length, requests, `new requests: ${hub.log.slice(requests).map((e) => e.path).join(', ')}`);
  assert.equal(r.stdout, firstStdout);
  assert.doesNotMatch(r.stderr, /training/);
  assert.ok(r.stderr.includes(`using the default detector ${detectorDir}\n`), r.stderr);
  assert.deepEqual({ json: stamp('detector.json'), fnn: stamp('fnn.safetensors'), listing: readdirSync(join(detectorDir, '..')) }, before);
  // The image embeddings of the first run are reused too.
  assert.match(r.stderr, /image views: 0 encoded, 8 from cache/);
});

test('tokenize and embed take the default model by name too: the cached copy, no request', async () => {
  assert.ok(firstStdout, 'needs the first-run test');
  const before = hub.log.length;
  const tok = await rwda(['tokenize', '--', 'a photo of a damaged object'], userEnv(USER));
  assert.equal(tok.code, 0, tok.stderr);
  const { ids } = JSON.parse(tok.stdout.trim()) as { ids: number[] };
  assert.equal(ids.length, 77);
  assert.equal(ids[0], 49406);
  const emb = await rwda(['embed', 'text', '--model', NAME, '--normalize', '--', 'a photo of a damaged object'], userEnv(USER));
  assert.equal(emb.code, 0, emb.stderr);
  const { embedding } = JSON.parse(emb.stdout.trim()) as { embedding: number[] };
  assert.equal(embedding.length, 32, 'tiny-gelu embed_dim');
  assert.ok(Math.abs(Math.hypot(...embedding) - 1) < 1e-5);
  assert.equal(hub.log.length, before, 'no request: the model is cached');
});

test('offline with empty caches: a clear error naming the missing file and `rwda model pull`, no request', async () => {
  const requests = hub.log.length;
  const env = userEnv('offline', { HF_HUB_OFFLINE: '1' });
  const r = await rwda(['detect', './images'], env);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^rwda: model 'ViT-B-16-plus-240:laion400m_e31' is not cached and offline mode is on/);
  assert.ok(r.stderr.includes(`'open_clip_config.json' of ${REPO} is in neither ${join(env.RWDA_HOME!, 'models', SLUG)} nor the huggingface_hub cache ${join(env.HF_HOME!, 'hub')}`), r.stderr);
  assert.match(r.stderr, /`rwda model pull ViT-B-16-plus-240`/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, 'one line');
  assert.equal(hub.log.length, requests);
  assert.equal(existsSync(join(env.RWDA_HOME!, 'models', SLUG)), false, 'no empty model folder');
});

/**
 * A huggingface_hub cache as huggingface_hub writes it: blobs named by ETag (sha256 for LFS files,
 * git blob sha1 otherwise), snapshots/<commit>/<file> as relative symlinks into ../../blobs/, and
 * refs/main holding the commit. Returns the snapshot folder.
 */
function hfCache(hubCache: string, commit: string): string {
  const repoDir = join(hubCache, `models--${REPO.split('/').join('--')}`);
  const snap = join(repoDir, 'snapshots', commit);
  mkdirSync(join(repoDir, 'blobs'), { recursive: true });
  mkdirSync(join(repoDir, 'refs'));
  mkdirSync(snap, { recursive: true });
  for (const f of FILES) {
    const etag = f === WEIGHTS ? sha256Hex(MODEL[f]!) : gitBlobSha1(MODEL[f]!);
    writeFileSync(join(repoDir, 'blobs', etag), MODEL[f]!);
    symlinkSync(join('..', '..', 'blobs', etag), join(snap, f));
  }
  writeFileSync(join(repoDir, 'refs', 'main'), commit);
  return snap;
}

function treeState(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => {
      const p = join(e.parentPath ?? e.path, e.name);
      return `${p}:${statSync(p).mtimeMs}`;
    })
    .sort()
    .join('\n');
}

test(
  'a huggingface_hub snapshot (symlinks into ../../blobs) is used in place, offline: scores as from the download',
  async () => {
    assert.ok(firstStdout, 'needs the first-run test');
    const env = userEnv('hf-user', { HF_HUB_OFFLINE: '1' });
    const snap = hfCache(join(env.HF_HOME!, 'hub'), hub.commit);
    const state = treeState(join(env.HF_HOME!, 'hub'));
    const requests = hub.log.length;
    const r = await rwda(['detect', './images'], env);
    assert.equal(r.code, 0, r.stderr);
    // Same bytes and the same default settings: the retrained default detector gives the same scores.
    assert.equal(r.stdout, firstStdout);
    assert.equal(hub.log.length, requests);
    assert.equal(existsSync(join(env.RWDA_HOME!, 'models')), false, 'nothing copied into the rwda cache');
    assert.equal(treeState(join(env.HF_HOME!, 'hub')), state, 'the huggingface_hub cache is untouched');
    assert.ok(existsSync(join(snap, WEIGHTS)));
  },
);
