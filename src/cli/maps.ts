/**
 * `--maps DIR`: per scored image with a map, DIR/<name>.npy (float32, the map exactly as the method
 * computed it, in model-input coordinates) and DIR/<name>.png (the heatmap over the original).
 * <name> is the image's path relative to the folder argument it came from, or its file name when it
 * was named itself (extension dropped), so same-named images in different folders stay apart.
 */
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { RwdaError } from '../errors.ts';
import { writeNpyFloat32 } from '../data/npy.ts';
import { renderOverlay } from '../methods/common/overlay.ts';
import type { ImagePrediction } from '../methods/index.ts';
import { writeFileAtomic } from '../util/atomic.ts';

/** The output name of `file` (no extension), relative to the argument it was found under. */
export function mapName(file: string, args: readonly string[]): string {
  const abs = resolve(file);
  let rel: string | undefined;
  for (const a of args) {
    const r = relative(resolve(a), abs);
    if (r !== '' && !r.startsWith('..') && !isAbsolute(r)) {
      rel = r;
      break;
    }
  }
  // A file named on the command line (not found under a folder argument) keeps its own name.
  rel ??= basename(file);
  if (rel === '' || rel === '.') rel = 'image';
  return rel.replace(/\.[^./\\]+$/, '');
}

/** Writes the .npy and .png of every row that has a map. */
export async function writeMaps(dir: string, rows: readonly ImagePrediction[], args: readonly string[]): Promise<number> {
  let n = 0;
  for (const r of rows) {
    if (r.map === undefined) continue;
    const base = join(dir, mapName(r.file, args));
    try {
      mkdirSync(dirname(base), { recursive: true });
    } catch (err) {
      throw new RwdaError(`--maps: cannot create the folder ${dirname(base)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { code: 'io', cause: err });
    }
    writeNpyFloat32(`${base}.npy`, r.map.data, r.map.height, r.map.width);
    writeFileAtomic(`${base}.png`, await renderOverlay(await readFile(r.file), r.map, { name: r.file }));
    n++;
  }
  return n;
}
