/**
 * The shared engine of the sweep experiments (pairs, words): the dataset is loaded and embedded
 * once, then each setting of the sweep (a pair count, a pair of state words) is evaluated like one
 * `rwda eval` run without its report files.
 *
 * A setting's scores live in the store under the runner's own keys (eval/<run key>/clip and
 * eval/<run key>/seed/<seed>, same record format), and its detectors in rwda's detector cache, so
 * a rerun of an experiment, an `rwda eval` with the same settings, and an experiment after such
 * an eval all reuse each other's finished seeds. Metrics are recomputed from the stored scores
 * (cheap) through assembleResults, as the eval report does.
 */
import { RwdaError } from '../../errors.ts';
import type { DatasetSpec } from '../../data/index.ts';
import { backboneName, type Backbone } from '../../methods/common/backbone.ts';
import { PROMPT_DEFAULTS } from '../../methods/rwda/index.ts';
import { packageVersion } from '../../methods/rwda/index.ts';
import type { TrainProgress } from '../../methods/rwda/index.ts';
import type { EmbeddingStore, StoreCounters } from '../../store/index.ts';
import { METHODS, type MethodId, type MetricSummary, type RunConfig, type SkippedEntry, type Stat } from '../report/index.ts';
import {
  assembleResults,
  clipScores,
  dataKey,
  loadAndEmbed,
  planEval,
  runKey,
  runtimeVersions,
  scoreContext,
  seedScores,
  storedSeeds,
  type DataEvent,
  type EmbeddedItem,
  type EvalPlan,
  type EvalTrainOptions,
  type SeedScores,
} from '../runner/index.ts';

/** What an experiment reports while it works (progress bars, logs, test hooks). */
export type ExperimentEvent =
  | DataEvent
  | { type: 'setting-start'; label: string; index: number; total: number; runKey: string; seedsStored: number[] }
  | { type: 'train'; label: string; seed: number; progress: TrainProgress }
  | { type: 'seed-done'; label: string; seed: number; reused: boolean; trained: boolean; textsEncoded: number }
  | { type: 'setting-done'; label: string; index: number; total: number }
  | { type: 'tsne'; stage: 'affinities' | 'optimize'; done: number; total: number }
  | { type: 'written'; partial: boolean; json: string };

/** Options every dataset-based experiment takes (as `rwda eval` does). */
export interface ExperimentDataOptions {
  backbone: Backbone;
  /** Name recorded for the backbone (default: its config or folder name). */
  backboneName?: string;
  /** Registry name, when the model came from the hub. */
  pretrained?: string;
  dataset: DatasetSpec;
  /** Embeddings, text cache and stored scores (what makes the experiment resumable). */
  store: EmbeddingStore;
  /** Number of seeds 0..n-1 (default 10). */
  seeds?: number;
  setup?: 'unknown' | 'known';
  crops?: 'none' | 'grid';
  /** Training settings shared by every setting of the sweep (the sweep overrides its own field). */
  train?: EvalTrainOptions;
  /** Detector cache root (default rwdaHome()). */
  home?: string;
  imageBatch?: number;
  maxPixels?: number;
  onEvent?: (e: ExperimentEvent) => void;
}

/** The dataset, loaded and embedded once for every setting. */
export interface ExperimentData {
  opts: ExperimentDataOptions;
  /** The plan of the base settings (seeds, setup, views); settings only change training options. */
  plan: EvalPlan;
  items: EmbeddedItem[];
  skipped: SkippedEntry[];
  notes: string[];
  viewsEncoded: number;
  viewsCached: number;
  name: string;
}

/** Loads the dataset and embeds every image view into the store (only misses are encoded). */
export async function prepareData(opts: ExperimentDataOptions): Promise<ExperimentData> {
  const plan = planEval({ seeds: opts.seeds, setup: opts.setup, crops: opts.crops, train: opts.train });
  const data = await loadAndEmbed(opts.backbone, opts.store, opts.dataset, plan, { imageBatch: opts.imageBatch, maxPixels: opts.maxPixels, onEvent: opts.onEvent });
  return {
    opts,
    plan,
    items: data.items,
    skipped: data.skipped,
    notes: data.notes,
    viewsEncoded: data.viewsEncoded,
    viewsCached: data.viewsCached,
    name: opts.backboneName ?? backboneName(opts.backbone),
  };
}

/** The three headline metrics of a method: mean ± sample std over seeds of the category mean. */
export interface HeadlineStats {
  auroc: Stat;
  ap: Stat;
  f1Max: Stat;
}

