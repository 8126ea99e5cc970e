/**
 * trainDetector: prompts → text embeddings → FNN, as in the paper; and the per-backbone default
 * detector that `rwda detect` trains once and reuses when no detector is given.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { RwdaError } from '../../errors.ts';
import { canonicalJson } from '../../clip/fingerprint.ts';
import type { EmbeddingStore } from '../../store/index.ts';
import { rwdaHome } from '../../util/cachedir.ts';
import { backboneName, type Backbone } from '../common/backbone.ts';
import { FNN_DEFAULTS, PROMPT_DEFAULTS } from './defaults.ts';
import { Detector } from './detector.ts';
import { DETECTOR_FORMAT, DETECTOR_FORMAT_VERSION, packageVersion, type DetectorMeta } from './detector_artifact.ts';
import { resolveConfig, type FnnConfig } from './fnn/config.ts';
import { trainFnn } from './fnn/train.ts';
import { objectNames } from './prompts.ts';
import { checkPairs, buildTrainingSet } from './training_set.ts';

/** Progress of trainDetector: embedding the prompt pairs, then the FNN's optimiser steps. */
export interface TrainProgress {
  phase: 'embed' | 'train';
  done: number;
  total: number;
  /** The step's loss (train phase). */
  loss?: number;
}

/** Options of trainDetector; every default is in src/methods/rwda/defaults.ts. */
export interface TrainDetectorOptions {
  /** Number of augmented prompt pairs (default 10,000). */
  pairs?: number;
  /** Seed of the random words and of the FNN (initialisation, shuffling, dropout); default 0. */
  seed?: number;
  /** The state words: "a photo of {normal} object" / "a photo of {anomaly} object" (default "a" / "a damaged"). */
  words?: { normal?: string; anomaly?: string };
  /** Separate random words for the anomaly prompt of each pair (default false). */
  independentWords?: boolean;
  /**
   * Known object names for the training prompts instead of "object" (default: none): pair i uses
   * trainObjects[i mod k], so the detector stays one category-agnostic FNN (augmentedPairs `objects`).
   */
  trainObjects?: readonly string[];
  hidden?: readonly number[];
  dropout?: number;
  lr?: number;
  weightDecay?: number;
  epochs?: number;
  /** Rows per batch (even: whole pairs; default 128). */
  batchSize?: number;
  /** StepLR gamma after every epoch (default 0.1). */
  lrDecay?: number;
  /** Cache of text embeddings (prompts already there are not encoded again). */
  store?: EmbeddingStore;
  onProgress?: (p: TrainProgress) => void;
  /** Prompts per text-tower call. */
  textBatchSize?: number;
  /** Name recorded for the backbone (default: its config name or folder name). */
  backboneName?: string;
}

/** The fully resolved training settings (what detector.json records and the default-detector hash covers). */
export interface TrainSettings {
  prompts: DetectorMeta['prompts'];
  fnn: FnnConfig;
}

/** Fills in every default and validates (RwdaError names the option). */
export function resolveTrainSettings(opts: TrainDetectorOptions = {}): TrainSettings {
  const seed = opts.seed ?? FNN_DEFAULTS.seed;
  const fnn = resolveConfig({
    seed,
    hidden: opts.hidden ? [...opts.hidden] : undefined,
    dropout: opts.dropout,
    lr: opts.lr,
    weightDecay: opts.weightDecay,
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    lrDecay: opts.lrDecay,
  });
  const independentWords = opts.independentWords ?? PROMPT_DEFAULTS.independentWords;
  if (typeof independentWords !== 'boolean') throw new RwdaError('independentWords must be true or false');
  // Left out entirely when not given, so the settings (and default-detector hash) of older detectors stay the same.
  const objects = opts.trainObjects === undefined ? {} : { objects: objectNames(opts.trainObjects, 'trainObjects') };
  return {
    prompts: {
      normalWord: opts.words?.normal ?? PROMPT_DEFAULTS.normalWord,
      anomalyWord: opts.words?.anomaly ?? PROMPT_DEFAULTS.anomalyWord,
      object: PROMPT_DEFAULTS.unknownObject,
      ...objects,
      pairs: checkPairs(opts.pairs ?? PROMPT_DEFAULTS.pairs),
      seed,
      independentWords,
      alphabet: PROMPT_DEFAULTS.alphabet,
      minWordLength: PROMPT_DEFAULTS.minWordLength,
      maxWordLength: PROMPT_DEFAULTS.maxWordLength,
    },
    fnn,
  };
}

