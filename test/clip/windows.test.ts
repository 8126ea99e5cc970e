// WinCLIP's vision passes against anomalib's goldens (fixtures/winclip/winclip-tiny): window geometry,
// image / window / patch embeddings of every pixel tensor, the few-shot memory batch, the debug
// activations of one image and two windows, and bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { openClipWeights } from '../../src/clip/checkpoint.ts';
import { loadModelDirConfig } from '../../src/clip/config.ts';
import { createSession } from '../../src/clip/onnx/session.ts';
import { DEFAULT_KERNELS, REFERENCE_KERNELS } from '../../src/clip/onnx/transformer.ts';
import { buildWindowGraph, windowOutputName } from '../../src/clip/onnx/window_graph.ts';
import { windowCoverage, windowPatches } from '../../src/clip/windows.ts';
import { RwdaError } from '../../src/errors.ts';
import { ClipModel } from '../../src/index.ts';
import type { Backbone } from '../../src/methods/common/backbone.ts';
import { FIXTURES } from '../helpers/paths.ts';
import { assertClose, concat, minRowCosine, TOL, VOCAB_GZ } from './towers_goldens.ts';

const DIR = join(FIXTURES, 'winclip', 'winclip-tiny');

interface Entry {
  file: string;
  dtype: string;
  shape: number[];
}
type Scaled = Record<string, Entry>;
interface WinGoldens {
  dims: { width: number; embed_dim: number; grid_size: number[]; n_patches: number };
  masks: Record<string, { n_windows: number; windows_per_row: number; patches: number[][]; coverage: number[][] }>;
  pixels: { input: Entry };
  images: { entries: Array<{ index: number; image_embedding: Entry; window_embeddings: Scaled; patch_embeddings: Entry }> };
  cases: Array<{ name: string; k_shot: number; reference_indices: number[]; memory?: { patch_embeddings: Entry; window_embeddings: Scaled } }>;
  debug: {
    pixel_index: number;
    full: Record<string, Entry>;
    windows: Array<{ scale: number; window_index: number; token_indices: number[] } & Record<string, Entry>>;
  };
}

const g = JSON.parse(readFileSync(join(DIR, 'goldens.json'), 'utf8')) as WinGoldens;

function f32(e: Entry): Float32Array {
  assert.equal(e.dtype, 'float32');
  const buf = readFileSync(join(DIR, e.file));
  const out = new Float32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  assert.equal(out.length, e.shape.reduce((a, b) => a * b, 1), `${e.file}: size does not match its shape`);
  return out;
}

const pixels = f32(g.pixels.input);
const PER = 3 * 240 * 240;
const image = (i: number) => pixels.subarray(i * PER, (i + 1) * PER);

/** Embedding tolerance and cosine from the fixture README. */
function assertEmbeddings(actual: Float32Array, expected: Float32Array, dim: number, what: string): void {
  assertClose(actual, expected, TOL.features, what);
  const cos = minRowCosine(actual, expected, dim);
  assert.ok(cos >= TOL.cosine, `${what}: min cosine ${cos} < ${TOL.cosine}`);
}

test('windowPatches and windowCoverage equal anomalib masks (unfold order)', () => {
  const grid = g.dims.grid_size[0]!;
  for (const s of ['2', '3']) {
    const m = g.masks[s]!;
    const w = windowPatches(grid, Number(s));
    assert.equal(w.length, m.n_windows);
    assert.equal(Math.sqrt(w.length), m.windows_per_row);
    assert.deepEqual(w.map((x) => Array.from(x)), m.patches);
    assert.deepEqual(Array.from(windowCoverage(grid, Number(s))), m.coverage.flat());
  }
});

test('encodeWindows: image, window and patch embeddings of every pixel tensor match anomalib', async () => {
  const model = await ClipModel.load(DIR, { vocab: VOCAB_GZ, intraOpNumThreads: 1, towers: 'vision' });
  try {
    const backbone: Backbone = model; // type-checks that ClipModel satisfies the optional method
    assert.equal(typeof backbone.encodeWindows, 'function');
    const E = g.dims.embed_dim;
    const W = g.dims.width;
    // One call over all 8 images, 3 per onnxruntime run (a partial last batch too).
    const out = await model.encodeWindows(pixels, { batchSize: 3 });
    assert.equal(out.length, g.images.entries.length);
    for (const e of g.images.entries) {
      const o = out[e.index]!;
      assert.equal(o.grid, 15);
      assert.equal(o.width, W);
      assert.equal(o.embedDim, E);
      assert.deepEqual(Object.keys(o.windows).sort(), ['2', '3']);
      assertEmbeddings(o.image, f32(e.image_embedding), E, `image ${e.index} embedding`);
      assertEmbeddings(o.patchTokens, f32(e.patch_embeddings), W, `image ${e.index} patch embeddings`);
      for (const s of ['2', '3']) assertEmbeddings(o.windows[Number(s)]!, f32(e.window_embeddings[s]!), E, `image ${e.index} windows s${s}`);
    }
    // The Backbone form (a list of [3, S, S] tensors) and one scale only.
    const [one] = await backbone.encodeWindows!([image(6)], { scales: [3] });
    assert.deepEqual(Object.keys(one!.windows), ['3']);
    assertEmbeddings(one!.windows[3]!, f32(g.images.entries[6]!.window_embeddings['3']!), E, 'image 6 windows s3 (list input, scales [3])');
  } finally {
    await model.dispose();
  }
});

