/**
 * Generic folder datasets: `<root>/good/**` are normal, every other sub-folder of `<root>` is anomalous and names
 * the defect type; or an explicit pair of folders `{ normal, anomalous }`. MVTec AD's `test/` folder has the same
 * shape, so its loader reuses {@link scanLabelledFolder}.
 *
 * Masks: when `<root>/ground_truth/` exists (or, for a root named `test`, MVTec's `<root>/../ground_truth/`), an
 * image `<root>/<rel>.<ext>` gets the mask `ground_truth/<rel>_mask.png` or `ground_truth/<rel>.png`; anomalous
 * images without one are flagged `maskMissing`. Without such a folder the dataset has no masks and nothing is flagged.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { attachMasks } from './masks.ts';
import { RwdaError } from '../errors.ts';
import { displayPath, isImageFile, listImages, requireDirectory } from './images.ts';
import { requireBothClasses, sortItems } from './summary.ts';
import type { DatasetItem, LoadedDataset, SkippedItem } from './types.ts';

/** The folder holding normal images. */
export const NORMAL_FOLDER = 'good';
/** Folders skipped by default: pixel masks sit there in MVTec-style trees. */
export const DEFAULT_EXCLUDED_FOLDERS: readonly string[] = ['ground_truth'];

/** The prompt name derived from a folder-style category name: `metal_nut` → `metal nut`. */
export function promptNameFromCategory(category: string): string {
  return category.replace(/_/g, ' ').trim();
}

/** Items and skipped entries of one folder laid out as `good/` plus one sub-folder per defect type. */
export interface ScannedFolder {
  items: DatasetItem[];
  skipped: SkippedItem[];
  /** Sub-folders left out through `excludeDirs`, as given. */
  excluded: string[];
}

/**
 * Scans `dir`: images under `good/` (any depth) get label 0, images under any other sub-folder label 1 with that
 * folder's name as defect type. Files lying directly in `dir`, non-image files and empty defect folders are
 * returned as skipped. Sub-folders named in `excludeDirs` are not entered (at any depth).
 */
export function scanLabelledFolder(
  dir: string,
  category: string,
  promptName: string,
  excludeDirs: readonly string[] = DEFAULT_EXCLUDED_FOLDERS,
): ScannedFolder {
  const root = resolve(dir);
  const items: DatasetItem[] = [];
  const skipped: SkippedItem[] = [];
  const excluded: string[] = [];
  const entries = readdirSync(root, { withFileTypes: true })
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of entries) {
    const p = join(root, name);
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      skipped.push({ path: p, category, kind: 'non-image', reason: `unreadable entry (dangling link?): ${p}` });
      continue;
    }
    if (!isDir) {
      const stray = isImageFile(name);
      skipped.push({
        path: p,
        category,
        kind: stray ? 'stray-file' : 'non-image',
        reason: stray
          ? `image lies directly in ${root}; put it under ${NORMAL_FOLDER}/ or a defect-type folder`
          : `not an image file: ${p}`,
      });
      continue;
    }
    if (excludeDirs.includes(name)) {
      excluded.push(name);
      continue;
    }
    const listing = listImages(p, { excludeDirs });
    const label: 0 | 1 = name === NORMAL_FOLDER ? 0 : 1;
    for (const path of listing.images) items.push({ path, category, label, defectType: name, promptName });
    for (const path of listing.nonImages) {
      skipped.push({ path, category, kind: 'non-image', reason: `not an image file: ${path}` });
    }
    if (listing.images.length === 0) {
      skipped.push({ path: p, category, kind: 'empty-folder', reason: `no images in folder ${p}` });
    }
  }
  return { items, skipped, excluded };
}

/** Options of {@link loadFolder}. */
export interface FolderOptions {
  /** Category name; default: the root folder's name. */
  category?: string;
  /** Prompt name; default: the category with `_` replaced by spaces. */
  promptName?: string;
  /** Sub-folders not entered; default `['ground_truth']`. */
  excludeDirs?: readonly string[];
}

