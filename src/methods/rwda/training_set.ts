/**
 * The FNN's training set: N random-word augmented prompt pairs, embedded by the backbone's text
 * tower and L2-normalised, laid out as the FNN expects (row 2k = normal prompt of pair k, label 0;
 * row 2k+1 = its anomalous counterpart, label 1).
 */
import { RwdaError } from '../../errors.ts';
import type { EmbeddingStore } from '../../store/index.ts';
import type { Backbone } from '../common/backbone.ts';
import { PROMPT_DEFAULTS } from './defaults.ts';
import { embedTexts } from '../common/embed_cache.ts';
import { pairAwareBackbone } from './paired_text.ts';
import { augmentedPairs, type PromptPair, type RandomWordOptions } from './prompts.ts';

/** Options of buildTrainingSet. */
export interface TrainingSetOptions extends RandomWordOptions {
  /** Number of prompt pairs (default 10,000). */
  pairs?: number;
  /** Seed of the random words (default 0). */
  seed?: number;
  /** Word(s) before "object" in the normal prompt (default "a"). */
  normalWord?: string;
  /** Word(s) before "object" in the anomaly prompt (default "a damaged"). */
  anomalyWord?: string;
  /** Separate random words for the anomaly prompt (default false). */
  independentWords?: boolean;
  /** Object names cycled over the pairs instead of "object" (see augmentedPairs). */
  objects?: readonly string[];
  /** Cache of text embeddings: texts already there are not encoded again. */
  store?: EmbeddingStore;
  /** Prompts per text-tower call. */
  batchSize?: number;
  /** Called as batches finish with (pairs done, pairs total); cached pairs count as done from the start. */
  onProgress?: (donePairs: number, totalPairs: number) => void;
}

/** The embedded training set. */
export interface TrainingSet {
  /** Row-major [2N, dim] L2-normalised text embeddings. */
  x: Float32Array;
  dim: number;
  /** 0 for even rows (normal), 1 for odd rows (anomalous). */
  labels: Uint8Array;
  pairs: PromptPair[];
  /** Distinct prompt texts encoded by the text tower in this call. */
  encoded: number;
  /** Distinct prompt texts read from the store. */
  cached: number;
}

/** Validated pair count. */
export function checkPairs(pairs: number): number {
  if (!Number.isInteger(pairs) || pairs < 1) throw new RwdaError(`training set: pairs must be a positive integer, got ${pairs}`);
  return pairs;
}

/** Builds the prompt pairs of the method and embeds them (see TrainingSet for the layout). */
export async function buildTrainingSet(backbone: Backbone, opts: TrainingSetOptions = {}): Promise<TrainingSet> {
  const n = checkPairs(opts.pairs ?? PROMPT_DEFAULTS.pairs);
  const pairs = augmentedPairs({
    n,
    seed: opts.seed ?? 0,
    normalWord: opts.normalWord,
    anomalyWord: opts.anomalyWord,
    independent: opts.independentWords,
    objects: opts.objects,
    alphabet: opts.alphabet,
    minLength: opts.minLength,
    maxLength: opts.maxLength,
  });
  const texts = pairs.flatMap((p) => [p.normal, p.anomaly]);
  // Progress in pairs: texts already in the store count as done from the start.
  const distinct = new Set(texts).size;
  const report = (done: number, toEncode: number): void => {
    opts.onProgress?.(Math.min(n, Math.floor(((distinct - toEncode + done) / distinct) * n)), n);
  };
  // A backbone with a pair encoder runs the words both prompts of a pair share once (same values).
  const emb = await embedTexts(pairAwareBackbone(backbone, pairs), texts, { store: opts.store, batchSize: opts.batchSize, onProgress: report });
  opts.onProgress?.(n, n);
  const labels = new Uint8Array(texts.length);
  for (let i = 1; i < labels.length; i += 2) labels[i] = 1;
  return { x: emb.data, dim: emb.dim, labels, pairs, encoded: emb.encoded, cached: emb.cached };
}
