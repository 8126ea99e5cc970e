// Readers for the open_clip fixture goldens (tiny-gelu / tiny-quickgelu) and comparison helpers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { OPENCLIP_FIXTURES } from '../helpers/paths.ts';

export const TINY_MODELS = ['tiny-gelu', 'tiny-quickgelu'] as const;
export type TinyModel = (typeof TINY_MODELS)[number];

export interface TensorEntry {
  file: string;
  dtype: 'float32' | 'uint8';
  shape: number[];
}

export interface Goldens {
  dir: string;
  logit_scale: number;
  logit_scale_exp: number;
  text: { prompts: string[]; ids: number[][]; eot_index: number[]; features: TensorEntry; features_normalized: TensorEntry };
  pixels: { input: TensorEntry; features: TensorEntry; features_normalized: TensorEntry; patch_tokens: TensorEntry };
  images: Array<{ name: string; path: string; preprocessed: TensorEntry; features: TensorEntry; features_normalized: TensorEntry }>;
  logits_per_image: TensorEntry;
  debug_activations: { text_prompt_index: number; pixel_index: number; tensors: Record<string, TensorEntry> };
}

export function modelDir(name: TinyModel): string {
  return join(OPENCLIP_FIXTURES, name);
}

export const VOCAB_GZ = join(OPENCLIP_FIXTURES, 'bpe_simple_vocab_16e6.txt.gz');
export const HF_TOKENIZER_DIR = join(OPENCLIP_FIXTURES, 'hf-tokenizer');

export function loadGoldens(name: TinyModel): Goldens {
  const dir = modelDir(name);
  return { ...JSON.parse(readFileSync(join(dir, 'goldens.json'), 'utf8')), dir } as Goldens;
}

export function f32(g: Goldens, e: TensorEntry): Float32Array {
  assert.equal(e.dtype, 'float32');
  const buf = readFileSync(join(g.dir, e.file));
  const out = new Float32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  assert.equal(out.length, e.shape.reduce((a, b) => a * b, 1), `${e.file}: size does not match its shape`);
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length mismatch');
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = d; // NaN propagates as a failure
  }
  return m;
}

/** Smallest cosine similarity over rows of two [n, dim] matrices. */
export function minRowCosine(a: ArrayLike<number>, b: ArrayLike<number>, dim: number): number {
  assert.equal(a.length, b.length);
  let worst = 1;
  for (let off = 0; off < a.length; off += dim) {
    let ab = 0, aa = 0, bb = 0;
    for (let i = off; i < off + dim; i++) {
      ab += a[i]! * b[i]!;
      aa += a[i]! * a[i]!;
      bb += b[i]! * b[i]!;
    }
    const c = ab / Math.sqrt(aa * bb);
    if (!(c >= worst)) worst = c;
  }
  return worst;
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): number {
  const d = maxAbsDiff(actual, expected);
  assert.ok(d <= tol, `${what}: max |Δ| = ${d} > ${tol}`);
  return d;
}

export function concat(parts: ArrayLike<number>[]): Float32Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Float32Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Tolerances from the fixture README's suggested acceptance for an fp32 onnxruntime port. */
export const TOL = { features: 1e-4, normalized: 1e-5, logits: 1e-3, cosine: 0.99999, dynamicVsPadded: 4e-6 } as const;
