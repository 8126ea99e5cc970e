/**
 * results.json → a self-contained report.html: inline CSS and SVG only (no scripts, fonts or external assets), so
 * it opens anywhere and survives being mailed around. Plot elements carry stable classes and data attributes
 * (`svg.roc-curve[data-category]`, `path.curve[data-method]`, ...) for tests and user styling.
 */
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
  valueAtSeed,
  pct,
  type ComparedCell,
} from './format.ts';
import { PAPER, type PaperData } from './paper.ts';
import { METHOD_LABELS, METHODS, auprMetric, type CategoryResult, type MethodId, type MetricId, type RunResults } from './schema.ts';
import { barChart, escapeXml as esc, histogramChart, lineChart, type LineSeries } from './svg.ts';

/** Stroke colour of each method in every chart. */
export const METHOD_COLORS: Readonly<Record<MethodId, string>> = {
  clip: '#2563eb',
  ours: '#dc2626',
  clipOurs: '#059669',
};
/** Histogram colours of normal and anomalous images. */
export const CLASS_COLORS = { normal: '#0891b2', anomalous: '#d97706' } as const;

/** Options of {@link renderHtml}. */
export interface HtmlOptions {
  /** Published numbers to compare with (default: {@link PAPER}). */
  paper?: PaperData;
  /** How many skipped entries to list (default 50). */
  skippedLimit?: number;
}

/** The report's stylesheet; the experiment pages (src/eval/experiments/output.ts) share it, so both look alike. */
export const REPORT_CSS = `
:root { --fg: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg-alt: #f9fafb; --accent: #1d4ed8; }
* { box-sizing: border-box; }
body { margin: 0; background: #f3f4f6; color: var(--fg); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 1160px; margin: 0 auto; padding: 24px 20px 48px; }
header { margin-bottom: 16px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h1 .dataset { color: var(--accent); }
h2 { font-size: 18px; margin: 0 0 12px; }
h3 { font-size: 15px; margin: 0 0 8px; }
h3 small { font-weight: 400; color: var(--muted); margin-left: 8px; }
.subtitle { color: var(--muted); margin: 0; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 18px; margin: 0 0 16px; }
p.note { color: var(--muted); font-size: 12.5px; margin: 8px 0 0; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { font-weight: 600; background: var(--bg-alt); }
th.group { text-align: center; border-left: 2px solid var(--line); }
td.first-of-group, th.first-of-group { border-left: 2px solid var(--line); }
th:first-child, td:first-child { text-align: left; }
tbody tr:nth-child(even) { background: var(--bg-alt); }
tr.mean td { font-weight: 600; border-top: 2px solid #d1d5db; }
tr.reference td { color: var(--muted); font-style: italic; }
td.pos { color: #047857; } td.neg { color: #b91c1c; }
td .paper { display: block; font-size: 11px; color: var(--muted); }
td.best { font-weight: 700; }
.swatch { display: inline-block; width: 14px; height: 4px; border-radius: 2px; vertical-align: middle; margin-right: 4px; }
.legend-row { display: flex; gap: 16px; margin: 0 0 6px; font-size: 13px; }
.category { border-top: 1px solid var(--line); padding-top: 12px; margin-top: 12px; }
.category:first-of-type { border-top: 0; margin-top: 0; padding-top: 0; }
.charts { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 12px; }
.charts svg, .overview svg { width: 100%; height: auto; display: block; }
.config td { text-align: left; white-space: normal; }
.config td:first-child { color: var(--muted); width: 200px; }
ul.skipped { margin: 0; padding-left: 20px; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
blockquote { margin: 8px 0 0; padding: 6px 12px; border-left: 3px solid #fbbf24; background: #fffbeb; color: #78350f; font-size: 12.5px; }
footer { color: var(--muted); font-size: 12px; text-align: center; }
`;

function diffClass(c: ComparedCell): string {
  if (c.diffValue === undefined) return '';
  const r = Math.round(c.diffValue * 10) / 10;
  return r > 0 ? ' class="pos"' : r < 0 ? ' class="neg"' : '';
}

