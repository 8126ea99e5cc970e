/**
 * What both trainers consume in the same order, so that they see identical batches, learning
 * rates and dropout masks: data validation, the per-epoch pair order, the StepLR schedule and
 * the dropout masks.
 */
import { RwdaError } from '../../../errors.ts';
import type { Rng } from '../../../util/rng.ts';
import type { FnnConfig } from './config.ts';

/** Training data: n rows of width dim, row 2k normal (label 0), row 2k+1 anomalous (label 1). */
export interface TrainData {
  x: Float32Array;
  dim: number;
  labels: Uint8Array | Float32Array;
}

/** Checks the pair layout and finiteness; returns the row count. */
export function validateTrainData(data: TrainData): number {
  const { x, dim, labels } = data;
  if (!(x instanceof Float32Array)) throw new RwdaError('FNN training data: x must be a Float32Array');
  if (!Number.isInteger(dim) || dim < 1) throw new RwdaError(`FNN training data: dim must be a positive integer, got ${dim}`);
  if (x.length % dim !== 0) throw new RwdaError(`FNN training data: x has ${x.length} values, not a multiple of dim ${dim}`);
  const n = x.length / dim;
  if (n === 0) throw new RwdaError('FNN training data: no rows');
  if (n % 2 !== 0) throw new RwdaError(`FNN training data: ${n} rows is odd; rows must come in (normal, anomalous) pairs`);
  if (labels.length !== n) throw new RwdaError(`FNN training data: labels has ${labels.length} entries for ${n} rows`);
  for (let i = 0; i < n; i++) {
    if (labels[i] !== i % 2) {
      throw new RwdaError(
        `FNN training data: labels[${i}] is ${labels[i]}, expected ${i % 2} (rows must alternate 0,1: row 2k normal, row 2k+1 anomalous)`,
      );
    }
  }
  // v·0 is NaN exactly for NaN and ±Infinity, so one sum finds out whether anything is wrong;
  // four accumulators keep the loop from waiting on one add chain.
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const end4 = x.length - (x.length % 4);
  for (let i = 0; i < end4; i += 4) {
    s0 += x[i]! * 0;
    s1 += x[i + 1]! * 0;
    s2 += x[i + 2]! * 0;
    s3 += x[i + 3]! * 0;
  }
  for (let i = end4; i < x.length; i++) s0 += x[i]! * 0;
  if (Number.isNaN(s0 + s1 + s2 + s3)) {
    const i = x.findIndex((v) => !Number.isFinite(v));
    throw new RwdaError(`FNN training data: x has a non-finite value at row ${Math.floor(i / dim)}, column ${i % dim}`);
  }
  return n;
}

/** One optimizer step: which rows (whole pairs, in batch order), at which learning rate. */
export interface StepPlan {
  /** 0-based epoch. */
  epoch: number;
  /** 1-based global step (AdamW's t). */
  step: number;
  lr: number;
  rows: Int32Array;
}

/**
 * The training schedule. Pairs are shuffled at the start of every epoch when shuffleRng is given
 * (Fisher–Yates over pair indices); batches hold batchSize/2 pairs, the last one may be smaller.
 * StepLR(step_size=1): the rate is multiplied by lrDecay after every epoch, chained as torch does.
 */
export function* planSteps(n: number, config: FnnConfig, shuffleRng: Rng | null): Generator<StepPlan> {
  const pairs = n / 2;
  const pairsPerBatch = config.batchSize / 2;
  const order = new Int32Array(pairs);
  let lr = config.lr;
  let step = 0;
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    for (let k = 0; k < pairs; k++) order[k] = k;
    if (shuffleRng) shuffleRng.shuffle(order);
    for (let start = 0; start < pairs; start += pairsPerBatch) {
      const end = Math.min(start + pairsPerBatch, pairs);
      const rows = new Int32Array(2 * (end - start));
      for (let k = start; k < end; k++) {
        rows[2 * (k - start)] = 2 * order[k]!;
        rows[2 * (k - start) + 1] = 2 * order[k]! + 1;
      }
      yield { epoch, step: ++step, lr, rows };
    }
    lr = lr * config.lrDecay;
  }
}

/**
 * Inverted-dropout masks for one step, one per hidden block, each rows×width row-major: 0 with
 * probability p, else 1/(1−p) (computed in the target precision, as torch scales its noise
 * tensor).
 *
 * Element i is dropped iff U_i < k, k = round(p·2^32), U_i a uniform 32-bit number, so the drop
 * probability is k/2^32 exactly. The U_i are drawn bit-sliced, 32 elements at a time: word j
 * from the Rng holds bit 31−j of all 32 U's (lane b ↔ element 32·g + b), and words are drawn
 * most significant first only until every lane's comparison with k is decided. For p = 0.5 that
 * is one word per 32 elements; for any p about log2(32)+2, instead of one word per element.
 */
export function dropoutMasks(
  rng: Rng,
  rows: number,
  hidden: readonly number[],
  p: number,
  make: (n: number) => Float32Array | Float64Array,
): Array<Float32Array | Float64Array> {
  const k = Math.min(Math.round(p * 4294967296), 4294967295);
  // Bits of k, most significant first, and the position of its last 1 (after it, equal lanes are ≥ k).
  const kBits = Array.from({ length: 32 }, (_, j) => Math.floor(k / 2 ** (31 - j)) % 2);
  const lastOne = kBits.lastIndexOf(1);
  const dropWord = (): number => {
    let lt = 0;
    let eq = -1;
    for (let j = 0; j <= lastOne && eq !== 0; j++) {
      const u = rng.nextUint32() | 0;
      if (kBits[j] === 1) {
        lt |= eq & ~u;
        eq &= u;
      } else {
        eq &= ~u;
      }
    }
    return lt;
  };
  return hidden.map((h) => {
    const m = make(rows * h);
    m[0] = 1 / (1 - p);
    const keep = m[0]!;
    const n = m.length;
    const full = n - (n % 32);
    if (m instanceof Float32Array) {
      // Write float32 bit patterns: all-ones & keep for a kept lane, 0 for a dropped one (~10× faster).
      const bits = new Uint32Array(m.buffer, m.byteOffset, n);
      const keepBits = bits[0]!;
      for (let base = 0; base < full; base += 32) {
        const lt = dropWord();
        for (let b = 0; b < 32; b++) bits[base + b] = keepBits & (((lt >>> b) & 1) - 1);
      }
    } else {
      for (let base = 0; base < full; base += 32) {
        const lt = dropWord();
        for (let b = 0; b < 32; b++) m[base + b] = keep * (1 - ((lt >>> b) & 1));
      }
    }
    if (full < n) {
      const lt = dropWord();
      for (let i = full; i < n; i++) m[i] = keep * (1 - ((lt >>> (i - full)) & 1));
    }
    return m;
  });
}

/** StepLR's rate after `epochs` completed epochs, chained as torch computes it. */
export function lrAfter(config: FnnConfig, epochs: number): number {
  let lr = config.lr;
  for (let e = 0; e < epochs; e++) lr = lr * config.lrDecay;
  return lr;
}
