/**
 * Image-level anomaly-detection metrics with scikit-learn 1.2 semantics (label 1 = anomalous, higher score = more
 * anomalous, a sample is predicted anomalous iff score >= threshold). Goldens: ../shared/fixtures/metrics.
 *
 * Everything is derived from one O(n log n) pass: sort by score, group equal scores, and accumulate integer
 * true/false-positive counts per distinct threshold. Counts stay integers, so AUROC and F1 are the exact rational
 * rounded once, and the F1 maximum is found by exact cross-multiplication (ties are real ties, not float noise).
 */
import { RwdaError } from '../errors.ts';

/** Scalar metrics of one labelled score set. */
export interface Metrics {
  /** Area under the ROC curve (ties between classes count one half). */
  auroc: number;
  /** Step-wise average precision, sklearn's `average_precision_score` (no interpolation). */
  ap: number;
  /** Trapezoidal area under the PR curve including the appended (R=0, P=1) point, sklearn's `auc(recall, precision)`. */
  auprTrapezoid: number;
  /** Maximum over thresholds of F1 = 2TP / (2TP + FP + FN). */
  f1Max: number;
  /** The threshold reaching `f1Max`; the lowest one on exact ties. */
  f1MaxThreshold: number;
  /** Number of samples. */
  n: number;
  /** Number of anomalous samples (label 1). */
  nAnomalous: number;
}

/** sklearn's `precision_recall_curve` layout plus the F1 of each point. */
export interface PrCurve {
  /** Distinct scores, increasing (length k). */
  thresholds: number[];
  /** Length k+1; element i belongs to thresholds[i]; the last is the appended point P = 1. */
  precision: number[];
  /** Length k+1, non-increasing; the last is the appended point R = 0. */
  recall: number[];
  /** Length k+1: 2PR/(P+R) per point, 0/0 := 0. */
  f1: number[];
}

/** sklearn 1.2's `roc_curve(..., drop_intermediate=False)`. */
export interface RocCurve {
  /** Length k+1, starting at 0. */
  fpr: number[];
  /** Length k+1, starting at 0. */
  tpr: number[];
  /** Decreasing; the first is max(score) + 1 (the (0, 0) point), then the distinct scores. */
  thresholds: number[];
}

/** Cumulative counts per distinct threshold, thresholds decreasing (sklearn's `_binary_clf_curve`). */
interface ClfCounts {
  thresholds: Float64Array;
  tps: Float64Array;
  fps: Float64Array;
  nPos: number;
  nNeg: number;
}

/** Checks the input contract and throws RwdaError naming the first offending index. `what` prefixes messages. */
export function validateMetricInput(labels: ArrayLike<number>, scores: ArrayLike<number>, what = 'metrics'): void {
  if (labels.length !== scores.length) {
    throw new RwdaError(`${what}: ${labels.length} labels but ${scores.length} scores; they must pair up one to one`);
  }
  if (labels.length === 0) throw new RwdaError(`${what}: no samples; need at least one normal and one anomalous sample`);
  let nPos = 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l !== 0 && l !== 1) {
      throw new RwdaError(`${what}: label at index ${i} is ${String(l)}; labels must be 0 (normal) or 1 (anomalous)`);
    }
    if (l === 1) nPos++;
    const s = scores[i];
    if (typeof s !== 'number' || !Number.isFinite(s)) {
      throw new RwdaError(`${what}: score at index ${i} is ${String(s)}; scores must be finite numbers`);
    }
  }
  const nNeg = labels.length - nPos;
  if (nPos === 0 || nNeg === 0) {
    throw new RwdaError(
      `${what}: only one class present (${nNeg} normal, ${nPos} anomalous); ` +
        'the metrics need at least one normal and one anomalous sample',
    );
  }
}

function clfCounts(labels: ArrayLike<number>, scores: ArrayLike<number>, what: string): ClfCounts {
  validateMetricInput(labels, scores, what);
  const n = labels.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // Descending score; equal scores by ascending index, so a group's first element is its lowest index, the element
  // whose value sklearn reports as the threshold (it only matters for -0 versus +0).
  order.sort((a, b) => scores[b]! - scores[a]! || a - b);
  const thresholds: number[] = [];
  const tps: number[] = [];
  const fps: number[] = [];
  let tp = 0;
  let fp = 0;
  let i = 0;
  while (i < n) {
    const head = scores[order[i]!]!;
    let j = i;
    // `===` treats -0 and +0 as one threshold, like numpy's diff-based grouping.
    while (j < n && scores[order[j]!] === head) {
      if (labels[order[j]!] === 1) tp++;
      else fp++;
      j++;
    }
    thresholds.push(head);
    tps.push(tp);
    fps.push(fp);
    i = j;
  }
  return {
    thresholds: Float64Array.from(thresholds),
    tps: Float64Array.from(tps),
    fps: Float64Array.from(fps),
    nPos: tp,
    nNeg: fp,
  };
}

