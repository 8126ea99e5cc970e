import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPENCLIP_FIXTURES } from '../helpers/paths.ts';
import { builtinModelConfig, loadModelDirConfig, resolveClipConfig } from '../../src/clip/config.ts';
import { clipParameterCount, expectedClipKeys, openClipWeights } from '../../src/clip/checkpoint.ts';
import { SafetensorsFile, writeSafetensors, type TensorToWrite } from '../../src/clip/safetensors.ts';
import { RwdaError } from '../../src/errors.ts';

interface KeysJson {
  model_cfg: unknown;
  preprocess_cfg: unknown;
  parameter_count: number;
  num_keys: number;
  keys: Array<{ name: string; shape: number[] }>;
}
const keysJson = JSON.parse(readFileSync(join(OPENCLIP_FIXTURES, 'ViT-B-16-plus-240.keys.json'), 'utf8')) as KeysJson;

test('expectedClipKeys equals open_clip state_dict of ViT-B-16-plus-240 (order, shapes, count)', () => {
  const cfg = resolveClipConfig(keysJson.model_cfg, keysJson.preprocess_cfg, 'keys.json');
  const keys = expectedClipKeys(cfg);
  assert.deepEqual(
    [...keys.entries()].map(([name, shape]) => ({ name, shape })),
    keysJson.keys.map((k) => ({ name: k.name, shape: k.shape })),
  );
  assert.equal(keys.size, keysJson.num_keys);
  assert.equal(clipParameterCount(cfg), keysJson.parameter_count);
  // The bundled config resolves to the same architecture.
  assert.equal(clipParameterCount(builtinModelConfig('ViT-B-16-plus-240')), keysJson.parameter_count);
});

for (const [name, params] of [['tiny-gelu', 2549169], ['tiny-quickgelu', 3684225]] as const) {
  test(`expectedClipKeys matches the ${name} fixture safetensors exactly`, () => {
    const dir = join(OPENCLIP_FIXTURES, name);
    const cfg = loadModelDirConfig(dir);
    const f = SafetensorsFile.open(join(dir, 'open_clip_model.safetensors'));
    try {
      const keys = expectedClipKeys(cfg);
      assert.deepEqual(f.keys(), [...keys.keys()].sort());
      for (const [k, shape] of keys) assert.deepEqual(f.info(k).shape, shape, k);
      assert.equal(clipParameterCount(cfg), params);
    } finally {
      f.close();
    }
    const w = openClipWeights(join(dir, 'open_clip_model.safetensors'), cfg);
    try {
      assert.deepEqual(w.extraKeys, []);
      assert.deepEqual(w.warnings, []);
      w.checkAll();
      // logit_scale was drawn as ln(1/0.07) + 0.25·N: finite and near 2.66.
      const ls = w.get('logit_scale');
      assert.equal(ls.length, 1);
      assert.ok(Math.abs(ls[0]! - Math.log(1 / 0.07)) < 1.5);
    } finally {
      w.close();
    }
  });
}

/** Writes a complete random checkpoint for `cfg` with optional edits. */
function writeCheckpoint(path: string, cfg: ReturnType<typeof loadModelDirConfig>, edit?: (t: TensorToWrite[]) => void): void {
  const list: TensorToWrite[] = [];
  for (const [name, shape] of expectedClipKeys(cfg)) {
    const n = shape.reduce((a, d) => a * d, 1);
    list.push({ name, shape, data: Float32Array.from({ length: n }, (_, i) => Math.sin(i + name.length)) });
  }
  edit?.(list);
  writeSafetensors(path, list);
}

test('openClipWeights reports every missing key and wrong shape in one message, and extra keys as warnings', () => {
  const cfg = loadModelDirConfig(join(OPENCLIP_FIXTURES, 'tiny-gelu'));
  const dir = mkdtempSync(join(tmpdir(), 'rwda-ckpt-'));
  try {
    const bad = join(dir, 'bad.safetensors');
    writeCheckpoint(bad, cfg, (list) => {
      const drop = new Set(['visual.proj', 'transformer.resblocks.1.mlp.c_fc.bias']);
      for (let i = list.length - 1; i >= 0; i--) if (drop.has(list[i]!.name)) list.splice(i, 1);
      const t = list.find((x) => x.name === 'visual.conv1.weight')!;
      t.shape = [64, 3, 4, 4];
      t.data = new Float32Array(64 * 3 * 16);
    });
    assert.throws(
      () => openClipWeights(bad, cfg),
      (err: unknown) => {
        assert.ok(err instanceof RwdaError);
        assert.match(err.message, /bad\.safetensors/);
        assert.match(err.message, /3 problem/);
        assert.match(err.message, /missing 'visual\.proj' \(expected shape \[64, 32\]\)/);
        assert.match(err.message, /missing 'transformer\.resblocks\.1\.mlp\.c_fc\.bias'/);
        assert.match(err.message, /'visual\.conv1\.weight' has shape \[64, 3, 4, 4\], expected \[64, 3, 8, 8\]/);
        return true;
      },
    );

    const extra = join(dir, 'extra.safetensors');
    writeCheckpoint(extra, cfg, (list) => list.push({ name: 'visual.attn_pool.weight', shape: [2], data: new Float32Array(2) }));
    const w = openClipWeights(extra, cfg);
    try {
      assert.deepEqual(w.extraKeys, ['visual.attn_pool.weight']);
      assert.match(w.warnings.join('\n'), /1 tensor\(s\) not used .*visual\.attn_pool\.weight/);
      assert.throws(() => w.get('visual.attn_pool.weight'), /not a weight of this model config/);
    } finally {
      w.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('openClipWeights caps a long problem list', () => {
  const cfg = builtinModelConfig('ViT-B-32');
  const dir = mkdtempSync(join(tmpdir(), 'rwda-ckpt-'));
  try {
    const p = join(dir, 'empty.safetensors');
    writeSafetensors(p, [{ name: 'logit_scale', shape: [], data: new Float32Array(1) }]);
    assert.throws(() => openClipWeights(p, cfg), (err: unknown) => {
      assert.ok(err instanceof RwdaError);
      assert.match(err.message, /\(ViT-B-32\): 301 problem\(s\)/);
      assert.match(err.message, /\.\.\. and 281 more/);
      assert.equal(err.message.split('\n').length, 22);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('openClipWeights rejects NaN and Inf naming the key', () => {
  const cfg = loadModelDirConfig(join(OPENCLIP_FIXTURES, 'tiny-gelu'));
  const dir = mkdtempSync(join(tmpdir(), 'rwda-ckpt-'));
  try {
    for (const [bad, label] of [[NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity']] as const) {
      const p = join(dir, `${label}.safetensors`);
      writeCheckpoint(p, cfg, (list) => {
        const t = list.find((x) => x.name === 'transformer.resblocks.0.attn.in_proj_weight')!;
        const d = (t.data as Float32Array).slice();
        d[777] = bad;
        t.data = d;
      });
      const w = openClipWeights(p, cfg);
      try {
        assert.ok(w.get('visual.proj').length > 0);
        assert.throws(() => w.get('transformer.resblocks.0.attn.in_proj_weight'),
          new RegExp(`tensor 'transformer\\.resblocks\\.0\\.attn\\.in_proj_weight' holds a non-finite value \\(${label.replace('-', '\\-')}\\) at flat index 777`));
        assert.throws(() => w.checkAll(), /in_proj_weight' holds a non-finite/);
      } finally {
        w.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
