// Graph-level exactness: our ONNX text and vision towers against open_clip goldens, for both tiny
// models, with the fast kernel set and the standard-op reference set, external and inline weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { openClipWeights } from '../../src/clip/checkpoint.ts';
import { loadModelDirConfig } from '../../src/clip/config.ts';
import { buildTextGraph } from '../../src/clip/onnx/text_graph.ts';
import { buildVisionBlocksGraph, buildVisionGraph } from '../../src/clip/onnx/vision_graph.ts';
import { createSession } from '../../src/clip/onnx/session.ts';
import { DEFAULT_KERNELS, REFERENCE_KERNELS, type KernelOptions } from '../../src/clip/onnx/transformer.ts';
import { TextTower } from '../../src/clip/text_tower.ts';
import { assertClose, f32, loadGoldens, modelDir, minRowCosine, TINY_MODELS, TOL, type TinyModel } from './towers_goldens.ts';

const VARIANTS: Array<{ label: string; kernels: KernelOptions; weightMode: 'external' | 'inline' }> = [
  { label: 'fast kernels, external weights', kernels: DEFAULT_KERNELS, weightMode: 'external' },
  { label: 'reference ops, inline weights', kernels: REFERENCE_KERNELS, weightMode: 'inline' },
  { label: 'unfused q/k/v, external weights', kernels: { ...DEFAULT_KERNELS, fusedQkv: false }, weightMode: 'external' },
];

function setup(name: TinyModel) {
  const g = loadGoldens(name);
  const cfg = loadModelDirConfig(modelDir(name));
  const weights = openClipWeights(join(modelDir(name), 'open_clip_model.safetensors'), cfg);
  return { g, cfg, weights };
}

const idsTensor = (rows: number[][], L: number) => new ort.Tensor('int32', Int32Array.from(rows.flatMap((r) => r.slice(0, L))), [rows.length, L]);

