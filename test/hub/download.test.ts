import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RwdaError } from '../../src/errors.ts';
import { pullModel } from '../../src/clip/hub/index.ts';
import { readManifest } from '../../src/clip/hub/cache.ts';
import { assertLoopback, fakeBytes, gitBlobSha1, sha256Hex, startFakeHub, useHubEnv, type FakeFile, type FakeHub, type HubTestEnv } from '../helpers/fake_hub.ts';

const REPO = 'timm/vit_base_patch16_plus_clip_240.laion400m_e31';
const SLUG = 'timm--vit_base_patch16_plus_clip_240.laion400m_e31';
const NAME = 'ViT-B-16-plus-240';
const WEIGHTS = 'open_clip_model.safetensors';

function files(): Record<string, FakeFile> {
  return {
    'open_clip_config.json': { data: Buffer.from(JSON.stringify({ model_cfg: { embed_dim: 640 } }) + '\n') },
    [WEIGHTS]: { data: fakeBytes(300_000, 'weights') },
    'vocab.json': { data: fakeBytes(20_000, 'vocab') },
    'merges.txt': { data: fakeBytes(9_000, 'merges') },
  };
}

/** Runs `fn` against a fresh fake hub and temp cache; HF_ENDPOINT is asserted loopback first. */
async function withHub(
  opts: { repos?: Record<string, Record<string, FakeFile>>; privateRepos?: Record<string, string>; separateCdn?: boolean; redirectLoop?: boolean },
  fn: (hub: FakeHub, env: HubTestEnv, src: Record<string, FakeFile>) => Promise<void>,
): Promise<void> {
  const src = files();
  const hub = await startFakeHub({ repos: opts.repos ?? { [REPO]: src }, privateRepos: opts.privateRepos, separateCdn: opts.separateCdn, redirectLoop: opts.redirectLoop });
  const env = useHubEnv(hub.endpoint);
  try {
    assertLoopback(process.env.HF_ENDPOINT);
    await fn(hub, env, src);
  } finally {
    env.restore();
    await hub.close();
  }
}

function assertIntact(dir: string, src: Record<string, FakeFile>): void {
  for (const [name, f] of Object.entries(src)) assert.ok(readFileSync(join(dir, name)).equals(f.data), `${name} differs from the served bytes`);
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.incomplete')), [], 'no partial files left');
}

test('clean download: redirects followed, checksums verified, manifest written, then served from cache', async () => {
  await withHub({}, async (hub, env, src) => {
    const r = await pullModel(NAME, { quiet: true });
    assert.equal(r.source, 'downloaded');
    assert.equal(r.dir, join(env.cacheDir, SLUG));
    assert.equal(r.commit, hub.commit);
    assertIntact(r.dir, src);
    const m = readManifest(r.dir)!;
    assert.equal(m.complete, true);
    assert.equal(m.repo, REPO);
    assert.equal(m.revision, 'main');
    assert.equal(m.endpoint, hub.endpoint);
    for (const f of m.files) {
      assert.equal(f.size, src[f.name].data.length);
      assert.equal(f.sha256, sha256Hex(src[f.name].data));
      // LFS weights: sha256 from X-Linked-Etag; git files: blob sha1 from ETag.
      assert.equal(f.verified, f.name === WEIGHTS ? 'sha256' : 'git-sha1');
    }
    // The weights go hub 302 → relative /api/cdn/... on the same origin, no Range on a fresh file.
    const weightsHops = hub.log.filter((e) => e.path.includes(WEIGHTS) || e.path.startsWith('/api/cdn/'));
    assert.deepEqual(weightsHops.map((e) => e.status), [302, 200]);
    assert.ok(hub.log.every((e) => e.range === undefined && e.authorization === undefined));
    const before = hub.log.length;
    const again = await pullModel(NAME, { quiet: true });
    assert.equal(again.source, 'cache');
    assert.equal(hub.log.length, before, 'a cached model makes no request');
  });
});

test('a connection dropped mid-file is resumed with Range; bytes on disk are not fetched again', async () => {
  await withHub({}, async (hub, _env, src) => {
    hub.behavior.set(`${REPO}/${WEIGHTS}`, { dropAfter: 98_304 });
    const r = await pullModel(NAME, { quiet: true });
    assertIntact(r.dir, src);
    const bodies = hub.bodyRequests(REPO, WEIGHTS);
    assert.equal(bodies.length, 2);
    assert.equal(bodies[0].range, undefined);
    assert.equal(bodies[0].bytesSent, 98_304);
    assert.equal(bodies[1].range, 'bytes=98304-');
    assert.equal(bodies[1].status, 206);
    assert.equal(bodies[1].bytesSent, 300_000 - 98_304);
  });
});

