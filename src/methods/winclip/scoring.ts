/**
 * WinCLIP and WinCLIP+'s pure scoring core, as anomalib's WinClipModel computes it (the algorithm
 * of shared/fixtures/winclip/README.md, steps 5–10), on raw embeddings:
 * - zero-shot score of an embedding e: softmax([cos(e, t_n), cos(e, t_a)] / T)[1];
 * - harmonic aggregation of window scores per patch: n_q / Σ_{w ∋ q} 1/score_w (a zero score → 0);
 * - zero-shot map M0 = (|S| + 1) / (1/s0 + Σ_s 1/M_s), the image score s0 as one more term;
 * - few-shot: d(e, R) = min over all memory rows of (1 − cos) / 2; patch map A from the patch
 *   tokens, window maps F_s harmonically aggregated, F = (A + Σ_s F_s) / (1 + |S|);
 * - combination: grid = M0 (k = 0) or (M0 + F) / 2, score = s0 or (s0 + max F) / 2;
 * - bilinear upsampling to the input size with align_corners = False.
 */
import { RwdaError } from '../../errors.ts';
import { windowPatches } from '../../clip/windows.ts';
import type { AnomalyMap } from '../types.ts';

/** One image's embeddings as the window pass gives them (raw, unnormalised). */
export interface WinClipInputs {
  /** [embed] image embedding. */
  image: Float32Array;
  /** [grid², width] ln_post patch tokens. */
  patchTokens: Float32Array;
  /** scale → [nWindows, embed] window embeddings. */
  windows: Readonly<Record<number, Float32Array>>;
  grid: number;
}

/** The few-shot memory of k reference images, rows L2-normalised. */
export interface ReferenceMemory {
  k: number;
  width: number;
  embedDim: number;
  /** [k·grid², width]. */
  patches: Float32Array;
  /** scale → [k·nWindows, embed]. */
  windows: Record<number, Float32Array>;
}

/** Everything one image's scoring yields (grid maps are [grid²], row-major). */
export interface WinClipResult {
  /** pred_score. */
  s: number;
  /** s0, the zero-shot image score. */
  zeroShot: number;
  /** max of the few-shot map (k > 0). */
  fewShot?: number;
  windowScores: Record<number, Float32Array>;
  scaleMaps: Record<number, Float32Array>;
  zeroShotMap: Float32Array;
  fewShotMap?: Float32Array;
  fewShotPatchScores?: Float32Array;
  fewShotWindowScores?: Record<number, Float32Array>;
  fewShotScaleMaps?: Record<number, Float32Array>;
  gridMap: Float32Array;
}

/** An L2-normalised copy of row-major [n, dim] (torch's eps 1e-12). */
export function normalizedRows(data: Float32Array, dim: number, what: string): Float32Array {
  if (data.length === 0 || data.length % dim !== 0) throw new RwdaError(`winclip: ${what} has ${data.length} values, not a whole number of ${dim}-d rows`);
  const out = new Float32Array(data.length);
  for (let off = 0; off < data.length; off += dim) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += data[off + d]! * data[off + d]!;
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let d = 0; d < dim; d++) out[off + d] = data[off + d]! * inv;
  }
  return out;
}

/** softmax([cos(e, t_n), cos(e, t_a)] / T)[1] for every row of [n, dim]; t_n, t_a raw. */
export function zeroShotScores(rows: Float32Array, dim: number, tNormal: Float32Array, tAnomaly: Float32Array, temperature: number): Float32Array {
  if (tNormal.length !== dim || tAnomaly.length !== dim) throw new RwdaError(`winclip: text embeddings have ${tNormal.length} / ${tAnomaly.length} values, expected ${dim}`);
  if (!(temperature > 0)) throw new RwdaError(`winclip: temperature must be positive, got ${temperature}`);
  const x = normalizedRows(rows, dim, 'embeddings');
  const tn = normalizedRows(tNormal, dim, 'normal text embedding');
  const ta = normalizedRows(tAnomaly, dim, 'anomalous text embedding');
  const n = rows.length / dim;
  const out = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let cn = 0;
    let ca = 0;
    for (let d = 0; d < dim; d++) {
      cn += x[r * dim + d]! * tn[d]!;
      ca += x[r * dim + d]! * ta[d]!;
    }
    // softmax over two logits: 1 / (1 + exp((cn − ca) / T)).
    out[r] = 1 / (1 + Math.exp((cn - ca) / temperature));
  }
  return out;
}

