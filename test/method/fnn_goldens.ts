// Loads the torch FNN training goldens (../shared/fixtures/fnn) and replays them on a trainer,
// collecting everything the goldens record so tests can compare quantity by quantity.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/paths.ts';
import { layoutOf, resolveConfig, type FnnConfig, type Layout } from '../../src/methods/rwda/fnn/config.ts';
import { Fnn } from '../../src/methods/rwda/fnn/model.ts';
import { stateFromTensors, type FnnState, type FloatArray } from '../../src/methods/rwda/fnn/state.ts';
import { createTrainer, runSchedule } from '../../src/methods/rwda/fnn/train.ts';
import type { OptimizerSnapshot } from '../../src/methods/rwda/fnn/train_reference.ts';
import { Rng } from '../../src/util/rng.ts';

export const FNN_FIXTURES = join(FIXTURES, 'fnn');
export const VARIANTS = ['lr1e-3_wd1e-2', 'lr1e-2_wd1e-1', 'ragged_n44_bs8'] as const;

type Nested = number | Nested[];
type Tensors = Record<string, Nested>;

export interface EvalRecord {
  heldout_logits: number[];
  heldout_sigmoid: number[];
  train_logits: number[];
  train_sigmoid: number[];
}
interface OptRecord {
  step: number;
  exp_avg: Tensors;
  exp_avg_sq: Tensors;
}
export interface Golden {
  variant: string;
  dtype: 'float32' | 'float64';
  config: {
    d0: number; h1: number; h2: number; h3: number; lr: number; weight_decay: number; epochs: number; batch_size: number;
    n_train: number; betas: [number, number]; eps: number; bn_eps: number; bn_momentum: number; dropout: number;
    scheduler: { gamma: number; step_size_epochs: number };
  };
  state_keys: string[];
  parameter_keys: string[];
  initial_state: Tensors;
  train: { x: number[][]; y: number[] };
  heldout: { x: number[][]; y: number[] };
  eval_at_init: EvalRecord;
  steps: Array<{ epoch: number; global_step: number; lr: number; batch_rows: [number, number]; loss: number }>;
  first_step: {
    batch_rows: [number, number];
    train_mode_logits: number[];
    loss: number;
    grads: Tensors;
    state_after_step: Tensors;
    optimizer_after_step: OptRecord;
  };
  final_eval_heldout_sigmoid: number[];
  after_epoch: Array<{ epoch: number; lr_used: number; lr_after_scheduler_step: number; state: Tensors; eval: EvalRecord; optimizer: OptRecord }>;
}

const cache = new Map<string, Golden>();

export function loadGolden(variant: string, dtype: 'float32' | 'float64'): Golden {
  const file = join(FNN_FIXTURES, `fnn_${variant}_${dtype}.json`);
  if (!cache.has(file)) cache.set(file, JSON.parse(readFileSync(file, 'utf8')) as Golden);
  return cache.get(file)!;
}

export function flat(t: Nested): number[] {
  return Array.isArray(t) ? t.flatMap(flat) : [t];
}

function shapeOfNested(t: Nested): number[] {
  return Array.isArray(t) ? [t.length, ...(t.length > 0 ? shapeOfNested(t[0]!) : [])] : [];
}

/** The golden's state as our StateInput. */
export function goldenState(t: Tensors): Array<{ name: string; shape: number[]; data: number[] }> {
  return Object.entries(t).map(([name, v]) => ({ name, shape: shapeOfNested(v), data: flat(v) }));
}

export function goldenConfig(g: Golden): FnnConfig {
  const c = g.config;
  return resolveConfig({
    hidden: [c.h1, c.h2, c.h3],
    dropout: c.dropout,
    lr: c.lr,
    weightDecay: c.weight_decay,
    betas: c.betas,
    eps: c.eps,
    epochs: c.epochs,
    batchSize: c.batch_size,
    lrDecay: c.scheduler.gamma,
    bnEps: c.bn_eps,
    bnMomentum: c.bn_momentum,
    seed: 0,
  });
}

export function goldenData(g: Golden): { x: Float32Array; dim: number; labels: Uint8Array } {
  return { x: Float32Array.from(g.train.x.flat()), dim: g.config.d0, labels: Uint8Array.from(g.train.y) };
}

/** What a replay records, in the goldens' terms. */
export interface Replay {
  layout: Layout;
  config: FnnConfig;
  initial: FnnState;
  steps: Array<{ epoch: number; step: number; lr: number; rows: [number, number]; loss: number }>;
  firstLogits: FloatArray;
  firstGrads: Map<string, FloatArray>;
  firstState: FnnState;
  firstOptimizer: OptimizerSnapshot;
  epochs: Array<{ state: FnnState; optimizer: OptimizerSnapshot }>;
}

/** Replays a golden (no shuffle, dropout 0) on the given backend/precision. */
export async function replay(g: Golden, backend: 'onnx' | 'reference', dtype: 'float32' | 'float64'): Promise<Replay> {
  const config = goldenConfig(g);
  const { layout, state } = stateFromTensors(goldenState(g.initial_state), 'golden initial_state');
  const trainer = await createTrainer(layout, config, state, backend, dtype, true);
  const out: Partial<Replay> & { steps: Replay['steps']; epochs: Replay['epochs'] } = { layout, config, initial: state, steps: [], epochs: [] };
  try {
    await runSchedule(trainer, goldenData(g), config, { shuffle: null, dropout: new Rng(0) }, {
      afterStep: (plan, res) => {
        out.steps.push({ epoch: plan.epoch, step: plan.step, lr: plan.lr, rows: [plan.rows[0]!, plan.rows[plan.rows.length - 1]! + 1], loss: res.loss });
        if (plan.step === 1) {
          out.firstLogits = res.logits.slice();
          out.firstGrads = trainer.lastGrads();
          out.firstState = trainer.snapshot();
          out.firstOptimizer = trainer.optimizer();
        }
      },
      afterEpoch: () => out.epochs.push({ state: trainer.snapshot(), optimizer: trainer.optimizer() }),
    });
  } finally {
    trainer.dispose();
  }
  return out as Replay;
}

/** Eval-mode outputs of a state, in float64 (onnx graph) and via the JS reference. */
export function evalOf(layout: Layout, config: FnnConfig, state: FnnState, x: number[][]): { logits: Float64Array; model: Fnn } {
  const model = new Fnn(config, layout, state);
  const logits = model.predictLogitsFloat64(Float64Array.from(x.flat()), x.length);
  return { logits, model };
}

export function sigmoid(a: ArrayLike<number>): number[] {
  return Array.from(a, (v) => 1 / (1 + Math.exp(-v)));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

export { layoutOf };
