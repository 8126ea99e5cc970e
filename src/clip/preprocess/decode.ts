/**
 * Image decoding with sharp, keeping what Pillow 9.4 (open_clip's reference) would hold for the file:
 * its mode decides how the image is resized later (BICUBIC per channel, premultiplied alpha for
 * RGBA/LA, NEAREST for palette and 1-bit images), so the mode is read from the file itself.
 *
 * Deliberate behaviour, matching open_clip unless noted:
 * - No EXIF rotation: Pillow's `Image.open` ignores the Orientation tag and so does open_clip.
 * - No ICC colour management: Pillow ignores embedded profiles, so sharp is told to (`ignoreIcc`).
 * - Palette PNG/GIF (`P`): sharp expands the palette; the RGB expansion is kept (3 channels) and the
 *   image is marked `P`, so it is resized with NEAREST, which commutes with the palette lookup.
 *   Palette transparency is dropped, as Pillow's P → RGB conversion does. GIF transparency differs:
 *   libvips gives transparent pixels a colour of its own, Pillow the palette entry's colour.
 * - 16-bit PNGs: Pillow keeps the high byte of RGB/RGBA/LA samples, and so do we. 16-bit grayscale
 *   PNGs are the exception: Pillow 9.4 opens them as mode `I` and `convert("RGB")` clips the raw
 *   16-bit values at 255 (an almost white image). We use the high byte instead (mode `L`) and say so
 *   in `notes`; open_clip's output for such files is not reproduced.
 * - CMYK JPEG: the raw (Adobe-uninverted) ink values are kept, resized as 4 channels, then turned into
 *   RGB with Pillow's naive formula (no ICC), as Pillow does. Not checked against a Pillow golden.
 * - Transparency keys (tRNS) on gray/RGB PNGs are ignored: Pillow keeps those images as L/RGB.
 */
import { readFile } from 'node:fs/promises';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { RwdaError, fsErrorCode } from '../../errors.ts';

/** Pillow modes we reproduce. `P` data is the palette-expanded RGB; `1` data is 0/255 gray. */
export type ImageMode = 'RGB' | 'RGBA' | 'L' | 'LA' | 'P' | '1' | 'CMYK';

/** Interleaved channels held in `DecodedImage.data` for each mode. */
export const MODE_CHANNELS: Readonly<Record<ImageMode, number>> = {
  RGB: 3,
  RGBA: 4,
  L: 1,
  LA: 2,
  P: 3,
  '1': 1,
  CMYK: 4,
};

/** A decoded image: row-major, interleaved u8 samples in the layout of its Pillow mode. */
export interface DecodedImage {
  width: number;
  height: number;
  mode: ImageMode;
  channels: number;
  /** `height * width * channels` samples. */
  data: Uint8Array;
  /** The file path or the name given for a buffer; used in error messages. */
  source: string;
  /** sharp's format name (png, jpeg, webp, gif, tiff, ...). */
  format: string;
  /** Where this decode knowingly differs from Pillow 9.4 (empty when it should match). */
  notes: string[];
}

export interface DecodeOptions {
  /** Refuse images with more pixels than this, before decoding them (default 100 megapixels). */
  maxPixels?: number;
  /** Name used in messages and `source` when `input` is a buffer. */
  name?: string;
}

/** Default pixel limit: 100 megapixels. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

type Plan =
  | { kind: 'u8'; mode: ImageMode }
  | { kind: 'u16'; mode: ImageMode; colourspace: 'grey16' | 'rgb16' }
  | { kind: 'cmyk' };

/** Pillow 9.4's mode for a PNG, from the IHDR colour type and bit depth; undefined if unreadable. */
export function pngPillowMode(buf: Uint8Array): { mode: ImageMode | 'I'; bitDepth: number } | undefined {
  // Signature (8) + IHDR length (4) + "IHDR" (4) + width (4) + height (4) + depth (1) + type (1).
  if (buf.length < 26 || buf[12] !== 0x49 || buf[13] !== 0x48 || buf[14] !== 0x44 || buf[15] !== 0x52) return undefined;
  const bitDepth = buf[24]!;
  switch (buf[25]) {
    case 0:
      return { mode: bitDepth === 1 ? '1' : bitDepth === 16 ? 'I' : 'L', bitDepth };
    case 2:
      return { mode: 'RGB', bitDepth };
    case 3:
      return { mode: 'P', bitDepth };
    case 4:
      return { mode: 'LA', bitDepth };
    case 6:
      return { mode: 'RGBA', bitDepth };
    default:
      return undefined;
  }
}

function planFor(buf: Uint8Array, meta: Metadata, notes: string[]): Plan {
  const sixteen = meta.depth === 'ushort';
  if (meta.format === 'png') {
    const png = pngPillowMode(buf);
    if (png) {
      if (png.mode === 'I') {
        notes.push('16-bit grayscale PNG: Pillow 9.4 opens it as mode I and clips values at 255; the high byte is used instead');
        return { kind: 'u16', mode: 'L', colourspace: 'grey16' };
      }
      if (png.bitDepth === 16) {
        return { kind: 'u16', mode: png.mode, colourspace: png.mode === 'LA' ? 'grey16' : 'rgb16' };
      }
      return { kind: 'u8', mode: png.mode };
    }
  }
  if (meta.space === 'cmyk') return { kind: 'cmyk' };
  if (meta.format !== 'png' && meta.format !== 'jpeg') {
    notes.push(`${meta.format}: Pillow mode inferred from sharp metadata, not checked against Pillow`);
  }
  if (meta.isPalette) {
    if (meta.format === 'gif') notes.push('GIF: transparent pixels, and grayscale palettes (Pillow: mode L, BICUBIC), may differ from Pillow');
    return { kind: 'u8', mode: 'P' };
  }
  const gray = meta.space === 'b-w' || meta.space === 'grey16';
  const mode: ImageMode = gray ? (meta.hasAlpha ? 'LA' : 'L') : meta.hasAlpha ? 'RGBA' : 'RGB';
  if (sixteen) return { kind: 'u16', mode, colourspace: gray ? 'grey16' : 'rgb16' };
  return { kind: 'u8', mode };
}

