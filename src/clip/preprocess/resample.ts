/**
 * Pillow 9.4's 8-bit resampling, reimplemented bit for bit (libImaging/Resample.c and the NEAREST
 * scale path of Geometry.c), because a generic bicubic differs from it by a few LSB and CLIP's
 * features move visibly with ±1 LSB noise.
 *
 * BICUBIC (a = -0.5) is antialiased: when shrinking, the kernel support is stretched by the scale.
 * Coefficients are computed in double, normalised to sum 1, then turned into 22-bit fixed point
 * (PRECISION_BITS = 32 - 8 - 2). Two separable passes, horizontal first, each rounding (+half, >> 22)
 * and clamping to u8. A pass is skipped when its dimension is unchanged.
 */

/** Interleaved u8 pixels, row-major. */
export interface RawImage {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

/** A sub-rectangle of the resized image to produce (the rest is never computed). */
export interface OutputWindow {
  x: number;
  y: number;
  width: number;
  height: number;
}

const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);
const FIXED_ONE = 1 << PRECISION_BITS;
const BICUBIC_SUPPORT = 2.0;

/** Pillow's bicubic_filter with a = -0.5, same operation order (so the same doubles). */
function bicubicFilter(x: number): number {
  const a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

/** Per output pixel: first input index, tap count, and `ksize` fixed-point weights. */
export interface Coefficients {
  ksize: number;
  /** [xmin, count] per output index. */
  bounds: Int32Array;
  /** Fixed-point weights, `ksize` per output index (unused taps are 0). */
  weights: Int32Array;
}

/**
 * Pillow's precompute_coeffs + normalize_coeffs_8bpc for the source range [in0, in1) (Pillow keeps
 * the box in float32) mapped onto `outSize` pixels. Only output indices [first, first + count) are
 * computed (entry i describes output first + i), so huge upscales cost only what is kept.
 */
export function bicubicCoefficients(
  inSize: number,
  in0: number,
  in1: number,
  outSize: number,
  first = 0,
  count = outSize - first,
): Coefficients {
  const scale = Math.fround(Math.fround(in1) - Math.fround(in0)) / outSize;
  const filterscale = scale < 1.0 ? 1.0 : scale;
  const support = BICUBIC_SUPPORT * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(count * 2);
  const weights = new Int32Array(count * ksize);
  const k = new Float64Array(ksize);
  const ss = 1.0 / filterscale;
  const start = Math.fround(in0);
  for (let i = 0; i < count; i++) {
    const xx = first + i;
    const center = start + (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0.0;
    for (let x = 0; x < xmax; x++) {
      const w = bicubicFilter((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    const off = i * ksize;
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0.0 ? k[x]! / ww : k[x]!;
      weights[off + x] = w < 0 ? Math.trunc(-0.5 + w * FIXED_ONE) : Math.trunc(0.5 + w * FIXED_ONE);
    }
    bounds[i * 2] = xmin;
    bounds[i * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights };
}

/** Pillow's clip8: drop the fraction bits (arithmetic shift), clamp to 0..255. */
function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function fullWindow(width: number, height: number): OutputWindow {
  return { x: 0, y: 0, width, height };
}

function checkWindow(win: OutputWindow, outW: number, outH: number): void {
  if (
    !Number.isInteger(win.x) || !Number.isInteger(win.y) || win.x < 0 || win.y < 0 ||
    win.width < 1 || win.height < 1 || win.x + win.width > outW || win.y + win.height > outH
  ) {
    throw new RangeError(`output window ${JSON.stringify(win)} is outside the ${outW}x${outH} resized image`);
  }
}

/** Copies a window of `src` (no resampling: Pillow returns a copy when the size is unchanged). */
export function cropRaw(src: RawImage, win: OutputWindow): RawImage {
  checkWindow(win, src.width, src.height);
  const C = src.channels;
  const out = new Uint8Array(win.width * win.height * C);
  const rowLen = win.width * C;
  for (let y = 0; y < win.height; y++) {
    const from = ((win.y + y) * src.width + win.x) * C;
    out.set(src.data.subarray(from, from + rowLen), y * rowLen);
  }
  return { width: win.width, height: win.height, channels: C, data: out };
}

/**
 * Resizes `src` to outW×outH with Pillow's BICUBIC (ImagingResample on the whole image), returning
 * only `win` of the result. Each output pixel depends only on its own row/column coefficients, so
 * the window equals the same crop of Pillow's full resize.
 */
export function resizeBicubic(src: RawImage, outW: number, outH: number, win?: OutputWindow): RawImage {
  const w = win ?? fullWindow(outW, outH);
  checkWindow(w, outW, outH);
  const needH = outW !== src.width;
  const needV = outH !== src.height;
  if (!needH && !needV) return cropRaw(src, w);

  const C = src.channels;
  const vert = needV ? bicubicCoefficients(src.height, 0, src.height, outH, w.y, w.height) : undefined;
  // Source rows the vertical pass will read for the window's rows.
  let yFirst: number;
  let yLast: number;
  if (vert) {
    yFirst = vert.bounds[0]!;
    yLast = 0;
    for (let i = 0; i < w.height; i++) {
      yFirst = Math.min(yFirst, vert.bounds[2 * i]!);
      yLast = Math.max(yLast, vert.bounds[2 * i]! + vert.bounds[2 * i + 1]!);
    }
  } else {
    yFirst = w.y;
    yLast = w.y + w.height;
  }

  let mid: RawImage;
  if (needH) {
    mid = horizontalPass(src, outW, w.x, w.width, yFirst, yLast);
  } else {
    mid = cropRaw(src, { x: w.x, y: yFirst, width: w.width, height: yLast - yFirst });
  }
  if (!vert) return mid;
  return verticalPass(mid, vert, w.height, yFirst);
}

function horizontalPass(src: RawImage, outW: number, x0: number, width: number, yFirst: number, yLast: number): RawImage {
  const { bounds, weights, ksize } = bicubicCoefficients(src.width, 0, src.width, outW, x0, width);
  const C = src.channels;
  const inRow = src.width * C;
  const rows = yLast - yFirst;
  const out = new Uint8Array(rows * width * C);
  const s = src.data;
  let o = 0;
  for (let y = 0; y < rows; y++) {
    const rowStart = (y + yFirst) * inRow;
    for (let i = 0; i < width; i++) {
      const xmin = bounds[2 * i]!;
      const count = bounds[2 * i + 1]!;
      const kOff = i * ksize;
      const base = rowStart + xmin * C;
      if (C === 1) {
        let ss0 = HALF;
        for (let x = 0; x < count; x++) ss0 += s[base + x]! * weights[kOff + x]!;
        out[o++] = clip8(ss0);
      } else if (C === 3) {
        let ss0 = HALF, ss1 = HALF, ss2 = HALF;
        for (let x = 0, p = base; x < count; x++, p += 3) {
          const k = weights[kOff + x]!;
          ss0 += s[p]! * k;
          ss1 += s[p + 1]! * k;
          ss2 += s[p + 2]! * k;
        }
        out[o++] = clip8(ss0);
        out[o++] = clip8(ss1);
        out[o++] = clip8(ss2);
      } else {
        for (let c = 0; c < C; c++) {
          let ss = HALF;
          for (let x = 0, p = base + c; x < count; x++, p += C) ss += s[p]! * weights[kOff + x]!;
          out[o++] = clip8(ss);
        }
      }
    }
  }
  return { width, height: rows, channels: C, data: out };
}

function verticalPass(mid: RawImage, vert: Coefficients, height: number, rowOffset: number): RawImage {
  const { bounds, weights, ksize } = vert;
  const rowLen = mid.width * mid.channels;
  const out = new Uint8Array(height * rowLen);
  const s = mid.data;
  // Whole-row accumulators: the same sums as Pillow's per-pixel loop, in sequential memory order.
  const acc = new Int32Array(rowLen);
  for (let r = 0; r < height; r++) {
    const ymin = bounds[2 * r]! - rowOffset;
    const count = bounds[2 * r + 1]!;
    const kOff = r * ksize;
    acc.fill(HALF);
    for (let y = 0; y < count; y++) {
      const k = weights[kOff + y]!;
      const p = (ymin + y) * rowLen;
      for (let i = 0; i < rowLen; i++) acc[i] = (acc[i]! + Math.imul(s[p + i]!, k)) | 0;
    }
    const outRow = r * rowLen;
    for (let i = 0; i < rowLen; i++) out[outRow + i] = clip8(acc[i]!);
  }
  return { width: mid.width, height, channels: mid.channels, data: out };
}

/** Pillow's COORD: -1 for negative coordinates, else truncation. */
function coord(v: number): number {
  return v < 0.0 ? -1 : Math.trunc(v);
}

/**
 * Pillow's NEAREST resize (the affine scale path it uses for modes P and 1): source positions are
 * accumulated in double from `scale * 0.5` by `scale` steps, then truncated. Returns `win` of it.
 */
export function resizeNearest(src: RawImage, outW: number, outH: number, win?: OutputWindow): RawImage {
  const w = win ?? fullWindow(outW, outH);
  checkWindow(w, outW, outH);
  if (outW === src.width && outH === src.height) return cropRaw(src, w);
  const C = src.channels;
  const a0 = Math.fround(src.width) / outW;
  const a4 = Math.fround(src.height) / outH;
  const xin = new Int32Array(outW).fill(-1);
  let xo = 0 + a0 * 0.5;
  for (let x = 0; x < outW; x++) {
    const c = coord(xo);
    if (c >= 0 && c < src.width) xin[x] = c;
    xo += a0;
  }
  const out = new Uint8Array(w.width * w.height * C);
  let yo = 0 + a4 * 0.5;
  for (let y = 0; y < w.y + w.height; y++) {
    if (y >= w.y) {
      const yi = coord(yo);
      if (yi >= 0 && yi < src.height) {
        const inRow = yi * src.width * C;
        const outRow = (y - w.y) * w.width * C;
        for (let x = 0; x < w.width; x++) {
          const xi = xin[w.x + x]!;
          if (xi < 0) continue; // Pillow fills unmapped pixels with 0
          for (let c = 0; c < C; c++) out[outRow + x * C + c] = src.data[inRow + xi * C + c]!;
        }
      }
    }
    yo += a4;
  }
  return { width: w.width, height: w.height, channels: C, data: out };
}

/** Pillow's RGBA → RGBa (or LA → La): colour × alpha / 255 with MULDIV255 rounding; alpha last. */
export function premultiply(img: RawImage): RawImage {
  const C = img.channels;
  const out = new Uint8Array(img.data.length);
  const d = img.data;
  for (let p = 0; p < d.length; p += C) {
    const a = d[p + C - 1]!;
    for (let c = 0; c < C - 1; c++) {
      const tmp = d[p + c]! * a + 128;
      out[p + c] = ((tmp >> 8) + tmp) >> 8;
    }
    out[p + C - 1] = a;
  }
  return { ...img, data: out };
}

/** Pillow's RGBa → RGBA (or La → LA): truncating 255·c/alpha, clamped; alpha 0 and 255 left as is. */
export function unpremultiply(img: RawImage): RawImage {
  const C = img.channels;
  const out = new Uint8Array(img.data.length);
  const d = img.data;
  for (let p = 0; p < d.length; p += C) {
    const a = d[p + C - 1]!;
    for (let c = 0; c < C - 1; c++) {
      const v = d[p + c]!;
      if (a === 255 || a === 0) out[p + c] = v;
      else {
        const q = Math.trunc((255 * v) / a);
        out[p + c] = q > 255 ? 255 : q;
      }
    }
    out[p + C - 1] = a;
  }
  return { ...img, data: out };
}
