/**
 * The pure scoring core of "CLIP + ours", shared by Detector.score and the evaluation runner: from
 * L2-normalised view rows to per-view and per-image scores. Per view: s_clip (the CLIP prompt
 * score), s_fnn = sigmoid(FNN(x)), s = (s_clip + s_fnn) / 2; per image each kind is aggregated over
 * the views on its own: mean(standard view, max or mean over the crops).
 */
import { RwdaError } from '../../errors.ts';
import { aggregateImageScores, type CropAggregation } from '../common/multicrop.ts';

export { aggregateImageScores } from '../common/multicrop.ts';
import { clipScores, fuseScores } from '../common/scores.ts';

/** The three scores of one image or view. */
export interface Scores {
  /** Zero-shot CLIP score. */
  sClip: number;
  /** FNN score sigmoid(FNN(x)). */
  sFnn: number;
  /** "CLIP + ours". */
  s: number;
}

/** What scoreViewRows needs of the FNN: logits of n rows. */
export interface LogitModel {
  readonly dim: number;
  predictLogits(x: Float32Array, n: number): ArrayLike<number>;
}

/** The prompt-guided pair's L2-normalised text embeddings. */
export interface PromptEmbeddings {
  tNormal: Float32Array;
  tAnomaly: Float32Array;
}

/** Numerically stable logistic function. */
export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Scores n L2-normalised rows (row-major [n, dim]): s_clip, s_fnn and their fusion per row. */
export function scoreRows(fnn: LogitModel, x: Float32Array, t: PromptEmbeddings, temperature: number): Scores[] {
  const dim = fnn.dim;
  if (x.length % dim !== 0) throw new RwdaError(`detector: ${x.length} values is not a whole number of ${dim}-d embeddings`);
  const n = x.length / dim;
  const logits = fnn.predictLogits(x, n);
  const clip = clipScores(x, dim, t.tNormal, t.tAnomaly, temperature);
  const out: Scores[] = new Array(n);
  for (let r = 0; r < n; r++) {
    const sFnn = sigmoid(logits[r]!);
    out[r] = { sClip: clip[r]!, sFnn, s: fuseScores(clip[r]!, sFnn) };
  }
  return out;
}

/**
 * Scores images given as view rows (nViews consecutive rows per image, the standard view first):
 * the per-view scores and the per-image aggregates of each kind.
 */
export function scoreViewRows(
  fnn: LogitModel,
  x: Float32Array,
  nViews: number,
  t: PromptEmbeddings,
  opts: { temperature: number; aggregation: CropAggregation },
): { views: Scores[]; images: Scores[] } {
  const views = scoreRows(fnn, x, t, opts.temperature);
  const agg = (kind: keyof Scores): Float64Array => aggregateImageScores(views.map((v) => v[kind]), nViews, opts.aggregation);
  const [sClip, sFnn, s] = [agg('sClip'), agg('sFnn'), agg('s')];
  const images: Scores[] = Array.from(sClip, (c, i) => ({ sClip: c, sFnn: sFnn[i]!, s: s[i]! }));
  return { views, images };
}
