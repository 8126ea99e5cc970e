/**
 * Input-space affinities of t-SNE, following scikit-learn: per-point Gaussian bandwidths found by binary search
 * on the perplexity (`_binary_search_perplexity`), then the symmetrised joint distribution P, either dense over all
 * pairs (`_joint_probabilities`, method 'exact') or sparse over 3·perplexity nearest neighbours
 * (`_joint_probabilities_nn`, method 'barnes_hut'). Distances are squared Euclidean; all arithmetic is float64
 * (sklearn rounds distances to float32 first, which changes P only in the 7th digit).
 */
import { squaredDistanceBlocks } from './linalg.ts';

/** numpy's float64 machine epsilon, sklearn's MACHINE_EPSILON: the floor for P and Q in the exact objective. */
export const MACHINE_EPSILON = 2 ** -52;
/** sklearn's EPSILON_DBL: stands in for a zero row sum in the binary search. */
const EPSILON_DBL = 1e-8;
/** sklearn's PERPLEXITY_TOLERANCE: |entropy − log(perplexity)| at which the search stops, in nats. */
export const PERPLEXITY_TOLERANCE = 1e-5;
/** sklearn's n_steps: the search gives up after this many bisection steps. */
const SEARCH_STEPS = 100;

/** A symmetric sparse joint distribution in CSR form; column indices ascending within a row. */
export interface SparseP {
  n: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float64Array;
}

/**
 * Conditional probabilities p_{j|i} = exp(−β_i d_ij) / Σ_k exp(−β_i d_ik) for each of `rows` rows of `cols` squared
 * distances, with β_i chosen by bisection so that the row's entropy (nats) is log(perplexity) within 1e-5. With
 * `skipSelf`, entry (i, i) is the point itself: it gets probability 0 and takes no part (the exact method's dense
 * rows); without it every column is a neighbour (kNN rows). `out` may be `sqd` itself.
 */
export function binarySearchPerplexity(
  sqd: Float64Array,
  rows: number,
  cols: number,
  perplexity: number,
  skipSelf: boolean,
  out: Float64Array = new Float64Array(rows * cols),
): Float64Array {
  const desiredEntropy = Math.log(perplexity);
  const d = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    d.set(sqd.subarray(o, o + cols));
    let betaMin = -Infinity;
    let betaMax = Infinity;
    let beta = 1;
    for (let step = 0; step < SEARCH_STEPS; step++) {
      let sumP = 0;
      for (let j = 0; j < cols; j++) {
        if (skipSelf && j === i) {
          out[o + j] = 0;
          continue;
        }
        const p = Math.exp(-d[j]! * beta);
        out[o + j] = p;
        sumP += p;
      }
      if (sumP === 0) sumP = EPSILON_DBL;
      let sumDP = 0;
      for (let j = 0; j < cols; j++) {
        const p = out[o + j]! / sumP;
        out[o + j] = p;
        sumDP += d[j]! * p;
      }
      // H = −Σ p log p = log Σ exp(−βd) + β Σ d p.
      const entropyDiff = Math.log(sumP) + beta * sumDP - desiredEntropy;
      if (Math.abs(entropyDiff) <= PERPLEXITY_TOLERANCE) break;
      if (entropyDiff > 0) {
        betaMin = beta;
        beta = betaMax === Infinity ? beta * 2 : (beta + betaMax) / 2;
      } else {
        betaMax = beta;
        beta = betaMin === -Infinity ? beta / 2 : (beta + betaMin) / 2;
      }
    }
  }
  return out;
}

/** Index of pair (i, j), i < j, in a condensed upper-triangle array (scipy's `squareform` order). */
export function condensedIndex(n: number, i: number, j: number): number {
  return n * i - (i * (i + 1)) / 2 + (j - i - 1);
}

/**
 * sklearn's `_joint_probabilities`: from a dense n × n matrix of squared distances (overwritten), the condensed joint
 * P with p_ij = (p_{j|i} + p_{i|j}) / Σ, floored at MACHINE_EPSILON.
 */
