/**
 * The paper's tables as data: paper_tables.json is a verbatim copy of /work/shared/paper/tables.json (a test keeps
 * them equal), flattened here into one cell per printed number with where it was printed.
 *
 * Keys follow the JSON: setups `zero_unknown` … `four_shot`, methods as the paper names them (`CLIP+ours`), metrics
 * `auroc` | `aupr` | `f1max`, values in percent. `findPaperCell` maps rwda's string keys (method ids such as
 * 'clipOurs', 'winclipPlus'; metric ids such as 'f1Max', 'ap'; folder category names) onto these cells.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The paper's setups (Table 1 and the appendix). */
export type PaperSetup = 'zero_unknown' | 'zero_known' | 'one_shot' | 'two_shot' | 'four_shot';
export const PAPER_SETUPS: readonly PaperSetup[] = ['zero_unknown', 'zero_known', 'one_shot', 'two_shot', 'four_shot'];
/** Methods as the paper names them. */
export type PaperMethodName = 'CLIP' | 'ours' | 'CLIP+ours' | 'WinCLIP' | 'SPADE' | 'PaDiM' | 'PatchCore' | 'RegAD';
/** Metric keys of tables.json. */
export type TableMetric = 'auroc' | 'aupr' | 'f1max';
export const TABLE_METRICS: readonly TableMetric[] = ['auroc', 'aupr', 'f1max'];
/** Which printed table a cell comes from. */
export type PaperTableId = 'table1' | 'table2' | 'table3' | 'table4' | 'appendix';
export const PAPER_TABLE_IDS: readonly PaperTableId[] = ['table1', 'table2', 'table3', 'table4', 'appendix'];

/** A printed number in percent; `std` is the ± (over 10 seeds) where printed. */
export interface PrintedNumber {
  mean: number;
  std?: number;
}

/** One printed number and its source. */
export interface PaperCell {
  table: PaperTableId;
  /** Absent for Tables 2 and 4, which do not name the setup. */
  setup?: PaperSetup;
  method: PaperMethodName;
  dataset: 'mvtec' | 'visa' | 'sewerml';
  /** Appendix only: the category as printed ("Metal nut", "PCB1"). */
  category?: string;
  metric: TableMetric;
  value: PrintedNumber;
  /** Table 1, 3, 4 and the appendix are with multi-crop; Table 2 without. */
  multiCrop: boolean;
  /** Prompt words of the cell (Table 3 varies them; elsewhere the defaults as Table 3 prints them). */
  normalWord: string;
  anomalyWord: string;
  /** Table 2 only: whether the method uses a prompt ensemble. */
  promptEnsemble?: boolean;
}

type Metrics = Partial<Record<TableMetric, PrintedNumber>>;
/** The shape of paper_tables.json (and of /work/shared/paper/tables.json). */
export interface PaperTablesJson {
  source: string;
  units: string;
  setups: Record<PaperSetup, string>;
  methods: Record<PaperMethodName, string>;
  defaults: Record<string, unknown> & { normal_word: string; anomaly_word: string };
  table1: { title: string; rows: Record<PaperSetup, Partial<Record<PaperMethodName, Record<'mvtec' | 'visa', Metrics>>>> };
  table2: { title: string; rows: Partial<Record<PaperMethodName, Metrics & { prompt_ensemble: boolean }>> };
  table3: {
    title: string;
    cells: Array<{ normal_word: string; anomaly_word: string } & Partial<Record<PaperMethodName, PrintedNumber>>>;
  };
  table4: { title: string; rows: Partial<Record<PaperMethodName, Metrics>> };
  appendix: {
    title: string;
    note: string;
    tables: Record<'mvtec' | 'visa', Record<TableMetric, Partial<Record<PaperSetup, Partial<Record<PaperMethodName, Record<string, PrintedNumber>>>>>>>;
  };
  not_in_text: string[];
}

const JSON_PATH = fileURLToPath(new URL('./paper_tables.json', import.meta.url));
let cachedJson: PaperTablesJson | undefined;
let cachedCells: PaperCell[] | undefined;

/** The project's copy of the paper's tables, as stored. */
export function paperTablesJson(): PaperTablesJson {
  cachedJson ??= JSON.parse(readFileSync(JSON_PATH, 'utf8')) as PaperTablesJson;
  return cachedJson;
}

/**
 * The paper's default normal word as Table 3 prints it. Section 4.2 says "a"; Table 3 and its discussion print "an"
 * for the row whose numbers equal Table 1's default, so both count as the default when matching.
 */
