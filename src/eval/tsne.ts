/**
 * t-SNE (van der Maaten & Hinton 2008) for the embedding plots of the paper's Section 4.5, reproducing
 * scikit-learn's `TSNE` (1.2+ defaults: perplexity 30, early exaggeration 12 for 250 iterations, learning rate
 * 'auto' = max(n / 12 / 4, 50), momentum 0.5 then 0.8, per-parameter gains +0.2 / ×0.8 floored at 0.01, error
 * checks every 50 iterations with a 300-iteration no-progress stop, gradient-norm stop 1e-7, init 'pca' scaled to
 * std 1e-4). Method 'exact' is sklearn's dense O(n²) algorithm; 'barnes_hut' uses P over the 3·perplexity nearest
 * neighbours (exact kNN) and a quadtree with angle θ for the repulsion, as sklearn's default method does.
 * Deterministic: single-threaded float64, randomness only from `Rng(seed)`.
 *
 * Cost (bench/tsne.ts, dim 640, one busy core): n = 2,000 takes about 6 s with Barnes–Hut (23 s exact); n = 20,000
 * about 150 s, half of it the exact O(n²·dim) kNN, half the 1000 iterations at ~75 ms each.
 *
 * Why our own code: of the npm packages checked (2026-11), `tsne-js` 1.0.3 (Apache-2.0, exact only, ndarray
 * dependencies, no types, Math.random), `tsne` 1.0.1 and `@keckelt/tsne` 1.0.2 (ports of Karpathy's tsnejs: exact
 * only, Math.random, step size 10 without sklearn's schedule), `bhtsne` 3.0.2 (wrapper around the native C++
 * binary through a local server) and `@saehrimnir/druidjs` 0.9.0 (maintained and seedable, but LGPL-3.0, exact
 * only, and tsnejs's optimiser) none is both seedable and fast enough for 20,000 points, and none follows sklearn.
 */