test('encodeWindows: few-shot memory (k references as one batch) matches anomalib', async () => {
  const model = await ClipModel.load(DIR, { vocab: VOCAB_GZ, intraOpNumThreads: 1, towers: 'vision' });
  try {
    for (const c of g.cases) {
      if (!c.memory) continue;
      const refs = c.reference_indices.map(image);
      const out = await model.encodeWindows(refs, { batchSize: refs.length });
      assertEmbeddings(concat(out.map((o) => o.patchTokens)), f32(c.memory.patch_embeddings), g.dims.width, `${c.name} memory patches`);
      for (const s of ['2', '3']) {
        assertEmbeddings(concat(out.map((o) => o.windows[Number(s)]!)), f32(c.memory.window_embeddings[s]!), g.dims.embed_dim, `${c.name} memory windows s${s}`);
      }
    }
  } finally {
    await model.dispose();
  }
});

for (const [label, kernels] of [
  ['fast kernels', DEFAULT_KERNELS],
  ['reference ops', REFERENCE_KERNELS],
] as const) {
  test(`window graph (${label}): CLS-only last block equals the full pass; debug activations of image 4 match`, async () => {
    const cfg = loadModelDirConfig(DIR);
    const weights = openClipWeights(join(DIR, 'open_clip_model.safetensors'), cfg);
    const graph = { source: weights.file, read: weights.get, kernels, scales: [2, 3] };
    const fast = await createSession(buildWindowGraph(cfg, graph));
    const debug = await createSession(buildWindowGraph(cfg, { ...graph, debug: true }));
    try {
      const d = g.debug;
      const input = { pixels: new ort.Tensor('float32', image(d.pixel_index).slice(), [1, 3, 240, 240]) };
      const a = await fast.run(input);
      const b = await debug.run(input);
      const e = g.images.entries[d.pixel_index]!;
      for (const s of ['2', '3']) {
        const name = windowOutputName(Number(s));
        const x = a[name]!.data as Float32Array;
        assertEmbeddings(x, f32(e.window_embeddings[s]!), g.dims.embed_dim, `windows s${s}`);
        // Same math, the last block's other rows skipped: only summation order may differ.
        assertClose(x, b[name]!.data as Float32Array, 1e-5, `windows s${s}: CLS-only vs full last block`);
      }
      const W = g.dims.width;
      for (const win of d.windows) {
        const T = win.token_indices.length;
        const rows = (key: string) => (b[`windows.s${win.scale}.${key}`]!.data as Float32Array).subarray(win.window_index * T * W, (win.window_index + 1) * T * W);
        assertClose(rows('tokens'), f32(win.tokens_before_ln_pre!), TOL.features, `s${win.scale} w${win.window_index} tokens before ln_pre`);
        for (const key of ['ln_pre', 'block0', 'block1', 'ln_post']) {
          assertClose(rows(key), f32(win[key]!), TOL.features, `s${win.scale} w${win.window_index} ${key}`);
        }
        assertClose(rows('ln_post').subarray(0, W), f32(win.pooled!), TOL.features, `s${win.scale} w${win.window_index} pooled`);
        const E = g.dims.embed_dim;
        const emb = (a[windowOutputName(win.scale)]!.data as Float32Array).subarray(win.window_index * E, (win.window_index + 1) * E);
        assertClose(emb, f32(win.embedding!), TOL.features, `s${win.scale} w${win.window_index} embedding`);
      }
    } finally {
      await fast.release();
      await debug.release();
      weights.close();
    }
  });
}

test('encodeWindows: bad input names the field', async () => {
  const model = await ClipModel.load(DIR, { vocab: VOCAB_GZ, intraOpNumThreads: 1, towers: 'vision' });
  try {
    const bad = async (fn: () => Promise<unknown>, field: RegExp) => {
      await assert.rejects(fn, (err: unknown) => err instanceof RwdaError && field.test(err.message));
    };
    await bad(() => model.encodeWindows(new Float32Array(PER + 1)), /^pixels: 172801 floats/);
    await bad(() => model.encodeWindows(new Float32Array(0)), /^pixels: 0 floats/);
    await bad(() => model.encodeWindows([image(0), new Float32Array(10)]), /^images\[1\]: .*10 floats/);
    await bad(() => model.encodeWindows([]), /^images: /);
    await bad(() => model.encodeWindows(image(0), { scales: [2, 16] }), /^scales: window side 16 is not an integer in 1\.\.15/);
    await bad(() => model.encodeWindows(image(0), { scales: [0] }), /^scales: window side 0/);
    await bad(() => model.encodeWindows(image(0), { scales: [2.5] }), /^scales: window side 2\.5/);
    await bad(() => model.encodeWindows(image(0), { scales: [2, 2] }), /^scales: window side 2 is listed twice/);
    await bad(() => model.encodeWindows(image(0), { batchSize: 0 }), /^batchSize: /);
  } finally {
    await model.dispose();
  }
});
