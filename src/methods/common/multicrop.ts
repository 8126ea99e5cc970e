/**
 * Multi-crop test-time augmentation. The paper names it without details; this is rwda's definition:
 *
 * - views = the standard view (the whole image through the model's usual resize + centre crop) plus,
 *   for each scale k (default 2 and 3), a k×k grid of square crops of the centre square;
 * - the centre square has side s = min(w, h) and sits at torchvision's CenterCrop offset
 *   round((len − s) / 2) with round-half-to-even (as Python's round);
 * - crop side = max(1, round(2s / (k + 1))), crop i (column) / j (row) starts at
 *   min(round(i·s / (k + 1)), s − side) inside the centre square: stride s/(k+1), so neighbours
 *   overlap by half. The clamp only acts when both roundings go up (e.g. s = 7, k = 3) and keeps
 *   every box inside the image. All rounding is half-to-even on exact integer ratios;
 * - each crop is resized to the model input (a square crop passes the centre crop unchanged);
 * - image score = mean(standard-view score, max over crop scores) ('mean' over crops is the option).
 */
import { RwdaError } from '../../errors.ts';
import { MULTICROP_DEFAULTS } from '../rwda/defaults.ts';

/** An integer pixel rectangle in source-image coordinates. */
export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** One view of an image: "std" or a crop "g{k}_{row}_{col}". */
export interface View {
  /** Stable id, used as the cache key of the view's embedding. */
  id: string;
  kind: 'standard' | 'crop';
  /** Grid size k (0 for the standard view). */
  scale: number;
  row: number;
  col: number;
  /** The pixels the view sees (the whole image for the standard view). */
  box: Box;
}

/** How crop scores are reduced to one before averaging with the standard view. */
export type CropAggregation = 'max' | 'mean';

/** Id of the standard view. */
export const STANDARD_VIEW_ID = 'std';

// Larger grids give crops of a few pixels; well past any sensible setting.
const MAX_SCALE = 32;

/** round(num / den) with ties to even, exact for integers (den > 0). */
export function roundHalfEvenDiv(num: number, den: number): number {
  const q = Math.floor(num / den);
  const r2 = 2 * (num - q * den);
  if (r2 > den) return q + 1;
  if (r2 < den) return q;
  return q % 2 === 0 ? q : q + 1;
}

function checkSize(width: number, height: number): void {
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new RwdaError(`multi-crop: image ${name} must be a positive integer, got ${v}`);
  }
}

/** Checks a list of grid scales: distinct integers in [1, 32]. */
export function checkScales(scales: readonly number[]): readonly number[] {
  if (!Array.isArray(scales)) throw new RwdaError('multi-crop: scales must be an array of integers');
  const seen = new Set<number>();
  for (const k of scales) {
    if (!Number.isInteger(k) || k < 1 || k > MAX_SCALE) {
      throw new RwdaError(`multi-crop: each scale must be an integer in [1, ${MAX_SCALE}], got ${k}`);
    }
    if (seen.has(k)) throw new RwdaError(`multi-crop: scale ${k} is listed twice`);
    seen.add(k);
  }
  return scales;
}

/** The centred square of side min(width, height), offset as torchvision's CenterCrop rounds it. */
export function centerSquare(width: number, height: number): Box {
  checkSize(width, height);
  const s = Math.min(width, height);
  return { left: roundHalfEvenDiv(width - s, 2), top: roundHalfEvenDiv(height - s, 2), width: s, height: s };
}

/** The views of an image: "std" first, then each scale's grid row by row. */
export function cropViews(width: number, height: number, scales: readonly number[] = MULTICROP_DEFAULTS.scales): View[] {
  checkScales(scales);
  const sq = centerSquare(width, height);
  const s = sq.width;
  const views: View[] = [
    { id: STANDARD_VIEW_ID, kind: 'standard', scale: 0, row: 0, col: 0, box: { left: 0, top: 0, width, height } },
  ];
  for (const k of scales) {
    const side = Math.max(1, roundHalfEvenDiv(2 * s, k + 1));
    const offsets = Array.from({ length: k }, (_, i) => Math.min(roundHalfEvenDiv(i * s, k + 1), s - side));
    for (let row = 0; row < k; row++) {
      for (let col = 0; col < k; col++) {
        views.push({
          id: `g${k}_${row}_${col}`,
          kind: 'crop',
          scale: k,
          row,
          col,
          box: { left: sq.left + offsets[col]!, top: sq.top + offsets[row]!, width: side, height: side },
        });
      }
    }
  }
  return views;
}

/** The view ids for a list of scales, in cropViews order (they do not depend on the image size). */
export function viewIds(scales: readonly number[] = MULTICROP_DEFAULTS.scales): string[] {
  return cropViews(1, 1, scales).map((v) => v.id);
}

function checkScore(v: number, what: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RwdaError(`multi-crop: ${what} must be a finite number, got ${v}`);
}

/** mean(standard score, max or mean of the crop scores); with no crops, the standard score. */
export function aggregateViewScores(
  stdScore: number,
  cropScores: readonly number[],
  aggregation: CropAggregation = MULTICROP_DEFAULTS.cropAggregation,
): number {
  checkScore(stdScore, 'standard-view score');
  cropScores.forEach((c, i) => checkScore(c, `crop score ${i}`));
  if (aggregation !== 'max' && aggregation !== 'mean') {
    throw new RwdaError(`multi-crop: aggregation must be 'max' or 'mean', got ${JSON.stringify(aggregation)}`);
  }
  if (cropScores.length === 0) return stdScore;
  const crop =
    aggregation === 'max' ? Math.max(...cropScores) : cropScores.reduce((a, b) => a + b, 0) / cropScores.length;
  return (stdScore + crop) / 2;
}

/** Options of multiCropScore. */
/** Per-image aggregate of per-view values (views of image i at rows i·nViews … i·nViews + nViews − 1). */
export function aggregateImageScores(perView: ArrayLike<number>, nViews: number, aggregation: CropAggregation): Float64Array {
  if (!Number.isInteger(nViews) || nViews < 1 || perView.length % nViews !== 0) {
    throw new RwdaError(`internal: ${perView.length} view scores is not a whole number of ${nViews}-view images`);
  }
  const n = perView.length / nViews;
  const out = new Float64Array(n);
  const crops: number[] = new Array(nViews - 1);
  for (let i = 0; i < n; i++) {
    for (let v = 1; v < nViews; v++) crops[v - 1] = perView[i * nViews + v]!;
    out[i] = aggregateViewScores(perView[i * nViews]!, crops, aggregation);
  }
  return out;
}

export interface MultiCropOptions {
  scales?: readonly number[];
  aggregation?: CropAggregation;
}

/** Scores every view with `scoreView` (in cropViews order) and aggregates; returns the per-view scores too. */
export async function multiCropScore(
  width: number,
  height: number,
  scoreView: (view: View) => number | Promise<number>,
  opts: MultiCropOptions = {},
): Promise<{ score: number; views: Array<{ id: string; score: number }> }> {
  const views = cropViews(width, height, opts.scales ?? MULTICROP_DEFAULTS.scales);
  const scored: Array<{ id: string; score: number }> = [];
  for (const v of views) scored.push({ id: v.id, score: await scoreView(v) });
  const [std, ...crops] = scored;
  const score = aggregateViewScores(
    std!.score,
    crops.map((c) => c.score),
    opts.aggregation ?? MULTICROP_DEFAULTS.cropAggregation,
  );
  return { score, views: scored };
}
