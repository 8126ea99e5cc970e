/** Reads a `label,score` CSV (header required, any column order, extra columns ignored) for `rwda metrics`. */
import { columnIndex, readCsvFile } from '../data/csv.ts';
import { RwdaError } from '../errors.ts';

/** Plain decimal notation only: no hex, no `Infinity`, no empty string (all of which `Number()` would accept). */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Parses a decimal number; undefined when `text` is not one. Overflow to ±Infinity counts as not a number. */
export function parseDecimal(text: string): number | undefined {
  const t = text.trim();
  if (!DECIMAL.test(t)) return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

/** Labels and scores of a score CSV, in file order. */
export interface LabelledScores {
  labels: Uint8Array;
  scores: Float64Array;
}

/** Reads `path`; RwdaError naming the file and line for a missing column, a bad label or a non-finite score. */
export function readScoreCsv(path: string): LabelledScores {
  const table = readCsvFile(path);
  const col = columnIndex(table.header, ['label', 'score'], path);
  const li = col.get('label')!;
  const si = col.get('score')!;
  const labels: number[] = [];
  const scores: number[] = [];
  for (const row of table.rows) {
    const at = `${path}: line ${row.line}`;
    if (row.fields.length <= Math.max(li, si)) {
      throw new RwdaError(`${at}: ${row.fields.length} field${row.fields.length === 1 ? '' : 's'}, expected the label and score columns`);
    }
    const labelText = row.fields[li]!;
    const label = parseDecimal(labelText);
    if (label !== 0 && label !== 1) {
      throw new RwdaError(`${at}: label ${JSON.stringify(labelText)} is not 0 (normal) or 1 (anomalous)`);
    }
    const scoreText = row.fields[si]!;
    const score = parseDecimal(scoreText);
    if (score === undefined) {
      throw new RwdaError(`${at}: score ${JSON.stringify(scoreText)} is not a finite decimal number`);
    }
    labels.push(label);
    scores.push(score);
  }
  if (labels.length === 0) throw new RwdaError(`${path}: no data rows after the header`);
  return { labels: Uint8Array.from(labels), scores: Float64Array.from(scores) };
}
