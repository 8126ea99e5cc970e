/**
 * FNN configuration and its torch state_dict layout.
 *
 * The network is torch's `Sequential(Linear, BatchNorm1d, ReLU, Dropout, …, Linear(h_last, 1))`, so
 * hidden block i owns modules 4i (Linear) and 4i+1 (BatchNorm1d), and the head is module 4·L.
 */
import { RwdaError } from '../../../errors.ts';
import { FNN_DEFAULTS } from '../defaults.ts';

/** Every setting of the detector and its training (see FNN_DEFAULTS for the values and their origin). */
export interface FnnConfig {
  hidden: number[];
  dropout: number;
  lr: number;
  weightDecay: number;
  betas: [number, number];
  eps: number;
  epochs: number;
  /** Rows per batch; even, because the two prompts of a pair always share a batch. */
  batchSize: number;
  /** StepLR gamma, applied after every epoch. */
  lrDecay: number;
  bnEps: number;
  bnMomentum: number;
  seed: number;
}

/** Fills in FNN_DEFAULTS and validates every field (RwdaError names the field). */
export function resolveConfig(partial: Partial<FnnConfig> = {}): FnnConfig {
  const c: FnnConfig = {
    hidden: [...(partial.hidden ?? FNN_DEFAULTS.hidden)],
    dropout: partial.dropout ?? FNN_DEFAULTS.dropout,
    lr: partial.lr ?? FNN_DEFAULTS.lr,
    weightDecay: partial.weightDecay ?? FNN_DEFAULTS.weightDecay,
    betas: [...(partial.betas ?? FNN_DEFAULTS.betas)] as [number, number],
    eps: partial.eps ?? FNN_DEFAULTS.eps,
    epochs: partial.epochs ?? FNN_DEFAULTS.epochs,
    batchSize: partial.batchSize ?? FNN_DEFAULTS.batchSize,
    lrDecay: partial.lrDecay ?? FNN_DEFAULTS.lrDecay,
    bnEps: partial.bnEps ?? FNN_DEFAULTS.bnEps,
    bnMomentum: partial.bnMomentum ?? FNN_DEFAULTS.bnMomentum,
    seed: partial.seed ?? FNN_DEFAULTS.seed,
  };
  const bad = (field: string, why: string): never => {
    throw new RwdaError(`FNN config: ${field} ${why}`);
  };
  if (!Array.isArray(c.hidden) || c.hidden.length === 0) bad('hidden', 'must list at least one hidden width');
  c.hidden.forEach((h, i) => {
    if (!Number.isInteger(h) || h < 1) bad(`hidden[${i}]`, `must be a positive integer, got ${h}`);
  });
  const finite = (field: string, v: number): void => {
    if (typeof v !== 'number' || !Number.isFinite(v)) bad(field, `must be a finite number, got ${v}`);
  };
  finite('dropout', c.dropout);
  if (c.dropout < 0 || c.dropout >= 1) bad('dropout', `must be in [0, 1), got ${c.dropout}`);
  finite('lr', c.lr);
  if (c.lr <= 0) bad('lr', `must be > 0, got ${c.lr}`);
  finite('weightDecay', c.weightDecay);
  if (c.weightDecay < 0) bad('weightDecay', `must be >= 0, got ${c.weightDecay}`);
  if (c.betas.length !== 2) bad('betas', 'must have two entries');
  c.betas.forEach((b, i) => {
    finite(`betas[${i}]`, b);
    if (b < 0 || b >= 1) bad(`betas[${i}]`, `must be in [0, 1), got ${b}`);
  });
  finite('eps', c.eps);
  if (c.eps <= 0) bad('eps', `must be > 0, got ${c.eps}`);
  if (!Number.isInteger(c.epochs) || c.epochs < 1) bad('epochs', `must be a positive integer, got ${c.epochs}`);
  if (!Number.isInteger(c.batchSize) || c.batchSize < 2 || c.batchSize % 2 !== 0) {
    bad('batchSize', `must be an even integer >= 2 (whole pairs), got ${c.batchSize}`);
  }
  finite('lrDecay', c.lrDecay);
  if (c.lrDecay <= 0) bad('lrDecay', `must be > 0, got ${c.lrDecay}`);
  finite('bnEps', c.bnEps);
  if (c.bnEps <= 0) bad('bnEps', `must be > 0, got ${c.bnEps}`);
  finite('bnMomentum', c.bnMomentum);
  if (c.bnMomentum < 0 || c.bnMomentum > 1) bad('bnMomentum', `must be in [0, 1], got ${c.bnMomentum}`);
  if (!Number.isInteger(c.seed) || c.seed < 0 || c.seed > 0xffffffff) bad('seed', `must be an integer in [0, 2^32-1], got ${c.seed}`);
  return c;
}

/** Names of one hidden block's tensors in state_dict order. */
export interface BlockKeys {
  weight: string;
  bias: string;
  bnWeight: string;
  bnBias: string;
  runningMean: string;
  runningVar: string;
  numBatchesTracked: string;
  /** Fan-in of the Linear layer. */
  fanIn: number;
  width: number;
}

/** The state_dict layout of an FNN with input width `dim`. */
export interface Layout {
  dim: number;
  hidden: number[];
  blocks: BlockKeys[];
  headWeight: string;
  headBias: string;
  /** All state_dict keys in torch order. */
  stateKeys: string[];
  /** The trainable keys in `parameters()` order (AdamW's order). */
  parameterKeys: string[];
  /** Shape of every key. */
  shapes: Map<string, number[]>;
}

/** Builds the torch key names and shapes for input width `dim` and the given hidden widths. */
export function layoutOf(dim: number, hidden: readonly number[]): Layout {
  const blocks: BlockKeys[] = [];
  const stateKeys: string[] = [];
  const parameterKeys: string[] = [];
  const shapes = new Map<string, number[]>();
  let fanIn = dim;
  hidden.forEach((h, i) => {
    const lin = 4 * i;
    const bn = lin + 1;
    const b: BlockKeys = {
      weight: `${lin}.weight`,
      bias: `${lin}.bias`,
      bnWeight: `${bn}.weight`,
      bnBias: `${bn}.bias`,
      runningMean: `${bn}.running_mean`,
      runningVar: `${bn}.running_var`,
      numBatchesTracked: `${bn}.num_batches_tracked`,
      fanIn,
      width: h,
    };
    blocks.push(b);
    shapes.set(b.weight, [h, fanIn]);
    shapes.set(b.bias, [h]);
    shapes.set(b.bnWeight, [h]);
    shapes.set(b.bnBias, [h]);
    shapes.set(b.runningMean, [h]);
    shapes.set(b.runningVar, [h]);
    shapes.set(b.numBatchesTracked, []);
    stateKeys.push(b.weight, b.bias, b.bnWeight, b.bnBias, b.runningMean, b.runningVar, b.numBatchesTracked);
    parameterKeys.push(b.weight, b.bias, b.bnWeight, b.bnBias);
    fanIn = h;
  });
  const head = 4 * hidden.length;
  const headWeight = `${head}.weight`;
  const headBias = `${head}.bias`;
  shapes.set(headWeight, [1, fanIn]);
  shapes.set(headBias, [1]);
  stateKeys.push(headWeight, headBias);
  parameterKeys.push(headWeight, headBias);
  return { dim, hidden: [...hidden], blocks, headWeight, headBias, stateKeys, parameterKeys, shapes };
}

/** Number of elements of a shape ([] is a scalar: 1). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
