/**
 * What an evaluation run computes and how its stored pieces are keyed.
 *
 * A run is split into pieces that are cached on their own, so that a killed run resumes where it
 * stopped and a rerun (or a run with more seeds) recomputes nothing it already has:
 *
 * - image-view embeddings: in the store, by (backbone fingerprint, sha256 of the file, view id),
 *   shared by every run, seed and setup;
 * - one detector per seed: rwda's default-detector cache (`<home>/detectors/<fingerprint>-<hash of
 *   every training setting, seed included>`), shared with `rwda detect`;
 * - the CLIP scores (seed-independent) and the scores of each seed: in the store's run results,
 *   under `eval/<run key>/clip` and `eval/<run key>/seed/<seed>`.
 *
 * The run key hashes everything that determines a score except the seed: the backbone, the
 * evaluated images (content hash, category, object name, label, in order), the setup, the views
 * and their aggregation, and every training setting (the training object names included). Seeds
 * are left out so that `--seeds 10` after `--seeds 3` reuses seeds 0..2.
 *
 * Training object names (`trainObjects`): 'object' (default) trains every seed's detector on
 * prompts saying "object"; 'categories' (known setup only) trains one category-agnostic detector
 * per seed on prompts cycling the dataset's object names (the distinct prompt names of the
 * evaluated images, sorted), so those names are only known once the dataset is loaded:
 * bindTrainObjects completes the plan then.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../clip/fingerprint.ts';
import { RwdaError } from '../../errors.ts';
import { MULTICROP_DEFAULTS, PROMPT_DEFAULTS } from '../../methods/rwda/index.ts';
import { DETECTOR_FORMAT_VERSION } from '../../methods/rwda/index.ts';
import { checkScales, viewIds, type CropAggregation } from '../../methods/common/multicrop.ts';
import { joinWords } from '../../methods/rwda/index.ts';
import { resolveTrainSettings, type TrainDetectorOptions, type TrainSettings } from '../../methods/rwda/index.ts';
import type { CropSettings, Setup } from '../report/index.ts';

/** Bumped whenever the runner would compute different scores from the same inputs (old records are then ignored). */
export const RUNNER_FORMAT = 'rwda-eval-run/1';

/** The training settings an evaluation may change (the seed and the cache come from the runner; the object names from `trainObjects`). */
export type EvalTrainOptions = Omit<TrainDetectorOptions, 'seed' | 'store' | 'onProgress' | 'backboneName' | 'textBatchSize' | 'trainObjects'>;

/** Object names of the detectors' training prompts: "object", or the dataset's category prompt names. */
export type TrainObjectsMode = 'object' | 'categories';

/** Inputs of planEval. */
export interface PlanOptions {
  /** Number of seeds: seeds 0..n-1 (default 10, as in the paper). */
  seeds?: number;
  setup?: Setup;
  crops?: 'none' | 'grid';
  /** Grid scales of `crops: 'grid'` (default [2, 3]). */
  scales?: readonly number[];
  aggregation?: CropAggregation;
  /** Training settings; `pairs` defaults to the paper's 10,000. */
  train?: EvalTrainOptions;
  /** Object names of the training prompts (default 'object'; 'categories' needs setup 'known'). */
  trainObjects?: TrainObjectsMode;
}

/** The resolved plan of a run. */
export interface EvalPlan {
  seeds: number[];
  setup: Setup;
  crops: CropSettings;
  /** Grid scales handed to the embedding code; undefined = the standard view only. */
  scales: readonly number[] | undefined;
  /** View ids of every image, "std" first. */
  viewIds: string[];
  /** Training settings of seed 0 (the seed is the only thing that differs between seeds). */
  train: TrainSettings;
  /** trainDetector options of one seed (throws for 'categories' until bindTrainObjects). */
  trainOptions(seed: number): TrainDetectorOptions;
  trainObjects: TrainObjectsMode;
  /** The plan's training options without seed and object names (what bindTrainObjects builds on). */
  trainBase: EvalTrainOptions;
}

/** Default number of seeds (the paper reports mean ± std over 10). */
export const DEFAULT_SEEDS = 10;

