/**
 * Published image-level numbers the reports put beside a run's own, each with the table it comes from.
 *
 * Rule: a number is recorded only if it was read in a source; anything not found stays absent and the reports show
 * "—" for it. Never fill a value from memory or by estimate.
 *
 * `PAPER` is built from paper_tables.json (the transcription of Tables 1–4 and the appendix, see paper_tables.ts):
 * the zero-shot rows of our three methods become `main`/`perCategory`, Table 1's other methods `references`.
 * Few-shot rows have no rwda setup yet; they are reached through paper_tables.ts and paper_table.ts. The renderers
 * take the paper data as a parameter, so tests exercise the comparison with their own rows.
 */
import type { DatasetKind, MethodId, Setup } from './schema.ts';
import {
  PAPER_DEFAULT_NORMAL_WORDS,
  TABLE3_DEFAULT_NORMAL_WORD,
  categoryKey,
  paperCells,
  paperTableNotes,
  paperTablesJson,
  type PaperMethodName,
  type PaperSetup,
  type PaperTableId,
  type TableMetric,
} from './paper_tables.ts';

/** Datasets the paper reports on. */
export type PaperDataset = 'mvtec' | 'visa' | 'sewerml';
/** The paper's three image-level metrics; which AUPR the paper computed is not stated in what we could read. */
export type PaperMetric = 'auroc' | 'aupr' | 'f1Max';
export const PAPER_METRICS: readonly PaperMetric[] = ['auroc', 'aupr', 'f1Max'];

/** One printed number, in percent as printed. */
export interface PaperNumber {
  mean: number;
  /** The ± part, when printed. */
  std?: number;
}

/** A row of a main-results table (mean over the dataset's categories). */
export interface PaperResultRow {
  dataset: PaperDataset;
  /** Absent when the table does not name the setup (Tables 2 and 4). */
  setup?: Setup;
  method: MethodId;
  /** Whether the row is with multi-crop; absent when the table does not distinguish. */
  multiCrop?: boolean;
  /** The prompt words of the row ("a"/"an" count as the same default); absent: any. */
  normalWord?: string;
  anomalyWord?: string;
  values: Partial<Record<PaperMetric, PaperNumber>>;
  /** Where the numbers were read, e.g. "Table 1, arXiv 2308.11119v2". */
  source: string;
}

/** A row of an appendix per-category table. */
export interface PaperCategoryRow extends PaperResultRow {
  category: string;
}

/** Another method's published number, shown as context (no difference is computed against it). */
export interface ReferenceRow {
  label: string;
  dataset: PaperDataset;
  setup?: Setup;
  values: Partial<Record<PaperMetric, PaperNumber>>;
  source: string;
}

/** Everything the reports know about the published results. */
export interface PaperData {
  citation: string;
  url: string;
  main: PaperResultRow[];
  perCategory: PaperCategoryRow[];
  references: ReferenceRow[];
  /** How the record was made and what is missing, shown in the reports. */
  lookupNotes: string[];
}


const METRIC_OF: Readonly<Record<TableMetric, PaperMetric>> = { auroc: 'auroc', aupr: 'aupr', f1max: 'f1Max' };
const SETUP_OF: Partial<Record<PaperSetup, Setup>> = { zero_unknown: 'unknown', zero_known: 'known' };
const OUR_METHODS: Partial<Record<PaperMethodName, MethodId>> = { CLIP: 'clip', ours: 'ours', 'CLIP+ours': 'clipOurs' };
const TABLE_NAMES: Readonly<Record<PaperTableId, string>> = {
  table1: 'Table 1',
  table2: 'Table 2 (without multi-crop)',
  table3: 'Table 3 (normal × anomaly words, AUROC)',
  table4: 'Table 4 (Sewer-ML)',
  appendix: 'Appendix A',
};