function summarySection(results: RunResults, paper: PaperData): string {
  const metrics = shownMetrics(results);
  const rows = summaryRows(results, paper);
  const h: string[] = ['<table class="summary"><thead><tr><th rowspan="2">Method</th>'];
  for (const m of metrics) h.push(`<th class="group" colspan="3">${esc(m.label)}</th>`);
  h.push('</tr><tr>');
  for (const _ of metrics) h.push('<th class="first-of-group">ours</th><th>paper</th><th>Δ</th>');
  h.push('</tr></thead><tbody>');
  for (const r of rows) {
    h.push(`<tr${r.method ? ` data-method="${r.method}"` : ' class="reference"'}><td>${esc(r.label)}</td>`);
    for (const c of r.cells) {
      h.push(`<td class="first-of-group">${esc(c.ours)}</td><td>${esc(c.paper)}</td><td${diffClass(c)}>${esc(c.diff)}</td>`);
    }
    h.push('</tr>');
  }
  h.push('</tbody></table>');
  const sources = summarySources(rows);
  const n = results.categories.length;
  const notes = [
    `Mean over ${n} categor${n === 1 ? 'y' : 'ies'}; percent, mean ± sample std over seeds (CLIP has no seed ` +
      `dependence: one value). ${auprSentence(results)}`,
    `paper: ${paper.citation}. Δ = ours − paper in percentage points. "${MISSING}": not recorded in rwda's copy of the ` +
      'published numbers.',
  ];
  if (sources.length > 0) notes.push(`Sources: ${sources.join('; ')}.`);
  return (
    `<section id="summary"><h2>Main results (Table 1 layout)</h2>${h.join('')}` +
    notes.map((t) => `<p class="note">${esc(t)}</p>`).join('') +
    paper.lookupNotes.map((t) => `<blockquote>${esc(t)}</blockquote>`).join('') +
    '</section>'
  );
}

function htmlLegend(): string {
  return (
    '<div class="legend-row">' +
    METHODS.map((m) => `<span><span class="swatch" style="background:${METHOD_COLORS[m]}"></span>${esc(METHOD_LABELS[m])}</span>`).join('') +
    '</div>'
  );
}

function overviewSection(results: RunResults): string {
  const cats = results.categories;
  let lo = 1;
  for (const c of cats) for (const m of METHODS) lo = Math.min(lo, c.methods[m].auroc.mean - c.methods[m].auroc.std);
  const min = Math.max(0, Math.min(0.5, Math.floor(lo * 10) / 10));
  const chart = barChart({
    width: 1100,
    height: 300,
    className: 'auroc-bars',
    groups: [...cats.map((c) => c.name), 'Mean'],
    y: { label: 'AUROC', min, max: 1 },
    legend: 'none',
    series: METHODS.map((m) => ({
      key: m,
      name: METHOD_LABELS[m],
      color: METHOD_COLORS[m],
      values: [...cats.map((c) => c.methods[m].auroc.mean), results.mean[m].auroc.mean],
      errors: [...cats.map((c) => c.methods[m].auroc.std), results.mean[m].auroc.std],
    })),
  });
  return `<section id="overview" class="overview"><h2>AUROC per category (mean ± std over seeds)</h2>${htmlLegend()}${chart}</section>`;
}

