/**
 * Anomaly scores from CLIP embeddings: the zero-shot CLIP score (softmax over the normal / anomaly
 * prompt similarities, as in open_clip's `(100 * image @ text.T).softmax(-1)`), the fusion
 * "CLIP + ours", and L2 normalisation.
 */
import { RwdaError } from '../../errors.ts';
import { PROMPT_DEFAULTS } from '../rwda/defaults.ts';

import { checkMatrix, dot, l2norm, type Vec } from '../../util/vec.ts';

export { dot, l2norm, l2normalize, l2normalizeInPlace, l2normalizeRows, L2_EPS, type Vec } from '../../util/vec.ts';

// Embeddings that should be unit length but are off by more than this were almost certainly never
// normalised; float32 rounding of a normalised 640-d vector moves the norm by ~1e-7.
const UNIT_NORM_TOLERANCE = 1e-3;

function checkUnit(v: Vec, what: string, offset = 0, length = v.length - offset): void {
  const n = l2norm(v, offset, length);
  if (!(Math.abs(n - 1) <= UNIT_NORM_TOLERANCE)) {
    throw new RwdaError(`${what} has L2 norm ${n}, expected 1: L2-normalise embeddings before scoring`);
  }
}

function checkTemperature(temperature: number): void {
  if (!(Number.isFinite(temperature) && temperature > 0)) {
    throw new RwdaError(`clip score: temperature must be a positive finite number, got ${temperature}`);
  }
}

/** softmax([cn, ca] / τ)[1], computed after subtracting the larger logit so exp never overflows. */
export function softmaxAnomaly(cosNormal: number, cosAnomaly: number, temperature: number): number {
  const zn = cosNormal / temperature;
  const za = cosAnomaly / temperature;
  const m = Math.max(zn, za);
  const en = Math.exp(zn - m);
  const ea = Math.exp(za - m);
  return ea / (en + ea);
}

/**
 * Zero-shot CLIP anomaly score of one image: softmax([cos(x, t_n), cos(x, t_a)] / τ)[1].
 * All three vectors must be L2-normalised (cosine = dot product), as in open_clip.
 */
export function clipScore(x: Vec, tNormal: Vec, tAnomaly: Vec, temperature: number = PROMPT_DEFAULTS.temperature): number {
  checkTemperature(temperature);
  if (x.length !== tNormal.length || x.length !== tAnomaly.length) {
    throw new RwdaError(
      `clip score: dimension mismatch (image ${x.length}, normal text ${tNormal.length}, anomaly text ${tAnomaly.length})`,
    );
  }
  checkUnit(x, 'clip score: image embedding');
  checkUnit(tNormal, 'clip score: normal text embedding');
  checkUnit(tAnomaly, 'clip score: anomaly text embedding');
  return softmaxAnomaly(dot(x, tNormal), dot(x, tAnomaly), temperature);
}

/** clipScore for every row of a row-major [n, dim] matrix of L2-normalised image embeddings. */
export function clipScores(
  images: Vec,
  dim: number,
  tNormal: Vec,
  tAnomaly: Vec,
  temperature: number = PROMPT_DEFAULTS.temperature,
): Float64Array {
  checkTemperature(temperature);
  checkMatrix(images, dim, 'clip scores');
  if (tNormal.length !== dim || tAnomaly.length !== dim) {
    throw new RwdaError(
      `clip scores: dimension mismatch (images ${dim}, normal text ${tNormal.length}, anomaly text ${tAnomaly.length})`,
    );
  }
  checkUnit(tNormal, 'clip scores: normal text embedding');
  checkUnit(tAnomaly, 'clip scores: anomaly text embedding');
  const n = images.length / dim;
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const off = r * dim;
    checkUnit(images, `clip scores: image embedding row ${r}`, off, dim);
    let cn = 0;
    let ca = 0;
    for (let i = 0; i < dim; i++) {
      const v = images[off + i]!;
      cn += v * tNormal[i]!;
      ca += v * tAnomaly[i]!;
    }
    out[r] = softmaxAnomaly(cn, ca, temperature);
  }
  return out;
}

/** "CLIP + ours": the mean of the CLIP score and the FNN score. */
export function fuseScores(sClip: number, sFnn: number): number;
/** "CLIP + ours" element-wise over two equally long score lists. */
export function fuseScores(sClip: Vec, sFnn: Vec): Float64Array;
export function fuseScores(sClip: number | Vec, sFnn: number | Vec): number | Float64Array {
  if (typeof sClip === 'number' && typeof sFnn === 'number') return (sClip + sFnn) / 2;
  if (typeof sClip === 'number' || typeof sFnn === 'number') {
    throw new RwdaError('fuseScores: pass two numbers or two score lists, not one of each');
  }
  if (sClip.length !== sFnn.length) {
    throw new RwdaError(`fuseScores: ${sClip.length} CLIP scores but ${sFnn.length} FNN scores`);
  }
  const out = new Float64Array(sClip.length);
  for (let i = 0; i < out.length; i++) out[i] = (sClip[i]! + sFnn[i]!) / 2;
  return out;
}
