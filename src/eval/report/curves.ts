/**
 * Turns full metric curves and raw scores into the compact forms results.json stores: curves downsampled to a few
 * hundred points (a VisA category has thousands of thresholds; the plots need a fraction of them) and score
 * histograms pre-binned over shared edges.
 */
import { RwdaError } from '../../errors.ts';
import type { CurveSet, ScoreHistogram } from './schema.ts';

/** Default cap on stored curve points. */
export const MAX_CURVE_POINTS = 500;
/** Default number of histogram bins. */
export const HISTOGRAM_BINS = 30;

// Curves are drawn, never re-integrated, so 1e-6 is far below a pixel and keeps results.json small. Rounding is
// monotone, so sorted inputs stay sorted.
function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

/**
 * Keeps at most `maxPoints` points of the polyline (xs[i], ys[i]), always the first and the last, spread evenly by
 * arc length so steep and flat stretches keep their shape; the order is kept. Coordinates are rounded to 1e-6.
 */
export function downsampleCurve(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  maxPoints = MAX_CURVE_POINTS,
): { x: number[]; y: number[] } {
  if (xs.length !== ys.length) {
    throw new RwdaError(`downsampleCurve: ${xs.length} x values but ${ys.length} y values; they must pair up`);
  }
  if (!Number.isInteger(maxPoints) || maxPoints < 2) {
    throw new RwdaError(`downsampleCurve: maxPoints is ${maxPoints}; it must be an integer >= 2`);
  }
  const n = xs.length;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(xs[i]) || !Number.isFinite(ys[i])) {
      throw new RwdaError(`downsampleCurve: point ${i} is (${String(xs[i])}, ${String(ys[i])}); coordinates must be finite`);
    }
  }
  if (n <= maxPoints) {
    return { x: Array.from(xs, round6), y: Array.from(ys, round6) };
  }
  const cum = new Float64Array(n);
  for (let i = 1; i < n; i++) cum[i] = cum[i - 1]! + Math.hypot(xs[i]! - xs[i - 1]!, ys[i]! - ys[i - 1]!);
  const total = cum[n - 1]!;
  const keep: number[] = [0];
  if (total > 0) {
    let j = 0;
    for (let k = 1; k < maxPoints - 1; k++) {
      const target = (total * k) / (maxPoints - 1);
      while (j < n - 1 && cum[j]! < target) j++;
      if (j > keep[keep.length - 1]! && j < n - 1) keep.push(j);
    }
  }
  keep.push(n - 1);
  return { x: keep.map((i) => round6(xs[i]!)), y: keep.map((i) => round6(ys[i]!)) };
}

/** A {@link CurveSet} from metrics.ts curves (RocCurve / PrCurve or anything with the same arrays), downsampled. */
export function curveSetFrom(
  roc: { fpr: ArrayLike<number>; tpr: ArrayLike<number> },
  pr: { recall: ArrayLike<number>; precision: ArrayLike<number> },
  maxPoints = MAX_CURVE_POINTS,
): CurveSet {
  const r = downsampleCurve(roc.fpr, roc.tpr, maxPoints);
  const p = downsampleCurve(pr.recall, pr.precision, maxPoints);
  return { roc: { fpr: r.x, tpr: r.y }, pr: { recall: p.x, precision: p.y } };
}

function checkScores(scores: ArrayLike<number>, what: string): void {
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) {
      throw new RwdaError(`scoreHistogram: ${what} score at index ${i} is ${String(scores[i])}; scores must be finite`);
    }
  }
}

/**
 * Counts normal and anomalous scores over `bins` equal bins spanning `range` (default: the min and max of all
 * scores; a zero-width range is widened by 0.5 each side). Scores outside an explicit range count in the end bins.
 */
export function scoreHistogram(
  normal: ArrayLike<number>,
  anomalous: ArrayLike<number>,
  bins = HISTOGRAM_BINS,
  range?: readonly [number, number],
): ScoreHistogram {
  if (!Number.isInteger(bins) || bins < 1) throw new RwdaError(`scoreHistogram: bins is ${bins}; it must be an integer >= 1`);
  checkScores(normal, 'normal');
  checkScores(anomalous, 'anomalous');
  let lo: number;
  let hi: number;
  if (range) {
    [lo, hi] = range;
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) {
      throw new RwdaError(`scoreHistogram: range [${lo}, ${hi}] must be finite with max > min`);
    }
  } else {
    lo = Infinity;
    hi = -Infinity;
    for (const s of [normal, anomalous]) {
      for (let i = 0; i < s.length; i++) {
        lo = Math.min(lo, s[i]!);
        hi = Math.max(hi, s[i]!);
      }
    }
    if (lo === Infinity) throw new RwdaError('scoreHistogram: no scores');
    if (hi === lo) {
      lo -= 0.5;
      hi += 0.5;
    }
  }
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + ((hi - lo) * i) / bins));
  const count = (s: ArrayLike<number>): number[] => {
    const out = new Array<number>(bins).fill(0);
    for (let i = 0; i < s.length; i++) {
      const b = Math.floor(((s[i]! - lo) / (hi - lo)) * bins);
      out[Math.min(bins - 1, Math.max(0, b))]!++;
    }
    return out;
  };
  return { edges, normal: count(normal), anomalous: count(anomalous) };
}
