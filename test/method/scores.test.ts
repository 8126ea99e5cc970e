import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  clipScore,
  clipScores,
  dot,
  fuseScores,
  l2norm,
  l2normalize,
  l2normalizeInPlace,
  l2normalizeRows,
  softmaxAnomaly,
} from '../../src/methods/common/scores.ts';
import { Rng } from '../../src/util/rng.ts';
import { RwdaError } from '../../src/errors.ts';
import { OPENCLIP_FIXTURES } from '../helpers/paths.ts';

/** A unit 2-d vector at the given cosine with (1, 0). */
function atCos(c: number): Float64Array {
  return Float64Array.from([c, Math.sqrt(1 - c * c)]);
}
const X = Float64Array.from([1, 0]);
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

test('clipScore equals 1/(1+exp(-(ca-cn)/τ)) for hand-chosen cosines', () => {
  // (ca - cn)/τ = 1 → σ(1); = 0 → 1/2; = -2 → σ(-2). Constants written out from the closed form.
  assert.ok(Math.abs(clipScore(X, atCos(0.3), atCos(0.31)) - 0.7310585786300049) < 1e-12);
  assert.ok(Math.abs(clipScore(X, atCos(0.5), atCos(0.5)) - 0.5) < 1e-15);
  assert.ok(Math.abs(clipScore(X, atCos(0.42), atCos(0.4)) - 0.11920292202211755) < 1e-12);
  // Another temperature: (0.9 - 0.1)/0.5 = 1.6.
  assert.ok(Math.abs(clipScore(X, atCos(0.1), atCos(0.9), 0.5) - sigmoid(1.6)) < 1e-12);
  assert.ok(Math.abs(sigmoid(1.6) - 0.8320183851339245) < 1e-15);
});

test('clipScore is stable where a naive softmax overflows', () => {
  // τ = 1e-4 and a cosine gap of 2: exp(±10000) overflows; the stable form gives exactly 1 and 0.
  const t = Float64Array.from([1, 0]);
  const minusT = Float64Array.from([-1, 0]);
  assert.equal(clipScore(X, minusT, t, 1e-4), 1);
  assert.equal(clipScore(X, t, minusT, 1e-4), 0);
  // At τ = 0.01 the losing side is e^-200 / (1 + e^-200), still representable.
  assert.ok(Math.abs(clipScore(X, t, minusT) / Math.exp(-200) - 1) < 1e-12);
  assert.equal(softmaxAnomaly(1, -1, 1e-300), 0);
  assert.ok(Number.isFinite(softmaxAnomaly(-1, 1, 1e-300)));
});

test('clipScores (batched) equals clipScore row by row, exactly', () => {
  const rng = new Rng(1);
  const dim = 64;
  const unit = (): Float32Array => l2normalize(Float32Array.from({ length: dim }, () => rng.normal()));
  const tn = unit();
  const ta = unit();
  const rows = Array.from({ length: 9 }, unit);
  const mat = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => mat.set(r, i * dim));
  // τ = 0.5 keeps random 64-d cosines (spread ≈ 1/8) away from saturation.
  const batched = clipScores(mat, dim, tn, ta, 0.5);
  assert.equal(batched.length, 9);
  rows.forEach((r, i) => assert.equal(batched[i], clipScore(r, tn, ta, 0.5), `row ${i}`));
  assert.deepEqual(clipScores(mat, dim, tn, ta), Float64Array.from(rows, (r) => clipScore(r, tn, ta)));
  assert.ok(batched.some((s) => s > 0.01 && s < 0.99), 'scores not all saturated');
});

