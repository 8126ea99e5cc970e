/**
 * runEval: one evaluation run of the paper's tables, resumable at any point.
 *
 * 1. load the dataset (loader skips are kept for results.skipped);
 * 2. embed every image view into the store (embed_images.ts; only misses are encoded);
 * 3. the CLIP scores, once (no seed dependence), stored as a run result;
 * 4. per seed: the detector from rwda's detector cache (trained and saved on first use; its
 *    training prompts' text embeddings go through the store's text cache), the scores of every
 *    image, stored as a run result; finished seeds are read back instead of recomputed;
 * 5. results.json, report.md and report.html, each written atomically; after each computed seed
 *    but the last, a partial report with the seeds finished so far.
 *
 * Everything written along the way is a whole store transaction or an atomic file, so a run killed
 * at any moment (kill -9 included) leaves no corrupt row, and the same command finishes it. See
 * plan.ts for what keys each stored piece, and steps.ts for steps 1–4 (shared with the sweep
 * experiments).
 *
 * Text encoding: the random words of the training prompts are drawn from Rng(seed) (prompts.ts),
 * so each seed has its own 2 × pairs prompt texts and no two seeds share an encoding; it is the
 * main cost of a cold run. Every later run (rerun, more seeds' prefix, the other setup, the other
 * crop mode) gets the detectors from the detector cache and encodes no prompt again.
 */
import { resolve } from 'node:path';
import { RwdaError } from '../../errors.ts';
import type { DatasetSpec } from '../../data/index.ts';
import type { Backbone } from '../../methods/common/backbone.ts';
import { backboneName } from '../../methods/common/backbone.ts';
import { PROMPT_DEFAULTS } from '../../methods/rwda/index.ts';
import { packageVersion } from '../../methods/rwda/index.ts';
import type { TrainProgress } from '../../methods/rwda/index.ts';
import type { EmbeddingStore, StoreCounters } from '../../store/index.ts';
import { writeReports, type AuprKind, type RunConfig, type RunResults } from '../report/index.ts';
import { assembleResults, type SeedScores } from './assemble.ts';
import { bindTrainObjects, dataKey, planEval, runKey, type PlanOptions } from './plan.ts';
import { clipScores, loadAndEmbed, runtimeVersions, scoreContext, seedScores, storedSeeds, type DataEvent } from './steps.ts';

/** What runEval reports while it works (progress bars, logs, test hooks). */
export type EvalEvent =
  | DataEvent
  | { type: 'run'; key: string; seeds: number[]; seedsStored: number[] }
  | { type: 'clip-done'; reused: boolean }
  | { type: 'seed-start'; seed: number; index: number; total: number }
  | { type: 'train'; seed: number; progress: TrainProgress }
  | { type: 'detector'; seed: number; dir: string; trained: boolean; reason?: string }
  | { type: 'seed-done'; seed: number; index: number; total: number; reused: boolean }
  | { type: 'report'; partial: boolean; seeds: number[]; path: string };

/** Options of runEval (the plan options choose seeds, setup, crops and training settings). */
export interface RunEvalOptions extends PlanOptions {
  backbone: Backbone;
  /** Name recorded for the backbone (default: its config or folder name). */
  backboneName?: string;
  /** Registry name, when the model came from the hub. */
  pretrained?: string;
  dataset: DatasetSpec;
  /** The store: embeddings and run results (required: it is what makes the run resumable). */
  store: EmbeddingStore;
  /** Run directory for results.json, report.md, report.html. */
  out: string;
  /** Which AUPR the reports show (default 'ap'). */
  aupr?: AuprKind;
  /** Detector cache root (default rwdaHome()). */
  home?: string;
  /** Images per embedding batch (one store transaction each). */
  imageBatch?: number;
  maxPixels?: number;
  /** Write a partial report after each computed seed but the last (default true). */
  partialReports?: boolean;
  onEvent?: (e: EvalEvent) => void;
}

/** Counts of a run: what was computed and what came from the caches. */
export interface EvalStats {
  images: number;
  viewsPerImage: number;
  viewsEncoded: number;
  viewsCached: number;
  skipped: number;
  clipReused: boolean;
  seedsComputed: number[];
  seedsReused: number[];
  detectorsTrained: number;
  detectorsLoaded: number;
  /** Prompt texts run through the text tower while training detectors. */
  textsEncoded: number;
  /** The store connection's counters at the end. */
  store: StoreCounters;
}

/** What runEval returns. */
export interface EvalOutcome {
  results: RunResults;
  paths: { results: string; markdown: string; html: string };
  runKey: string;
  stats: EvalStats;
}

function datasetPaths(spec: DatasetSpec): { root: string; datasetPaths?: Record<string, string> } {
  switch (spec.kind) {
    case 'mvtec':
    case 'folder':
      return { root: resolve(spec.root) };
    case 'visa':
      return { root: resolve(spec.root), datasetPaths: spec.csvPath ? { csv: resolve(spec.csvPath) } : undefined };
    case 'sewerml':
      return { root: resolve(spec.imageDir), datasetPaths: { csv: resolve(spec.csv) } };
    case 'folder-pair':
      return { root: resolve(spec.normal), datasetPaths: { normal: resolve(spec.normal), anomalous: resolve(spec.anomalous) } };
  }
}