function categoryTableSection(results: RunResults, paper: PaperData): string {
  const metrics = shownMetrics(results);
  const withPaper = showPaperPerCategory(results, paper);
  const perMetric = metrics.map((m) => categoryRows(results, paper, m));
  const h: string[] = ['<table class="per-category"><thead><tr><th rowspan="2">Category</th><th rowspan="2">normal</th><th rowspan="2">anomalous</th>'];
  for (const m of metrics) h.push(`<th class="group" colspan="${METHODS.length}">${esc(m.label)}</th>`);
  h.push('</tr><tr>');
  for (const _ of metrics) METHODS.forEach((m, i) => h.push(`<th${i === 0 ? ' class="first-of-group"' : ''}>${esc(METHOD_LABELS[m])}</th>`));
  h.push('</tr></thead><tbody>');
  const nRows = perMetric[0]!.length;
  for (let r = 0; r < nRows; r++) {
    const row = perMetric[0]![r]!;
    const isMean = r === nRows - 1;
    h.push(`<tr${isMean ? ' class="mean"' : ` data-category="${esc(row.name)}"`}><td>${esc(row.name)}</td>`);
    h.push(`<td>${row.nNormal ?? ''}</td><td>${row.nAnomalous ?? ''}</td>`);
    perMetric.forEach((rows, mi) => {
      const cells = rows[r]!.cells;
      const stats = METHODS.map((m) => (isMean ? results.mean[m] : results.categories[r]!.methods[m])[metrics[mi]!.metric].mean);
      const best = Math.max(...stats);
      cells.forEach((c, i) => {
        const cls = [i === 0 ? 'first-of-group' : '', stats[i] === best ? 'best' : ''].filter(Boolean).join(' ');
        const paperLine = withPaper ? `<span class="paper">paper ${esc(c.paper)} (Δ ${esc(c.diff)})</span>` : '';
        h.push(`<td${cls ? ` class="${cls}"` : ''}>${esc(c.ours)}${paperLine}</td>`);
      });
    });
    h.push('</tr>');
  }
  h.push('</tbody></table>');
  return (
    `<section id="per-category"><h2>Per-category results (appendix layout)</h2>${h.join('')}` +
    `<p class="note">Bold: the best method of the row for that metric. ${esc(auprSentence(results))}</p></section>`
  );
}

const UNIT_AXIS = { min: -0.02, max: 1.02, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1] } as const;

function legendValue(results: RunResults, cat: CategoryResult, m: MethodId, metric: MetricId, seed: number): string {
  const v = valueAtSeed(results, cat.methods[m][metric], seed);
  return v === undefined ? METHOD_LABELS[m] : `${METHOD_LABELS[m]} (${pct(v)})`;
}

function categoryCharts(results: RunResults, cat: CategoryResult): string {
  const charts: string[] = [];
  const attrs = { 'data-category': cat.name };
  const curves = results.curves?.perCategory[cat.name];
  const seed = results.curves?.seed ?? 0;
  const prMetric = auprMetric(results.config.aupr);
  if (curves) {
    const roc: LineSeries[] = [];
    const pr: LineSeries[] = [];
    for (const m of METHODS) {
      const cs = curves[m];
      if (!cs) continue;
      roc.push({ key: m, name: legendValue(results, cat, m, 'auroc', seed), color: METHOD_COLORS[m], x: cs.roc.fpr, y: cs.roc.tpr });
      pr.push({ key: m, name: legendValue(results, cat, m, prMetric, seed), color: METHOD_COLORS[m], x: cs.pr.recall, y: cs.pr.precision });
    }
    const prevalence = cat.nAnomalous / Math.max(1, cat.nNormal + cat.nAnomalous);
    charts.push(
      lineChart({
        width: 360,
        height: 300,
        className: 'roc-curve',
        attrs,
        title: `ROC, AUROC in legend (seed ${seed})`,
        x: { label: 'False positive rate', ...UNIT_AXIS },
        y: { label: 'True positive rate', ...UNIT_AXIS },
        guides: [{ x: [0, 1], y: [0, 1] }],
        series: roc,
        legend: 'bottom-right',
      }),
      lineChart({
        width: 360,
        height: 300,
        className: 'pr-curve',
        attrs,
        title: `Precision-recall, ${results.config.aupr === 'trapezoid' ? 'AUPR' : 'AP'} in legend`,
        x: { label: 'Recall', ...UNIT_AXIS },
        y: { label: 'Precision', ...UNIT_AXIS },
        guides: [{ x: [0, 1], y: [prevalence, prevalence] }],
        series: pr,
        legend: 'bottom-left',
      }),
    );
  }
  const hist = results.histograms?.perCategory[cat.name];
  if (hist && results.histograms) {
    charts.push(
      histogramChart({
        width: 360,
        height: 300,
        className: 'score-histogram',
        attrs: { ...attrs, 'data-method': results.histograms.method },
        title: `${METHOD_LABELS[results.histograms.method]} scores (seed ${results.histograms.seed})`,
        edges: hist.edges,
        xLabel: 'Anomaly score',
        yLabel: 'Images',
        series: [
          { key: 'normal', name: `normal (${cat.nNormal})`, color: CLASS_COLORS.normal, counts: hist.normal },
          { key: 'anomalous', name: `anomalous (${cat.nAnomalous})`, color: CLASS_COLORS.anomalous, counts: hist.anomalous },
        ],
        legend: 'top-right',
      }),
    );
  }
  if (charts.length === 0) return '<p class="note">No curves or histograms were stored for this category.</p>';
  return `<div class="charts">${charts.join('')}</div>`;
}

