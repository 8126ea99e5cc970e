/**
 * Pixel-level anomaly-segmentation metrics over all pixels of all images together: pixel AUROC, AP and F1-max with
 * scikit-learn 1.2 semantics (as src/eval/metrics.ts), and AU-PRO as MVTec AD's official evaluation code computes it
 * (`compute_pro` + `trapezoid(..., x_max=L) / L`). Goldens and definitions: ../shared/fixtures/pixel_metrics.
 *
 * Images are added one at a time; each is labelled (8-connected regions) and reduced to sort keys on arrival, so
 * maps and masks need not be kept. At the end one radix sort of the normal pixels and one of the anomalous pixels
 * (with their region id) are merged from the top score down; every metric is accumulated along that single walk.
 *
 * Memory: exact, so every pixel is kept until the end: 8 bytes per normal pixel and 12 per anomalous pixel while
 * images are added (up to twice that while the buffers grow), then the sort keys (4 bytes a pixel for float32
 * scores, 8 otherwise) and as much again of radix scratch — about 24–32 bytes per pixel at the peak. Measured:
 * 450 MB peak RSS for 9.8 M pixels (bench/pixel_metrics.ts). The MVTec AD test set at 256×256 (113 M pixels) needs
 * about 3 GB; at full resolution (1.8 G pixels) it does not fit: evaluate per category, or resize maps and masks
 * first as most papers do.
 */
import { RwdaError } from '../../errors.ts';
import { CompensatedSum } from '../metrics.ts';
import { labelComponents } from './components.ts';
import { radixSortKeys, toSortableKeys32, toSortableKeys64 } from './radix.ts';

/** MVTec's default integration limit for AU-PRO (FPR up to 30 %). */
export const DEFAULT_PRO_LIMIT = 0.3;

/** Scalar pixel metrics of a set of maps and masks. */
export interface PixelMetrics {
  pixelAuroc: number;
  pixelAp: number;
  pixelF1Max: number;
  /** Area under the PRO curve up to FPR = `proLimit`, divided by `proLimit` (1 = perfect, `proLimit`/2 = constant). */
  aupro: number;
  proLimit: number;
  nImages: number;
  nPixels: number;
  nAnomalousPixels: number;
  /** Connected (8-neighbour) ground-truth regions over all images. */
  nRegions: number;
}

/** The PRO curve as the official code returns it: (0,0) prepended, (1,1) appended, FPR in float32 precision. */
export interface ProCurve {
  fpr: number[];
  pro: number[];
}

/** Options of {@link PixelMetricsAccumulator.compute}. */
export interface PixelMetricsOptions {
  /** AU-PRO integration limit in (0, 1]; default 0.3. */
  proLimit?: number;
  /** Also return the whole PRO curve (memory: two numbers per distinct score). */
  curve?: boolean;
}

/** Throws RwdaError unless `limit` is a number in (0, 1], the range the official script asserts. */
export function checkProLimit(limit: number, what = 'pro limit'): void {
  if (typeof limit !== 'number' || !(limit > 0 && limit <= 1)) {
    throw new RwdaError(`${what} ${String(limit)}: must be a number in (0, 1]`);
  }
}

/** True when every value is exactly representable in float32 (then float32 keys order it exactly). */
function allFloat32(xs: Float64Array): boolean {
  for (let i = 0; i < xs.length; i++) if (Math.fround(xs[i]!) !== xs[i]) return false;
  return true;
}