/**
 * Trains the paper's detector for a backbone: N random-word prompt pairs through the text tower
 * (L2-normalised, cached in `store`), then the FNN on them (row 2k normal, 2k+1 anomalous).
 *
 * @example
 * ```ts
 * const model = await ClipModel.load(dir);
 * const store = EmbeddingStore.open();
 * const detector = await trainDetector(model, { pairs: 10_000, seed: 0, store });
 * detector.save('my-detector');
 * ```
 */
export async function trainDetector(backbone: Backbone, opts: TrainDetectorOptions = {}): Promise<Detector> {
  const settings = resolveTrainSettings(opts);
  const { prompts, fnn: config } = settings;
  const t0 = performance.now();
  const set = await buildTrainingSet(backbone, {
    pairs: prompts.pairs,
    seed: prompts.seed,
    normalWord: prompts.normalWord,
    anomalyWord: prompts.anomalyWord,
    independentWords: prompts.independentWords,
    objects: prompts.objects,
    store: opts.store,
    batchSize: opts.textBatchSize,
    onProgress: (done, total) => opts.onProgress?.({ phase: 'embed', done, total }),
  });
  const t1 = performance.now();
  const { model, losses } = await trainFnn({ x: set.x, dim: set.dim, labels: set.labels }, config, {
    onStep: (s) => opts.onProgress?.({ phase: 'train', done: s.step, total: s.steps, loss: s.loss }),
  });
  const t2 = performance.now();
  const meta: DetectorMeta = {
    format: DETECTOR_FORMAT,
    formatVersion: DETECTOR_FORMAT_VERSION,
    rwdaVersion: packageVersion(),
    createdAt: new Date().toISOString(),
    backbone: { name: opts.backboneName ?? backboneName(backbone), fingerprint: backbone.fingerprint, embedDim: set.dim },
    prompts,
    fnn: model.config,
    training: {
      steps: losses.length,
      losses,
      finalLoss: losses[losses.length - 1]!,
      textsEncoded: set.encoded,
      textsCached: set.cached,
      seconds: { embed: round3((t1 - t0) / 1000), train: round3((t2 - t1) / 1000) },
    },
    // Filled in when the detector is saved (it is the checksum of the written file).
    fnnSha256: '',
  };
  return new Detector(meta, model, backbone, opts.store);
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Short hash of the resolved training settings (and the detector format), naming default detectors. */
export function trainSettingsHash(settings: TrainSettings): string {
  const payload = canonicalJson({ format: DETECTOR_FORMAT, formatVersion: DETECTOR_FORMAT_VERSION, ...settings });
  return createHash('sha256').update(payload).digest('hex').slice(0, 16);
}

/** Where the default detector of a backbone lives: `<home>/detectors/<fingerprint>-<settings hash>`. */
export function defaultDetectorDir(fingerprint: string, opts: TrainDetectorOptions = {}, home: string = rwdaHome()): string {
  return join(home, 'detectors', `${fingerprint}-${trainSettingsHash(resolveTrainSettings(opts))}`);
}

/** Options of loadOrTrainDefaultDetector. */
export interface DefaultDetectorOptions extends TrainDetectorOptions {
  /** Cache root (default rwdaHome()). */
  home?: string;
  /** Called before training, with the directory and why ('missing', or the load error of a broken one). */
  onTrain?: (dir: string, reason: string) => void;
}

/**
 * The backbone's cached default detector (training settings = defaults overridden by `opts`),
 * trained and saved on first use. A cached one that fails to load is retrained and replaced.
 */
export async function loadOrTrainDefaultDetector(
  backbone: Backbone,
  opts: DefaultDetectorOptions = {},
): Promise<{ detector: Detector; dir: string; trained: boolean }> {
  const dir = defaultDetectorDir(backbone.fingerprint, opts, opts.home);
  let reason = 'missing';
  try {
    return { detector: await Detector.load(dir, backbone, { store: opts.store }), dir, trained: false };
  } catch (err) {
    if (!(err instanceof RwdaError)) throw err;
    if (err.code !== 'not_found') reason = err.message;
  }
  opts.onTrain?.(dir, reason);
  const detector = await trainDetector(backbone, opts);
  detector.save(dir);
  return { detector, dir, trained: true };
}
