/**
 * The steps of an evaluation run that runEval and the sweep experiments share: load and embed the
 * dataset, the CLIP scores, and each seed's scores, every score read back from the store when it
 * is there and stored when it is computed (same keys and records for both, so each reuses the
 * other's work).
 */
import * as ort from 'onnxruntime-node';
import { RwdaError } from '../../errors.ts';
import { DATASET_NAMES, formatLoadSummary, loadDataset, type DatasetSpec } from '../../data/index.ts';
import type { Backbone } from '../../methods/common/backbone.ts';
import { PROMPT_DEFAULTS } from '../../methods/rwda/index.ts';
import { loadOrTrainDefaultDetector, type TrainProgress } from '../../methods/rwda/index.ts';
import type { EmbeddingStore } from '../../store/index.ts';
import type { SkippedEntry } from '../report/index.ts';
import type { SeedScores } from './assemble.ts';
import { embedItems, type EmbedBatchInfo, type EmbeddedItem } from './embed_images.ts';
import { clipResultKey, seedResultKey, type EvalPlan } from './plan.ts';
import { scoreClip, scoreWithDetector, type ScoreContext } from './score.ts';

/** Format tag of the stored score records (CLIP and per seed); experiments read and write the same records. */
export const SCORES_FORMAT = 'rwda-eval-scores/1';

/** A stored score record, or undefined when it is missing or does not fit this run (it is then recomputed). */
export function readScores<K extends string>(value: unknown, n: number, fields: readonly K[]): Record<K, number[]> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.format !== SCORES_FORMAT || v.n !== n) return undefined;
  const out = {} as Record<K, number[]>;
  for (const f of fields) {
    const a = v[f];
    if (!Array.isArray(a) || a.length !== n || !a.every((x) => typeof x === 'number' && Number.isFinite(x))) return undefined;
    out[f] = a as number[];
  }
  return out;
}

/** Runtime versions recorded in results.json and every experiment file. */
export function runtimeVersions(): { node: string; onnxruntime: string } {
  return { node: process.versions.node, onnxruntime: ort.env.versions.common ?? 'unknown' };
}

/** What loading and embedding the dataset reports while it works. */
export type DataEvent =
  | { type: 'dataset'; summary: string; notes: string[] }
  | { type: 'embed-start'; images: number; views: number }
  | ({ type: 'embed-batch' } & EmbedBatchInfo)
  | { type: 'skipped'; entry: SkippedEntry }
  | { type: 'embed-done'; encoded: number; cached: number; skipped: number };

/** Options of loadAndEmbed. */
export interface LoadAndEmbedOptions {
  /** Images per embedding batch (one store transaction each). */
  imageBatch?: number;
  maxPixels?: number;
  onEvent?: (e: DataEvent) => void;
}

/** The evaluated images of a dataset, every view in the store. */
export interface EmbeddedDataset {
  /** Images the loader found. */
  images: number;
  /** Images that decoded, in loader order. */
  items: EmbeddedItem[];
  /** Loader skips, then images that could not be decoded. */
  skipped: SkippedEntry[];
  /** Of those, the images that could not be decoded. */
  undecodable: number;
  /** The loader's notes. */
  notes: string[];
  viewsEncoded: number;
  viewsCached: number;
}

/** Loads the dataset and embeds every view of the plan into the store (only misses are encoded). */
export async function loadAndEmbed(backbone: Backbone, store: EmbeddingStore, dataset: DatasetSpec, plan: EvalPlan, opts: LoadAndEmbedOptions = {}): Promise<EmbeddedDataset> {
  const emit = (e: DataEvent): void => opts.onEvent?.(e);
  const loaded = loadDataset(dataset);
  const label = DATASET_NAMES[dataset.kind];
  emit({ type: 'dataset', summary: formatLoadSummary(label, loaded), notes: loaded.notes });
  if (loaded.items.length === 0) throw new RwdaError(`${label}: no images to evaluate`);
  const skipped: SkippedEntry[] = loaded.skipped.map((s) => ({ path: s.path, category: s.category, kind: s.kind, reason: s.reason }));
  emit({ type: 'embed-start', images: loaded.items.length, views: plan.viewIds.length });
  const phase = await embedItems(backbone, loaded.items, store, {
    scales: plan.scales,
    batchSize: opts.imageBatch,
    maxPixels: opts.maxPixels,
    onBatch: (b) => emit({ type: 'embed-batch', ...b }),
  });
  for (const s of phase.skipped) emit({ type: 'skipped', entry: s });
  skipped.push(...phase.skipped);
  emit({ type: 'embed-done', encoded: phase.viewsEncoded, cached: phase.viewsCached, skipped: phase.skipped.length });
  if (phase.embedded.length === 0) throw new RwdaError('no image could be read and decoded; nothing to evaluate (see the messages above)');
  return {
    images: loaded.items.length,
    items: phase.embedded,
    skipped,
    undecodable: phase.skipped.length,
    notes: loaded.notes,
    viewsEncoded: phase.viewsEncoded,
    viewsCached: phase.viewsCached,
  };
}