/** Loads `<root>/good/**` (normal) and `<root>/<defect>/**` (anomalous) as one category. */
export function loadFolder(root: string, opts: FolderOptions = {}): LoadedDataset {
  const dir = resolve(root);
  requireDirectory(dir, 'dataset folder');
  const category = opts.category ?? basename(dir);
  const promptName = opts.promptName ?? promptNameFromCategory(category);
  const scan = scanLabelledFolder(dir, category, promptName, opts.excludeDirs ?? DEFAULT_EXCLUDED_FOLDERS);
  requireBothClasses('folder dataset', category, scan.items, dir, scan.skipped);
  const maskRoot = groundTruthFolder(dir);
  const notes = scan.excluded
    .filter((name) => join(dir, name) !== maskRoot)
    .map((name) => `folder dataset '${category}': ignored folder ${join(dir, name)}`);
  if (maskRoot !== null) {
    notes.push(`folder dataset '${category}': masks from ${maskRoot}`);
    const note = attachMasks(scan.items, dir, maskRoot, `folder dataset '${category}'`);
    if (note !== null) notes.push(note);
  }
  return { items: sortItems(scan.items, [category]), skipped: scan.skipped, categories: [category], notes };
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The mask folder of a folder dataset at `dir`, or null when it has none (see the module comment). */
export function groundTruthFolder(dir: string): string | null {
  const inside = join(dir, 'ground_truth');
  if (isDirectory(inside)) return inside;
  const beside = join(dirname(dir), 'ground_truth');
  if (basename(dir) === 'test' && isDirectory(beside)) return beside;
  return null;
}

/** Options of {@link loadFolderPair}. */
export interface FolderPairOptions {
  /** Category name; default `custom`. */
  category?: string;
  /** Prompt name; default: the category with `_` replaced by spaces. */
  promptName?: string;
  /** Sub-folders not entered; default `['ground_truth']`. */
  excludeDirs?: readonly string[];
}

function contains(outer: string, inner: string): boolean {
  const rel = relative(outer, inner);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * Loads every image under `normal` (label 0) and under `anomalous` (label 1) as one category. An anomalous image
 * inside a sub-folder takes that sub-folder's name as defect type, otherwise `anomaly`.
 */
export function loadFolderPair(dirs: { normal: string; anomalous: string }, opts: FolderPairOptions = {}): LoadedDataset {
  const normal = resolve(dirs.normal);
  const anomalous = resolve(dirs.anomalous);
  requireDirectory(normal, 'normal image folder');
  requireDirectory(anomalous, 'anomalous image folder');
  if (contains(normal, anomalous) || contains(anomalous, normal)) {
    throw new RwdaError(`normal folder ${normal} and anomalous folder ${anomalous} overlap; they must be disjoint`);
  }
  const category = opts.category ?? 'custom';
  const promptName = opts.promptName ?? promptNameFromCategory(category);
  const excludeDirs = opts.excludeDirs ?? DEFAULT_EXCLUDED_FOLDERS;
  const items: DatasetItem[] = [];
  const skipped: SkippedItem[] = [];
  for (const [dir, label] of [
    [normal, 0],
    [anomalous, 1],
  ] as const) {
    const listing = listImages(dir, { excludeDirs });
    for (const path of listing.images) {
      const rel = displayPath(dir, path);
      const slash = rel.indexOf('/');
      const defectType = label === 0 ? NORMAL_FOLDER : slash > 0 ? rel.slice(0, slash) : 'anomaly';
      items.push({ path, category, label, defectType, promptName });
    }
    for (const path of listing.nonImages) {
      skipped.push({ path, category, kind: 'non-image', reason: `not an image file: ${path}` });
    }
  }
  requireBothClasses('folder dataset', category, items, `${normal} and ${anomalous}`, skipped);
  return { items: sortItems(items, [category]), skipped, categories: [category], notes: [] };
}
