import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RwdaError } from '../../src/errors.ts';
import { DEFAULT_MODEL, listCachedModels, pullModel, removeCachedModel, resolveModel } from '../../src/clip/hub/index.ts';
import { REPO_ROOT } from '../helpers/paths.ts';
import { assertLoopback, fakeBytes, makeHfSnapshot, startFakeHub, useHubEnv, type FakeFile, type FakeHub, type HubTestEnv } from '../helpers/fake_hub.ts';

const REPO = 'timm/vit_base_patch16_plus_clip_240.laion400m_e31';
const SLUG = 'timm--vit_base_patch16_plus_clip_240.laion400m_e31';
const WEIGHTS = 'open_clip_model.safetensors';

function files(): Record<string, FakeFile> {
  return {
    'open_clip_config.json': { data: Buffer.from('{"model_cfg": {"embed_dim": 640}}\n') },
    [WEIGHTS]: { data: fakeBytes(400_000, 'weights-b') },
    'vocab.json': { data: fakeBytes(12_000, 'vocab-b') },
    'merges.txt': { data: fakeBytes(8_000, 'merges-b') },
  };
}

async function withHub(fn: (hub: FakeHub, env: HubTestEnv, src: Record<string, FakeFile>) => Promise<void>): Promise<void> {
  const src = files();
  const hub = await startFakeHub({ repos: { [REPO]: src } });
  const env = useHubEnv(hub.endpoint);
  try {
    assertLoopback(process.env.HF_ENDPOINT);
    await fn(hub, env, src);
  } finally {
    env.restore();
    await hub.close();
  }
}

const raw = (src: Record<string, FakeFile>) => Object.fromEntries(Object.entries(src).map(([k, v]) => [k, v.data]));

function snapshotState(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => `${join(e.parentPath ?? e.path, e.name)}:${statSync(join(e.parentPath ?? e.path, e.name)).mtimeMs}`)
    .sort()
    .join('\n');
}

test('DEFAULT_MODEL is the paper backbone', () => {
  assert.equal(DEFAULT_MODEL, 'ViT-B-16-plus-240');
});

test('an existing directory is used as is, without any request', async () => {
  await withHub(async (hub, env) => {
    const dir = join(env.root, 'my-model');
    mkdirSync(dir);
    assert.deepEqual(await resolveModel(dir), { dir, source: 'dir' });
    assert.equal(hub.log.length, 0);
  });
});

test('an unknown name is an RwdaError listing the known names', async () => {
  await withHub(async (hub) => {
    await assert.rejects(resolveModel('ViT-Q-99'), (err: Error) => {
      assert.ok(err instanceof RwdaError);
      assert.match(err.message, /unknown model 'ViT-Q-99'/);
      assert.match(err.message, /ViT-B-16-plus-240:laion400m_e31/);
      return true;
    });
    assert.equal(hub.log.length, 0);
  });
});

test('offline without a cached copy: error names the missing file and the pull command; no request', async () => {
  await withHub(async (hub) => {
    await assert.rejects(resolveModel('ViT-B-16-plus-240', { offline: true }), (err: Error) => {
      assert.ok(err instanceof RwdaError);
      assert.match(err.message, /'open_clip_config\.json' of timm\/vit_base_patch16_plus_clip_240\.laion400m_e31/);
      assert.match(err.message, /`rwda model pull ViT-B-16-plus-240`/);
      return true;
    });
    process.env.HF_HUB_OFFLINE = '1';
    await assert.rejects(resolveModel('ViT-B-16-plus-240:laion400m_e31'), /offline mode is on/);
    assert.equal(hub.log.length, 0);
  });
});

test('offline with a cached copy: served from the cache without any request', async () => {
  await withHub(async (hub, env, src) => {
    const pulled = await pullModel('ViT-B-16-plus-240', { quiet: true });
    hub.log.length = 0;
    process.env.HF_HUB_OFFLINE = 'true';
    // The alias resolves to the same repository, hence the same cache folder.
    const r = await resolveModel('ViT-B-16-plus-240:laion400m-e31');
    assert.deepEqual(r, { dir: pulled.dir, name: 'ViT-B-16-plus-240:laion400m_e31', source: 'cache' });
    assert.equal(r.dir, join(env.cacheDir, SLUG));
    assert.ok(readFileSync(join(r.dir, WEIGHTS)).equals(src[WEIGHTS].data));
    assert.equal(hub.log.length, 0);
  });
});

test('a huggingface_hub snapshot holding every file is used in place, read-only, without any request', async () => {
  await withHub(async (hub, env, src) => {
    const snap = makeHfSnapshot(env.hfHubCache, REPO, raw(src));
    const before = snapshotState(env.hfHubCache);
    const r = await resolveModel(DEFAULT_MODEL);
    assert.deepEqual(r, { dir: snap, name: 'ViT-B-16-plus-240:laion400m_e31', source: 'hf-snapshot' });
    // Offline works from the snapshot too, and $HF_HOME/hub is found without $HF_HUB_CACHE.
    delete process.env.HF_HUB_CACHE;
    assert.equal((await resolveModel(DEFAULT_MODEL, { offline: true })).source, 'hf-snapshot');
    assert.equal(hub.log.length, 0);
    assert.equal(snapshotState(env.hfHubCache), before, 'the huggingface_hub cache is untouched');
    assert.equal(existsSync(join(env.cacheDir, SLUG)), false, 'nothing copied into the rwda cache');
    const listed = listCachedModels();
    assert.deepEqual(
      listed.map((m) => [m.name, m.source, m.dir, m.commit, m.sizeBytes]),
      [['ViT-B-16-plus-240:laion400m_e31', 'hf-snapshot', snap, hub.commit, Object.values(src).reduce((n, f) => n + f.data.length, 0)]],
    );
    await assert.rejects(removeCachedModel(DEFAULT_MODEL), /huggingface_hub cache .* which rwda never deletes/);
  });
});