export function jointProbabilitiesFromDistances(dist: Float64Array, n: number, perplexity: number): Float64Array {
  const cond = binarySearchPerplexity(dist, n, n, perplexity, true, dist);
  const p = new Float64Array((n * (n - 1)) / 2);
  let sum = 0;
  let idx = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = cond[i * n + j]! + cond[j * n + i]!;
      p[idx++] = v;
      sum += 2 * v;
    }
  }
  const inv = 1 / Math.max(sum, MACHINE_EPSILON);
  for (let t = 0; t < p.length; t++) p[t] = Math.max(p[t]! * inv, MACHINE_EPSILON);
  return p;
}

/** The exact method's condensed joint P of the rows of `x` (n × dim, row-major). */
export function jointProbabilitiesExact(
  x: Float64Array,
  n: number,
  dim: number,
  perplexity: number,
  onRows?: (rowsDone: number) => void,
): Float64Array {
  const dist = new Float64Array(n * n);
  squaredDistanceBlocks(
    x,
    n,
    dim,
    (i0, i1, j0, j1, d) => {
      const w = j1 - j0;
      for (let i = i0; i < i1; i++) {
        for (let j = Math.max(j0, i + 1); j < j1; j++) {
          const v = d[(i - i0) * w + (j - j0)]!;
          dist[i * n + j] = v;
          dist[j * n + i] = v;
        }
      }
    },
    onRows,
  );
  return jointProbabilitiesFromDistances(dist, n, perplexity);
}

/**
 * The `k` nearest neighbours of every row of `x` (excluding the row itself; a duplicate row counts), by exact
 * squared Euclidean distance over all pairs. Rows of the result are sorted by distance, ties by index.
 */
export function nearestNeighbors(
  x: Float64Array,
  n: number,
  dim: number,
  k: number,
  onRows?: (rowsDone: number) => void,
): { indices: Int32Array; sqd: Float64Array } {
  // One bounded max-heap per row, so each pair's distance computed once serves both of its rows.
  const heapD = new Float64Array(n * k);
  const heapI = new Int32Array(n * k);
  const size = new Int32Array(n);
  // The heap root's distance once a row holds k neighbours: most candidates fail `d <= bound` without a call.
  const bound = new Float64Array(n).fill(Infinity);
  const push = (row: number, d: number, j: number): void => {
    const base = row * k;
    let s = size[row]!;
    if (s < k) {
      let c = s;
      size[row] = s + 1;
      while (c > 0) {
        const parent = (c - 1) >> 1;
        if (!worse(d, j, heapD[base + parent]!, heapI[base + parent]!)) break;
        heapD[base + c] = heapD[base + parent]!;
        heapI[base + c] = heapI[base + parent]!;
        c = parent;
      }
      heapD[base + c] = d;
      heapI[base + c] = j;
      if (s + 1 === k) bound[row] = heapD[base]!;
      return;
    }
    if (!worse(heapD[base]!, heapI[base]!, d, j)) return;
    s = k;
    let c = 0;
    for (;;) {
      let child = 2 * c + 1;
      if (child >= s) break;
      if (child + 1 < s && worse(heapD[base + child + 1]!, heapI[base + child + 1]!, heapD[base + child]!, heapI[base + child]!)) {
        child++;
      }
      if (!worse(heapD[base + child]!, heapI[base + child]!, d, j)) break;
      heapD[base + c] = heapD[base + child]!;
      heapI[base + c] = heapI[base + child]!;
      c = child;
    }
    heapD[base + c] = d;
    heapI[base + c] = j;
    bound[row] = heapD[base]!;
  };
  squaredDistanceBlocks(
    x,
    n,
    dim,
    (i0, i1, j0, j1, dblock) => {
      const w = j1 - j0;
      for (let i = i0; i < i1; i++) {
        const o = (i - i0) * w - j0;
        for (let j = Math.max(j0, i + 1); j < j1; j++) {
          const d = dblock[o + j]!;
          if (d <= bound[i]!) push(i, d, j);
          if (d <= bound[j]!) push(j, d, i);
        }
      }
    },
    onRows,
  );
  const indices = new Int32Array(n * k);
  const sqd = new Float64Array(n * k);
  const order = Array.from({ length: k }, (_, t) => t);
  for (let i = 0; i < n; i++) {
    const base = i * k;
    order.sort((a, b) => heapD[base + a]! - heapD[base + b]! || heapI[base + a]! - heapI[base + b]!);
    for (let t = 0; t < k; t++) {
      indices[base + t] = heapI[base + order[t]!]!;
      sqd[base + t] = heapD[base + order[t]!]!;
    }
  }
  return { indices, sqd };
}