/** The scoring context of a plan: its views, aggregation, setup and state words. */
export function scoreContext(backbone: Backbone, store: EmbeddingStore, items: EmbeddedItem[], plan: EvalPlan): ScoreContext {
  return {
    backbone,
    store,
    items,
    viewIds: plan.viewIds,
    aggregation: plan.crops.aggregation,
    objectOf: (it) => (plan.setup === 'known' ? it.promptName : PROMPT_DEFAULTS.unknownObject),
    normalWord: plan.train.prompts.normalWord,
    anomalyWord: plan.train.prompts.anomalyWord,
  };
}

/** Seeds of the plan whose scores are stored under the run key. */
export function storedSeeds(ctx: ScoreContext, key: string, seeds: readonly number[]): number[] {
  const n = ctx.items.length;
  return seeds.filter((s) => readScores(ctx.store.getResult(seedResultKey(key, s)), n, ['ours', 'clipOurs']) !== undefined);
}

/** The CLIP scores of a run (no seed dependence): read back from the store, or computed and stored. */
export async function clipScores(ctx: ScoreContext, key: string): Promise<{ clip: number[]; reused: boolean }> {
  const n = ctx.items.length;
  const clipKey = clipResultKey(key);
  const stored = readScores(ctx.store.getResult(clipKey), n, ['clip'])?.clip;
  if (stored !== undefined) return { clip: stored, reused: true };
  const clip = Array.from(await scoreClip(ctx));
  ctx.store.putResult(clipKey, { format: SCORES_FORMAT, n, clip });
  return { clip, reused: false };
}

/** The detector a computed seed was scored with. */
export interface SeedDetector {
  dir: string;
  /** Trained now (false: loaded from the detector cache). */
  trained: boolean;
  /** Why it was trained ('missing', or why the cached one was unusable). */
  reason?: string;
  /** Prompt texts its training ran through the text tower (0 when loaded). */
  textsEncoded: number;
  /** Prompt texts its training found in the store's text cache (0 when loaded). */
  textsCached: number;
}

/** Options of seedScores. */
export interface SeedScoresOptions {
  /** Detector cache root (default rwdaHome()). */
  home?: string;
  /** Name recorded for the backbone in a trained detector. */
  backboneName: string;
  onProgress?: (progress: TrainProgress) => void;
  /** Called once the detector is there, before it scores. */
  onDetector?: (d: SeedDetector) => void;
}

/**
 * One seed's scores: read back from the store, or scored with the seed's detector (from the
 * detector cache, trained on a miss) and stored before returning. `detector` is undefined when
 * the scores were read back.
 */
export async function seedScores(ctx: ScoreContext, plan: EvalPlan, key: string, seed: number, opts: SeedScoresOptions): Promise<{ scores: SeedScores; detector?: SeedDetector }> {
  const n = ctx.items.length;
  const rKey = seedResultKey(key, seed);
  const rec = readScores(ctx.store.getResult(rKey), n, ['ours', 'clipOurs']);
  if (rec !== undefined) return { scores: { seed, ...rec } };
  let reason: string | undefined;
  const { detector, dir, trained } = await loadOrTrainDefaultDetector(ctx.backbone, {
    ...plan.trainOptions(seed),
    store: ctx.store,
    home: opts.home,
    backboneName: opts.backboneName,
    onTrain: (_dir, why) => (reason = why),
    onProgress: opts.onProgress,
  });
  try {
    const info: SeedDetector = {
      dir,
      trained,
      reason,
      textsEncoded: trained ? detector.meta.training.textsEncoded : 0,
      textsCached: trained ? detector.meta.training.textsCached : 0,
    };
    opts.onDetector?.(info);
    const s = await scoreWithDetector(ctx, detector);
    const record = { format: SCORES_FORMAT, n, ours: Array.from(s.ours), clipOurs: Array.from(s.clipOurs), detector: { dir, finalLoss: detector.meta.training.finalLoss } };
    ctx.store.putResult(rKey, record);
    return { scores: { seed, ours: record.ours, clipOurs: record.clipOurs }, detector: info };
  } finally {
    detector.dispose();
  }
}