for (const name of TINY_MODELS) {
  for (const v of VARIANTS) {
    test(`${name} text graph (${v.label}): features, dynamic length, debug activations`, async () => {
      const { g, cfg, weights } = setup(name);
      const graphOpts = { source: weights.file, read: weights.get, kernels: v.kernels, weightMode: v.weightMode };
      // The normal graph pools before the last block's query side; the debug graph runs every row.
      const session = await createSession(buildTextGraph(cfg, graphOpts));
      const debug = await createSession(buildTextGraph(cfg, { ...graphOpts, debug: true }));
      try {
        const ids = g.text.ids;
        const expected = f32(g, g.text.features);
        const padded = (await session.run({ input_ids: idsTensor(ids, 77) })).text_features!.data as Float32Array;
        assertClose(padded, expected, TOL.features, 'text features (77 tokens)');
        assert.ok(minRowCosine(padded, expected, cfg.embedDim) >= TOL.cosine);

        // Rows cut to the longest EOT of the batch (here 2 short prompts) give the padded result.
        const short = [0, 1].map((i) => ids[i]!);
        const L = Math.max(g.text.eot_index[0]!, g.text.eot_index[1]!) + 1;
        assert.ok(L < 20, 'expected short prompts at indices 0 and 1');
        const cut = (await session.run({ input_ids: idsTensor(short, L) })).text_features!.data as Float32Array;
        assertClose(cut, padded.subarray(0, 2 * cfg.embedDim), TOL.dynamicVsPadded, `text features cut to ${L} tokens vs 77`);

        const full = (await debug.run({ input_ids: idsTensor(ids, 77) })).text_features!.data as Float32Array;
        assertClose(full, expected, TOL.features, 'text features (debug graph, every row through the last block)');

        const k = g.debug_activations.text_prompt_index;
        const one = await debug.run({ input_ids: idsTensor([ids[k]!], 77) });
        for (const [key, entry] of Object.entries(g.debug_activations.tensors)) {
          if (!key.startsWith('text.')) continue;
          assertClose(one[key]!.data as Float32Array, f32(g, entry), TOL.features, `debug ${key}`);
        }
      } finally {
        await session.release();
        await debug.release();
        weights.close();
      }
    });

    test(`${name} vision graph (${v.label}): features, patch tokens, debug activations`, async () => {
      const { g, cfg, weights } = setup(name);
      const built = buildVisionGraph(cfg, { source: weights.file, read: weights.get, kernels: v.kernels, weightMode: v.weightMode, debug: true });
      const session = await createSession(built);
      try {
        const px = g.pixels.input;
        const pixels = f32(g, px);
        const out = await session.run({ pixels: new ort.Tensor('float32', pixels, px.shape) });
        const feats = out.image_features!.data as Float32Array;
        assertClose(feats, f32(g, g.pixels.features), TOL.features, 'image features');
        assert.ok(minRowCosine(feats, f32(g, g.pixels.features), cfg.embedDim) >= TOL.cosine);
        assert.deepEqual(out.patch_tokens!.dims, g.pixels.patch_tokens.shape);
        assertClose(out.patch_tokens!.data as Float32Array, f32(g, g.pixels.patch_tokens), TOL.features, 'patch tokens');

        const k = g.debug_activations.pixel_index;
        const per = pixels.length / px.shape[0]!;
        const one = await session.run({ pixels: new ort.Tensor('float32', pixels.slice(k * per, (k + 1) * per), [1, ...px.shape.slice(1)]) });
        for (const [key, entry] of Object.entries(g.debug_activations.tensors)) {
          if (!key.startsWith('image.')) continue;
          assertClose(one[key]!.data as Float32Array, f32(g, entry), TOL.features, `debug ${key}`);
        }
      } finally {
        await session.release();
        weights.close();
      }
    });
  }

  test(`${name} TextTower: sorted batching returns rows in input order; padded equals dynamic`, async () => {
    const { g, cfg, weights } = setup(name);
    const tower = await TextTower.create(cfg, { source: weights.file, read: weights.get });
    try {
      // Repeat and shuffle the 8 prompts so batches of 3 mix lengths and cross batch boundaries.
      const order = [5, 0, 7, 7, 2, 1, 6, 3, 4, 0, 5];
      const rows = order.map((i) => g.text.ids[i]!);
      const E = cfg.embedDim;
      const expected = f32(g, g.text.features);
      const progress: number[] = [];
      const got = await tower.encodeIds(rows, { batchSize: 3, onProgress: (d) => progress.push(d) });
      assert.deepEqual(progress, [3, 6, 9, 11]);
      order.forEach((src, i) => assertClose(got.subarray(i * E, (i + 1) * E), expected.subarray(src * E, (src + 1) * E), TOL.features, `row ${i} (prompt ${src})`));
      const padded = await tower.encodeIds(rows, { batchSize: 3, padToContext: true });
      assertClose(got, padded, TOL.dynamicVsPadded, 'dynamic vs padded-77');
      // Rows given without their zero padding are the same rows.
      const trimmed = rows.map((r, i) => r.slice(0, g.text.eot_index[order[i]!]! + 1));
      assertClose(await tower.encodeIds(trimmed), got, TOL.dynamicVsPadded, 'trimmed rows');
      await assert.rejects(tower.encodeIds([[49406, 49408]]), /outside the vocabulary/);
      await assert.rejects(tower.encodeIds([new Array(78).fill(1)]), /expected 1\.\.77/);
    } finally {
      await tower.dispose();
      weights.close();
    }
    await assert.rejects(tower.encodeIds([[49406, 49407]]), /disposed/);
  });
}

for (const name of TINY_MODELS) {
  test(`${name} vision halves: embedded tokens through the blocks-only graph give the full tower's outputs`, async () => {
    const { g, cfg, weights } = setup(name);
    const opts = { source: weights.file, read: weights.get };
    const full = await createSession(buildVisionGraph(cfg, { ...opts, debug: true }));
    const blocks = await createSession(buildVisionBlocksGraph(cfg, opts));
    try {
      const px = g.pixels.input;
      const out = await full.run({ pixels: new ort.Tensor('float32', f32(g, px), px.shape) });
      const emb = out['image.embeddings']!;
      const r = await blocks.run({ tokens: emb });
      assertClose(r.image_features!.data as Float32Array, f32(g, g.pixels.features), TOL.features, 'features via blocks graph');
      const T = cfg.vision.numTokens;
      const W = cfg.vision.width;
      const toks = r.tokens_out!.data as Float32Array;
      const patches = f32(g, g.pixels.patch_tokens);
      for (let i = 0; i < px.shape[0]!; i++) {
        assertClose(toks.subarray((i * T + 1) * W, (i + 1) * T * W), patches.subarray(i * (T - 1) * W, (i + 1) * (T - 1) * W), TOL.features, `image ${i} patch tokens via blocks graph`);
      }
      // Any token count runs: class token + the first 3 patches (a window), batch of one.
      const sub = (emb.data as Float32Array).slice(0, 4 * W);
      const r4 = await blocks.run({ tokens: new ort.Tensor('float32', sub, [1, 4, W]) });
      assert.deepEqual(r4.tokens_out!.dims, [1, 4, W]);
      assert.deepEqual(r4.image_features!.dims, [1, cfg.embedDim]);
    } finally {
      await full.release();
      await blocks.release();
      weights.close();
    }
  });
}