function buildPaperData(): PaperData {
  const cite = 'Tamura, BMVC 2023 (arXiv 2308.11119)';
  const main = new Map<string, PaperResultRow>();
  const perCategory = new Map<string, PaperCategoryRow>();
  const references = new Map<string, ReferenceRow>();
  for (const c of paperCells()) {
    const setup = c.setup === undefined ? undefined : SETUP_OF[c.setup];
    if (c.setup !== undefined && setup === undefined) continue; // few-shot: no rwda run has that setup yet
    const method = OUR_METHODS[c.method];
    const source = `${TABLE_NAMES[c.table]}, ${cite}`;
    const base = { dataset: c.dataset, setup, multiCrop: c.multiCrop, normalWord: c.normalWord, anomalyWord: c.anomalyWord, source };
    const key = [c.table, c.dataset, c.setup, c.method, c.category, c.normalWord, c.anomalyWord].join('|');
    if (!method) {
      if (c.table !== 'table1' || !setup) continue;
      const ref = references.get(key) ?? { ...base, setup, label: c.method === 'WinCLIP' ? 'WinCLIP (Jeong et al., CVPR 2023), as reported by the paper' : `${c.method}, as reported by the paper`, values: {} };
      ref.values[METRIC_OF[c.metric]] = c.value;
      references.set(key, ref);
    } else if (c.category !== undefined) {
      const row = perCategory.get(key) ?? { ...base, method, category: c.category, values: {} };
      row.values[METRIC_OF[c.metric]] = c.value;
      perCategory.set(key, row);
    } else {
      const row = main.get(key) ?? { ...base, method, values: {} };
      row.values[METRIC_OF[c.metric]] = c.value;
      main.set(key, row);
    }
  }
  return {
    citation: 'M. Tamura, "Random Word Data Augmentation with CLIP for Zero-Shot Anomaly Detection", BMVC 2023',
    url: 'https://arxiv.org/abs/2308.11119',
    main: [...main.values()],
    perCategory: [...perCategory.values()],
    references: [...references.values()],
    lookupNotes: [
      'Paper numbers are transcribed from the text of arXiv 2308.11119 with the ± restored (src/eval/report/paper_tables.json).',
      ...paperTableNotes(),
    ],
  };
}

/** The prompt words a run used; absent: the paper's defaults. */
export interface RunWords {
  normalWord: string;
  anomalyWord: string;
}

function wordsMatch(row: { normalWord?: string; anomalyWord?: string }, words: RunWords | undefined): boolean {
  if (row.normalWord === undefined && row.anomalyWord === undefined) return true;
  const normal = (w: string): string => (PAPER_DEFAULT_NORMAL_WORDS.includes(w) ? TABLE3_DEFAULT_NORMAL_WORD : w);
  const w = words ?? { normalWord: TABLE3_DEFAULT_NORMAL_WORD, anomalyWord: paperTablesJson().defaults.anomaly_word };
  return (row.normalWord === undefined || normal(row.normalWord) === normal(w.normalWord)) &&
    (row.anomalyWord === undefined || row.anomalyWord === w.anomalyWord);
}

function setupMatch(row: { setup?: Setup }, setup: Setup): boolean {
  return row.setup === undefined || row.setup === setup;
}

/** The paper's name for a loader's dataset kind; folder datasets have no published numbers. */
export function paperDataset(kind: DatasetKind): PaperDataset | undefined {
  return kind === 'mvtec' || kind === 'visa' || kind === 'sewerml' ? kind : undefined;
}

function cropsMatch(row: { multiCrop?: boolean }, multiCrop: boolean): boolean {
  return row.multiCrop === undefined || row.multiCrop === multiCrop;
}

/** The main-table row for a run's dataset, setup, method and multi-crop setting, if recorded. */
export function findPaperMain(
  paper: PaperData,
  dataset: DatasetKind,
  setup: Setup,
  method: MethodId,
  multiCrop: boolean,
  words?: RunWords,
): PaperResultRow | undefined {
  const ds = paperDataset(dataset);
  if (!ds) return undefined;
  return paper.main.find(
    (r) => r.dataset === ds && setupMatch(r, setup) && r.method === method && cropsMatch(r, multiCrop) && wordsMatch(r, words),
  );
}

/** The per-category row, if recorded. */
export function findPaperCategory(
  paper: PaperData,
  dataset: DatasetKind,
  setup: Setup,
  category: string,
  method: MethodId,
  multiCrop: boolean,
  words?: RunWords,
): PaperCategoryRow | undefined {
  const ds = paperDataset(dataset);
  if (!ds) return undefined;
  const cat = categoryKey(category);
  return paper.perCategory.find(
    (r) =>
      r.dataset === ds &&
      setupMatch(r, setup) &&
      categoryKey(r.category) === cat &&
      r.method === method &&
      cropsMatch(r, multiCrop) &&
      wordsMatch(r, words),
  );
}

/** Whether any per-category number is recorded for this dataset and setup (decides whether tables get paper columns). */
export function hasPaperCategories(paper: PaperData, dataset: DatasetKind, setup: Setup): boolean {
  const ds = paperDataset(dataset);
  return ds !== undefined && paper.perCategory.some((r) => r.dataset === ds && setupMatch(r, setup));
}

/** Reference rows for this dataset and setup. */
export function findReferences(paper: PaperData, dataset: DatasetKind, setup: Setup): ReferenceRow[] {
  const ds = paperDataset(dataset);
  return ds === undefined ? [] : paper.references.filter((r) => r.dataset === ds && setupMatch(r, setup));
}

// Last: buildPaperData reads the module's constants above.
/** The published record, built from paper_tables.json (Tables 1–4 and the appendix; see paper_tables.ts). */
export const PAPER: PaperData = buildPaperData();