/** Resolves and validates the run's settings (RwdaError names the option). */
export function planEval(opts: PlanOptions = {}): EvalPlan {
  const n = opts.seeds ?? DEFAULT_SEEDS;
  if (!Number.isInteger(n) || n < 1) throw new RwdaError(`seeds must be a positive integer (the number of seeds), got ${n}`);
  const setup = opts.setup ?? 'unknown';
  if (setup !== 'unknown' && setup !== 'known') throw new RwdaError(`setup must be 'unknown' or 'known', got ${JSON.stringify(setup)}`);
  const crops = opts.crops ?? 'none';
  if (crops !== 'none' && crops !== 'grid') throw new RwdaError(`crops must be 'none' or 'grid', got ${JSON.stringify(crops)}`);
  const aggregation = opts.aggregation ?? MULTICROP_DEFAULTS.cropAggregation;
  if (aggregation !== 'max' && aggregation !== 'mean') throw new RwdaError(`crop aggregation must be 'max' or 'mean', got ${JSON.stringify(aggregation)}`);
  const gridScales = [...checkScales(opts.scales ?? MULTICROP_DEFAULTS.scales)];
  const scales = crops === 'grid' ? gridScales : undefined;
  const trainObjects = opts.trainObjects ?? 'object';
  if (trainObjects !== 'object' && trainObjects !== 'categories') {
    throw new RwdaError(`trainObjects must be 'object' or 'categories', got ${JSON.stringify(trainObjects)}`);
  }
  if (trainObjects === 'categories' && setup !== 'known') {
    throw new RwdaError(`trainObjects 'categories' needs setup 'known' (the unknown-object setup does not know the names)`);
  }
  const base = { ...(opts.train ?? {}) };
  if ('trainObjects' in base) throw new RwdaError(`train.trainObjects is not an evaluation option; use trainObjects: 'categories'`);
  const train = resolveTrainSettings({ ...base, seed: 0 });
  return {
    seeds: Array.from({ length: n }, (_, i) => i),
    setup,
    crops: { enabled: crops === 'grid', scales: scales ?? [], aggregation },
    scales,
    viewIds: scales === undefined ? viewIds([]) : viewIds(scales),
    train,
    trainOptions: (seed) => {
      if (trainObjects === 'categories') throw unbound();
      return { ...base, seed };
    },
    trainObjects,
    trainBase: base,
  };
}

function unbound(): RwdaError {
  return new RwdaError("eval plan: trainObjects 'categories' is not bound to the dataset yet (call bindTrainObjects with the evaluated images)");
}

/** The plan of a 'categories' run with its training object names: the distinct prompt names of `items`, sorted. Other plans are returned as they are. */
export function bindTrainObjects(plan: EvalPlan, items: readonly { promptName: string }[]): EvalPlan {
  if (plan.trainObjects !== 'categories') return plan;
  // Sorted so that the names (and which pairs get which name) do not depend on the loader's order.
  const names = [...new Set(items.map((it) => joinWords([it.promptName])))].sort();
  if (names.length === 0) throw new RwdaError("eval plan: trainObjects 'categories' found no object names (no evaluated images)");
  const base = plan.trainBase;
  return {
    ...plan,
    train: resolveTrainSettings({ ...base, trainObjects: names, seed: 0 }),
    trainOptions: (seed) => ({ ...base, trainObjects: names, seed }),
  };
}

/** One evaluated image as the data key sees it. */
export interface KeyedItem {
  category: string;
  promptName: string;
  label: 0 | 1;
  sha256: string;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Hash of the evaluated images in order (content, category, object name, label); paths do not count. */
export function dataKey(items: readonly KeyedItem[]): string {
  const h = createHash('sha256');
  for (const it of items) h.update(canonicalJson([it.category, it.promptName, it.label, it.sha256]) + '\n');
  return h.digest('hex');
}

/** The run key (see the module comment): 32 hex digits. */
export function runKey(plan: EvalPlan, fingerprint: string, data: string): string {
  if (plan.trainObjects === 'categories' && plan.train.prompts.objects === undefined) throw unbound();
  // The seed is dropped from the training settings: it keys each seed's record instead.
  const { seed: _ps, ...prompts } = plan.train.prompts;
  const { seed: _fs, ...fnn } = plan.train.fnn;
  const payload = {
    format: RUNNER_FORMAT,
    detectorFormat: DETECTOR_FORMAT_VERSION,
    backbone: fingerprint,
    data,
    setup: plan.setup,
    // The aggregation only matters when there are crops to aggregate.
    views: { ids: plan.viewIds, aggregation: plan.crops.enabled ? plan.crops.aggregation : undefined },
    temperature: PROMPT_DEFAULTS.temperature,
    prompts,
    fnn,
  };
  return sha256Hex(canonicalJson(payload)).slice(0, 32);
}

/** Store key of the seed-independent CLIP scores of a run. */
export function clipResultKey(key: string): string {
  return `eval/${key}/clip`;
}

/** Store key of one seed's scores. */
export function seedResultKey(key: string, seed: number): string {
  return `eval/${key}/seed/${seed}`;
}
