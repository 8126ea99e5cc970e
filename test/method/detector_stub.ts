// A stub backbone with simple, hand-computable encoders, and a float64 re-implementation of the
// FNN's eval forward pass, for checking detector scores by hand.
import { createHash } from 'node:crypto';
import type { Backbone } from '../../src/methods/common/backbone.ts';
import type { Fnn } from '../../src/methods/rwda/fnn/model.ts';
import { OPENAI_MEAN, OPENAI_STD } from '../../src/clip/config.ts';

export const STUB_DIM = 6;

/** Raw (unnormalised) stub text feature: bytes of sha256(text) mapped to [-1, 1], times 3. */
export function stubText(text: string): Float32Array {
  const h = createHash('sha256').update(text).digest();
  return Float32Array.from({ length: STUB_DIM }, (_, i) => 3 * ((h[i]! / 255) * 2 - 1));
}

/** Raw stub image feature of a [3, S, S] tensor: per-channel means and three position-weighted sums. */
export function stubImage(t: Float32Array, size: number): Float32Array {
  const n = size * size;
  const out = new Float64Array(STUB_DIM);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) {
      const v = t[c * n + i]!;
      out[c] += v / n;
      out[3 + c] += (v * Math.sin(i + c)) / n;
    }
  }
  out[0] += 0.25; // keeps the vector away from zero for flat images
  return Float32Array.from(out);
}

export interface StubBackbone extends Backbone {
  textCalls: number;
  textsEncoded: number;
  imagesEncoded: number;
}

/** A backbone whose encoders are stubText / stubImage, counting what it encodes. */
export function stubBackbone(fingerprint = 'stub-fingerprint-1', size = 32): StubBackbone {
  return {
    dir: '/stub/model',
    config: { name: 'stub', embedDim: STUB_DIM, preprocess: { size, mean: OPENAI_MEAN, std: OPENAI_STD, resizeMode: 'shortest', fillColor: 0 } },
    fingerprint,
    textCalls: 0,
    textsEncoded: 0,
    imagesEncoded: 0,
    async encodeText(texts) {
      this.textCalls++;
      this.textsEncoded += texts.length;
      return texts.map(stubText);
    },
    async encodeImage(images) {
      this.imagesEncoded += images.length;
      return images.map((t) => stubImage(t, size));
    },
  };
}

/** x / ‖x‖ rounded to float32, as the method normalises. */
export function unit(v: ArrayLike<number>): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const d = Math.sqrt(s);
  return Float32Array.from(v, (x) => x / d);
}

/** Hand CLIP score: e^{ca/τ} / (e^{cn/τ} + e^{ca/τ}) with cosines of unit vectors. */
export function handClip(x: Float32Array, tn: Float32Array, ta: Float32Array, tau = 0.01): number {
  let cn = 0;
  let ca = 0;
  for (let i = 0; i < x.length; i++) {
    cn += x[i]! * tn[i]!;
    ca += x[i]! * ta[i]!;
  }
  return 1 / (1 + Math.exp((cn - ca) / tau));
}

/** Hand FNN score in float64 from the saved state: Linear → BN(eval) → ReLU per block, head, sigmoid. */
export function handFnn(fnn: Fnn, x: Float32Array): number {
  const st = new Map(fnn.toState().map((t) => [t.name, t]));
  let h: number[] = Array.from(x);
  const eps = fnn.config.bnEps;
  for (let b = 0; b < fnn.config.hidden.length; b++) {
    const w = st.get(`${4 * b}.weight`)!;
    const bias = st.get(`${4 * b}.bias`)!.data;
    const g = st.get(`${4 * b + 1}.weight`)!.data;
    const beta = st.get(`${4 * b + 1}.bias`)!.data;
    const rm = st.get(`${4 * b + 1}.running_mean`)!.data;
    const rv = st.get(`${4 * b + 1}.running_var`)!.data;
    const [out, inp] = w.shape as [number, number];
    const next: number[] = [];
    for (let o = 0; o < out; o++) {
      let z = bias[o]!;
      for (let i = 0; i < inp; i++) z += w.data[o * inp + i]! * h[i]!;
      z = ((z - rm[o]!) / Math.sqrt(rv[o]! + eps)) * g[o]! + beta[o]!;
      next.push(Math.max(0, z));
    }
    h = next;
  }
  const L = fnn.config.hidden.length;
  const hw = st.get(`${4 * L}.weight`)!.data;
  let z = st.get(`${4 * L}.bias`)!.data[0]!;
  for (let i = 0; i < h.length; i++) z += hw[i]! * h[i]!;
  return 1 / (1 + Math.exp(-z));
}