test('with retries off, a drop fails clearly and keeps the partial file; the next pull resumes it', async () => {
  await withHub({}, async (hub, env, src) => {
    hub.behavior.set(`${REPO}/vocab.json`, { dropAfter: 16_384 });
    const dir = join(env.cacheDir, SLUG);
    await assert.rejects(pullModel(NAME, { quiet: true, retries: 0 }), (err: Error) => {
      assert.ok(err instanceof RwdaError);
      assert.match(err.message, /'vocab\.json' of timm\/vit_base_patch16_plus_clip_240\.laion400m_e31/);
      assert.match(err.message, /vocab\.json\.incomplete is kept/);
      return true;
    });
    assert.equal(statSync(join(dir, 'vocab.json.incomplete')).size, 16_384);
    // The config (first in the list) finished and is recorded in the interrupted manifest.
    assert.equal(readManifest(dir)?.complete, false);
    const configFetches = hub.bodyRequests(REPO, 'open_clip_config.json').length;
    const r = await pullModel(NAME, { quiet: true });
    assertIntact(r.dir, src);
    const bodies = hub.bodyRequests(REPO, 'vocab.json');
    assert.deepEqual(bodies.map((b) => b.range), [undefined, 'bytes=16384-']);
    assert.equal(bodies[1].bytesSent, 20_000 - 16_384);
    assert.equal(hub.bodyRequests(REPO, 'open_clip_config.json').length, configFetches, 'finished files are not fetched again');
  });
});

test('a server that ignores Range (200) restarts the file from byte 0', async () => {
  await withHub({}, async (hub, env, src) => {
    const dir = join(env.cacheDir, SLUG);
    mkdirSync(dir, { recursive: true });
    // Garbage in the partial file must not survive a restart.
    writeFileSync(join(dir, `${WEIGHTS}.incomplete`), Buffer.alloc(1000, 7));
    hub.behavior.set(`${REPO}/${WEIGHTS}`, { ignoreRange: true });
    const r = await pullModel(NAME, { quiet: true });
    assertIntact(r.dir, src);
    const [body] = hub.bodyRequests(REPO, WEIGHTS);
    assert.equal(body.range, 'bytes=1000-');
    assert.equal(body.status, 200);
    assert.equal(body.bytesSent, 300_000);
  });
});

