/**
 * Sewer-ML (Haurum & Moeslund, CVPR 2021) as a binary anomaly-detection set: the validation annotation file
 * `SewerML_Val.csv` (column `Filename`, binary column `Defect`, then one 0/1 column per defect code) and the folder
 * of validation images. One category, `sewer`.
 *
 * Prompt name: `pipe` by default (configurable). We could not find which object name the RWDA paper used for
 * Sewer-ML; "pipe" is the object the images show, and the category-agnostic setup of the paper uses a generic
 * name anyway.
 *
 * Images are looked up as `<imageDir>/<Filename>` first, then by file name anywhere below `<imageDir>` (the
 * official archives unpack into sub-folders).
 */
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { columnIndex, readCsvFile } from './csv.ts';
import { isImageFile, listImages, requireDirectory } from './images.ts';
import { requireBothClasses, sortItems } from './summary.ts';
import type { DatasetItem, LoadedDataset, SkippedItem } from './types.ts';
import { RwdaError } from '../errors.ts';

/** The single Sewer-ML category. */
export const SEWERML_CATEGORY = 'sewer';
/** Default object name in prompts. */
export const SEWERML_PROMPT_NAME = 'pipe';
/** The 17 defect codes of Sewer-ML (the `Defect` column is 1 when any of them is). */
export const SEWERML_DEFECT_CODES: readonly string[] = [
  'RB', 'OB', 'PF', 'DE', 'FS', 'IS', 'RO', 'IN', 'AF', 'BE', 'FO', 'GR', 'PH', 'PB', 'OS', 'OP', 'OK',
];

const DATASET = 'Sewer-ML';

/** Options of {@link loadSewerMl}. */
export interface SewerMlOptions {
  /** Object name in prompts; default `pipe`. */
  promptName?: string;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * Loads the rows of a Sewer-ML annotation CSV whose images exist. Anomalous items get as defect type the codes
 * set to 1 on their row, joined with `+` (e.g. `RB+FS`), or `defect` when the file has no code columns.
 */
export function loadSewerMl(csvPath: string, imageDir: string, opts: SewerMlOptions = {}): LoadedDataset {
  const csv = resolve(csvPath);
  const dir = resolve(imageDir);
  requireDirectory(dir, `${DATASET} image folder`);
  const table = readCsvFile(csv);
  const col = columnIndex(table.header, ['Filename', 'Defect'], csv);
  const codeCols = SEWERML_DEFECT_CODES.map((code) => [code, table.header.indexOf(code)] as const).filter(
    ([, i]) => i >= 0,
  );
  const width = Math.max(col.get('Filename')!, col.get('Defect')!) + 1;
  const promptName = opts.promptName ?? SEWERML_PROMPT_NAME;
  const category = SEWERML_CATEGORY;

  // File-name index of everything below the image folder, built once (the validation set has ~130k images).
  const byName = new Map<string, string[]>();
  for (const p of listImages(dir).images) {
    const name = basename(p);
    const list = byName.get(name);
    if (list) list.push(p);
    else byName.set(name, [p]);
  }

  const items: DatasetItem[] = [];
  const skipped: SkippedItem[] = [];
  const seen = new Set<string>();
  for (const row of table.rows) {
    const at = `${csv}: line ${row.line}`;
    if (row.fields.length < width) {
      skipped.push({ kind: 'bad-row', category, reason: `${at}: ${row.fields.length} field${row.fields.length === 1 ? '' : 's'}, the header needs at least ${width}` });
      continue;
    }
    const filename = row.fields[col.get('Filename')!]!.trim();
    const defect = row.fields[col.get('Defect')!]!.trim();
    if (filename === '') {
      skipped.push({ kind: 'bad-row', category, reason: `${at}: empty Filename` });
      continue;
    }
    if (defect !== '0' && defect !== '1') {
      skipped.push({ kind: 'bad-row', category, reason: `${at}: Defect is '${defect}', expected 0 or 1` });
      continue;
    }
    if (!isImageFile(filename)) {
      skipped.push({ kind: 'bad-row', category, reason: `${at}: Filename '${filename}' has no image extension` });
      continue;
    }
    let path = resolve(dir, filename);
    if (!isFile(path)) {
      const matches = byName.get(basename(filename)) ?? [];
      if (matches.length === 0) {
        skipped.push({ kind: 'missing-file', path, category, reason: `${at}: image '${filename}' not found under ${dir}` });
        continue;
      }
      if (matches.length > 1) {
        skipped.push({
          kind: 'ambiguous-file',
          category,
          reason: `${at}: ${matches.length} files named '${basename(filename)}' under ${dir}: ${matches.join(', ')}`,
        });
        continue;
      }
      path = matches[0]!;
    }
    if (seen.has(path)) {
      skipped.push({ kind: 'duplicate', path, category, reason: `${at}: image listed again: ${filename}` });
      continue;
    }
    seen.add(path);
    const label: 0 | 1 = defect === '1' ? 1 : 0;
    let defectType = 'good';
    if (label === 1) {
      const codes = codeCols.filter(([, i]) => (row.fields[i] ?? '').trim() === '1').map(([code]) => code);
      defectType = codes.length > 0 ? codes.join('+') : 'defect';
    }
    items.push({ path, category, label, defectType, promptName });
  }
  if (table.rows.length === 0) throw new RwdaError(`${DATASET}: ${csv} has a header but no rows`);
  requireBothClasses(DATASET, category, items, `${csv} with images in ${dir}`, skipped);
  sortItems(items, [category]);
  return { items, skipped, categories: [category], notes: [] };
}