/** Per-category AUROC of each method (mean ± std over seeds). */
export interface CategoryAuroc {
  name: string;
  nNormal: number;
  nAnomalous: number;
  auroc: Record<MethodId, Stat>;
}

/** What an experiment file records of one evaluated setting (a pairs point, a words cell). */
export interface SettingSummary {
  runKey: string;
  /** Category mean, mean ± std over seeds (CLIP: one value). */
  mean: Record<MethodId, HeadlineStats>;
  categories: CategoryAuroc[];
  seedsComputed: number[];
  seedsReused: number[];
  detectorsTrained: number;
  detectorsLoaded: number;
  /** Prompt texts run through the text tower by the detectors trained here (all seeds). */
  textsEncoded: number;
  /** Prompt texts of those detectors found in the store's text cache. */
  textsCached: number;
}

/** One evaluated setting. */
export interface SettingResult extends SettingSummary {
  /** Categories left out (one class only after skipped images), as notes. */
  notes: string[];
  clipReused: boolean;
}

/** The recorded part of a setting's result, in the files' key order. */
export function settingSummary(r: SettingResult): SettingSummary {
  return {
    runKey: r.runKey,
    mean: r.mean,
    categories: r.categories,
    seedsComputed: r.seedsComputed,
    seedsReused: r.seedsReused,
    detectorsTrained: r.detectorsTrained,
    detectorsLoaded: r.detectorsLoaded,
    textsEncoded: r.textsEncoded,
    textsCached: r.textsCached,
  };
}

function headline(m: MetricSummary): HeadlineStats {
  return { auroc: m.auroc, ap: m.ap, f1Max: m.f1Max };
}

/** The parts of a RunConfig assembleResults needs (it only copies them; experiments keep their own config). */
function assembleConfig(data: ExperimentData, plan: EvalPlan): Omit<RunConfig, 'seeds' | 'categories'> {
  const { seed: _s, ...fnn } = plan.train.fnn;
  return {
    dataset: data.opts.dataset.kind,
    root: '',
    setup: plan.setup,
    crops: plan.crops,
    pairs: plan.train.prompts.pairs,
    backbone: { name: data.name, fingerprint: data.opts.backbone.fingerprint },
    fnn,
    aupr: 'ap',
  };
}

/**
 * Evaluates one setting (the base training options overridden by `train`) over every seed; seeds
 * already in the store are read back, the others trained (or loaded from the detector cache) and
 * scored, and their scores stored before the next seed starts.
 */
export async function evaluateSetting(data: ExperimentData, label: string, train: EvalTrainOptions, position: { index: number; total: number }): Promise<SettingResult> {
  const { opts } = data;
  const { backbone, store } = opts;
  const emit = (e: ExperimentEvent): void => opts.onEvent?.(e);
  const plan = planEval({ seeds: opts.seeds, setup: opts.setup, crops: opts.crops, train: { ...opts.train, ...train } });
  const items = data.items;
  const key = runKey(plan, backbone.fingerprint, dataKey(items));
  const ctx = scoreContext(backbone, store, items, plan);
  emit({ type: 'setting-start', label, index: position.index, total: position.total, runKey: key, seedsStored: storedSeeds(ctx, key, plan.seeds) });
  const { clip, reused: clipReused } = await clipScores(ctx, key);

  const result: SettingResult = {
    runKey: key,
    mean: {} as Record<MethodId, HeadlineStats>,
    categories: [],
    notes: [],
    clipReused,
    seedsComputed: [],
    seedsReused: [],
    detectorsTrained: 0,
    detectorsLoaded: 0,
    textsEncoded: 0,
    textsCached: 0,
  };
  const done: SeedScores[] = [];
  for (const seed of plan.seeds) {
    const { scores, detector } = await seedScores(ctx, plan, key, seed, {
      home: opts.home,
      backboneName: data.name,
      onProgress: (progress) => emit({ type: 'train', label, seed, progress }),
    });
    done.push(scores);
    if (detector === undefined) {
      result.seedsReused.push(seed);
      emit({ type: 'seed-done', label, seed, reused: true, trained: false, textsEncoded: 0 });
      continue;
    }
    if (detector.trained) {
      result.detectorsTrained++;
      result.textsEncoded += detector.textsEncoded;
      result.textsCached += detector.textsCached;
    } else result.detectorsLoaded++;
    result.seedsComputed.push(seed);
    emit({ type: 'seed-done', label, seed, reused: false, trained: detector.trained, textsEncoded: detector.textsEncoded });
  }

  const assembled = assembleResults({
    config: assembleConfig(data, plan),
    items,
    clip,
    seeds: done,
    skipped: [],
    notes: [],
    rwdaVersion: packageVersion(),
    versions: runtimeVersions(),
  });
  for (const m of METHODS) result.mean[m] = headline(assembled.mean[m]);
  result.categories = assembled.categories.map((c) => ({
    name: c.name,
    nNormal: c.nNormal,
    nAnomalous: c.nAnomalous,
    auroc: { clip: c.methods.clip.auroc, ours: c.methods.ours.auroc, clipOurs: c.methods.clipOurs.auroc },
  }));
  result.notes = assembled.notes ?? [];
  emit({ type: 'setting-done', label, index: position.index, total: position.total });
  return result;
}