/** Per patch q: (windows covering q) / Σ 1/score_w over them; +∞ (a zero score) gives 0 as anomalib's nan_to_num. */
export function harmonicAggregation(windowScores: ArrayLike<number>, grid: number, scale: number): Float32Array {
  const wins = windowPatches(grid, scale);
  if (windowScores.length !== wins.length) throw new RwdaError(`winclip: ${windowScores.length} window scores for scale ${scale}, expected ${wins.length}`);
  const sum = new Float64Array(grid * grid);
  const cnt = new Int32Array(grid * grid);
  wins.forEach((w, i) => {
    const inv = 1 / windowScores[i]!;
    for (const p of w) {
      sum[p]! += inv;
      cnt[p]! += 1;
    }
  });
  return Float32Array.from(sum, (v, q) => (cnt[q] === 0 || v === Infinity ? 0 : cnt[q]! / v));
}

/** min over all memory rows of (1 − cos(e, r)) / 2 for every row e of `queries` (both normalised). */
function minDistance(queries: Float32Array, memory: Float32Array, dim: number): Float32Array {
  const n = queries.length / dim;
  const m = memory.length / dim;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let best = -Infinity;
    const qo = i * dim;
    for (let j = 0; j < m; j++) {
      const mo = j * dim;
      let c = 0;
      for (let d = 0; d < dim; d++) c += queries[qo + d]! * memory[mo + d]!;
      if (c > best) best = c;
    }
    out[i] = (1 - best) / 2;
  }
  return out;
}