export const TABLE3_DEFAULT_NORMAL_WORD = 'an';
/** The words a run may use and still be compared with Table 1/2/4 and the appendix. */
export const PAPER_DEFAULT_NORMAL_WORDS: readonly string[] = ['a', 'an'];

/** Notes a reproduction should show beside the tables (the normal-word ambiguity, the appendix inconsistencies). */
export function paperTableNotes(): string[] {
  const j = paperTablesJson();
  return [
    `Default normal word: Section 4.2 says "${j.defaults.normal_word}", while Table 3 and its discussion print ` +
      `"${TABLE3_DEFAULT_NORMAL_WORD}" for the row whose values equal Table 1's default (91.5 → 92.2 ± 0.3); rwda compares ` +
      'runs with either word against the same printed cells, so a reproduction should run both.',
    j.appendix.note,
    ...j.not_in_text.map((s) => `Not in the text: ${s}.`),
  ];
}

/** Every printed number of the paper's tables, one cell each (Table 1, 2, 3, 4, then the appendix). */
export function paperCells(): readonly PaperCell[] {
  if (cachedCells) return cachedCells;
  const j = paperTablesJson();
  const words = { normalWord: TABLE3_DEFAULT_NORMAL_WORD, anomalyWord: j.defaults.anomaly_word };
  const out: PaperCell[] = [];
  const each = <K extends string, V>(o: Partial<Record<K, V>>, f: (k: K, v: V) => void): void => {
    for (const [k, v] of Object.entries(o) as Array<[K, V]>) if (v !== undefined) f(k, v);
  };
  each(j.table1.rows, (setup, methods) =>
    each(methods, (method, byDataset) =>
      each(byDataset, (dataset, metrics) =>
        each(metrics, (metric, value) =>
          out.push({ table: 'table1', setup, method, dataset, metric, value, multiCrop: true, ...words }),
        ),
      ),
    ),
  );
  each(j.table2.rows, (method, row) => {
    for (const metric of TABLE_METRICS) {
      const value = row[metric];
      if (value) {
        out.push({ table: 'table2', method, dataset: 'mvtec', metric, value, multiCrop: false, ...words, promptEnsemble: row.prompt_ensemble });
      }
    }
  });
  for (const c of j.table3.cells) {
    for (const method of ['CLIP', 'CLIP+ours'] as const) {
      const value = c[method];
      if (value) {
        out.push({
          table: 'table3',
          setup: 'zero_unknown',
          method,
          dataset: 'mvtec',
          metric: 'auroc',
          value,
          multiCrop: true,
          normalWord: c.normal_word,
          anomalyWord: c.anomaly_word,
        });
      }
    }
  }
  each(j.table4.rows, (method, metrics) =>
    each(metrics, (metric, value) => out.push({ table: 'table4', method, dataset: 'sewerml', metric, value, multiCrop: true, ...words })),
  );
  each(j.appendix.tables, (dataset, byMetric) =>
    each(byMetric, (metric, bySetup) =>
      each(bySetup, (setup, byMethod) =>
        each(byMethod, (method, byCategory) =>
          each(byCategory, (category, value) =>
            out.push({ table: 'appendix', setup, method, dataset, category, metric, value, multiCrop: true, ...words }),
          ),
        ),
      ),
    ),
  );
  cachedCells = out;
  return out;
}

/** rwda's string method ids → the paper's method names; WinCLIP's few-shot rows are WinCLIP+. */
const METHOD_IDS: Readonly<Record<string, { name: PaperMethodName; fewShot?: boolean }>> = {
  clip: { name: 'CLIP' },
  ours: { name: 'ours' },
  clipOurs: { name: 'CLIP+ours' },
  winclip: { name: 'WinCLIP', fewShot: false },
  winclipPlus: { name: 'WinCLIP', fewShot: true },
  spade: { name: 'SPADE' },
  padim: { name: 'PaDiM' },
  patchcore: { name: 'PatchCore' },
  regad: { name: 'RegAD' },
};

/** The paper's name for an rwda method id ('clipOurs' → 'CLIP+ours'), or undefined if the paper has no such row. */
export function paperMethodName(methodId: string): PaperMethodName | undefined {
  return METHOD_IDS[methodId]?.name;
}

/** The rwda method id of a paper method name in a setup ('WinCLIP' in a few-shot setup → 'winclipPlus'). */
export function methodIdOf(name: PaperMethodName, setup?: PaperSetup): string {
  for (const [id, m] of Object.entries(METHOD_IDS)) {
    if (m.name !== name) continue;
    if (m.fewShot === undefined || m.fewShot === isFewShot(setup)) return id;
  }
  throw new Error(`unreachable: no method id for ${name}`);
}

