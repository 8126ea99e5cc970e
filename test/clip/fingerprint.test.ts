import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPENCLIP_FIXTURES } from '../helpers/paths.ts';
import { backboneFingerprint, canonicalJson, fileSha256, weightsSha256 } from '../../src/clip/fingerprint.ts';

const TINY = join(OPENCLIP_FIXTURES, 'tiny-gelu');

function withTmp(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'rwda-fp-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('canonicalJson sorts keys at every level and drops undefined', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: null }], c: 'x' }, u: undefined }), '{"a":{"c":"x","d":[1,{"y":null,"z":0}]},"b":1}');
});

test('weightsSha256 equals the sha256 of the bytes, and is cached by (realpath, size, mtime)', () => {
  withTmp((dir) => {
    const cacheDir = join(dir, 'cache');
    const w = join(dir, 'w.safetensors');
    copyFileSync(join(TINY, 'open_clip_model.safetensors'), w);
    const truth = createHash('sha256').update(readFileSync(w)).digest('hex');
    assert.equal(fileSha256(w), truth);
    assert.equal(weightsSha256(w, { cacheDir }), truth);
    const entries = readdirSync(cacheDir);
    assert.equal(entries.length, 1);
    // Prove the cache is consulted: a doctored entry is returned as long as size and mtime match.
    const entryPath = join(cacheDir, entries[0]!);
    const entry = JSON.parse(readFileSync(entryPath, 'utf8')) as { sha256: string; size: number };
    assert.equal(entry.size, readFileSync(w).length);
    writeFileSync(entryPath, JSON.stringify({ ...entry, sha256: '0'.repeat(64) }));
    assert.equal(weightsSha256(w, { cacheDir }), '0'.repeat(64));
    // A new mtime makes the entry stale: recomputed and rewritten.
    utimesSync(w, new Date(), new Date(Date.now() + 5000));
    assert.equal(weightsSha256(w, { cacheDir }), truth);
    assert.equal((JSON.parse(readFileSync(entryPath, 'utf8')) as { sha256: string }).sha256, truth);
    // Changed bytes (and size) change the hash.
    appendFileSync(w, 'x');
    assert.notEqual(weightsSha256(w, { cacheDir }), truth);
    // A corrupt cache entry is ignored.
    writeFileSync(entryPath, '{not json');
    assert.equal(weightsSha256(w, { cacheDir }), createHash('sha256').update(readFileSync(w)).digest('hex'));
  });
});

test('backboneFingerprint depends on config and weights, not on the name, key order or path', () => {
  withTmp((dir) => {
    const cacheDir = join(dir, 'cache');
    const fp = backboneFingerprint(TINY, { cacheDir });
    assert.match(fp, /^[0-9a-f]{64}$/);
    assert.equal(backboneFingerprint({ configPath: join(TINY, 'open_clip_config.json'), weightsPath: join(TINY, 'open_clip_model.safetensors') }, { cacheDir }), fp);

    const cfg = JSON.parse(readFileSync(join(TINY, 'open_clip_config.json'), 'utf8')) as { model_cfg: Record<string, unknown>; preprocess_cfg: unknown };
    const put = (obj: unknown) => {
      writeFileSync(join(dir, 'cfg.json'), JSON.stringify(obj));
      return backboneFingerprint({ configPath: join(dir, 'cfg.json'), weightsPath: join(TINY, 'open_clip_model.safetensors') }, { cacheDir });
    };
    // Reordered keys, a model_name and explicit defaults resolve to the same config.
    const reordered = { model_name: 'renamed', preprocess_cfg: cfg.preprocess_cfg, model_cfg: { text_cfg: cfg.model_cfg.text_cfg, quick_gelu: false, vision_cfg: cfg.model_cfg.vision_cfg, embed_dim: 32 } };
    assert.equal(put(reordered), fp);
    assert.notEqual(put({ ...cfg, model_cfg: { ...cfg.model_cfg, quick_gelu: true } }), fp);
    assert.notEqual(put({ ...cfg, preprocess_cfg: { ...(cfg.preprocess_cfg as object), resize_mode: 'squash' } }), fp);
    assert.notEqual(backboneFingerprint({ configPath: join(TINY, 'open_clip_config.json'), weightsPath: join(OPENCLIP_FIXTURES, 'tiny-quickgelu', 'open_clip_model.safetensors') }, { cacheDir }), fp);
  });
});
