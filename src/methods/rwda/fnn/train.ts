/**
 * trainFnn: the paper's training loop (AdamW, StepLR after every epoch, batches of whole pairs,
 * pairs shuffled every epoch) over either trainer.
 */
import { RwdaError } from '../../../errors.ts';
import type { Rng } from '../../../util/rng.ts';
import { layoutOf, resolveConfig, type FnnConfig, type Layout } from './config.ts';
import { Fnn, rngStreams } from './model.ts';
import { dropoutMasks, planSteps, validateTrainData, type StepPlan, type TrainData } from './schedule.ts';
import { initState, stateFromTensors, type FnnState, type StateInput } from './state.ts';
import { OnnxTrainer } from './train_fast.ts';
import { ReferenceTrainer, type StepResult, type Trainer } from './train_reference.ts';

/** Progress of one optimizer step. */
export interface StepInfo {
  /** 0-based epoch. */
  epoch: number;
  /** 1-based global step. */
  step: number;
  /** Total steps of the run. */
  steps: number;
  /** The batch's training loss (before the step's update). */
  loss: number;
  /** Learning rate used by the step. */
  lr: number;
}

export interface TrainOptions {
  onStep?: (info: StepInfo) => void;
  /** Start from this state_dict instead of the seed's initialisation. */
  initialState?: StateInput;
  /** Shuffle the pair order every epoch (default true). */
  shuffle?: boolean;
  /** Precision of the onnx backend (default float32); the reference backend is float64 only. */
  dtype?: 'float32' | 'float64';
  /** 'onnx' (fast, default) or 'reference' (plain JavaScript, float64, slow). */
  backend?: 'onnx' | 'reference';
}

/** Builds a trainer for the given backend and precision. */
export async function createTrainer(
  layout: Layout,
  config: FnnConfig,
  state: FnnState,
  backend: 'onnx' | 'reference',
  dtype: 'float32' | 'float64',
  debug = false,
): Promise<Trainer> {
  if (backend === 'reference') {
    if (dtype !== 'float64') throw new RwdaError(`FNN training: the reference backend computes in float64 only (dtype "${dtype}" requested)`, { code: 'unsupported' });
    return new ReferenceTrainer(layout, config, state);
  }
  if (backend !== 'onnx') throw new RwdaError(`FNN training: unknown backend "${String(backend)}" (expected "onnx" or "reference")`);
  if (dtype !== 'float32' && dtype !== 'float64') throw new RwdaError(`FNN training: unknown dtype "${String(dtype)}"`);
  return OnnxTrainer.create(layout, config, state, dtype, debug);
}

/** Hooks for the schedule runner (tests use afterStep/afterEpoch to inspect the trainer). */
export interface ScheduleHooks {
  onStep?: (info: StepInfo) => void;
  afterStep?: (plan: StepPlan, result: StepResult) => void;
  afterEpoch?: (epoch: number) => void;
}

/** Runs the full schedule on a trainer (validating the data unless `validated`); returns the per-step losses. */
export async function runSchedule(
  trainer: Trainer,
  data: TrainData,
  config: FnnConfig,
  rngs: { shuffle: Rng | null; dropout: Rng },
  hooks: ScheduleHooks = {},
  validated = false,
): Promise<number[]> {
  const n = validated ? data.x.length / data.dim : validateTrainData(data);
  const steps = config.epochs * Math.ceil(n / config.batchSize);
  const losses: number[] = [];
  const make = (k: number): Float32Array | Float64Array => (trainer.dtype === 'float32' ? new Float32Array(k) : new Float64Array(k));
  let epoch = 0;
  for (const plan of planSteps(n, config, rngs.shuffle)) {
    if (plan.epoch !== epoch) {
      hooks.afterEpoch?.(epoch);
      epoch = plan.epoch;
    }
    const masks = config.dropout > 0 ? dropoutMasks(rngs.dropout, plan.rows.length, config.hidden, config.dropout, make) : null;
    const result = await trainer.step(data.x, data.labels, plan.rows, plan.lr, masks);
    if (!Number.isFinite(result.loss)) {
      throw new RwdaError(`FNN training diverged: loss is ${result.loss} at step ${plan.step} (epoch ${plan.epoch + 1}); try a lower lr`);
    }
    losses.push(result.loss);
    hooks.afterStep?.(plan, result);
    hooks.onStep?.({ epoch: plan.epoch, step: plan.step, steps, loss: result.loss, lr: plan.lr });
  }
  hooks.afterEpoch?.(epoch);
  return losses;
}

/**
 * Trains the FNN on prompt-pair embeddings (row 2k normal, row 2k+1 anomalous) with torch's
 * semantics. The seed drives the initialisation, the per-epoch pair shuffle and the dropout masks.
 */
export async function trainFnn(
  data: TrainData,
  config: Partial<FnnConfig> & { seed: number },
  opts: TrainOptions = {},
): Promise<{ model: Fnn; losses: number[] }> {
  const c = resolveConfig(config);
  validateTrainData(data);
  const backend = opts.backend ?? 'onnx';
  const dtype = opts.dtype ?? (backend === 'reference' ? 'float64' : 'float32');
  const streams = rngStreams(c.seed);
  let layout = layoutOf(data.dim, c.hidden);
  let state: FnnState;
  if (opts.initialState) {
    const loaded = stateFromTensors(opts.initialState, 'FNN initialState');
    if (loaded.layout.dim !== data.dim) {
      throw new RwdaError(`FNN initialState: input width ${loaded.layout.dim} does not match the data's ${data.dim}`);
    }
    if (config.hidden && loaded.layout.hidden.join(',') !== c.hidden.join(',')) {
      throw new RwdaError(`FNN initialState: hidden widths [${loaded.layout.hidden.join(',')}] differ from the configured [${c.hidden.join(',')}]`);
    }
    c.hidden = [...loaded.layout.hidden];
    layout = loaded.layout;
    state = loaded.state;
  } else {
    state = initState(layout, streams.init);
  }
  const trainer = await createTrainer(layout, c, state, backend, dtype);
  try {
    const losses = await runSchedule(trainer, data, c, { shuffle: opts.shuffle === false ? null : streams.shuffle, dropout: streams.dropout }, { onStep: opts.onStep }, true);
    return { model: new Fnn(c, layout, trainer.snapshot()), losses };
  } finally {
    trainer.dispose();
  }
}