/** Neumaier-compensated running sum: keeps float sums of a few thousand terms within an ulp or two of exact. */
export class CompensatedSum {
  private sum = 0;
  private comp = 0;
  add(x: number): void {
    const t = this.sum + x;
    if (Math.abs(this.sum) >= Math.abs(x)) this.comp += this.sum - t + x;
    else this.comp += x - t + this.sum;
    this.sum = t;
  }
  value(): number {
    return this.sum + this.comp;
  }
}

function metricsFromCounts(c: ClfCounts): Metrics {
  const { thresholds, tps, fps, nPos, nNeg } = c;
  const k = thresholds.length;
  // AUROC: trapezoids over (FP, TP) in integer units; 2·area·P·N stays an exact integer below 2^53 for any
  // realistic n, so the single final division gives the correctly rounded exact value.
  let twiceArea = 0;
  const ap = new CompensatedSum();
  const trap = new CompensatedSum();
  let prevTp = 0;
  let prevFp = 0;
  let prevPrecision = 1; // the appended (R = 0, P = 1) start point
  let bestNum = 0; // best F1 as the fraction bestNum / bestDen, compared exactly
  let bestDen = 1;
  let bestIdx = -1;
  for (let g = 0; g < k; g++) {
    const tp = tps[g]!;
    const fp = fps[g]!;
    const dtp = tp - prevTp;
    twiceArea += (fp - prevFp) * (tp + prevTp);
    const precision = tp / (tp + fp);
    if (dtp > 0) {
      ap.add(dtp * precision);
      trap.add(dtp * (precision + prevPrecision));
    }
    // F1 = 2TP / (2TP + FP + FN) = 2TP / (TP + FP + P). Scanning thresholds downward, `>=` keeps the lowest
    // threshold on an exact tie (anomalib's argmax over sklearn's increasing order).
    const num = 2 * tp;
    const den = tp + fp + nPos;
    if (num * bestDen >= bestNum * den) {
      bestNum = num;
      bestDen = den;
      bestIdx = g;
    }
    prevTp = tp;
    prevFp = fp;
    prevPrecision = precision;
  }
  return {
    auroc: twiceArea / (2 * nPos * nNeg),
    ap: ap.value() / nPos,
    auprTrapezoid: trap.value() / (2 * nPos),
    f1Max: bestNum / bestDen,
    f1MaxThreshold: thresholds[bestIdx]!,
    n: nPos + nNeg,
    nAnomalous: nPos,
  };
}

function prFromCounts(c: ClfCounts): PrCurve {
  const { thresholds, tps, fps, nPos } = c;
  const k = thresholds.length;
  const out: PrCurve = {
    thresholds: new Array<number>(k),
    precision: new Array<number>(k + 1),
    recall: new Array<number>(k + 1),
    f1: new Array<number>(k + 1),
  };
  for (let g = 0; g < k; g++) {
    const i = k - 1 - g; // sklearn reverses to increasing thresholds
    const p = tps[g]! / (tps[g]! + fps[g]!);
    const r = tps[g]! / nPos;
    out.thresholds[i] = thresholds[g]!;
    out.precision[i] = p;
    out.recall[i] = r;
    out.f1[i] = p + r === 0 ? 0 : (2 * p * r) / (p + r);
  }
  out.precision[k] = 1;
  out.recall[k] = 0;
  out.f1[k] = 0;
  return out;
}

function rocFromCounts(c: ClfCounts): RocCurve {
  const { thresholds, tps, fps, nPos, nNeg } = c;
  const k = thresholds.length;
  const out: RocCurve = { fpr: [0], tpr: [0], thresholds: [thresholds[0]! + 1] };
  for (let g = 0; g < k; g++) {
    out.fpr.push(fps[g]! / nNeg);
    out.tpr.push(tps[g]! / nPos);
    out.thresholds.push(thresholds[g]!);
  }
  return out;
}

/** AUROC, AP, trapezoidal PR-AUC and F1-max of `scores` against 0/1 `labels`; throws RwdaError on invalid input. */
export function computeMetrics(labels: ArrayLike<number>, scores: ArrayLike<number>): Metrics {
  return metricsFromCounts(clfCounts(labels, scores, 'metrics'));
}

/** The precision-recall curve (sklearn layout: increasing thresholds, appended (R=0, P=1) point) with per-point F1. */
export function prCurve(labels: ArrayLike<number>, scores: ArrayLike<number>): PrCurve {
  return prFromCounts(clfCounts(labels, scores, 'metrics'));
}

/** The ROC curve with every distinct threshold kept (drop_intermediate=False) and first threshold max(score) + 1. */
export function rocCurve(labels: ArrayLike<number>, scores: ArrayLike<number>): RocCurve {
  return rocFromCounts(clfCounts(labels, scores, 'metrics'));
}

/** Metrics and both curves from a single sort; `what` names the data set in error messages. */
export function evaluateScores(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  what = 'metrics',
): { metrics: Metrics; pr: PrCurve; roc: RocCurve } {
  const c = clfCounts(labels, scores, what);
  return { metrics: metricsFromCounts(c), pr: prFromCounts(c), roc: rocFromCounts(c) };
}
