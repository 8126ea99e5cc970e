/**
 * Image-file detection and deterministic recursive listing, shared by the dataset loaders and the detect CLI.
 */
import { readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import { RwdaError } from '../errors.ts';

/** Extensions (lower case, with the dot) treated as images; matching ignores case. */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp'];

/** True when the file name has an image extension and is not hidden (`._x.png` files are macOS metadata). */
export function isImageFile(path: string): boolean {
  const name = basename(path);
  if (name.startsWith('.')) return false;
  return IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
}

/** A recursive listing split into images and everything else. */
export interface ImageListing {
  /** Absolute image paths, sorted by code unit (the same order on every platform). */
  images: string[];
  /** Absolute paths of other files (hidden files included), sorted the same way. */
  nonImages: string[];
}

/** Options of {@link listImages}. */
export interface ListOptions {
  /** Sub-folder names (at any depth) not to descend into, e.g. `ground_truth`. */
  excludeDirs?: readonly string[];
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Throws RwdaError unless `dir` is an existing directory; `what` says what the folder is for. */
export function requireDirectory(dir: string, what: string): void {
  let st: Stats;
  try {
    st = statSync(dir);
  } catch {
    throw new RwdaError(`${what}: folder not found: ${dir}`, { code: 'not_found' });
  }
  if (!st.isDirectory()) throw new RwdaError(`${what}: not a folder: ${dir}`);
}

/** Lists every file under `dir` recursively (symlinks followed, loops cut), images and non-images apart. */
export function listImages(dir: string, opts: ListOptions = {}): ImageListing {
  const root = resolve(dir);
  requireDirectory(root, 'image listing');
  const exclude = new Set(opts.excludeDirs ?? []);
  const images: string[] = [];
  const nonImages: string[] = [];
  const seen = new Set<string>();
  const walk = (d: string): void => {
    const real = realpathSync(d);
    if (seen.has(real)) return;
    seen.add(real);
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const st = statSync(p);
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch {
          nonImages.push(p); // dangling link: reported, never opened
          continue;
        }
      }
      if (isDir) {
        if (!exclude.has(entry.name)) walk(p);
      } else if (isFile && isImageFile(entry.name)) images.push(p);
      else nonImages.push(p);
    }
  };
  walk(root);
  images.sort(byCodeUnit);
  nonImages.sort(byCodeUnit);
  return { images, nonImages };
}

/** `path` relative to `root` with `/` separators, for messages. */
export function displayPath(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}
