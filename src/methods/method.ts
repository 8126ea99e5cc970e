/**
 * What every method of the family offers, so that the CLI, the runner, reports and the server
 * iterate over the registry (src/methods/registry.ts) instead of naming methods. A method is a
 * folder (settings as data, a pure scoring core, README) plus one MethodSpec; opening it binds it
 * to a backbone and gives a MethodRunner that scores images into Predictions.
 */
import type { EmbeddingStore } from '../store/index.ts';
import type { Backbone } from './common/backbone.ts';
import type { DetectInput } from './common/inputs.ts';
import type { ViewCounts } from './common/embed_cache.ts';
import type { Detector } from './rwda/detector.ts';
import type { Prediction } from './types.ts';

/** One image's Prediction with where it came from. */
export interface ImagePrediction extends Prediction {
  /** Position in the input list. */
  index: number;
  /** The file path, or the name given for bytes. */
  file: string;
}

/** Options of MethodRunner.predict. */
export interface PredictOptions {
  /** Object name in the prompts (default "object"; the category in the known-object setup). */
  object?: string;
  /** Compute anomaly maps where the method has them (they cost a window pass). */
  maps?: boolean;
  /** Multi-crop for methods on pooled embeddings ('none' default). */
  crops?: 'none' | 'grid';
  /** Decoder pixel limit. */
  maxPixels?: number;
  /** Images per step (default 8). */
  chunkSize?: number;
  /** An image that cannot be read or decoded; without it the first such image throws. */
  onError?: (file: string, error: Error) => void;
  onProgress?: (done: number, total: number) => void;
  /** Cache counts of each step (views or window passes). */
  onViews?: (counts: ViewCounts) => void;
}

/** What setReferences reports. */
export interface ReferenceInfo {
  /** Reference images in the memory. */
  count: number;
  /** Of those, read from the cache (not encoded again). */
  cached: number;
  /** sha256 of each reference, in input order (a query equal to one gets a warning). */
  sha256: string[];
}

/** A method bound to a backbone. */
export interface MethodRunner {
  readonly spec: MethodSpec;
  /**
   * Normal reference images: the method runs its few-shot form from now on. Every image must be
   * readable (a memory from fewer references than asked would silently change the method).
   */
  setReferences(refs: readonly DetectInput[], opts?: { maxPixels?: number }): Promise<ReferenceInfo>;
  /** Scores images; failures go to opts.onError and the image is left out. */
  predict(images: readonly DetectInput[], opts?: PredictOptions): Promise<ImagePrediction[]>;
  dispose(): void;
}

/** What opening a method needs. */
export interface MethodContext {
  backbone: Backbone;
  store?: EmbeddingStore;
  /** The trained detector of methods with an FNN (rwda); called once, when first needed. */
  detector?: () => Promise<Detector>;
  /** Method settings overrides by name (see each method's settings.ts); unknown names are refused. */
  settings?: Readonly<Record<string, unknown>>;
}

/** One entry of the registry: identity, what it outputs, and how to open it. */
export interface MethodSpec {
  /** Registry id (`--method`). */
  readonly id: string;
  /** Name in tables, as in the paper (zero-shot / few-shot form). */
  readonly label: string;
  readonly fewShotLabel: string;
  readonly summary: string;
  /** Component names of the zero-shot and the few-shot form, in output order. */
  readonly components: readonly string[];
  readonly fewShotComponents: readonly string[];
  /** Trained per seed (results vary with the seed; deterministic methods run once). */
  readonly seeded: boolean;
  /** Whether predictions can carry an anomaly map. */
  readonly maps: boolean;
  /** The default settings, as data (what MethodContext.settings may override). */
  readonly settings: Readonly<Record<string, unknown>>;
  /** The method folder's README, relative to the package root. */
  readonly readme: string;
  open(ctx: MethodContext): Promise<MethodRunner>;
}
