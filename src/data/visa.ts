/**
 * VisA (Zou et al., ECCV 2022) through its official one-class split `<root>/split_csv/1cls.csv` with columns
 * `object, split, label, image, mask`; `label` is `normal` or `anomaly` and `image` is relative to `<root>`.
 * Only `split == test` rows are loaded. The CSV has no defect classes, so anomalous items get defect type `anomaly`.
 * The `mask` column (relative to `<root>`) becomes `maskPath`; an anomalous row whose mask is empty or absent on disk
 * (or a CSV without the column) is flagged `maskMissing` and named in `notes`.
 *
 * Prompt names: the CSV's object names, except the two glued / snake-case ones, which are spelled as words
 * (`chewinggum` → `chewing gum`, `pipe_fryum` → `pipe fryum`); numbered variants keep their number (`pcb1`,
 * `macaroni1`) so every category has its own name. April-GAN and caoyunkang/WinClip feed the raw folder names to
 * CLIP; several later zero-shot works use the spelled-out forms, which read as English words to the tokenizer.
 */
import { existsSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { RwdaError } from '../errors.ts';
import { columnIndex, readCsvFile } from './csv.ts';
import { isImageFile, requireDirectory } from './images.ts';
import { requireBothClasses, sortItems } from './summary.ts';
import type { DatasetItem, LoadedDataset, SkippedItem } from './types.ts';

/** The 12 VisA categories in the order of the official split file. */
export const VISA_CATEGORIES: readonly string[] = [
  'candle',
  'capsules',
  'cashew',
  'chewinggum',
  'fryum',
  'macaroni1',
  'macaroni2',
  'pcb1',
  'pcb2',
  'pcb3',
  'pcb4',
  'pipe_fryum',
];

/** Object name put into prompts per VisA category (see the module comment for the choice). */
export const VISA_PROMPT_NAMES: Readonly<Record<string, string>> = Object.fromEntries(
  VISA_CATEGORIES.map((c) => [c, c === 'chewinggum' ? 'chewing gum' : c === 'pipe_fryum' ? 'pipe fryum' : c]),
);

/** Path of the split file relative to the VisA root. */
export const VISA_SPLIT_CSV = join('split_csv', '1cls.csv');

const DATASET = 'VisA';
const REQUIRED = ['object', 'split', 'label', 'image'] as const;

/** Options of {@link loadVisa}. */
export interface VisaOptions {
  /** Subset of categories; default: every category with test rows in the CSV. */
  categories?: readonly string[];
  /** Split file to read instead of `<root>/split_csv/1cls.csv`. */
  csvPath?: string;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Loads the VisA test split from the split CSV; bad rows and missing files are skipped and reported. */
export function loadVisa(root: string, opts: VisaOptions = {}): LoadedDataset {
  const base = resolve(root);
  requireDirectory(base, `${DATASET} root`);
  const csvPath = resolve(opts.csvPath ?? join(base, VISA_SPLIT_CSV));
  if (!existsSync(csvPath)) throw new RwdaError(`${DATASET}: split file not found: ${csvPath}`, { code: 'not_found' });
  let selected: string[] | undefined;
  if (opts.categories !== undefined) {
    if (opts.categories.length === 0) throw new RwdaError(`${DATASET}: the category list is empty`);
    const unknown = opts.categories.filter((c) => !VISA_CATEGORIES.includes(c));
    if (unknown.length > 0) {
      throw new RwdaError(
        `unknown VisA categor${unknown.length === 1 ? 'y' : 'ies'} ${unknown.map((u) => `'${u}'`).join(', ')}; ` +
          `valid categories: ${VISA_CATEGORIES.join(', ')}`,
      );
    }
    selected = VISA_CATEGORIES.filter((c) => opts.categories!.includes(c));
  }
  const table = readCsvFile(csvPath);
  const col = columnIndex(table.header, REQUIRED, csvPath);
  const width = Math.max(...REQUIRED.map((name) => col.get(name)!)) + 1;
  let maskCol = table.header.indexOf('mask');
  if (maskCol < 0) maskCol = table.header.findIndex((h) => h.toLowerCase() === 'mask');
  const noMask: string[] = [];
  const items: DatasetItem[] = [];
  const skipped: SkippedItem[] = [];
  const seen = new Set<string>();
  let trainRows = 0;
  let unselectedRows = 0;
  for (const row of table.rows) {
    const at = `${csvPath}: line ${row.line}`;
    if (row.fields.length < width) {
      skipped.push({ kind: 'bad-row', reason: `${at}: ${row.fields.length} field${row.fields.length === 1 ? '' : 's'}, the header needs at least ${width}` });
      continue;
    }
    const get = (name: (typeof REQUIRED)[number]): string => row.fields[col.get(name)!]!.trim();
    const object = get('object');
    const split = get('split');
    if (split === 'train') {
      trainRows++;
      continue;
    }
    if (split !== 'test') {
      skipped.push({ kind: 'bad-row', category: object, reason: `${at}: split '${split}' is neither train nor test` });
      continue;
    }
    if (!VISA_CATEGORIES.includes(object)) {
      skipped.push({
        kind: 'unknown-category',
        reason: `${at}: object '${object}' is not a VisA category (${VISA_CATEGORIES.join(', ')})`,
      });
      continue;
    }
    if (selected !== undefined && !selected.includes(object)) {
      unselectedRows++;
      continue;
    }
    const labelText = get('label');
    if (labelText !== 'normal' && labelText !== 'anomaly') {
      skipped.push({ kind: 'bad-row', category: object, reason: `${at}: label '${labelText}' is neither normal nor anomaly` });
      continue;
    }
    const image = get('image');
    if (image === '') {
      skipped.push({ kind: 'bad-row', category: object, reason: `${at}: empty image path` });
      continue;
    }
    const path = resolve(base, image);
    if (!isImageFile(path)) {
      skipped.push({
        kind: 'bad-row',
        path,
        category: object,
        reason: `${at}: '${image}' has no image extension (${extname(image) || 'none'})`,
      });
      continue;
    }
    if (!isFile(path)) {
      skipped.push({ kind: 'missing-file', path, category: object, reason: `${at}: image file not found: ${path}` });
      continue;
    }
    if (seen.has(path)) {
      skipped.push({ kind: 'duplicate', path, category: object, reason: `${at}: image listed again: ${image}` });
      continue;
    }
    seen.add(path);
    const label: 0 | 1 = labelText === 'anomaly' ? 1 : 0;
    const item: DatasetItem = {
      path,
      category: object,
      label,
      defectType: label === 1 ? 'anomaly' : 'good',
      promptName: VISA_PROMPT_NAMES[object]!,
    };
    const mask = maskCol >= 0 ? (row.fields[maskCol] ?? '').trim() : '';
    const maskPath = mask === '' ? '' : resolve(base, mask);
    if (maskPath !== '' && isFile(maskPath)) item.maskPath = maskPath;
    else if (label === 1) {
      item.maskMissing = true;
      noMask.push(`${row.line}${mask === '' ? '' : ` (${mask} not found)`}`);
    }
    items.push(item);
  }
  const present = new Set(items.map((i) => i.category));
  for (const s of skipped) if (s.category !== undefined) present.add(s.category);
  const categories = selected ?? VISA_CATEGORIES.filter((c) => present.has(c));
  if (categories.length === 0) {
    throw new RwdaError(`${DATASET}: ${csvPath} has no usable test rows (${table.rows.length} data row${table.rows.length === 1 ? '' : 's'}, ${trainRows} train)`);
  }
  for (const category of categories) {
    requireBothClasses(
      DATASET,
      category,
      items.filter((i) => i.category === category),
      `test rows of ${csvPath}`,
      skipped.filter((s) => s.category === category),
    );
  }
  sortItems(items, categories);
  const notes = [`${DATASET}: ${trainRows} train rows left out (test split only)`];
  if (unselectedRows > 0) notes.push(`${DATASET}: ${unselectedRows} test rows of unselected categories left out`);
  if (noMask.length > 0) {
    const why = maskCol < 0 ? `${csvPath} has no mask column` : `${csvPath} line${noMask.length === 1 ? '' : 's'} ${noMask.slice(0, 5).join(', ')}${noMask.length > 5 ? `, … (${noMask.length - 5} more)` : ''}`;
    notes.push(
      `${DATASET}: ${noMask.length} anomalous image${noMask.length === 1 ? ' has' : 's have'} no mask (${why}); ` +
        'they are flagged maskMissing and must be left out of pixel metrics',
    );
  }
  return { items, skipped, categories, notes };
}
