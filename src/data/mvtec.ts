/**
 * MVTec AD (Bergmann et al., CVPR 2019): `<root>/<category>/test/good/*.png` are normal test images,
 * `<root>/<category>/test/<defect>/*.png` anomalous ones; `<root>/<category>/train/good` holds the normal training
 * images, exposed as reference pool by {@link referenceImages}. Pixel masks `<root>/<category>/ground_truth/<defect>/
 * <name>_mask.png` are attached as `maskPath` (paths only, never decoded here); a defect image without one is
 * flagged `maskMissing` and named in `notes`.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RwdaError } from '../errors.ts';
import { NORMAL_FOLDER, promptNameFromCategory, scanLabelledFolder } from './folder.ts';
import { listImages, requireDirectory } from './images.ts';
import { attachMasks } from './masks.ts';
import { requireBothClasses, sortItems } from './summary.ts';
import type { DatasetItem, LoadedDataset, SkippedItem } from './types.ts';

/** The 15 MVTec AD categories, in the dataset's usual (alphabetical) order. */
export const MVTEC_CATEGORIES: readonly string[] = [
  'bottle',
  'cable',
  'capsule',
  'carpet',
  'grid',
  'hazelnut',
  'leather',
  'metal_nut',
  'pill',
  'screw',
  'tile',
  'toothbrush',
  'transistor',
  'wood',
  'zipper',
];

const DATASET = 'MVTec AD';

/** Object name used in prompts for an MVTec AD category: the folder name with `_` → space (`metal nut`). */
export function mvtecPromptName(category: string): string {
  return promptNameFromCategory(category);
}

function validList(): string {
  return MVTEC_CATEGORIES.join(', ');
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Checks user-given category names against the 15 and returns them in canonical order, without repeats. */
export function resolveMvtecCategories(names: readonly string[]): string[] {
  const unknown = names.filter((c) => !MVTEC_CATEGORIES.includes(c));
  if (unknown.length > 0) {
    throw new RwdaError(
      `unknown MVTec AD categor${unknown.length === 1 ? 'y' : 'ies'} ${unknown.map((u) => `'${u}'`).join(', ')}; ` +
        `valid categories: ${validList()}`,
    );
  }
  return MVTEC_CATEGORIES.filter((c) => names.includes(c));
}

/** Options of {@link loadMvtec}. */
export interface MvtecOptions {
  /** Subset of categories to load; default: every category folder found under the root. */
  categories?: readonly string[];
}

/**
 * Loads the MVTec AD test split. Without `categories`, every sub-folder of `root` must be one of the 15 category
 * names (anything else is an error listing the valid names); with `categories`, only those are read and each must
 * exist. A category with no test images or with one class only is an error.
 */
export function loadMvtec(root: string, opts: MvtecOptions = {}): LoadedDataset {
  const base = resolve(root);
  requireDirectory(base, `${DATASET} root`);
  const notes: string[] = [];
  let categories: string[];
  if (opts.categories !== undefined) {
    if (opts.categories.length === 0) throw new RwdaError(`${DATASET}: the category list is empty`);
    categories = resolveMvtecCategories(opts.categories);
    const absent = categories.filter((c) => !isDir(join(base, c)));
    if (absent.length > 0) {
      throw new RwdaError(`${DATASET}: category folder${absent.length > 1 ? 's' : ''} missing in ${base}: ${absent.join(', ')}`, { code: 'not_found' });
    }
  } else {
    const dirs = readdirSync(base).filter((name) => !name.startsWith('.') && isDir(join(base, name)));
    const unknown = dirs.filter((d) => !MVTEC_CATEGORIES.includes(d)).sort();
    if (unknown.length > 0) {
      throw new RwdaError(
        `${DATASET}: unknown category folder${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `'${u}'`).join(', ')} ` +
          `in ${base}; valid categories: ${validList()} (pass a category list to load a subset)`,
      );
    }
    categories = MVTEC_CATEGORIES.filter((c) => dirs.includes(c));
    if (categories.length === 0) {
      throw new RwdaError(`${DATASET}: no category folders in ${base}; expected some of: ${validList()}`);
    }
    if (categories.length < MVTEC_CATEGORIES.length) {
      const missing = MVTEC_CATEGORIES.filter((c) => !categories.includes(c));
      notes.push(`${DATASET}: ${categories.length} of ${MVTEC_CATEGORIES.length} categories present; absent: ${missing.join(', ')}`);
    }
  }
  const items: DatasetItem[] = [];
  const skipped: SkippedItem[] = [];
  for (const category of categories) {
    const testDir = join(base, category, 'test');
    requireDirectory(testDir, `${DATASET} category '${category}'`);
    // ground_truth sits beside test/, never inside it; nothing inside test/ is excluded.
    const scan = scanLabelledFolder(testDir, category, mvtecPromptName(category), []);
    requireBothClasses(DATASET, category, scan.items, testDir, scan.skipped);
    const note = attachMasks(scan.items, testDir, join(base, category, 'ground_truth'), `${DATASET} category '${category}'`);
    if (note !== null) notes.push(note);
    items.push(...scan.items);
    skipped.push(...scan.skipped);
  }
  return { items: sortItems(items, categories), skipped, categories, notes };
}

/** Sorted absolute paths of `<root>/<category>/train/good` (the normal reference pool); error if absent or empty. */
export function referenceImages(root: string, category: string): string[] {
  resolveMvtecCategories([category]);
  const dir = join(resolve(root), category, 'train', NORMAL_FOLDER);
  requireDirectory(dir, `${DATASET} category '${category}' reference images`);
  const { images, nonImages } = listImages(dir);
  if (images.length === 0) {
    const extra = nonImages.length > 0 ? ` (${nonImages.length} non-image file${nonImages.length > 1 ? 's' : ''})` : '';
    throw new RwdaError(`${DATASET} category '${category}': no reference images in ${dir}${extra}`);
  }
  return images;
}
