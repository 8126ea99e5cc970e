/**
 * What the Markdown and HTML reports both show, as plain strings: number formatting, the Table-1-style summary
 * rows, the per-category rows and the configuration lines. The two renderers only differ in markup.
 */
import { DATASET_NAMES } from '../../data/index.ts';
import {
  findPaperCategory,
  findPaperMain,
  findReferences,
  hasPaperCategories,
  type PaperData,
  type PaperMetric,
  type PaperNumber,
} from './paper.ts';
import {
  METHOD_LABELS,
  METHODS,
  auprMetric,
  type MethodId,
  type MetricId,
  type RunResults,
  type SkippedEntry,
  type Stat,
} from './schema.ts';

/** The placeholder for a number that is not known. */
export const MISSING = '—';

/** A fraction as a percentage with one decimal ("0.9123" → "91.2"). */
export function pct(fraction: number): string {
  return fixed1(fraction * 100);
}

function fixed1(v: number): string {
  const s = v.toFixed(1);
  return s === '-0.0' ? '0.0' : s;
}

/** "mean ± std" in percent; a single value (seed-independent method) prints without "±". */
export function formatStat(s: Stat): string {
  return s.values.length > 1 ? `${pct(s.mean)} ± ${pct(s.std)}` : pct(s.mean);
}

/** A published number as printed ("91.8" or "91.8 ± 0.2"). */
export function formatPaper(n: PaperNumber | undefined): string {
  if (!n) return MISSING;
  return n.std === undefined ? fixed1(n.mean) : `${fixed1(n.mean)} ± ${fixed1(n.std)}`;
}

/** Ours minus the paper in percentage points, from our unrounded mean; undefined when the paper's number is absent. */
export function diffPoints(ours: Stat, paper: PaperNumber | undefined): number | undefined {
  return paper ? ours.mean * 100 - paper.mean : undefined;
}

/** A difference with its sign and one decimal ("+0.4", "-1.2", "0.0"). */
export function formatDiff(d: number | undefined): string {
  if (d === undefined) return MISSING;
  const r = Math.round(d * 10) / 10;
  if (r === 0) return '0.0';
  return r > 0 ? `+${r.toFixed(1)}` : r.toFixed(1);
}

/** The three columns of the paper's tables and the stored metric each reads for this run. */
export function shownMetrics(results: RunResults): Array<{ paper: PaperMetric; metric: MetricId; label: string }> {
  return [
    { paper: 'auroc', metric: 'auroc', label: 'AUROC' },
    { paper: 'aupr', metric: auprMetric(results.config.aupr), label: auprShortLabel(results) },
    { paper: 'f1Max', metric: 'f1Max', label: 'F1-max' },
  ];
}

/** "AUPR (AP)" or "AUPR (trapezoid)". */
export function auprShortLabel(results: RunResults): string {
  return results.config.aupr === 'trapezoid' ? 'AUPR (trapezoid)' : 'AUPR (AP)';
}

/** The sentence that says which AUPR the tables show. */
export function auprSentence(results: RunResults): string {
  return results.config.aupr === 'trapezoid'
    ? 'AUPR is the trapezoidal area under the PR curve (sklearn auc(recall, precision)); results.json also keeps the ' +
        'step-wise average precision.'
    : 'AUPR is the step-wise average precision (sklearn average_precision_score, no interpolation); results.json ' +
        'also keeps the trapezoidal PR-AUC.';
}

/** Dataset name for titles. */
export function datasetLabel(results: RunResults): string {
  return DATASET_NAMES[results.config.dataset] ?? results.config.dataset;
}

/** The zero-shot setup in words. */
export function setupLabel(results: RunResults): string {
  return results.config.setup === 'unknown'
    ? 'zero-shot, unknown object names (prompts say "object")'
    : results.config.prompts?.trainObjects
      ? 'zero-shot, known object names (the detector is trained on them too)'
      : 'zero-shot, known object names';
}

/** Multi-crop in words. */
export function cropsLabel(results: RunResults): string {
  const c = results.config.crops;
  if (!c.enabled) return 'multi-crop off';
  return `multi-crop on (grids ${c.scales.map((k) => `${k}×${k}`).join(', ')}; crops aggregated by ${c.aggregation})`;
}

/** One metric cell of a summary row. */
export interface ComparedCell {
  ours: string;
  paper: string;
  diff: string;
  /** Signed difference in points, for colouring; undefined without a paper number. */
  diffValue?: number;
}

/** A row of the Table-1-style block. */
export interface SummaryRow {
  label: string;
  /** Our method, or undefined for a reference row of another method (no numbers of ours). */
  method?: MethodId;
  cells: ComparedCell[];
  source?: string;
}

/** Rows of the Table-1-style block: our three methods beside the paper, then reference rows of other methods. */
export function summaryRows(results: RunResults, paper: PaperData): SummaryRow[] {
  const { dataset, setup, crops } = results.config;
  const metrics = shownMetrics(results);
  const rows: SummaryRow[] = METHODS.map((method) => {
    const row = findPaperMain(paper, dataset, setup, method, crops.enabled, results.config.prompts);
    return {
      label: METHOD_LABELS[method],
      method,
      source: row?.source,
      cells: metrics.map((m) => {
        const ours = results.mean[method][m.metric];
        const p = row?.values[m.paper];
        const d = diffPoints(ours, p);
        return { ours: formatStat(ours), paper: formatPaper(p), diff: formatDiff(d), diffValue: d };
      }),
    };
  });
  for (const ref of findReferences(paper, dataset, setup)) {
    rows.push({
      label: ref.label,
      source: ref.source,
      cells: metrics.map((m) => ({ ours: MISSING, paper: formatPaper(ref.values[m.paper]), diff: MISSING })),
    });
  }
  return rows;
}