function isFewShot(setup: PaperSetup | undefined): boolean {
  return setup === 'one_shot' || setup === 'two_shot' || setup === 'four_shot';
}

/** rwda's metric ids → the paper's; both AUPR variants compare with the paper's AUPR. */
export function paperMetricOf(metric: string): TableMetric | undefined {
  const m: Record<string, TableMetric> = { auroc: 'auroc', aupr: 'aupr', ap: 'aupr', auprTrapezoid: 'aupr', f1max: 'f1max', f1Max: 'f1max' };
  return m[metric];
}

/** rwda's setup ('unknown' | 'known', or a paper setup name, or a shot count) → the paper's setup. */
export function paperSetupOf(setup: string, shots = 0): PaperSetup | undefined {
  if ((PAPER_SETUPS as readonly string[]).includes(setup)) return setup as PaperSetup;
  if (shots === 1) return 'one_shot';
  if (shots === 2) return 'two_shot';
  if (shots === 4) return 'four_shot';
  if (shots !== 0) return undefined;
  return setup === 'unknown' ? 'zero_unknown' : setup === 'known' ? 'zero_known' : undefined;
}

/** Folder and printed category names compared case- and separator-blind (`metal_nut` = "Metal nut"). */
export function categoryKey(name: string): string {
  return name.toLowerCase().replace(/[\s_-]+/g, '');
}

/** What identifies one of our numbers. */
export interface OurCellKey {
  /** 'unknown' | 'known' (rwda) or a paper setup name. */
  setup: string;
  /** Reference images per category (0 or absent: zero-shot). */
  shots?: number;
  /** rwda method id: 'clip', 'ours', 'clipOurs', 'winclip', 'winclipPlus', … */
  method: string;
  dataset: string;
  /** A category, for the appendix; absent: the mean over categories. */
  category?: string;
  /** rwda metric id ('auroc', 'ap', 'auprTrapezoid', 'f1Max') or a paper one. */
  metric: string;
  /** Default true (Tables 1, 3, 4, appendix); false selects Table 2. */
  multiCrop?: boolean;
  /** Default: the paper's defaults ("a"/"an" and "a damaged"). */
  normalWord?: string;
  anomalyWord?: string;
}

/**
 * The paper's cell for one of our numbers, or undefined when the paper printed none. Selection: a category → the
 * appendix; Sewer-ML → Table 4; no multi-crop → Table 2; non-default words → Table 3; otherwise Table 1.
 */
export function findPaperCell(key: OurCellKey): PaperCell | undefined {
  const idInfo = METHOD_IDS[key.method];
  const metric = paperMetricOf(key.metric);
  if (!idInfo || !metric) return undefined;
  const setup = paperSetupOf(key.setup, key.shots ?? 0);
  if (idInfo.fewShot !== undefined && idInfo.fewShot !== isFewShot(setup)) return undefined;
  const multiCrop = key.multiCrop ?? true;
  const normal = key.normalWord ?? TABLE3_DEFAULT_NORMAL_WORD;
  const anomaly = key.anomalyWord ?? paperTablesJson().defaults.anomaly_word;
  const defaultWords = PAPER_DEFAULT_NORMAL_WORDS.includes(normal) && anomaly === paperTablesJson().defaults.anomaly_word;
  const normalOf = (w: string): string => (PAPER_DEFAULT_NORMAL_WORDS.includes(w) ? TABLE3_DEFAULT_NORMAL_WORD : w);
  const common = (c: PaperCell): boolean => c.method === idInfo.name && c.metric === metric && c.dataset === key.dataset;
  const cells = paperCells();
  if (key.category !== undefined) {
    if (!multiCrop || !defaultWords) return undefined;
    const cat = categoryKey(key.category);
    return cells.find((c) => c.table === 'appendix' && common(c) && c.setup === setup && categoryKey(c.category!) === cat);
  }
  if (key.dataset === 'sewerml') return multiCrop && defaultWords ? cells.find((c) => c.table === 'table4' && common(c)) : undefined;
  if (!multiCrop) return defaultWords ? cells.find((c) => c.table === 'table2' && common(c)) : undefined;
  if (!defaultWords) {
    return cells.find(
      (c) => c.table === 'table3' && common(c) && c.setup === setup && c.normalWord === normalOf(normal) && c.anomalyWord === anomaly,
    );
  }
  return cells.find((c) => c.table === 'table1' && common(c) && c.setup === setup);
}
