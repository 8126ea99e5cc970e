/**
 * open_clip's validation transform on a DecodedImage, reproduced exactly (open_clip 2.23,
 * torchvision 0.14, Pillow 9.4):
 *   Resize (in the image's own Pillow mode) → CenterCrop → convert("RGB") → ToTensor → Normalize.
 *
 * resize_mode:
 * - 'shortest' (default): torchvision Resize(S): short side → S, long side → int(S·long/short)
 *   (truncated), then CenterCrop(S) at int(round((len − S) / 2)) with round-half-to-even.
 * - 'squash': Resize((S, S)), no crop.
 * - 'longest': open_clip's ResizeKeepRatio(longest=1): each side → round(side / max(h/S, w/S))
 *   (half-to-even), then CenterCropOrPad(S, fill_color): pad left/top (S−len)//2, right/bottom
 *   (S−len+1)//2 with fill_color. No golden covers 'squash'/'longest'; for palette images the pad
 *   colour differs from Pillow's (which pads with palette index fill_color).
 */
import type { PreprocessConfig } from '../config.ts';
import { RwdaError } from '../../errors.ts';
import type { DecodedImage } from './decode.ts';
import {
  cropRaw,
  premultiply,
  resizeBicubic,
  resizeNearest,
  unpremultiply,
  type OutputWindow,
  type RawImage,
} from './resample.ts';

/** The subset of open_clip's preprocess config the pixels depend on. */
export type PreprocessCfg = Pick<PreprocessConfig, 'size' | 'mean' | 'std' | 'resizeMode' | 'fillColor'> & {
  interpolation?: PreprocessConfig['interpolation'];
};

/** u8 result of resize + crop + convert("RGB"), with the geometry open_clip used. */
export interface PreprocessedU8 {
  /** [S, S, 3] HWC RGB. */
  u8: Uint8Array;
  size: number;
  /** (w, h) after the Resize step. */
  resizedSize: [number, number];
  /** Crop offset (x, y) into the resized image; negative where 'longest' padded. */
  cropLeftTop: [number, number];
}

/** Python's round() for the halves that arise here: ties go to the even integer. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** torchvision 0.14 `_compute_resized_output_size` for an int size: (w, h) with the short side = S. */
export function shortestSideSize(width: number, height: number, size: number): [number, number] {
  const [short, long] = width <= height ? [width, height] : [height, width];
  const newLong = Math.trunc((size * long) / short);
  return width <= height ? [size, newLong] : [newLong, size];
}

/** open_clip ResizeKeepRatio(longest=1) target (w, h): round(side / max(h/S, w/S)). */
export function longestSideSize(width: number, height: number, size: number): [number, number] {
  const ratio = Math.max(height / size, width / size) * 1 + Math.min(height / size, width / size) * (1 - 1);
  return [roundHalfEven(width / ratio), roundHalfEven(height / ratio)];
}

/** torchvision CenterCrop offset: int(round((len − S) / 2.0)). */
export function centerCropOffset(length: number, size: number): number {
  return roundHalfEven((length - size) / 2);
}

function checkCfg(cfg: PreprocessCfg): void {
  if (!Number.isInteger(cfg.size) || cfg.size < 1) throw new RwdaError(`preprocess size must be a positive integer, got ${cfg.size}`);
  if (cfg.interpolation !== undefined && cfg.interpolation !== 'bicubic') {
    throw new RwdaError(`preprocess interpolation '${String(cfg.interpolation)}' is not supported (only 'bicubic')`, { code: 'unsupported' });
  }
  const modes = ['shortest', 'squash', 'longest'];
  if (!modes.includes(cfg.resizeMode)) {
    throw new RwdaError(`preprocess resize_mode '${String(cfg.resizeMode)}' is not supported (one of ${modes.join(', ')})`, { code: 'unsupported' });
  }
}

/** Resize in the image's Pillow mode, returning `win` of the resized image (still in that mode). */
function resizeInMode(img: DecodedImage, outW: number, outH: number, win: OutputWindow): RawImage {
  const raw: RawImage = { width: img.width, height: img.height, channels: img.channels, data: img.data };
  if (outW === img.width && outH === img.height) return cropRaw(raw, win);
  switch (img.mode) {
    case 'P':
    case '1':
      return resizeNearest(raw, outW, outH, win);
    case 'RGBA':
    case 'LA':
      return unpremultiply(resizeBicubic(premultiply(raw), outW, outH, win));
    default:
      return resizeBicubic(raw, outW, outH, win);
  }
}