/** Runs (or resumes) an evaluation; see the module comment. */
export async function runEval(opts: RunEvalOptions): Promise<EvalOutcome> {
  const t0 = performance.now();
  const emit = (e: EvalEvent): void => opts.onEvent?.(e);
  const planned = planEval(opts);
  const { backbone, store } = opts;
  const aupr = opts.aupr ?? 'ap';
  if (aupr !== 'ap' && aupr !== 'trapezoid') throw new RwdaError(`aupr must be 'ap' or 'trapezoid', got ${JSON.stringify(aupr)}`);
  const outDir = resolve(opts.out);

  const data = await loadAndEmbed(backbone, store, opts.dataset, planned, { imageBatch: opts.imageBatch, maxPixels: opts.maxPixels, onEvent: emit });
  const items = data.items;
  const plan = bindTrainObjects(planned, items);

  const key = runKey(plan, backbone.fingerprint, dataKey(items));
  const ctx = scoreContext(backbone, store, items, plan);
  emit({ type: 'run', key, seeds: plan.seeds, seedsStored: storedSeeds(ctx, key, plan.seeds) });

  const { clip, reused: clipReused } = await clipScores(ctx, key);
  emit({ type: 'clip-done', reused: clipReused });

  const name = opts.backboneName ?? backboneName(backbone);
  const { seed: _s, ...fnn } = plan.train.fnn;
  const config: Omit<RunConfig, 'seeds' | 'categories'> = {
    dataset: opts.dataset.kind,
    ...datasetPaths(opts.dataset),
    setup: plan.setup,
    crops: plan.crops,
    pairs: plan.train.prompts.pairs,
    backbone: { name, pretrained: opts.pretrained, fingerprint: backbone.fingerprint },
    prompts: {
      normalWord: plan.train.prompts.normalWord,
      anomalyWord: plan.train.prompts.anomalyWord,
      unknownObject: PROMPT_DEFAULTS.unknownObject,
      alphabet: plan.train.prompts.alphabet,
      minWordLength: plan.train.prompts.minWordLength,
      maxWordLength: plan.train.prompts.maxWordLength,
      independentWords: plan.train.prompts.independentWords,
      temperature: PROMPT_DEFAULTS.temperature,
      // Only with trainObjects 'categories': results of default runs stay as they were.
      ...(plan.train.prompts.objects === undefined ? {} : { trainObjects: plan.train.prompts.objects }),
    },
    fnn,
    aupr,
  };
  const versions = runtimeVersions();
  const build = (done: SeedScores[], notes: string[]): RunResults =>
    assembleResults({
      config,
      items,
      clip,
      seeds: done,
      skipped: data.skipped,
      notes: [...data.notes, ...notes],
      rwdaVersion: packageVersion(),
      versions,
      durationSeconds: Math.round((performance.now() - t0) / 10) / 100,
    });

  const stats: EvalStats = {
    images: data.images,
    viewsPerImage: plan.viewIds.length,
    viewsEncoded: data.viewsEncoded,
    viewsCached: data.viewsCached,
    skipped: data.undecodable,
    clipReused,
    seedsComputed: [],
    seedsReused: [],
    detectorsTrained: 0,
    detectorsLoaded: 0,
    textsEncoded: 0,
    store: store.counters,
  };
  const done: SeedScores[] = [];
  const total = plan.seeds.length;
  for (const [index, seed] of plan.seeds.entries()) {
    emit({ type: 'seed-start', seed, index, total });
    const { scores, detector } = await seedScores(ctx, plan, key, seed, {
      home: opts.home,
      backboneName: name,
      onProgress: (progress) => emit({ type: 'train', seed, progress }),
      onDetector: (d) => emit({ type: 'detector', seed, dir: d.dir, trained: d.trained, reason: d.reason }),
    });
    done.push(scores);
    if (detector === undefined) {
      stats.seedsReused.push(seed);
      emit({ type: 'seed-done', seed, index, total, reused: true });
      continue;
    }
    if (detector.trained) {
      stats.detectorsTrained++;
      stats.textsEncoded += detector.textsEncoded;
    } else stats.detectorsLoaded++;
    stats.seedsComputed.push(seed);
    emit({ type: 'seed-done', seed, index, total, reused: false });
    if ((opts.partialReports ?? true) && index < total - 1) {
      const partial = build(done, [`partial results: ${done.length} of ${total} seeds finished; the run goes on (or resumes when run again)`]);
      const paths = writeReports(outDir, partial);
      emit({ type: 'report', partial: true, seeds: done.map((d) => d.seed), path: paths.results });
    }
  }
  const results = build(done, []);
  const paths = writeReports(outDir, results);
  emit({ type: 'report', partial: false, seeds: done.map((d) => d.seed), path: paths.results });
  stats.store = store.counters;
  return { results, paths, runKey: key, stats };
}