function describe(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]!.trim();
}

/**
 * Decodes an image file or buffer into Pillow-equivalent pixels. Throws RwdaError naming the file for
 * unreadable, empty, corrupt or non-image input and for images over `maxPixels` (checked from the
 * header, before any pixel is decoded).
 */
export async function decodeImage(input: string | Uint8Array, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const source = opts.name ?? (typeof input === 'string' ? input : '<buffer>');
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!(maxPixels >= 1)) throw new RwdaError(`maxPixels must be a positive number, got ${maxPixels} (decoding ${source})`);
  let buf: Uint8Array;
  if (typeof input === 'string') {
    try {
      buf = await readFile(input);
    } catch (err) {
      throw new RwdaError(`cannot read image ${source}: ${describe(err)}`, { code: fsErrorCode(err), cause: err });
    }
  } else {
    buf = input;
  }
  if (buf.length === 0) throw new RwdaError(`image ${source} is empty (0 bytes)`);

  let meta: Metadata;
  try {
    // No sharp limit here: our own check below gives the clearer message.
    meta = await sharp(buf, { ignoreIcc: true, limitInputPixels: false }).metadata();
  } catch (err) {
    throw new RwdaError(`image ${source} is not a readable image: ${describe(err)}`, { cause: err });
  }
  const { width, height } = meta;
  if (!width || !height) throw new RwdaError(`image ${source} has no pixel size in its header`);
  if (width * height > maxPixels) {
    throw new RwdaError(
      `image ${source} is ${width}x${height} = ${width * height} pixels, over the limit of ${maxPixels} (maxPixels)`,
    );
  }

  const notes: string[] = [];
  const plan = planFor(buf, meta, notes);
  // sharp's own limit guards the decode too (it trusts the same header we just checked).
  const pipeline = sharp(buf, { ignoreIcc: true, failOn: 'error', limitInputPixels: Number.isFinite(maxPixels) ? Math.ceil(maxPixels) : false });
  let raw: { data: Buffer; info: OutputInfo };
  try {
    if (plan.kind === 'cmyk') {
      raw = await pipeline.pipelineColourspace('cmyk').toColourspace('cmyk').raw().toBuffer({ resolveWithObject: true });
    } else if (plan.kind === 'u16') {
      raw = await pipeline.toColourspace(plan.colourspace).raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
    } else {
      raw = await pipeline.raw().toBuffer({ resolveWithObject: true });
    }
  } catch (err) {
    throw new RwdaError(`image ${source} could not be decoded: ${describe(err)}`, { cause: err });
  }
  const { info } = raw;
  if (info.width !== width || info.height !== height) {
    throw new RwdaError(`image ${source}: decoded size ${info.width}x${info.height} differs from its header ${width}x${height}`);
  }
  const mode: ImageMode = plan.kind === 'cmyk' ? 'CMYK' : plan.mode;
  const channels = MODE_CHANNELS[mode];
  const n = width * height;
  const data = new Uint8Array(n * channels);
  const srcCh = info.channels;
  if (plan.kind === 'cmyk' && srcCh !== 4) {
    throw new RwdaError(`image ${source}: CMYK decode gave ${srcCh} channels, expected 4`);
  }

  if (plan.kind === 'u16') {
    const s16 = new Uint16Array(raw.data.buffer, raw.data.byteOffset, raw.data.length >> 1);
    pickChannels(s16, srcCh, data, mode, n, 8);
  } else {
    pickChannels(raw.data, srcCh, data, mode, n, 0);
  }
  return { width, height, mode, channels, data, source, format: meta.format ?? 'unknown', notes };
}

/**
 * Copies the samples Pillow's mode keeps out of sharp's output (gray comes back replicated into
 * RGB(A) for 8-bit, native for 16-bit), shifting 16-bit samples down to their high byte.
 */
function pickChannels(
  src: ArrayLike<number>,
  srcCh: number,
  out: Uint8Array,
  mode: ImageMode,
  n: number,
  shift: number,
): void {
  const outCh = MODE_CHANNELS[mode];
  const hasAlpha = srcCh === 2 || srcCh === 4;
  const alphaAt = srcCh - 1;
  if (outCh === srcCh && (mode !== 'LA' || srcCh === 2)) {
    for (let i = 0; i < out.length; i++) out[i] = src[i]! >> shift;
    return;
  }
  for (let p = 0; p < n; p++) {
    const s = p * srcCh;
    const o = p * outCh;
    if (outCh === 1) {
      out[o] = src[s]! >> shift;
    } else if (outCh === 2) {
      out[o] = src[s]! >> shift;
      out[o + 1] = hasAlpha ? src[s + alphaAt]! >> shift : 255;
    } else if (outCh === 3) {
      const g = srcCh < 3;
      out[o] = src[s]! >> shift;
      out[o + 1] = src[g ? s : s + 1]! >> shift;
      out[o + 2] = src[g ? s : s + 2]! >> shift;
    } else {
      const g = srcCh < 3;
      out[o] = src[s]! >> shift;
      out[o + 1] = src[g ? s : s + 1]! >> shift;
      out[o + 2] = src[g ? s : s + 2]! >> shift;
      out[o + 3] = hasAlpha ? src[s + alphaAt]! >> shift : 255;
    }
  }
}