/** Heap order: a farther neighbour, or an equally far one with a larger index, is worse. */
function worse(d1: number, i1: number, d2: number, i2: number): boolean {
  return d1 > d2 || (d1 === d2 && i1 > i2);
}

/**
 * sklearn's `_joint_probabilities_nn`: conditional P over each row's `k` neighbours (`indices`/`sqd`, n × k),
 * symmetrised as P + Pᵀ and normalised to sum 1, as a CSR matrix.
 */
export function jointProbabilitiesNN(indices: Int32Array, sqd: Float64Array, n: number, k: number, perplexity: number): SparseP {
  const cond = binarySearchPerplexity(sqd, n, k, perplexity, false);
  const count = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      count[i + 1]++;
      count[indices[i * k + t]! + 1]++;
    }
  }
  for (let i = 0; i < n; i++) count[i + 1] += count[i]!;
  const rawCols = new Int32Array(count[n]!);
  const rawVals = new Float64Array(count[n]!);
  const cursor = count.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = indices[i * k + t]!;
      const v = cond[i * k + t]!;
      rawCols[cursor[i]!] = j;
      rawVals[cursor[i]!++] = v;
      rawCols[cursor[j]!] = i;
      rawVals[cursor[j]!++] = v;
    }
  }
  // Sort each row by column and add up the (i, j) and (j, i) contributions.
  const indptr = new Int32Array(n + 1);
  const cols: number[] = [];
  const vals: number[] = [];
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const lo = count[i]!;
    const hi = count[i + 1]!;
    const order = Array.from({ length: hi - lo }, (_, t) => lo + t).sort((a, b) => rawCols[a]! - rawCols[b]! || a - b);
    for (let t = 0; t < order.length; t++) {
      const c = rawCols[order[t]!]!;
      const v = rawVals[order[t]!]!;
      if (cols.length > indptr[i]! && cols[cols.length - 1] === c) vals[vals.length - 1] += v;
      else {
        cols.push(c);
        vals.push(v);
      }
      sum += v;
    }
    indptr[i + 1] = cols.length;
  }
  const inv = 1 / Math.max(sum, MACHINE_EPSILON);
  const values = Float64Array.from(vals, (v) => v * inv);
  return { n, indptr, indices: Int32Array.from(cols), values };
}

/** The dense condensed form of a sparse joint P (absent pairs are 0), for comparing the two methods. */
export function sparseToCondensed(p: SparseP): Float64Array {
  const out = new Float64Array((p.n * (p.n - 1)) / 2);
  for (let i = 0; i < p.n; i++) {
    for (let t = p.indptr[i]!; t < p.indptr[i + 1]!; t++) {
      const j = p.indices[t]!;
      if (j > i) out[condensedIndex(p.n, i, j)] = p.values[t]!;
    }
  }
  return out;
}

/** The CSR form of a condensed joint P, keeping every pair (the exact P is floored at MACHINE_EPSILON, never 0). */
export function condensedToSparse(p: Float64Array, n: number): SparseP {
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(n * (n - 1));
  const values = new Float64Array(n * (n - 1));
  let t = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      indices[t] = j;
      values[t++] = p[i < j ? condensedIndex(n, i, j) : condensedIndex(n, j, i)]!;
    }
    indptr[i + 1] = t;
  }
  return { n, indptr, indices, values };
}
