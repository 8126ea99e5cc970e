import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.ts';
import { assertLoopback, fakeBytes, startFakeHub, useHubEnv, type FakeFile } from '../helpers/fake_hub.ts';

const REPO = 'timm/vit_base_patch16_plus_clip_240.laion400m_e31';

function rwda(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  assertLoopback(process.env.HF_ENDPOINT);
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(REPO_ROOT, 'bin/rwda.js'), ...args], { cwd: REPO_ROOT, env: { ...process.env } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

test('rwda model pull / list / rm against the loopback hub', async () => {
  const src: Record<string, FakeFile> = {
    'open_clip_config.json': { data: Buffer.from('{"model_cfg": {}}\n') },
    'open_clip_model.safetensors': { data: fakeBytes(200_000, 'cli-weights') },
    'vocab.json': { data: fakeBytes(5_000, 'cli-vocab') },
    'merges.txt': { data: fakeBytes(5_000, 'cli-merges') },
  };
  const hub = await startFakeHub({ repos: { [REPO]: src } });
  const env = useHubEnv(hub.endpoint);
  try {
    const offline = await rwda(['model', 'pull', '--offline']);
    assert.equal(offline.code, 1);
    assert.match(offline.err, /^rwda: model 'ViT-B-16-plus-240:laion400m_e31' is not cached and offline mode is on/);
    assert.match(offline.err, /`rwda model pull ViT-B-16-plus-240`/);
    assert.equal(hub.log.length, 0);

    const pull = await rwda(['model', 'pull', '--quiet']);
    assert.equal(pull.code, 0, pull.err);
    const r = JSON.parse(pull.out);
    assert.equal(r.source, 'downloaded');
    assert.equal(r.name, 'ViT-B-16-plus-240:laion400m_e31');
    assert.equal(r.dir, join(env.cacheDir, 'timm--vit_base_patch16_plus_clip_240.laion400m_e31'));
    assert.ok(readFileSync(join(r.dir, 'open_clip_model.safetensors')).equals(src['open_clip_model.safetensors'].data));

    const again = await rwda(['model', 'pull', 'ViT-B-16-plus-240:laion400m_e31', '--offline']);
    assert.equal(again.code, 0, again.err);
    assert.equal(JSON.parse(again.out).source, 'cache');

    const list = await rwda(['model', 'list']);
    assert.equal(list.code, 0, list.err);
    const rows = list.out.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.length, 1);
    assert.equal(rows[0].source, 'downloaded');
    assert.equal(rows[0].complete, true);
    assert.ok(rows[0].sizeBytes >= 210_000);

    const tbl = await rwda(['model', 'list', '--format', 'table']);
    assert.match(tbl.out, /^NAME\s+SOURCE\s+SIZE\s+STATE\s+DIR\n/);
    assert.match(tbl.out, /ViT-B-16-plus-240:laion400m_e31\s+downloaded\s+\d+\.\d KiB\s+complete\s+\//);

    const avail = await rwda(['model', 'list', '--available']);
    const def = avail.out.trim().split('\n').map((l) => JSON.parse(l)).find((x) => x.default && x.name.startsWith('ViT-B-16-plus-240'));
    assert.equal(def.cached, 'downloaded');

    const rm = await rwda(['model', 'rm', 'ViT-B-16-plus-240']);
    assert.equal(rm.code, 0, rm.err);
    assert.deepEqual(JSON.parse(rm.out), { removed: r.dir, name: 'ViT-B-16-plus-240:laion400m_e31' });
    assert.equal(existsSync(r.dir), false);
    const rm2 = await rwda(['model', 'rm', 'ViT-B-16-plus-240']);
    assert.equal(rm2.code, 1);
    assert.match(rm2.err, /^rwda: model 'ViT-B-16-plus-240' is not in the rwda cache/);

    const bad = await rwda(['model', 'pull', '--timeout', 'never']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /^rwda: --timeout must be a positive number of seconds/);
  } finally {
    env.restore();
    await hub.close();
  }
});
