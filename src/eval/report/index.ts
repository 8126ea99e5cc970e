/** Evaluation reports: the results.json schema, the published numbers, and the Markdown / HTML renderers. */
export {
  METHODS,
  METHOD_LABELS,
  METRICS,
  RESULTS_FORMAT,
  auprMetric,
  meanOverCategories,
  summarize,
  summarizeMetrics,
  type AuprKind,
  type CategoryResult,
  type CropSettings,
  type CurveBlock,
  type CurveSet,
  type DatasetKind,
  type FnnHyperparameters,
  type HistogramBlock,
  type MethodId,
  type MetricId,
  type MetricSummary,
  type PromptSettings,
  type RunConfig,
  type RunResults,
  type ScoreHistogram,
  type Setup,
  type SkippedEntry,
  type Stat,
} from './schema.ts';
export { HISTOGRAM_BINS, MAX_CURVE_POINTS, curveSetFrom, downsampleCurve, scoreHistogram } from './curves.ts';
export { readRunResults, validateRunResults } from './validate.ts';
export {
  PAPER,
  PAPER_METRICS,
  findPaperCategory,
  findPaperMain,
  findReferences,
  paperDataset,
  type PaperCategoryRow,
  type PaperData,
  type PaperDataset,
  type PaperMetric,
  type PaperNumber,
  type PaperResultRow,
  type ReferenceRow,
  type RunWords,
} from './paper.ts';
export {
  PAPER_DEFAULT_NORMAL_WORDS,
  PAPER_SETUPS,
  PAPER_TABLE_IDS,
  TABLE3_DEFAULT_NORMAL_WORD,
  TABLE_METRICS,
  categoryKey,
  findPaperCell,
  methodIdOf,
  paperCells,
  paperMethodName,
  paperMetricOf,
  paperSetupOf,
  paperTableNotes,
  paperTablesJson,
  type OurCellKey,
  type PaperCell,
  type PaperMethodName,
  type PaperSetup,
  type PaperTableId,
  type PaperTablesJson,
  type PrintedNumber,
  type TableMetric,
} from './paper_tables.ts';
export {
  PRINT_ROUNDING,
  renderPaperTable,
  type ComparedPaperCell,
  type OursLookup,
  type PaperVerdict,
  type RenderedPaperTable,
} from './paper_table.ts';
export { formatDiff, formatStat, pct } from './format.ts';
export { renderMarkdown, type MarkdownOptions } from './markdown.ts';
export { CLASS_COLORS, METHOD_COLORS, renderHtml, type HtmlOptions } from './html.ts';
export { barChart, histogramChart, lineChart, niceTicks, niceTicksCovering, type Axis, type LineSeries } from './svg.ts';
export { REPORT_FILES, stringifyResults, writeReports, type WriteReportsOptions } from './write.ts';
