/**
 * Heatmap overlays for people to look at: a map in model-input coordinates (the centre square of
 * the original after open_clip's resize + centre crop) drawn over the original image. The part of
 * the original that the model never saw (outside the centre square) is dimmed: it was not scored.
 */
import sharp from 'sharp';
import { RwdaError } from '../../errors.ts';
import type { AnomalyMap } from '../types.ts';

/** The largest side of an overlay image (larger originals are shrunk first). */
export const OVERLAY_MAX_SIDE = 768;

/** A perceptual colour ramp (dark blue → cyan → yellow → red) for v in [0, 1]. */
export function heatColour(v: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0));
  const stops: Array<[number, number, number, number]> = [
    [0, 20, 30, 140],
    [0.35, 0, 190, 220],
    [0.65, 250, 230, 40],
    [1, 220, 20, 20],
  ];
  let k = 1;
  while (k < stops.length - 1 && x > stops[k]![0]) k++;
  const [x0, r0, g0, b0] = stops[k - 1]!;
  const [x1, r1, g1, b1] = stops[k]!;
  const f = (x - x0) / (x1 - x0);
  return [Math.round(r0 + f * (r1 - r0)), Math.round(g0 + f * (g1 - g0)), Math.round(b0 + f * (b1 - b0))];
}

/** Bilinear sample of a row-major map at continuous (x, y) in map pixels (half-pixel centres, clamped). */
function sample(map: AnomalyMap, x: number, y: number): number {
  const fx = Math.min(Math.max(x - 0.5, 0), map.width - 1);
  const fy = Math.min(Math.max(y - 0.5, 0), map.height - 1);
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  const x1 = Math.min(x0 + 1, map.width - 1);
  const y1 = Math.min(y0 + 1, map.height - 1);
  const ax = fx - x0;
  const ay = fy - y0;
  const d = map.data;
  const top = d[y0 * map.width + x0]! * (1 - ax) + d[y0 * map.width + x1]! * ax;
  const bot = d[y1 * map.width + x0]! * (1 - ax) + d[y1 * map.width + x1]! * ax;
  return top * (1 - ay) + bot * ay;
}

/**
 * PNG bytes of `map` over the original image: colours scaled to [lo, hi] (default the map's own
 * range), blended at `alpha` inside the centre square, the outside dimmed.
 */
export async function renderOverlay(
  original: Uint8Array,
  map: AnomalyMap,
  opts: { name?: string; lo?: number; hi?: number; alpha?: number } = {},
): Promise<Buffer> {
  let img;
  try {
    img = await sharp(original).rotate().resize({ width: OVERLAY_MAX_SIDE, height: OVERLAY_MAX_SIDE, fit: 'inside', withoutEnlargement: true }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new RwdaError(`${opts.name ?? 'image'}: cannot draw the overlay (${(err as Error).message})`, { cause: err });
  }
  const { width: W, height: H, channels } = img.info;
  let lo = opts.lo ?? Infinity;
  let hi = opts.hi ?? -Infinity;
  if (opts.lo === undefined || opts.hi === undefined) {
    for (const v of map.data) {
      if (opts.lo === undefined && v < lo) lo = v;
      if (opts.hi === undefined && v > hi) hi = v;
    }
  }
  const span = hi > lo ? hi - lo : 1;
  const alpha = opts.alpha ?? 0.5;
  const side = Math.min(W, H);
  const left = (W - side) / 2;
  const top = (H - side) / 2;
  const out = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * channels;
      const o = (y * W + x) * 3;
      const px = x + 0.5 - left;
      const py = y + 0.5 - top;
      if (px < 0 || py < 0 || px >= side || py >= side) {
        for (let c = 0; c < 3; c++) out[o + c] = Math.round(img.data[i + (channels === 1 ? 0 : c)]! * 0.35);
        continue;
      }
      const v = sample(map, (px / side) * map.width, (py / side) * map.height);
      const col = heatColour((v - lo) / span);
      for (let c = 0; c < 3; c++) out[o + c] = Math.round((1 - alpha) * img.data[i + (channels === 1 ? 0 : c)]! + alpha * col[c]!);
    }
  }
  return sharp(out, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
}