/** The distinct sources cited by summary rows. */
export function summarySources(rows: readonly SummaryRow[]): string[] {
  return [...new Set(rows.map((r) => r.source).filter((s): s is string => s !== undefined))];
}

/** A row of a per-category table for one metric. */
export interface CategoryRow {
  name: string;
  nNormal?: number;
  nAnomalous?: number;
  /** Per method, in METHODS order. */
  cells: ComparedCell[];
}

/** Per-category rows of one metric, followed by the mean row (named "Mean"). */
export function categoryRows(results: RunResults, paper: PaperData, shown: { paper: PaperMetric; metric: MetricId }): CategoryRow[] {
  const { dataset, setup, crops } = results.config;
  const cell = (ours: Stat, p: PaperNumber | undefined): ComparedCell => {
    const d = diffPoints(ours, p);
    return { ours: formatStat(ours), paper: formatPaper(p), diff: formatDiff(d), diffValue: d };
  };
  const rows: CategoryRow[] = results.categories.map((c) => ({
    name: c.name,
    nNormal: c.nNormal,
    nAnomalous: c.nAnomalous,
    cells: METHODS.map((m) =>
      cell(c.methods[m][shown.metric], findPaperCategory(paper, dataset, setup, c.name, m, crops.enabled, results.config.prompts)?.values[shown.paper]),
    ),
  }));
  rows.push({
    name: 'Mean',
    cells: METHODS.map((m) =>
      cell(results.mean[m][shown.metric], findPaperMain(paper, dataset, setup, m, crops.enabled, results.config.prompts)?.values[shown.paper]),
    ),
  });
  return rows;
}

/** Whether per-category tables get paper columns for this run. */
export function showPaperPerCategory(results: RunResults, paper: PaperData): boolean {
  return hasPaperCategories(paper, results.config.dataset, results.config.setup);
}

/** The configuration as (key, value) lines. */
export function configLines(results: RunResults): Array<[string, string]> {
  const c = results.config;
  const lines: Array<[string, string]> = [
    ['dataset', `${datasetLabel(results)} (${c.dataset})`],
    ['root', c.root],
  ];
  for (const [k, v] of Object.entries(c.datasetPaths ?? {})) lines.push([k, v]);
  lines.push(
    ['categories', `${c.categories.length}: ${c.categories.join(', ')}`],
    ['setup', setupLabel(results)],
    ['seeds', `${c.seeds.length}: ${c.seeds.join(', ')}`],
    ['multi-crop', cropsLabel(results)],
    ['prompt pairs', String(c.pairs)],
    ['backbone', c.backbone.pretrained ? `${c.backbone.name} (${c.backbone.pretrained})` : c.backbone.name],
    ['backbone fingerprint', c.backbone.fingerprint],
  );
  if (c.prompts) {
    const p = c.prompts;
    lines.push(
      ['prompt words', `normal "${p.normalWord}", anomaly "${p.anomalyWord}", unknown object "${p.unknownObject}"`],
      [
        'random words',
        `length ${p.minWordLength}–${p.maxWordLength} from "${p.alphabet}", ` +
          `${p.independentWords ? 'independent' : 'shared'} within a pair`,
      ],
      ['softmax temperature', String(p.temperature)],
    );
    if (p.trainObjects) lines.push(['detector training objects', `${p.trainObjects.length} (cycled over the pairs): ${p.trainObjects.join(', ')}`]);
  }
  const f = c.fnn;
  lines.push(
    ['FNN hidden widths', f.hidden.join(', ')],
    [
      'FNN training',
      `dropout ${f.dropout}, AdamW lr ${f.lr}, weight decay ${f.weightDecay}, betas ${f.betas.join('/')}, eps ${f.eps}, ` +
        `${f.epochs} epochs, batch ${f.batchSize}, lr decay ${f.lrDecay}`,
    ],
    ['AUPR shown', c.aupr === 'trapezoid' ? 'trapezoid' : 'average precision (AP)'],
    ['created', results.createdAt],
    ['rwda', results.rwdaVersion],
    ['versions', Object.entries(results.versions).map(([k, v]) => `${k} ${v}`).join(', ')],
  );
  if (results.durationSeconds !== undefined) lines.push(['duration', `${results.durationSeconds.toFixed(1)} s`]);
  return lines;
}

/** The first `limit` skipped entries as lines, and how many more there are. */
export function skippedLines(skipped: readonly SkippedEntry[], limit: number): { lines: string[]; more: number } {
  const line = (s: SkippedEntry): string => {
    const where = s.path ?? (s.category ? `category ${s.category}` : '(run)');
    return `${where}: ${s.kind ? `[${s.kind}] ` : ''}${s.reason}`;
  };
  return { lines: skipped.slice(0, limit).map(line), more: Math.max(0, skipped.length - limit) };
}

/** The seed-0 (or curve seed) value of a method's metric on a category, for chart legends. */
export function valueAtSeed(results: RunResults, stat: Stat, seed: number): number | undefined {
  if (stat.values.length === 1) return stat.values[0];
  const i = results.config.seeds.indexOf(seed);
  return i >= 0 ? stat.values[i] : undefined;
}