/** A Float64Array / Uint32Array that grows by doubling. */
class Growable<T extends Float64Array | Uint32Array> {
  length = 0;
  constructor(
    public data: T,
    private readonly make: (n: number) => T,
  ) {}
  reserve(extra: number): void {
    const need = this.length + extra;
    if (need <= this.data.length) return;
    const next = this.make(Math.max(need, this.data.length * 2, 1024));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
  view(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

/** Accumulates maps and masks image by image; {@link compute} then gives every pixel metric from one sort. */
export class PixelMetricsAccumulator {
  private readonly normal = new Growable(new Float64Array(0), (n) => new Float64Array(n));
  private readonly anomalous = new Growable(new Float64Array(0), (n) => new Float64Array(n));
  private readonly region = new Growable(new Uint32Array(0), (n) => new Uint32Array(n));
  /** 1/|r| per region, in float64 as the official code stores it per pixel. */
  private readonly weights: number[] = [];
  private nImages = 0;

  /**
   * Adds one image. `mask` is row-major, non-zero = anomalous; `null` = an all-normal image (MVTec's good images).
   * `name` (e.g. the map's file) names the image in errors.
   */
  add(
    map: ArrayLike<number>,
    mask: ArrayLike<number> | null,
    height: number,
    width: number,
    name: string,
    maskName = name,
  ): void {
    const n = height * width;
    if (map.length !== n) throw new RwdaError(`${name}: ${map.length} scores for a ${height}x${width} map`);
    if (mask !== null && mask.length !== n) {
      throw new RwdaError(`${maskName}: ${mask.length} mask pixels for the ${height}x${width} map ${name}`);
    }
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(map[i])) {
        const y = Math.floor(i / width);
        throw new RwdaError(`${name}: score at row ${y}, column ${i - y * width} is ${String(map[i])}; maps must hold finite numbers`);
      }
    }
    let binary: Uint8Array | null = null;
    let nPos = 0;
    if (mask !== null) {
      binary = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        if (mask[i] !== 0) {
          binary[i] = 1;
          nPos++;
        }
      }
    }
    this.normal.reserve(n - nPos);
    this.anomalous.reserve(nPos);
    this.region.reserve(nPos);
    const normal = this.normal.data;
    const anomalous = this.anomalous.data;
    const region = this.region.data;
    let a = this.normal.length;
    let b = this.anomalous.length;
    if (binary === null || nPos === 0) {
      // `+ 0` turns -0 into +0: they are one score (one threshold), and must get one key.
      for (let i = 0; i < n; i++) normal[a++] = map[i]! + 0;
    } else {
      const { labels, sizes } = labelComponents(binary, height, width, 8);
      const first = this.weights.length; // global id of this image's region 1
      for (const s of sizes) this.weights.push(1 / s);
      for (let i = 0; i < n; i++) {
        const l = labels[i]!;
        if (l === 0) normal[a++] = map[i]! + 0;
        else {
          anomalous[b] = map[i]! + 0;
          region[b++] = first + l - 1;
        }
      }
    }
    this.normal.length = a;
    this.anomalous.length = b;
    this.region.length = b;
    this.nImages++;
  }

