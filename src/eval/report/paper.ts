/**
 * Published image-level numbers the reports put beside a run's own, each with the table it comes from.
 *
 * Rule: a number is recorded only if it was read in a source; anything not found stays absent and the reports show
 * "—" for it. Never fill a value from memory or by estimate.
 *
 * State of the record (see `PAPER.lookupNotes`): the text of Tamura's tables could not be read in this
 * environment, so `main` and `perCategory` are empty until someone reads the paper (arXiv 2308.11119, Table 1 and
 * the appendix tables) and adds rows here with their `source`. The renderers take the paper data as a parameter, so
 * tests exercise the comparison with their own rows.
 */
import type { DatasetKind, MethodId, Setup } from './schema.ts';

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
  setup: Setup;
  method: MethodId;
  /** Whether the row is with multi-crop; absent when the table does not distinguish. */
  multiCrop?: boolean;
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
  setup: Setup;
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

/** The published record (see the module comment for what is and is not in it). */
export const PAPER: PaperData = {
  citation: 'M. Tamura, "Random Word Data Augmentation with CLIP for Zero-Shot Anomaly Detection", BMVC 2023',
  url: 'https://arxiv.org/abs/2308.11119',
  main: [],
  perCategory: [],
  references: [
    {
      // WinCLIP uses the object names and its compositional prompt ensemble, i.e. the known-object setup.
      label: 'WinCLIP (Jeong et al., CVPR 2023), as reported by its authors',
      dataset: 'mvtec',
      setup: 'known',
      values: { auroc: { mean: 91.8 } },
      source: 'WinCLIP abstract, arXiv 2303.14814: zero-shot anomaly classification AUROC on MVTec-AD',
    },
    {
      label: 'WinCLIP (Jeong et al., CVPR 2023), as reported by its authors',
      dataset: 'visa',
      setup: 'known',
      values: { auroc: { mean: 78.1 } },
      source: 'WinCLIP abstract, arXiv 2303.14814: zero-shot anomaly classification AUROC on VisA',
    },
  ],
  lookupNotes: [
    'Tamura (2023) Table 1 and the appendix per-category tables were looked up in the stored copies of ' +
      'arxiv.org/html/2308.11119v2, ar5iv.labs.arxiv.org/html/2308.11119, proceedings.bmvc2023.org/18 and ' +
      'paperswithcode; only the title page and abstract were readable, so none of the paper\'s numbers are recorded ' +
      'and the paper columns show "—".',
    'No few-shot rows are recorded for the same reason.',
    'WinCLIP\'s own zero-shot AUROC (91.8 MVTec-AD, 78.1 VisA) is read from the WinCLIP abstract and shown as context ' +
      'for the known-object setup only.',
  ],
};

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
): PaperResultRow | undefined {
  const ds = paperDataset(dataset);
  if (!ds) return undefined;
  return paper.main.find((r) => r.dataset === ds && r.setup === setup && r.method === method && cropsMatch(r, multiCrop));
}

/** The per-category row, if recorded. */
export function findPaperCategory(
  paper: PaperData,
  dataset: DatasetKind,
  setup: Setup,
  category: string,
  method: MethodId,
  multiCrop: boolean,
): PaperCategoryRow | undefined {
  const ds = paperDataset(dataset);
  if (!ds) return undefined;
  return paper.perCategory.find(
    (r) => r.dataset === ds && r.setup === setup && r.category === category && r.method === method && cropsMatch(r, multiCrop),
  );
}

/** Whether any per-category number is recorded for this dataset and setup (decides whether tables get paper columns). */
export function hasPaperCategories(paper: PaperData, dataset: DatasetKind, setup: Setup): boolean {
  const ds = paperDataset(dataset);
  return ds !== undefined && paper.perCategory.some((r) => r.dataset === ds && r.setup === setup);
}

/** Reference rows for this dataset and setup. */
export function findReferences(paper: PaperData, dataset: DatasetKind, setup: Setup): ReferenceRow[] {
  const ds = paperDataset(dataset);
  return ds === undefined ? [] : paper.references.filter((r) => r.dataset === ds && r.setup === setup);
}