test('416 for a partial file that already holds every byte: verified and kept, nothing re-sent', async () => {
  await withHub({}, async (hub, env, src) => {
    const dir = join(env.cacheDir, SLUG);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${WEIGHTS}.incomplete`), src[WEIGHTS].data);
    const r = await pullModel(NAME, { quiet: true });
    assertIntact(r.dir, src);
    const [body] = hub.bodyRequests(REPO, WEIGHTS);
    assert.equal(body.status, 416);
    assert.equal(body.bytesSent, 0);
    assert.equal(readManifest(dir)!.files.find((f) => f.name === WEIGHTS)!.verified, 'sha256');
  });
});

test('a checksum mismatch removes the file and says which file, repo and digests', async () => {
  const src = files();
  const wrong = sha256Hex(Buffer.from('something else'));
  src[WEIGHTS] = { ...src[WEIGHTS], etag: wrong };
  await withHub({ repos: { [REPO]: src } }, async (_hub, env) => {
    const dir = join(env.cacheDir, SLUG);
    await assert.rejects(pullModel(NAME, { quiet: true }), (err: Error) => {
      assert.ok(err instanceof RwdaError);
      assert.match(err.message, /checksum mismatch for 'open_clip_model\.safetensors' of timm\/vit_base_patch16_plus_clip_240\.laion400m_e31/);
      assert.ok(err.message.includes(wrong), 'names the expected sha256');
      assert.ok(err.message.includes(sha256Hex(src[WEIGHTS].data)), 'names the actual sha256');
      assert.match(err.message, /the file was removed/);
      return true;
    });
    assert.equal(existsSync(join(dir, WEIGHTS)), false);
    assert.equal(existsSync(join(dir, `${WEIGHTS}.incomplete`)), false);
    assert.equal(readManifest(dir)?.complete, false);
  });
});

test('a git file whose blob sha1 does not match its ETag is rejected too', async () => {
  const src = files();
  src['vocab.json'] = { ...src['vocab.json'], etag: gitBlobSha1(Buffer.from('other')) };
  await withHub({ repos: { [REPO]: src } }, async () => {
    await assert.rejects(pullModel(NAME, { quiet: true }), /checksum mismatch for 'vocab\.json'.*git-sha1/);
  });
});

test('401 without a token names HF_TOKEN; with HF_TOKEN it works and the token never reaches the CDN origin', async () => {
  await withHub({ privateRepos: { [REPO]: 'hf_secret' }, separateCdn: true }, async (hub, _env, src) => {
    await assert.rejects(pullModel(NAME, { quiet: true }), (err: Error) => {
      assert.ok(err instanceof RwdaError);
      assert.match(err.message, /timm\/vit_base_patch16_plus_clip_240\.laion400m_e31/);
      assert.match(err.message, /needs a Hugging Face token \(set HF_TOKEN\)/);
      assert.match(err.message, /HTTP 401/);
      return true;
    });
    process.env.HF_TOKEN = 'hf_wrong';
    await assert.rejects(pullModel(NAME, { quiet: true }), /refused with the token from HF_TOKEN/);
    process.env.HF_TOKEN = 'hf_secret';
    hub.log.length = 0;
    const r = await pullModel(NAME, { quiet: true });
    assertIntact(r.dir, src);
    const hubReqs = hub.log.filter((e) => e.server === 'hub');
    const cdnReqs = hub.log.filter((e) => e.server === 'cdn');
    assert.equal(hubReqs.length, 4);
    assert.ok(hubReqs.every((e) => e.authorization === 'Bearer hf_secret'));
    assert.equal(cdnReqs.length, 1, 'the weights came from the other origin');
    assert.equal(cdnReqs[0].authorization, undefined);
  });
});

test('404: an unknown file names file and repo; an unknown repo says so', async () => {
  const partial = files();
  delete partial['merges.txt'];
  await withHub({ repos: { 'acme/tiny-clip': partial } }, async () => {
    await assert.rejects(pullModel('hf-hub:acme/tiny-clip', { quiet: true }), (err: Error) => {
      assert.ok(err instanceof RwdaError);
      assert.match(err.message, /file 'merges\.txt' of acme\/tiny-clip \(revision main\) not found/);
      assert.match(err.message, /HTTP 404 EntryNotFound/);
      return true;
    });
    await assert.rejects(pullModel('hf-hub:acme/nothing-here', { quiet: true }), /repository acme\/nothing-here not found/);
  });
});

test('a stalled server times out with an error naming the URL, keeps the partial file, and a later pull resumes', async () => {
  await withHub({}, async (hub, env, src) => {
    hub.behavior.set(`${REPO}/${WEIGHTS}`, { stallAfter: 32_768 });
    const t0 = Date.now();
    await assert.rejects(pullModel(NAME, { quiet: true, timeoutMs: 300 }), (err: Error) => {
      assert.ok(err instanceof RwdaError);
      assert.match(err.message, /stalled: no data from http:\/\/127\.0\.0\.1:\d+\/api\/cdn\/[0-9a-f]{64}/);
      assert.match(err.message, /0\.3 s/);
      assert.match(err.message, /RWDA_DOWNLOAD_TIMEOUT/);
      return true;
    });
    assert.ok(Date.now() - t0 < 5000, 'the stall is detected quickly');
    const part = join(env.cacheDir, SLUG, `${WEIGHTS}.incomplete`);
    assert.equal(statSync(part).size, 32_768);
    hub.behavior.delete(`${REPO}/${WEIGHTS}`);
    process.env.RWDA_DOWNLOAD_TIMEOUT = '5';
    const r = await pullModel(NAME, { quiet: true });
    assertIntact(r.dir, src);
    assert.equal(hub.bodyRequests(REPO, WEIGHTS).at(-1)!.range, 'bytes=32768-');
  });
});

test('redirects are capped', async () => {
  await withHub({ redirectLoop: true }, async (hub) => {
    await assert.rejects(pullModel(NAME, { quiet: true }), /too many redirects \(more than 10\)/);
    assert.equal(hub.log.length, 11);
  });
});

test('bad HF_ENDPOINT and RWDA_DOWNLOAD_TIMEOUT values are named in the error', async () => {
  await withHub({}, async () => {
    process.env.RWDA_DOWNLOAD_TIMEOUT = 'soon';
    await assert.rejects(pullModel(NAME, { quiet: true }), /RWDA_DOWNLOAD_TIMEOUT: expected a positive number of seconds, got "soon"/);
    delete process.env.RWDA_DOWNLOAD_TIMEOUT;
    await assert.rejects(pullModel(NAME, { quiet: true, endpoint: 'ftp://127.0.0.1/' }), /endpoint: must be an http\(s\) URL/);
  });
});
