/**
 * The typed shape of an evaluation run's `results.json` (format `rwda-eval/v1`), which `rwda eval` fills and the
 * Markdown / HTML reports read.
 *
 * Conventions:
 * - Every metric value is a fraction in [0, 1] (reports show percent).
 * - A {@link Stat} holds one value per seed in `config.seeds` order; a method whose score does not depend on the seed
 *   (CLIP's prompt-guided score) may hold a single value instead.
 * - `std` is the SAMPLE standard deviation (n - 1 denominator, numpy's `ddof=1`): the paper reports mean ± std over
 *   10 seeds, i.e. an estimate of the spread between independent runs. With a single value std is 0.
 * - The category mean row (`mean`) averages the categories per seed first, then summarises over seeds, so its std is
 *   the seed-to-seed spread of the mean (not the spread between categories).
 */
import { RwdaError } from '../../errors.ts';
import type { DatasetSpec } from '../../data/index.ts';

/** The `format` tag of results.json; bump the suffix on any incompatible change. */
export const RESULTS_FORMAT = 'rwda-eval/v1' as const;

/** The three scores compared in the paper. */
export type MethodId = 'clip' | 'ours' | 'clipOurs';
/** Methods in the paper's row order. */
export const METHODS: readonly MethodId[] = ['clip', 'ours', 'clipOurs'];
/** Row labels as the paper prints them. */
export const METHOD_LABELS: Readonly<Record<MethodId, string>> = {
  clip: 'CLIP',
  ours: 'Ours',
  clipOurs: 'CLIP + Ours',
};

/** Metrics kept per category and method. */
export type MetricId = 'auroc' | 'ap' | 'auprTrapezoid' | 'f1Max';
export const METRICS: readonly MetricId[] = ['auroc', 'ap', 'auprTrapezoid', 'f1Max'];

/** Which AUPR the reports headline: step-wise average precision (default) or the trapezoidal PR-AUC. */
export type AuprKind = 'ap' | 'trapezoid';

/** Zero-shot setup: the object name in prompts is the word "object" (unknown) or the category's name (known). */
export type Setup = 'unknown' | 'known';

/** Dataset kinds as the loaders name them. */
export type DatasetKind = DatasetSpec['kind'];

/** Mean and sample std of per-seed values. */
export interface Stat {
  mean: number;
  /** Sample standard deviation (n - 1); 0 for a single value. */
  std: number;
  /** Per seed, in `config.seeds` order (one value for seed-independent methods). */
  values: number[];
}

/** All metrics of one method on one category (or the category mean). */
export interface MetricSummary {
  auroc: Stat;
  /** Step-wise average precision (sklearn's average_precision_score). */
  ap: Stat;
  /** Trapezoidal area under the PR curve (sklearn's auc(recall, precision)). */
  auprTrapezoid: Stat;
  f1Max: Stat;
}

/** FNN and training hyperparameters (names as in src/methods/rwda/defaults.ts). */
export interface FnnHyperparameters {
  hidden: number[];
  dropout: number;
  lr: number;
  weightDecay: number;
  betas: [number, number];
  eps: number;
  epochs: number;
  batchSize: number;
  lrDecay: number;
  bnEps?: number;
  bnMomentum?: number;
}

/** Prompt settings (names as in src/methods/rwda/defaults.ts); the pair count is `RunConfig.pairs`. */
export interface PromptSettings {
  normalWord: string;
  anomalyWord: string;
  unknownObject: string;
  alphabet: string;
  minWordLength: number;
  maxWordLength: number;
  independentWords: boolean;
  temperature: number;
  /** Object names cycled over the detectors' training prompts instead of "object" (absent: "object"). */
  trainObjects?: string[];
}

/** Multi-crop test-time augmentation. */
export interface CropSettings {
  enabled: boolean;
  /** k of each k×k crop grid. */
  scales: number[];
  aggregation: 'max' | 'mean';
}

/** Everything that determines the numbers of a run. */
export interface RunConfig {
  dataset: DatasetKind;
  /** The dataset root (for Sewer-ML: the image folder). */
  root: string;
  /** Further dataset paths (e.g. `{ csv: ".../SewerML_Val.csv" }`). */
  datasetPaths?: Record<string, string>;
  categories: string[];
  setup: Setup;
  seeds: number[];
  crops: CropSettings;
  /** Number of random-word prompt pairs the FNN is trained on. */
  pairs: number;
  backbone: { name: string; pretrained?: string; fingerprint: string };
  prompts?: PromptSettings;
  fnn: FnnHyperparameters;
  /** Which AUPR the reports show; results.json always keeps both. */
  aupr: AuprKind;
}