test('a snapshot missing a file is not used: the model is downloaded into the rwda cache', async () => {
  await withHub(async (hub, env, src) => {
    const partial = raw(src);
    delete partial['merges.txt'];
    makeHfSnapshot(env.hfHubCache, REPO, partial);
    const r = await resolveModel(DEFAULT_MODEL, { quiet: true });
    assert.equal(r.source, 'downloaded');
    assert.equal(r.dir, join(env.cacheDir, SLUG));
    assert.ok(hub.log.length > 0);
  });
});

test('list and rm: sizes and origin are reported, rm deletes only the rwda copy', async () => {
  await withHub(async (_hub, env, src) => {
    assert.deepEqual(listCachedModels(), []);
    const r = await pullModel(DEFAULT_MODEL, { quiet: true });
    const [m] = listCachedModels();
    assert.equal(m.name, 'ViT-B-16-plus-240:laion400m_e31');
    assert.equal(m.source, 'downloaded');
    assert.equal(m.complete, true);
    assert.equal(m.repo, REPO);
    const payload = Object.values(src).reduce((n, f) => n + f.data.length, 0);
    // The folder also holds the manifest.
    assert.ok(m.sizeBytes > payload && m.sizeBytes < payload + 4096, `size ${m.sizeBytes}`);
    assert.deepEqual(m.files.sort(), Object.keys(src).sort());
    const removed = await removeCachedModel('ViT-B-16-plus-240');
    assert.deepEqual(removed, { name: 'ViT-B-16-plus-240:laion400m_e31', dir: r.dir });
    assert.equal(existsSync(r.dir), false);
    assert.deepEqual(readdirSync(env.cacheDir), [], 'no lock file left behind');
    await assert.rejects(removeCachedModel('ViT-B-16-plus-240'), /not in the rwda cache/);
  });
});

test('a damaged manifest: pulling says so and names the file; list shows the folder as partial; rm clears it', async () => {
  await withHub(async (_hub, env) => {
    const dir = join(env.cacheDir, SLUG);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'rwda-manifest.json'), '{"format": 1, "repo": ');
    await assert.rejects(resolveModel(DEFAULT_MODEL), (err: Error) => {
      assert.ok(err instanceof RwdaError);
      assert.ok(err.message.startsWith(join(dir, 'rwda-manifest.json') + ': not valid JSON'));
      assert.match(err.message, /rwda model rm/);
      return true;
    });
    assert.deepEqual(listCachedModels().map((m) => [m.name, m.complete]), [[SLUG, false]]);
    assert.equal((await removeCachedModel(SLUG)).dir, dir);
    assert.equal(existsSync(dir), false);
  });
});

function childPull(cacheEnv: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  const index = pathToFileURL(join(REPO_ROOT, 'src/clip/hub/index.ts')).href;
  const code = `import { pullModel } from ${JSON.stringify(index)};\nconst r = await pullModel('ViT-B-16-plus-240');\nconsole.log(JSON.stringify(r));`;
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: REPO_ROOT, env: cacheEnv });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (c) => resolve({ code: c, out, err }));
  });
}

test('two child processes and an in-process pull of the same model end with one intact copy, each file fetched once', async () => {
  await withHub(async (hub, env, src) => {
    // Slow the weights down so the three pulls overlap.
    hub.behavior.set(`${REPO}/${WEIGHTS}`, { chunkDelayMs: 40 });
    const childEnv = { ...process.env };
    assertLoopback(childEnv.HF_ENDPOINT);
    const [a, b, c] = await Promise.all([childPull(childEnv), childPull(childEnv), pullModel(DEFAULT_MODEL, { quiet: true })]);
    for (const r of [a, b]) assert.equal(r.code, 0, r.err);
    // Whoever won the lock, at least one child found it held and waited (not just a late cache hit).
    assert.match(a.err + b.err, /waiting for another rwda process \(pid \d+\) pulling ViT-B-16-plus-240:laion400m_e31/);
    const results = [JSON.parse(a.out), JSON.parse(b.out), c];
    const dir = join(env.cacheDir, SLUG);
    assert.ok(results.every((r) => r.dir === dir));
    assert.deepEqual(results.map((r) => r.source).sort(), ['cache', 'cache', 'downloaded']);
    for (const [name, f] of Object.entries(src)) {
      assert.ok(readFileSync(join(dir, name)).equals(f.data), name);
      assert.equal(hub.bodyRequests(REPO, name).length, 1, `${name} fetched once`);
    }
    assert.deepEqual(readdirSync(dir).sort(), [...Object.keys(src), 'rwda-manifest.json'].sort());
    assert.deepEqual(readdirSync(env.cacheDir), [SLUG], 'the lock is gone');
  });
});