function readF32(dir: string, file: string): Float32Array {
  const buf = readFileSync(join(dir, file));
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

for (const model of ['tiny-gelu', 'tiny-quickgelu']) {
  test(`open_clip golden (${model}): cosines and the softmax score of prompts 0/1 match logits_per_image`, () => {
    const dir = join(OPENCLIP_FIXTURES, model);
    const g = JSON.parse(readFileSync(join(dir, 'goldens.json'), 'utf8'));
    assert.equal(g.text.prompts[0], 'a photo of a object');
    assert.equal(g.text.prompts[1], 'a photo of a damaged object');
    const [nText, dim] = g.text.features_normalized.shape as [number, number];
    const text = readF32(dir, g.text.features_normalized.file);
    const pixels = readF32(dir, g.pixels.features_normalized.file);
    const images = g.images.map((im: { features_normalized: { file: string } }) =>
      readF32(dir, im.features_normalized.file),
    ) as Float32Array[];
    const mat = new Float32Array(pixels.length + images.length * dim);
    mat.set(pixels);
    images.forEach((v, i) => mat.set(v, pixels.length + i * dim));
    const logits = readF32(dir, g.logits_per_image.file);
    const scale = g.logit_scale_exp as number;
    const nImg = mat.length / dim;
    assert.deepEqual(g.logits_per_image.shape, [nImg, nText]);
    const tn = text.subarray(0, dim);
    const ta = text.subarray(dim, 2 * dim);
    // Goldens: torch softmax over the two float32 logits, recomputed here in float64.
    const expected = Array.from({ length: nImg }, (_, i) => {
      const ln = logits[i * nText]!;
      const la = logits[i * nText + 1]!;
      return sigmoid(la - ln);
    });
    // τ = 1/logit_scale.exp() reproduces CLIP's own scaling.
    const got = clipScores(mat, dim, tn, ta, 1 / scale);
    let maxCos = 0;
    let maxScore = 0;
    for (let i = 0; i < nImg; i++) {
      const row = mat.subarray(i * dim, (i + 1) * dim);
      for (let j = 0; j < nText; j++) {
        maxCos = Math.max(maxCos, Math.abs(dot(row, text.subarray(j * dim, (j + 1) * dim)) - logits[i * nText + j]! / scale));
      }
      maxScore = Math.max(maxScore, Math.abs(got[i]! - expected[i]!));
    }
    // float64 dot vs torch's float32 matmul of unit vectors: a few float32 ulps (measured 6.8e-8).
    assert.ok(maxCos < 3e-7, `max cosine error ${maxCos}`);
    // The logit error is ≤ scale·3e-7 ≈ 6e-6 and the sigmoid's slope is ≤ 1/4 (measured 1.3e-7).
    assert.ok(maxScore < 1.5e-6, `max score error ${maxScore}`);
    assert.ok(expected.some((s) => s > 0.05 && s < 0.95), 'golden scores not all saturated');
  });

  test(`open_clip golden (${model}): l2normalize matches F.normalize on text, pixel and image features`, () => {
    const dir = join(OPENCLIP_FIXTURES, model);
    const g = JSON.parse(readFileSync(join(dir, 'goldens.json'), 'utf8'));
    const pairs: Array<[Float32Array, Float32Array, number]> = [
      [readF32(dir, g.text.features.file), readF32(dir, g.text.features_normalized.file), g.text.features.shape[1]],
      [readF32(dir, g.pixels.features.file), readF32(dir, g.pixels.features_normalized.file), g.pixels.features.shape[1]],
      ...g.images.map((im: { features: { file: string; shape: number[] }; features_normalized: { file: string } }) => [
        readF32(dir, im.features.file),
        readF32(dir, im.features_normalized.file),
        im.features.shape[0],
      ]),
    ];
    let maxErr = 0;
    for (const [raw, want, dim] of pairs) {
      const rowsCopy = l2normalizeRows(Float32Array.from(raw), dim);
      for (let off = 0; off < raw.length; off += dim) {
        const single = l2normalize(raw.subarray(off, off + dim));
        for (let i = 0; i < dim; i++) {
          assert.equal(single[i], rowsCopy[off + i]);
          maxErr = Math.max(maxErr, Math.abs(single[i]! - want[off + i]!));
        }
      }
    }
    // torch divides in float32 by a float32 norm; we use a float64 norm: at most ~1 float32 ulp (< 6e-8 below 1; measured 6e-8).
    assert.ok(maxErr <= 1.2e-7, `max error ${maxErr}`);
  });
}

test('l2normalize: copy vs in place, 3-4-5, zero vector (torch eps)', () => {
  const v = [3, 4];
  const c = l2normalize(v);
  assert.ok(c instanceof Float32Array);
  assert.deepEqual(Array.from(c), [Math.fround(0.6), Math.fround(0.8)]);
  assert.deepEqual(v, [3, 4], 'the copy variant leaves its input alone');
  const f = Float64Array.from([3, 4]);
  assert.equal(l2normalizeInPlace(f), f);
  assert.deepEqual(Array.from(f), [0.6, 0.8]);
  assert.deepEqual(Array.from(l2normalize([0, 0, 0])), [0, 0, 0]);
  assert.ok(Math.abs(l2norm(l2normalize([1e-3, 2e-3, -5])) - 1) < 1e-7);
  const m = Float32Array.from([3, 4, 0, 5]);
  l2normalizeRows(m, 2);
  assert.deepEqual(Array.from(m), [Math.fround(0.6), Math.fround(0.8), 0, 1]);
  assert.throws(() => l2normalizeRows(m, 3), RwdaError);
});

test('fuseScores: (s_clip + s_fnn) / 2, scalar and element-wise', () => {
  assert.equal(fuseScores(0.2, 0.6), 0.4);
  assert.equal(fuseScores(1, 0), 0.5);
  assert.deepEqual(Array.from(fuseScores([0.1, 0.9, 0.5], Float32Array.from([0.3, 0.1, 0.5]))), [
    (0.1 + Math.fround(0.3)) / 2,
    (0.9 + Math.fround(0.1)) / 2,
    0.5,
  ]);
  assert.throws(() => fuseScores([1, 2], [1]), /2 CLIP scores but 1 FNN scores/);
  assert.throws(() => fuseScores(1 as never, [1] as never), RwdaError);
});

test('bad input: unnormalised embeddings, dimension mismatch, bad temperature', () => {
  const t = atCos(0.3);
  assert.throws(() => clipScore([2, 0], t, t), (e: unknown) => e instanceof RwdaError && /image embedding has L2 norm 2/.test(e.message));
  assert.throws(() => clipScore(X, [0.5, 0], t), /normal text embedding/);
  assert.throws(() => clipScore(X, t, [1, 0, 0]), /dimension mismatch/);
  for (const tau of [0, -1, Number.NaN, Infinity]) assert.throws(() => clipScore(X, t, t, tau), /temperature/);
  assert.throws(() => clipScores(Float32Array.from([1, 0, 0, 3]), 2, t, t), /image embedding row 1/);
  assert.throws(() => clipScores(Float32Array.from([1, 0, 0]), 2, t, t), /not a multiple of dim 2/);
  assert.throws(() => clipScores(Float32Array.from([1, 0]), 2, [1, 0, 0], t), /dimension mismatch/);
  assert.throws(() => dot([1], [1, 2]), RwdaError);
});
