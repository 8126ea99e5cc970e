/**
 * `rwda metrics pixel`'s folder contract: every `<rel>.npy` under the maps folder (any depth) is one image; its mask
 * is `<rel>_mask.png` (MVTec's naming) or `<rel>.png` under the masks folder. A map without a mask is an all-normal
 * image (MVTec's good images have no ground-truth file); a mask without a map is an error, since it means the
 * two folders do not belong together.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RwdaError } from '../../errors.ts';
import { readMask } from '../../data/mask.ts';
import { readNpy } from '../../data/npy.ts';
import { PixelMetricsAccumulator, type PixelMetrics, type PixelMetricsOptions } from './metrics.ts';

/** One map and its mask (null = all normal), as paths joined onto the folders given. */
export interface MapMaskPair {
  /** Path of the map relative to the maps folder, `/`-separated, without `.npy`. */
  rel: string;
  mapPath: string;
  maskPath: string | null;
}

function listFiles(root: string, what: string): string[] {
  let st;
  try {
    st = statSync(root);
  } catch {
    throw new RwdaError(`${what} ${root}: no such folder`);
  }
  if (!st.isDirectory()) throw new RwdaError(`${what} ${root}: not a folder`);
  const out: string[] = [];
  const walk = (dir: string, prefix: string): void => {
    for (const ent of readdirSync(dir, { withFileTypes: true })) {
      if (ent.name.startsWith('.')) continue;
      const rel = prefix === '' ? ent.name : `${prefix}/${ent.name}`;
      if (ent.isDirectory()) walk(join(dir, ent.name), rel);
      else out.push(rel);
    }
  };
  walk(root, '');
  return out.sort();
}

/** Pairs every `.npy` under `mapsDir` with its mask under `masksDir`; RwdaError for a mask without a map. */
export function pairMapsWithMasks(mapsDir: string, masksDir: string): MapMaskPair[] {
  const maps = listFiles(mapsDir, '--maps').filter((f) => f.endsWith('.npy'));
  if (maps.length === 0) throw new RwdaError(`--maps ${mapsDir}: no .npy maps found (searched every subfolder)`);
  const masks = new Set(listFiles(masksDir, '--masks').filter((f) => f.toLowerCase().endsWith('.png')));
  const used = new Set<string>();
  const native = (dir: string, rel: string): string => join(dir, ...rel.split('/'));
  const pairs = maps.map((file): MapMaskPair => {
    const rel = file.slice(0, -'.npy'.length);
    const candidates = [`${rel}_mask.png`, `${rel}.png`].filter((m) => masks.has(m));
    if (candidates.length > 1) {
      throw new RwdaError(
        `${native(mapsDir, file)} has two masks, ${native(masksDir, candidates[0]!)} and ${native(masksDir, candidates[1]!)}; keep one`,
      );
    }
    const mask = candidates[0];
    if (mask !== undefined) used.add(mask);
    return { rel, mapPath: native(mapsDir, file), maskPath: mask === undefined ? null : native(masksDir, mask) };
  });
  for (const m of masks) {
    if (!used.has(m)) {
      const base = m.replace(/(_mask)?\.png$/i, '');
      throw new RwdaError(`${native(masksDir, m)}: mask without a map (no ${native(mapsDir, `${base}.npy`)})`);
    }
  }
  return pairs;
}

/** Reads every pair (maps one at a time, so memory is the metric's, not the maps') and computes the pixel metrics. */
export async function evaluatePixelFolders(
  mapsDir: string,
  masksDir: string,
  options: PixelMetricsOptions = {},
): Promise<PixelMetrics> {
  const pairs = pairMapsWithMasks(mapsDir, masksDir);
  const acc = new PixelMetricsAccumulator();
  // Decode the next mask (sharp, off the main thread) while the current map is read and added.
  let pending = pairs[0]!.maskPath ? readMask(pairs[0]!.maskPath) : null;
  for (let k = 0; k < pairs.length; k++) {
    const p = pairs[k]!;
    const maskPromise = pending;
    const next = pairs[k + 1];
    pending = next?.maskPath ? readMask(next.maskPath) : null;
    // A rejected prefetch must not surface as an unhandled rejection before its turn comes.
    pending?.catch(() => undefined);
    const map = readNpy(p.mapPath);
    const mask = maskPromise ? await maskPromise : null;
    if (mask && (mask.height !== map.height || mask.width !== map.width)) {
      throw new RwdaError(
        `${p.mapPath} is ${map.height}x${map.width} but its mask ${p.maskPath} is ${mask.height}x${mask.width}`,
      );
    }
    acc.add(map.data, mask ? mask.data : null, map.height, map.width, p.mapPath, p.maskPath ?? p.mapPath);
  }
  return acc.compute(options);
}

