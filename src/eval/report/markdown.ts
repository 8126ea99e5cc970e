/** results.json → report.md in the paper's table layouts. */
import {
  MISSING,
  auprSentence,
  categoryRows,
  configLines,
  cropsLabel,
  datasetLabel,
  setupLabel,
  shownMetrics,
  showPaperPerCategory,
  skippedLines,
  summaryRows,
  summarySources,
} from './format.ts';
import { PAPER, type PaperData } from './paper.ts';
import { METHOD_LABELS, METHODS, type RunResults } from './schema.ts';

/** Options of {@link renderMarkdown}. */
export interface MarkdownOptions {
  /** Published numbers to compare with (default: {@link PAPER}). */
  paper?: PaperData;
  /** How many skipped entries to list before "... and K more" (default 20). */
  skippedLimit?: number;
}

function cell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function table(head: string[], rows: string[][], align: Array<'l' | 'r'>): string {
  const sep = align.map((a) => (a === 'r' ? '---:' : ':---'));
  return [head, sep, ...rows].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n');
}

/** The Markdown report: Table-1-style summary with the paper beside ours, per-category tables, configuration. */
export function renderMarkdown(results: RunResults, opts: MarkdownOptions = {}): string {
  const paper = opts.paper ?? PAPER;
  const limit = opts.skippedLimit ?? 20;
  const metrics = shownMetrics(results);
  const c = results.config;
  const out: string[] = [];
  out.push(`# rwda evaluation report: ${datasetLabel(results)}`, '');
  out.push(
    `${setupLabel(results)}; ${cropsLabel(results)}; ${c.seeds.length} seed${c.seeds.length === 1 ? '' : 's'} ` +
      `(${c.seeds.join(', ')}); ${c.pairs} prompt pairs; backbone ${c.backbone.name}.`,
    '',
  );
  out.push(
    'Values are percent, mean ± sample standard deviation (n − 1) over seeds. CLIP\'s score does not depend on the ' +
      'seed, so it has one value and no ±. ' +
      auprSentence(results),
    '',
  );

  out.push('## Main results (Table 1 layout)', '');
  const rows = summaryRows(results, paper);
  const head = ['Method'];
  for (const m of metrics) head.push(m.label, 'paper', 'Δ');
  out.push(
    table(
      head,
      rows.map((r) => [r.label, ...r.cells.flatMap((x) => [x.ours, x.paper, x.diff])]),
      ['l', ...metrics.flatMap(() => ['r', 'r', 'r'] as const)],
    ),
    '',
  );
  out.push(
    `Mean over ${results.categories.length} categor${results.categories.length === 1 ? 'y' : 'ies'}. ` +
      `"paper": ${paper.citation} (${paper.url}). Δ = ours − paper in percentage points, from our unrounded mean. ` +
      `"${MISSING}": not recorded in rwda's copy of the published numbers.`,
  );
  const sources = summarySources(rows);
  if (sources.length > 0) out.push('', 'Sources: ' + sources.join('; ') + '.');
  for (const note of paper.lookupNotes) out.push('', `> ${note}`);
  out.push('');

  out.push('## Per-category results (appendix layout)', '');
  const withPaper = showPaperPerCategory(results, paper);
  for (const m of metrics) {
    out.push(`### ${m.label}`, '');
    const h = ['Category', 'normal', 'anomalous'];
    const align: Array<'l' | 'r'> = ['l', 'r', 'r'];
    for (const method of METHODS) {
      h.push(METHOD_LABELS[method]);
      align.push('r');
      if (withPaper) {
        h.push('paper', 'Δ');
        align.push('r', 'r');
      }
    }
    const body = categoryRows(results, paper, m).map((r) => [
      r.name === 'Mean' && r.nNormal === undefined ? '**Mean**' : r.name,
      r.nNormal === undefined ? '' : String(r.nNormal),
      r.nAnomalous === undefined ? '' : String(r.nAnomalous),
      ...r.cells.flatMap((x) => (withPaper ? [x.ours, x.paper, x.diff] : [x.ours])),
    ]);
    out.push(table(h, body, align), '');
  }

  out.push('## Configuration', '');
  out.push(table(['Setting', 'Value'], configLines(results), ['l', 'l']), '');

  out.push(`## Skipped (${results.skipped.length})`, '');
  if (results.skipped.length === 0) {
    out.push('Nothing was skipped.', '');
  } else {
    const { lines, more } = skippedLines(results.skipped, limit);
    for (const l of lines) out.push(`- ${l}`);
    if (more > 0) out.push(`- ... and ${more} more (all of them are in results.json)`);
    out.push('');
  }
  if (results.notes && results.notes.length > 0) {
    out.push('## Notes', '');
    for (const n of results.notes) out.push(`- ${n}`);
    out.push('');
  }
  return out.join('\n');
}