/** The memory of k references: their patch tokens and window embeddings, rows normalised. */
export function buildReferenceMemory(refs: readonly WinClipInputs[], scales: readonly number[]): ReferenceMemory {
  if (refs.length === 0) throw new RwdaError('winclip: the reference memory needs at least one image');
  const grid = refs[0]!.grid;
  const embedDim = refs[0]!.image.length;
  const width = refs[0]!.patchTokens.length / (grid * grid);
  const cat = (parts: Float32Array[]): Float32Array => {
    const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  refs.forEach((r, i) => {
    if (r.grid !== grid || r.patchTokens.length !== width * grid * grid) throw new RwdaError(`winclip: reference ${i} has another grid or width than reference 0`);
    for (const s of scales) if (!(r.windows[s] instanceof Float32Array)) throw new RwdaError(`winclip: reference ${i} has no windows of scale ${s}`);
  });
  const windows: Record<number, Float32Array> = {};
  for (const s of scales) windows[s] = normalizedRows(cat(refs.map((r) => r.windows[s]!)), embedDim, `reference windows of scale ${s}`);
  return { k: refs.length, width, embedDim, patches: normalizedRows(cat(refs.map((r) => r.patchTokens)), width, 'reference patch tokens'), windows };
}

/** The few-shot distances of one image: per patch and per window of each scale, min (1 − cos)/2 over the memory. */
export interface FewShotDistances {
  patch: Float32Array;
  windows: Record<number, Float32Array>;
}

/** (1 − max cos)/2 from the max dot products of normalised rows (what a faster searcher returns). */
export function distancesFromMaxDot(maxDot: Float32Array): Float32Array {
  return Float32Array.from(maxDot, (c) => (1 - c) / 2);
}

/**
 * WinCLIP+'s few-shot maps of one image against a memory: A, F_s and F. `distances` are the
 * nearest-neighbour distances when computed elsewhere (src/methods/winclip/search.ts); without
 * them they are computed here in plain JS.
 */
export function fewShotMaps(
  x: WinClipInputs,
  memory: ReferenceMemory,
  scales: readonly number[],
  distances?: FewShotDistances,
): { patchScores: Float32Array; windowScores: Record<number, Float32Array>; scaleMaps: Record<number, Float32Array>; map: Float32Array } {
  const P = x.grid * x.grid;
  if (x.patchTokens.length !== P * memory.width) throw new RwdaError(`winclip: patch tokens have ${x.patchTokens.length} values, the memory's width is ${memory.width} on a ${x.grid}² grid`);
  const patchScores = distances?.patch ?? minDistance(normalizedRows(x.patchTokens, memory.width, 'patch tokens'), memory.patches, memory.width);
  const windowScores: Record<number, Float32Array> = {};
  const scaleMaps: Record<number, Float32Array> = {};
  const map = Float32Array.from(patchScores);
  for (const s of scales) {
    const w = x.windows[s];
    if (!(w instanceof Float32Array) || !(memory.windows[s] instanceof Float32Array)) throw new RwdaError(`winclip: no windows of scale ${s} in the image or the memory`);
    windowScores[s] = distances?.windows[s] ?? minDistance(normalizedRows(w, memory.embedDim, `windows of scale ${s}`), memory.windows[s]!, memory.embedDim);
    scaleMaps[s] = harmonicAggregation(windowScores[s]!, x.grid, s);
    for (let q = 0; q < P; q++) map[q]! += scaleMaps[s]![q]!;
  }
  for (let q = 0; q < P; q++) map[q] = map[q]! / (1 + scales.length);
  return { patchScores, windowScores, scaleMaps, map };
}

/** WinCLIP (memory undefined) or WinCLIP+ of one image. */
export function scoreWinClip(
  x: WinClipInputs,
  text: { tNormal: Float32Array; tAnomaly: Float32Array },
  memory: ReferenceMemory | undefined,
  opts: { temperature: number; scales: readonly number[] },
  distances?: FewShotDistances,
): WinClipResult {
  const dim = x.image.length;
  const P = x.grid * x.grid;
  const s0 = zeroShotScores(x.image, dim, text.tNormal, text.tAnomaly, opts.temperature)[0]!;
  const windowScores: Record<number, Float32Array> = {};
  const scaleMaps: Record<number, Float32Array> = {};
  const inv = new Float64Array(P).fill(1 / s0);
  for (const s of opts.scales) {
    const w = x.windows[s];
    if (!(w instanceof Float32Array)) throw new RwdaError(`winclip: no window embeddings of scale ${s}`);
    windowScores[s] = zeroShotScores(w, dim, text.tNormal, text.tAnomaly, opts.temperature);
    scaleMaps[s] = harmonicAggregation(windowScores[s]!, x.grid, s);
    for (let q = 0; q < P; q++) inv[q]! += 1 / scaleMaps[s]![q]!;
  }
  const zeroShotMap = Float32Array.from(inv, (v) => (v === Infinity ? 0 : (opts.scales.length + 1) / v));
  if (memory === undefined) return { s: s0, zeroShot: s0, windowScores, scaleMaps, zeroShotMap, gridMap: zeroShotMap };
  const few = fewShotMaps(x, memory, opts.scales, distances);
  let fMax = -Infinity;
  for (const v of few.map) if (v > fMax) fMax = v;
  const gridMap = Float32Array.from(zeroShotMap, (v, q) => (v + few.map[q]!) / 2);
  return {
    s: (s0 + fMax) / 2,
    zeroShot: s0,
    fewShot: fMax,
    windowScores,
    scaleMaps,
    zeroShotMap,
    fewShotMap: few.map,
    fewShotPatchScores: few.patchScores,
    fewShotWindowScores: few.windowScores,
    fewShotScaleMaps: few.scaleMaps,
    gridMap,
  };
}

/** torch's interpolate(mode='bilinear', align_corners=False) of a [h, w] map to [outH, outW]. */
export function upsampleBilinear(map: ArrayLike<number>, h: number, w: number, outH: number, outW: number): AnomalyMap {
  if (map.length !== h * w) throw new RwdaError(`winclip: map has ${map.length} values, expected ${h}×${w}`);
  const data = new Float32Array(outH * outW);
  const axis = (o: number, inN: number, outN: number): [number, number, number] => {
    const scale = inN / outN;
    const src = Math.max((o + 0.5) * scale - 0.5, 0);
    const i0 = Math.min(Math.floor(src), inN - 1);
    const i1 = Math.min(i0 + 1, inN - 1);
    return [i0, i1, src - i0];
  };
  const xs = Array.from({ length: outW }, (_, x) => axis(x, w, outW));
  for (let y = 0; y < outH; y++) {
    const [y0, y1, ly] = axis(y, h, outH);
    for (let x = 0; x < outW; x++) {
      const [x0, x1, lx] = xs[x]!;
      const top = map[y0 * w + x0]! * (1 - lx) + map[y0 * w + x1]! * lx;
      const bot = map[y1 * w + x0]! * (1 - lx) + map[y1 * w + x1]! * lx;
      data[y * outW + x] = top * (1 - ly) + bot * ly;
    }
  }
  return { width: outW, height: outH, data };
}
