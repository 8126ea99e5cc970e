/** Category checks and human-readable load summaries shared by the loaders. */
import { RwdaError } from '../errors.ts';
import type { DatasetItem, LoadedDataset, SkipKind, SkippedItem } from './types.ts';

const KIND_LABEL: Record<SkipKind, [string, string]> = {
  'non-image': ['non-image file', 'non-image files'],
  'stray-file': ['image outside the expected folders', 'images outside the expected folders'],
  'empty-folder': ['empty folder', 'empty folders'],
  'missing-file': ['row pointing at a missing file', 'rows pointing at missing files'],
  'ambiguous-file': ['row matching several files', 'rows matching several files'],
  'bad-row': ['bad CSV row', 'bad CSV rows'],
  duplicate: ['duplicate', 'duplicates'],
  'unknown-category': ['row with an unknown object', 'rows with an unknown object'],
};
const KIND_ORDER = Object.keys(KIND_LABEL) as SkipKind[];

function plural(n: number, [one, many]: [string, string]): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "3 non-image files, 1 empty folder" for the given skipped entries (empty string when there are none). */
export function describeSkipped(skipped: readonly SkippedItem[]): string {
  const counts = new Map<SkipKind, number>();
  for (const s of skipped) counts.set(s.kind, (counts.get(s.kind) ?? 0) + 1);
  return KIND_ORDER.filter((k) => counts.has(k))
    .map((k) => plural(counts.get(k)!, KIND_LABEL[k]))
    .join(', ');
}

/** One line: item and class counts, categories, and skipped entries grouped by kind with exact counts. */
export function formatLoadSummary(dataset: string, result: LoadedDataset): string {
  const nAnom = result.items.filter((i) => i.label === 1).length;
  const nNorm = result.items.length - nAnom;
  const cats = result.categories.length;
  let line =
    `${dataset}: ${result.items.length} image${result.items.length === 1 ? '' : 's'} in ${cats} ` +
    `categor${cats === 1 ? 'y' : 'ies'} (${nNorm} normal, ${nAnom} anomalous)`;
  if (result.skipped.length > 0) line += `; skipped ${result.skipped.length}: ${describeSkipped(result.skipped)}`;
  return line;
}

/**
 * Hard error unless `items` (one category) holds both classes. `where` names the folder or CSV file and
 * `skipped` (that category's skipped entries) is quoted so the user sees why images are missing.
 */
export function requireBothClasses(
  dataset: string,
  category: string,
  items: readonly DatasetItem[],
  where: string,
  skipped: readonly SkippedItem[],
): void {
  const nAnom = items.filter((i) => i.label === 1).length;
  const nNorm = items.length - nAnom;
  if (nAnom > 0 && nNorm > 0) return;
  const why = skipped.length > 0 ? ` (skipped: ${describeSkipped(skipped)})` : '';
  if (items.length === 0) {
    throw new RwdaError(`${dataset} category '${category}': no images found in ${where}${why}`);
  }
  throw new RwdaError(
    `${dataset} category '${category}': ${nNorm} normal and ${nAnom} anomalous images in ${where}${why}; ` +
      'both classes are needed to evaluate a category',
  );
}

/** Sorts items in place by category (in `categories` order), then by path code unit; returns them. */
export function sortItems(items: DatasetItem[], categories: readonly string[]): DatasetItem[] {
  const rank = new Map(categories.map((c, i) => [c, i]));
  return items.sort(
    (a, b) => rank.get(a.category)! - rank.get(b.category)! || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
  );
}