/** The resolved training settings every setting of a sweep shares (seed left out: it is per seed). */
export interface TrainingConfig {
  pairs: number;
  normalWord: string;
  anomalyWord: string;
  object: string;
  independentWords: boolean;
  alphabet: string;
  minWordLength: number;
  maxWordLength: number;
  temperature: number;
  fnn: Omit<EvalPlan['train']['fnn'], 'seed'>;
}

/** The training config of a plan. */
export function trainingConfig(plan: EvalPlan): TrainingConfig {
  const { seed: _ps, ...p } = plan.train.prompts;
  const { seed: _fs, ...fnn } = plan.train.fnn;
  return { ...p, temperature: PROMPT_DEFAULTS.temperature, fnn };
}

/** One finished setting of a sweep. */
export interface SweepStep<S> {
  setting: S;
  result: SettingResult;
}

/** Cache use of a sweep so far. */
export interface SweepStats {
  viewsEncoded: number;
  viewsCached: number;
  detectorsTrained: number;
  detectorsLoaded: number;
  textsEncoded: number;
  seedsComputed: number;
  seedsReused: number;
  store: StoreCounters;
}

/**
 * Evaluates `settings` in order on data prepared once; after each one, `onStep` gets every step
 * finished so far (to write partial files) and whether this was the last.
 */
export async function runSweep<S>(
  opts: ExperimentDataOptions,
  settings: readonly S[],
  describe: (s: S) => { label: string; train: EvalTrainOptions },
  onStep: (data: ExperimentData, steps: ReadonlyArray<SweepStep<S>>, stats: SweepStats, last: boolean) => void,
): Promise<{ data: ExperimentData; steps: SweepStep<S>[]; stats: SweepStats }> {
  if (settings.length === 0) throw new RwdaError('an experiment needs at least one setting to evaluate');
  const start = opts.store.counters;
  const data = await prepareData(opts);
  const steps: SweepStep<S>[] = [];
  const stats: SweepStats = {
    viewsEncoded: data.viewsEncoded,
    viewsCached: data.viewsCached,
    detectorsTrained: 0,
    detectorsLoaded: 0,
    textsEncoded: 0,
    seedsComputed: 0,
    seedsReused: 0,
    store: countersSince(opts.store, start),
  };
  for (const [index, setting] of settings.entries()) {
    const { label, train } = describe(setting);
    const result = await evaluateSetting(data, label, train, { index, total: settings.length });
    steps.push({ setting, result });
    stats.detectorsTrained += result.detectorsTrained;
    stats.detectorsLoaded += result.detectorsLoaded;
    stats.textsEncoded += result.textsEncoded;
    stats.seedsComputed += result.seedsComputed.length;
    stats.seedsReused += result.seedsReused.length;
    stats.store = countersSince(opts.store, start);
    onStep(data, steps, stats, index === settings.length - 1);
  }
  return { data, steps, stats };
}

/**
 * Notes of a sweep file: the dataset's, each distinct note of the settings, `extra`, and while the
 * sweep is not finished, how far it got (`unit`: what a setting is called, plural).
 */
export function sweepNotes(data: ExperimentData, steps: ReadonlyArray<SweepStep<unknown>>, extra: string | undefined, progress: { final: boolean; total: number; unit: string }): string[] {
  const notes = [...data.notes, ...new Set(steps.flatMap((s) => s.result.notes))];
  if (extra) notes.push(extra);
  if (!progress.final) notes.push(`partial results: ${steps.length} of ${progress.total} ${progress.unit} finished; the run goes on (or resumes when run again)`);
  return notes;
}

/** Store counters since `start` (the connection's counters are cumulative; an experiment reports its own share). */
export function countersSince(store: EmbeddingStore, start: Readonly<StoreCounters>): StoreCounters {
  const now = store.counters;
  const out = { ...now };
  for (const k of Object.keys(now) as Array<keyof StoreCounters>) out[k] = now[k] - start[k];
  return out;
}