function plotsSection(results: RunResults): string {
  const parts = ['<section id="plots"><h2>Curves and score distributions</h2>', htmlLegend()];
  for (const cat of results.categories) {
    parts.push(
      `<article class="category" id="category-${esc(cat.name)}" data-category="${esc(cat.name)}"><h3>${esc(cat.name)}` +
        `<small>${cat.nNormal} normal · ${cat.nAnomalous} anomalous</small></h3>${categoryCharts(results, cat)}</article>`,
    );
  }
  parts.push('</section>');
  return parts.join('');
}

function configSection(results: RunResults): string {
  const rows = configLines(results)
    .map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`)
    .join('');
  return `<section id="config"><h2>Configuration</h2><table class="config"><tbody>${rows}</tbody></table></section>`;
}

function skippedSection(results: RunResults, limit: number): string {
  const n = results.skipped.length;
  if (n === 0) return '<section id="skipped"><h2>Skipped (0)</h2><p class="note">Nothing was skipped.</p></section>';
  const { lines, more } = skippedLines(results.skipped, limit);
  const items = lines.map((l) => `<li>${esc(l)}</li>`).join('');
  const tail = more > 0 ? `<li>... and ${more} more (all of them are in results.json)</li>` : '';
  return `<section id="skipped"><h2>Skipped (${n})</h2><ul class="skipped">${items}${tail}</ul></section>`;
}

/** The HTML report (one self-contained page). */
export function renderHtml(results: RunResults, opts: HtmlOptions = {}): string {
  const paper = opts.paper ?? PAPER;
  const c = results.config;
  const title = `rwda evaluation report: ${datasetLabel(results)}`;
  const subtitle =
    `${setupLabel(results)} · ${cropsLabel(results)} · ${c.seeds.length} seed${c.seeds.length === 1 ? '' : 's'} ` +
    `(${c.seeds.join(', ')}) · ${c.pairs} prompt pairs · ${c.backbone.name}`;
  const notes = (results.notes ?? []).map((n) => `<li>${esc(n)}</li>`).join('');
  return htmlPage(title, REPORT_CSS, [
    `<header><h1>rwda evaluation report: <span class="dataset">${esc(datasetLabel(results))}</span></h1>`,
    `<p class="subtitle">${esc(subtitle)}</p></header>`,
    summarySection(results, paper),
    overviewSection(results),
    categoryTableSection(results, paper),
    plotsSection(results),
    configSection(results),
    skippedSection(results, opts.skippedLimit ?? 50),
    notes ? `<section id="notes"><h2>Notes</h2><ul>${notes}</ul></section>` : '',
    `<footer>Generated by rwda ${esc(results.rwdaVersion)} at ${esc(results.createdAt)}.</footer>`,
  ]);
}

/** A self-contained page (inline CSS, no scripts): `body` lines inside <main>, one per line. */
export function htmlPage(title: string, css: string, body: readonly string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title><style>${css}</style></head><body><main>`,
    ...body,
    '</main></body></html>',
    '',
  ].join('\n');
}