/** Something the run did not evaluate, with the reason. */
export interface SkippedEntry {
  path?: string;
  category?: string;
  /** Machine-readable cause, e.g. a loader SkipKind or `decode-error`. */
  kind?: string;
  reason: string;
}

/** One category's numbers. */
export interface CategoryResult {
  name: string;
  nNormal: number;
  nAnomalous: number;
  methods: Record<MethodId, MetricSummary>;
}

/** ROC and PR curves of one method on one category (downsampled, see curves.ts). */
export interface CurveSet {
  roc: { fpr: number[]; tpr: number[] };
  pr: { recall: number[]; precision: number[] };
}

/** Curves of one seed: category → method → curves. */
export interface CurveBlock {
  seed: number;
  perCategory: Record<string, Partial<Record<MethodId, CurveSet>>>;
}

/** Score counts of normal and anomalous images over shared bins. */
export interface ScoreHistogram {
  /** Bin edges, increasing, length bins + 1; bin i is [edges[i], edges[i+1]) and the last bin is closed. */
  edges: number[];
  normal: number[];
  anomalous: number[];
}

/** Histograms of one method and seed: category → histogram. */
export interface HistogramBlock {
  seed: number;
  method: MethodId;
  perCategory: Record<string, ScoreHistogram>;
}

/** The whole results.json. */
export interface RunResults {
  format: typeof RESULTS_FORMAT;
  /** ISO 8601 time the run finished. */
  createdAt: string;
  rwdaVersion: string;
  versions: { node: string; onnxruntime: string; [name: string]: string };
  config: RunConfig;
  skipped: SkippedEntry[];
  /** Informational lines (loader notes and the like). */
  notes?: string[];
  /** Wall-clock seconds of the whole run. */
  durationSeconds?: number;
  categories: CategoryResult[];
  /** Mean over categories per seed, then summarised over seeds (see the module comment). */
  mean: Record<MethodId, MetricSummary>;
  curves?: CurveBlock;
  histograms?: HistogramBlock;
}

/** Mean and sample standard deviation (n - 1) of `values`; std is 0 for a single value. */
export function summarize(values: readonly number[]): Stat {
  if (values.length === 0) throw new RwdaError('summarize: no values; need at least one');
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new RwdaError(`summarize: value at index ${i} is ${String(values[i])}; values must be finite numbers`);
    }
  }
  const n = values.length;
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  if (n === 1) return { mean, std: 0, values: [...values] };
  // Two-pass: subtracting the mean first avoids the cancellation of the sum-of-squares formula.
  let ss = 0;
  for (const v of values) ss += (v - mean) * (v - mean);
  return { mean, std: Math.sqrt(ss / (n - 1)), values: [...values] };
}

/** Summarises per-seed metric values of one method (each array is per seed, in seed order). */
export function summarizeMetrics(perSeed: Readonly<Record<MetricId, readonly number[]>>): MetricSummary {
  return {
    auroc: summarize(perSeed.auroc),
    ap: summarize(perSeed.ap),
    auprTrapezoid: summarize(perSeed.auprTrapezoid),
    f1Max: summarize(perSeed.f1Max),
  };
}

/**
 * The category mean of every method: per seed, the mean over categories, then {@link summarize} over seeds.
 * A method must have the same number of values in every category.
 */
export function meanOverCategories(categories: readonly CategoryResult[]): Record<MethodId, MetricSummary> {
  if (categories.length === 0) throw new RwdaError('meanOverCategories: no categories');
  const out = {} as Record<MethodId, MetricSummary>;
  for (const method of METHODS) {
    const perMetric = {} as Record<MetricId, number[]>;
    for (const metric of METRICS) {
      const n = categories[0]!.methods[method][metric].values.length;
      const sums = new Array<number>(n).fill(0);
      for (const c of categories) {
        const vals = c.methods[method][metric].values;
        if (vals.length !== n) {
          throw new RwdaError(
            `meanOverCategories: ${method}.${metric} has ${vals.length} values in category '${c.name}' but ${n} in ` +
              `'${categories[0]!.name}'; every category needs one value per seed`,
          );
        }
        for (let i = 0; i < n; i++) sums[i]! += vals[i]!;
      }
      perMetric[metric] = sums.map((s) => s / categories.length);
    }
    out[method] = summarizeMetrics(perMetric);
  }
  return out;
}

/** The field of MetricSummary that the chosen AUPR kind reads. */
export function auprMetric(kind: AuprKind): MetricId {
  return kind === 'trapezoid' ? 'auprTrapezoid' : 'ap';
}