  /** All metrics; RwdaError when no pixel is anomalous or none is normal, or the limit is outside (0, 1]. */
  compute(options: PixelMetricsOptions = {}): PixelMetrics & { curve?: ProCurve } {
    const limit = options.proLimit ?? DEFAULT_PRO_LIMIT;
    checkProLimit(limit);
    const nNeg = this.normal.length;
    const nPos = this.anomalous.length;
    if (this.nImages === 0) throw new RwdaError('pixel metrics: no images');
    if (nPos === 0) throw new RwdaError(`pixel metrics: no anomalous pixel in any of the ${this.nImages} masks; AUROC and PRO are undefined`);
    if (nNeg === 0) throw new RwdaError(`pixel metrics: every pixel of the ${this.nImages} images is anomalous; FPR is undefined`);

    const normalScores = this.normal.view();
    const anomalousScores = this.anomalous.view();
    // Float32 maps (the usual case) sort on one-word keys: half the passes, half the bytes moved.
    const stride: 1 | 2 = allFloat32(normalScores) && allFloat32(anomalousScores) ? 1 : 2;
    const toKeys = (scores: Float64Array): Uint32Array => {
      if (stride === 1) {
        const w = new Uint32Array(Float32Array.from(scores).buffer);
        toSortableKeys32(w);
        return w;
      }
      const w = new Uint32Array(scores.slice().buffer);
      toSortableKeys64(w);
      return w;
    };
    const A = radixSortKeys(toKeys(normalScores), null, stride).keys;
    const sortedB = radixSortKeys(toKeys(anomalousScores), this.region.view().slice(), stride);
    const B = sortedB.keys;
    const regionOf = sortedB.payload!;
    const weights = Float64Array.from(this.weights);
    const nRegions = weights.length;

    // sklearn's metrics, streamed (same formulas as metrics.ts): integer counts, one rounding per quotient.
    let twiceArea = 0;
    const ap = new CompensatedSum();
    let f1Max = 0;
    // AU-PRO: trapezoids over (FPR, PRO) points, stopping at the limit with MVTec's interpolation.
    let area = 0;
    let prevX = 0;
    let prevY = 0;
    let limitReached = false;
    const curve: ProCurve | undefined = options.curve ? { fpr: [0], pro: [0] } : undefined;
    const addPoint = (x: number, y: number): void => {
      if (curve) {
        curve.fpr.push(x);
        curve.pro.push(y);
      }
      if (limitReached) return;
      if (x <= limit) {
        area += 0.5 * (y + prevY) * (x - prevX);
        // The official code skips the interpolation when the limit is itself a curve FPR (an exact comparison).
        if (x === limit) limitReached = true;
        prevX = x;
        prevY = y;
      } else {
        const yAtLimit = prevY + ((y - prevY) * (limit - prevX)) / (x - prevX);
        area += 0.5 * (yAtLimit + prevY) * (limit - prevX);
        limitReached = true;
      }
    };

    let tp = 0;
    let fp = 0;
    let proSum = 0;
    let i = nNeg - 1;
    let j = nPos - 1;
    // Key of element k: (hi, lo) = (K[k*stride + stride-1], K[k*stride]); with one-word keys lo = hi, harmlessly.
    const top = stride - 1;
    while (i >= 0 || j >= 0) {
      let hi: number;
      let lo: number;
      if (j < 0) {
        hi = A[i * stride + top]!;
        lo = A[i * stride]!;
      } else if (i < 0) {
        hi = B[j * stride + top]!;
        lo = B[j * stride]!;
      } else {
        const ah = A[i * stride + top]!;
        const bh = B[j * stride + top]!;
        if (ah > bh || (ah === bh && A[i * stride]! >= B[j * stride]!)) {
          hi = ah;
          lo = A[i * stride]!;
        } else {
          hi = bh;
          lo = B[j * stride]!;
        }
      }
      const prevTp = tp;
      const prevFp = fp;
      while (i >= 0 && A[i * stride + top] === hi && A[i * stride] === lo) {
        fp++;
        i--;
      }
      while (j >= 0 && B[j * stride + top] === hi && B[j * stride] === lo) {
        tp++;
        proSum += weights[regionOf[j]!]!;
        j--;
      }
      // One point per distinct score: all pixels of a tie enter together.
      twiceArea += (fp - prevFp) * (tp + prevTp);
      if (tp > prevTp) ap.add((tp - prevTp) * (tp / (tp + fp)));
      const f1 = (2 * tp) / (tp + fp + nPos);
      if (f1 > f1Max) f1Max = f1;
      // The official FPR: uint32 counts cast to float32, divided, stored as float32; PRO in float64. Both clipped.
      addPoint(Math.min(Math.fround(Math.fround(fp) / nNeg), 1), Math.min(proSum / nRegions, 1));
    }
    addPoint(1, 1);

    const out: PixelMetrics & { curve?: ProCurve } = {
      pixelAuroc: twiceArea / (2 * nPos * nNeg),
      pixelAp: ap.value() / nPos,
      pixelF1Max: f1Max,
      aupro: area / limit,
      proLimit: limit,
      nImages: this.nImages,
      nPixels: nPos + nNeg,
      nAnomalousPixels: nPos,
      nRegions,
    };
    if (curve) out.curve = curve;
    return out;
  }
}