/** Pillow's convert("RGB") of one pixel's samples, written to out[o..o+2]. */
function toRgb(mode: DecodedImage['mode'], s: Uint8Array, p: number, out: Uint8Array, o: number): void {
  switch (mode) {
    case 'L':
    case '1':
    case 'LA':
      out[o] = out[o + 1] = out[o + 2] = s[p]!;
      return;
    case 'CMYK': {
      // cmyk2rgb: nk − MULDIV255(ink, nk), clamped.
      const nk = 255 - s[p + 3]!;
      for (let c = 0; c < 3; c++) {
        const tmp = s[p + c]! * nk + 128;
        const v = nk - (((tmp >> 8) + tmp) >> 8);
        out[o + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
      return;
    }
    default: // RGB, P (palette already expanded), RGBA (alpha dropped, not composited)
      out[o] = s[p]!;
      out[o + 1] = s[p + 1]!;
      out[o + 2] = s[p + 2]!;
  }
}

/** Fills the [S, S, 3] output from a resized window placed at (dx, dy); the rest stays `fill`. */
function placeRgb(img: DecodedImage, part: RawImage, size: number, dx: number, dy: number, fill: number): Uint8Array {
  const out = new Uint8Array(size * size * 3);
  if (dx > 0 || dy > 0 || part.width < size || part.height < size) out.fill(padValue(img, fill));
  const C = part.channels;
  for (let y = 0; y < part.height; y++) {
    for (let x = 0; x < part.width; x++) {
      toRgb(img.mode, part.data, (y * part.width + x) * C, out, ((y + dy) * size + x + dx) * 3);
    }
  }
  return out;
}

/** The RGB value a fill of `fill` in every band becomes after convert("RGB"). */
function padValue(img: DecodedImage, fill: number): number {
  const f = Math.max(0, Math.min(255, Math.trunc(fill)));
  if (img.mode !== 'CMYK') return f;
  const tmp = f * (255 - f) + 128;
  return Math.max(0, 255 - f - (((tmp >> 8) + tmp) >> 8));
}

/**
 * Resize + crop + convert("RGB") exactly as open_clip's val transform: the PIL image just before
 * ToTensor, as [S, S, 3] u8, plus the resize size and crop offset it used.
 */
export function preprocessToU8(img: DecodedImage, cfg: PreprocessCfg): PreprocessedU8 {
  checkCfg(cfg);
  const S = cfg.size;
  if (cfg.resizeMode === 'squash') {
    const part = resizeInMode(img, S, S, { x: 0, y: 0, width: S, height: S });
    return { u8: placeRgb(img, part, S, 0, 0, 0), size: S, resizedSize: [S, S], cropLeftTop: [0, 0] };
  }
  if (cfg.resizeMode === 'longest') {
    const [rw, rh] = longestSideSize(img.width, img.height, S);
    // Pad to at least S, then centre-crop; with the longest side at S only padding remains.
    const padL = rw < S ? Math.floor((S - rw) / 2) : 0;
    const padT = rh < S ? Math.floor((S - rh) / 2) : 0;
    const pw = rw < S ? S : rw;
    const ph = rh < S ? S : rh;
    const cx = centerCropOffset(pw, S);
    const cy = centerCropOffset(ph, S);
    // Window of the resized image that lands inside the output, and where it lands.
    const x0 = Math.max(0, cx - padL);
    const y0 = Math.max(0, cy - padT);
    const dx = Math.max(0, padL - cx);
    const dy = Math.max(0, padT - cy);
    const win = { x: x0, y: y0, width: Math.min(rw - x0, S - dx), height: Math.min(rh - y0, S - dy) };
    const part = resizeInMode(img, rw, rh, win);
    return { u8: placeRgb(img, part, S, dx, dy, cfg.fillColor), size: S, resizedSize: [rw, rh], cropLeftTop: [cx - padL, cy - padT] };
  }
  const [rw, rh] = shortestSideSize(img.width, img.height, S);
  const cx = centerCropOffset(rw, S);
  const cy = centerCropOffset(rh, S);
  const part = resizeInMode(img, rw, rh, { x: cx, y: cy, width: S, height: S });
  return { u8: placeRgb(img, part, S, 0, 0, 0), size: S, resizedSize: [rw, rh], cropLeftTop: [cx, cy] };
}

/** Pillow `img.crop(box).resize((S, S), BICUBIC)` (NEAREST for P/1), then convert("RGB"): [S, S, 3] u8. */
export function cropResizeToU8(img: DecodedImage, box: readonly [number, number, number, number], size: number): Uint8Array {
  const [left, top, right, bottom] = box;
  if (![left, top, right, bottom].every(Number.isInteger) || left < 0 || top < 0 || right > img.width || bottom > img.height || right <= left || bottom <= top) {
    throw new RwdaError(`crop box [${box.join(', ')}] is not a non-empty integer box inside ${img.source} (${img.width}x${img.height})`);
  }
  if (!Number.isInteger(size) || size < 1) throw new RwdaError(`crop output size must be a positive integer, got ${size}`);
  const raw: RawImage = { width: img.width, height: img.height, channels: img.channels, data: img.data };
  const cropped = cropRaw(raw, { x: left, y: top, width: right - left, height: bottom - top });
  const sub: DecodedImage = { ...img, width: cropped.width, height: cropped.height, data: cropped.data };
  const part = resizeInMode(sub, size, size, { x: 0, y: 0, width: size, height: size });
  return placeRgb(img, part, size, 0, 0, 0);
}

/** cropResizeToU8 followed by ToTensor + Normalize: the [3, S, S] float32 input for one crop (S = cfg.size). */
export function cropResizeImage(
  img: DecodedImage,
  box: readonly [number, number, number, number],
  cfg: PreprocessCfg,
  out?: Float32Array,
  offset = 0,
): Float32Array {
  checkCfg(cfg);
  return toTensor(cropResizeToU8(img, box, cfg.size), cfg.size, cfg.mean, cfg.std, out, offset);
}

/** Per-channel lookup of ToTensor + Normalize for every u8 value, all steps rounded to float32. */
function normalizeTable(mean: readonly number[], std: readonly number[]): Float32Array {
  const t = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const m = Math.fround(mean[c]!);
    const s = Math.fround(std[c]!);
    for (let v = 0; v < 256; v++) {
      const x = Math.fround(v / 255);
      t[c * 256 + v] = Math.fround(Math.fround(x - m) / s);
    }
  }
  return t;
}

/**
 * ToTensor + Normalize: [S, S, 3] u8 HWC → [3, S, S] float32 CHW, ((u8/255) − mean)/std with every
 * step in float32 (bit-identical to torch). Writes into `out` at `offset` when given.
 */
export function toTensor(
  u8: Uint8Array,
  size: number,
  mean: readonly number[],
  std: readonly number[],
  out?: Float32Array,
  offset = 0,
): Float32Array {
  const n = size * size;
  if (u8.length !== n * 3) throw new RwdaError(`toTensor: expected ${n * 3} u8 samples for size ${size}, got ${u8.length}`);
  if (mean.length !== 3 || std.length !== 3) throw new RwdaError('toTensor: mean and std need 3 values each');
  const dst = out ?? new Float32Array(3 * n);
  if (offset < 0 || offset + 3 * n > dst.length) throw new RwdaError(`toTensor: output buffer too small for offset ${offset}`);
  const t = normalizeTable(mean, std);
  for (let c = 0; c < 3; c++) {
    const base = offset + c * n;
    const tc = c * 256;
    for (let i = 0; i < n; i++) dst[base + i] = t[tc + u8[i * 3 + c]!]!;
  }
  return dst;
}

/** The full open_clip val transform: [3, S, S] float32 model input. */
export function preprocessImage(img: DecodedImage, cfg: PreprocessCfg, out?: Float32Array, offset = 0): Float32Array {
  const { u8 } = preprocessToU8(img, cfg);
  return toTensor(u8, cfg.size, cfg.mean, cfg.std, out, offset);
}