import { RwdaError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import {
  jointProbabilitiesExact,
  jointProbabilitiesNN,
  nearestNeighbors,
  type SparseP,
} from './tsne/affinities.ts';
import { klGradientBH, klGradientExact, QuadTree } from './tsne/gradient.ts';
import { gradientDescent } from './tsne/descent.ts';
import { pcaProject } from './tsne/linalg.ts';

export type TsneMethod = 'exact' | 'barnes_hut';

/** Progress of a run: the affinity stage counts point pairs, the optimisation counts iterations. */
export interface TsneProgress {
  stage: 'affinities' | 'optimize';
  done: number;
  total: number;
  /**
   * KL divergence, on the iterations where it is computed (every 50th and the last of each phase); during the
   * first 250 it is computed with the exaggerated P, as sklearn reports it.
   */
  kl?: number;
}

export interface TsneOptions {
  /** Target perplexity of each point's input-space neighbourhood; 0 < perplexity < n. Default 30. */
  perplexity?: number;
  /** Total gradient-descent iterations including the 250 with early exaggeration; ≥ 250. Default 1000. */
  iterations?: number;
  /** Seed of the random (or PCA start) vectors. Default 0. */
  seed?: number;
  /** Default: 'exact' up to 2,000 points, 'barnes_hut' above. 'exact' allows at most 5,000 points. */
  method?: TsneMethod;
  /** Barnes–Hut angle θ in [0, 1] (sklearn's `angle`); 0 is exact repulsion. Default 0.5. */
  theta?: number;
  /** Step size, or 'auto' = max(n / earlyExaggeration / 4, 50). Default 'auto'. */
  learningRate?: number | 'auto';
  /** Factor on P during the first 250 iterations; ≥ 1. Default 12. */
  earlyExaggeration?: number;
  /** 'pca': first two principal components scaled so the first has std 1e-4; 'random': N(0, 1e-4²). */
  init?: 'pca' | 'random';
  onProgress?: (p: TsneProgress) => void;
}

export interface TsneResult {
  /** The embedding, n × 2 row-major. */
  y: Float64Array;
  /** KL(P ‖ Q) at the last iteration (Barnes–Hut: with the approximate normaliser). */
  kl: number;
  /** Iterations run (fewer than requested when a stopping rule fired). */
  iterations: number;
  method: TsneMethod;
  learningRate: number;
}

/** Largest n for which 'exact' is the default method. */
export const EXACT_DEFAULT_MAX_N = 2000;
/** Largest n 'exact' accepts: it holds an n × n distance matrix (200 MB at 5,000) and is O(n²) per iteration. */
export const EXACT_MAX_N = 5000;
/** sklearn's _EXPLORATION_N_ITER: iterations with early exaggeration and momentum 0.5. */
const EXPLORATION_ITERATIONS = 250;
/** sklearn's n_iter_without_progress default for the second phase. */
const ITERATIONS_WITHOUT_PROGRESS = 300;

/** Embeds the `n` rows of `x` (n × dim, row-major) in 2-D with t-SNE. Bad input → RwdaError. */
export function tsne(x: Float32Array | Float64Array, n: number, dim: number, opts: TsneOptions = {}): TsneResult {
  const o = validate(x, n, dim, opts);
  const x64 = Float64Array.from(x);
  const report = opts.onProgress;
  const totalPairs = (n * (n - 1)) / 2;
  const onRows = report
    ? (rows: number) => {
        const left = n - rows;
        report({ stage: 'affinities', done: totalPairs - (left * (left - 1)) / 2, total: totalPairs });
      }
    : undefined;

  let objective: (y: Float64Array, grad: Float64Array, exaggeration: number, computeError: boolean) => number;
  if (o.method === 'exact') {
    const p = jointProbabilitiesExact(x64, n, dim, o.perplexity, onRows);
    const w = new Float64Array(p.length);
    objective = (y, grad, ex, err) => klGradientExact(p, y, n, ex, grad, err, w);
  } else {
    const k = Math.min(n - 1, Math.floor(3 * o.perplexity + 1));
    const nn = nearestNeighbors(x64, n, dim, k, onRows);
    const p: SparseP = jointProbabilitiesNN(nn.indices, nn.sqd, n, k, o.perplexity);
    const tree = new QuadTree();
    objective = (y, grad, ex, err) => klGradientBH(p, y, o.theta, ex, grad, err, tree);
  }

  const y = initialEmbedding(x64, n, dim, o.init, o.seed);
  const learningRate = o.learningRate === 'auto' ? Math.max(n / o.earlyExaggeration / 4, 50) : o.learningRate;
  const progress = report
    ? (i: number, kl: number) => report({ stage: 'optimize', done: i + 1, total: o.iterations, ...(Number.isNaN(kl) ? {} : { kl }) })
    : undefined;
  const descend = (it: number, end: number, momentum: number, patience: number, exaggeration: number) =>
    gradientDescent(y, (yy, g, err) => objective(yy, g, exaggeration, err), {
      it,
      end,
      momentum,
      learningRate,
      iterationsWithoutProgress: patience,
      onIteration: progress,
    });

  const first = descend(0, EXPLORATION_ITERATIONS, 0.5, EXPLORATION_ITERATIONS, o.earlyExaggeration);
  let last = first;
  if (first.it < EXPLORATION_ITERATIONS || o.iterations > EXPLORATION_ITERATIONS) {
    last = descend(first.it + 1, o.iterations, 0.8, ITERATIONS_WITHOUT_PROGRESS, 1);
  }
  let kl = last.error;
  if (last.ran === 0) {
    // sklearn reports float max when the second phase is empty; the KL of the final embedding is more useful.
    kl = objective(y, new Float64Array(2 * n), 1, true);
  }
  return { y, kl, iterations: (last.ran === 0 ? first.it : last.it) + 1, method: o.method, learningRate };
}

/** The starting embedding (n × 2): scaled PCA projection, or N(0, 1e-4²) draws in row-major order. */
export function initialEmbedding(x: Float64Array, n: number, dim: number, init: 'pca' | 'random', seed: number): Float64Array {
  const rng = new Rng(seed);
  if (init === 'pca') {
    const y = pcaProject(x, n, dim, 2, rng);
    let mean = 0;
    for (let i = 0; i < n; i++) mean += y[2 * i]!;
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (y[2 * i]! - mean) ** 2;
    const std = Math.sqrt(v / n);
    // All points equal along the first axis (identical inputs): sklearn would divide by zero; start at random.
    if (std > 0) {
      for (let t = 0; t < y.length; t++) y[t] = (y[t]! / std) * 1e-4;
      return y;
    }
  }
  const y = new Float64Array(2 * n);
  for (let t = 0; t < y.length; t++) y[t] = 1e-4 * rng.normal();
  return y;
}

interface Resolved {
  perplexity: number;
  iterations: number;
  seed: number;
  method: TsneMethod;
  theta: number;
  learningRate: number | 'auto';
  earlyExaggeration: number;
  init: 'pca' | 'random';
}

function validate(x: Float32Array | Float64Array, n: number, dim: number, opts: TsneOptions): Resolved {
  if (!(x instanceof Float32Array) && !(x instanceof Float64Array)) {
    throw new RwdaError('tsne: x must be a Float32Array or Float64Array of n × dim values');
  }
  if (!Number.isInteger(n) || n < 2) throw new RwdaError(`tsne: n must be an integer ≥ 2 (got ${n}); t-SNE needs at least two points`);
  if (!Number.isInteger(dim) || dim < 1) throw new RwdaError(`tsne: dim must be an integer ≥ 1 (got ${dim})`);
  if (x.length !== n * dim) {
    throw new RwdaError(`tsne: x has ${x.length} values but n × dim = ${n} × ${dim} = ${n * dim}`);
  }
  for (let t = 0; t < x.length; t++) {
    if (!Number.isFinite(x[t]!)) {
      throw new RwdaError(`tsne: x[${t}] (row ${Math.floor(t / dim)}, column ${t % dim}) is ${x[t]}; embeddings must be finite`);
    }
  }
  const perplexity = opts.perplexity ?? 30;
  if (typeof perplexity !== 'number' || !Number.isFinite(perplexity) || perplexity <= 0 || perplexity >= n) {
    throw new RwdaError(`tsne: opts.perplexity must be > 0 and less than the number of points n = ${n} (got ${perplexity})`);
  }
  const iterations = opts.iterations ?? 1000;
  if (!Number.isInteger(iterations) || iterations < EXPLORATION_ITERATIONS) {
    throw new RwdaError(`tsne: opts.iterations must be an integer ≥ ${EXPLORATION_ITERATIONS} (got ${iterations})`);
  }
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RwdaError(`tsne: opts.seed must be an integer in [0, 2^32 − 1] (got ${seed})`);
  }
  const method = opts.method ?? (n <= EXACT_DEFAULT_MAX_N ? 'exact' : 'barnes_hut');
  if (method !== 'exact' && method !== 'barnes_hut') {
    throw new RwdaError(`tsne: opts.method must be 'exact' or 'barnes_hut' (got ${String(method)})`);
  }
  if (method === 'exact' && n > EXACT_MAX_N) {
    throw new RwdaError(
      `tsne: method 'exact' handles at most ${EXACT_MAX_N} points (got n = ${n}); use method 'barnes_hut' or subsample`,
    );
  }
  const theta = opts.theta ?? 0.5;
  if (typeof theta !== 'number' || !(theta >= 0 && theta <= 1)) {
    throw new RwdaError(`tsne: opts.theta must be in [0, 1] (got ${theta})`);
  }
  const learningRate = opts.learningRate ?? 'auto';
  if (learningRate !== 'auto' && (typeof learningRate !== 'number' || !Number.isFinite(learningRate) || learningRate <= 0)) {
    throw new RwdaError(`tsne: opts.learningRate must be 'auto' or a number > 0 (got ${String(learningRate)})`);
  }
  const earlyExaggeration = opts.earlyExaggeration ?? 12;
  if (typeof earlyExaggeration !== 'number' || !Number.isFinite(earlyExaggeration) || earlyExaggeration < 1) {
    throw new RwdaError(`tsne: opts.earlyExaggeration must be a number ≥ 1 (got ${earlyExaggeration})`);
  }
  const init = opts.init ?? 'pca';
  if (init !== 'pca' && init !== 'random') throw new RwdaError(`tsne: opts.init must be 'pca' or 'random' (got ${String(init)})`);
  return { perplexity, iterations, seed, method, theta, learningRate, earlyExaggeration, init };
}
