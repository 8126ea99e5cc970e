/**
 * The fast trainer: every step is one onnxruntime run of the train-step graph (graphs.ts).
 *
 * Parameters, Adam moments and running stats live in two sets of typed arrays; a step reads one
 * set and onnxruntime writes the updated tensors straight into the other (pre-allocated
 * outputs), then the sets swap. Nothing of the model's size is allocated or copied per step.
 */
import type { InferenceSession } from 'onnxruntime-node';
import type { FnnConfig, Layout } from './config.ts';
import { buildTrainStepGraph, stateKeysOf, type Dtype } from './graphs.ts';
import { createSession, Tensor, type OrtTensor } from './ort.ts';
import type { FloatArray, FnnState } from './state.ts';
import type { OptimizerSnapshot, StepResult, Trainer } from './train_reference.ts';

type Arr = Float32Array | Float64Array;

interface Slot {
  /** Arrays of this slot, by feed name (p:K, m:K, v:K). */
  arrays: Map<string, Arr>;
  /** The same arrays wrapped as inputs (p:K) and as outputs (p_out:K). */
  feeds: Record<string, OrtTensor>;
  fetches: Record<string, OrtTensor | null>;
}

/** onnxruntime trainer in float32 (the fast path) or float64 (to check the graph against the float64 goldens). */
export class OnnxTrainer implements Trainer {
  private readonly layout: Layout;
  private readonly config: FnnConfig;
  readonly dtype: Dtype;
  private readonly session: InferenceSession;
  private readonly debug: boolean;
  private readonly slots: [Slot, Slot];
  private cur = 0;
  private t = 0;
  private numBatches: number[];
  private grads = new Map<string, FloatArray>();
  private readonly make: (n: number) => Arr;
  private xBuf: Arr;
  private yBuf: Arr;

  private constructor(layout: Layout, config: FnnConfig, dtype: Dtype, session: InferenceSession, state: FnnState, debug: boolean) {
    this.layout = layout;
    this.config = config;
    this.dtype = dtype;
    this.session = session;
    this.debug = debug;
    this.make = dtype === 'float32' ? (n) => new Float32Array(n) : (n) => new Float64Array(n);
    const { params, buffers } = stateKeysOf(layout);
    const slot = (init: boolean): Slot => {
      const arrays = new Map<string, Arr>();
      const feeds: Record<string, OrtTensor> = {};
      const fetches: Record<string, OrtTensor | null> = {};
      const add = (name: string, key: string, src: FloatArray | null): void => {
        const shape = layout.shapes.get(key)!;
        const arr = this.make(shape.reduce((a, b) => a * b, 1));
        if (init && src) arr.set(src);
        arrays.set(`${name}:${key}`, arr);
        feeds[`${name}:${key}`] = new Tensor(dtype, arr, shape);
        fetches[`${name}_out:${key}`] = new Tensor(dtype, arr, shape);
      };
      for (const k of params) {
        add('p', k, state.get(k)!.data);
        add('m', k, null);
        add('v', k, null);
      }
      for (const k of buffers) add('p', k, state.get(k)!.data);
      fetches.loss = null;
      if (debug) {
        for (const k of params) fetches[`g:${k}`] = null;
        fetches.logits_out = null;
      }
      return { arrays, feeds, fetches };
    };
    this.slots = [slot(true), slot(false)];
    this.numBatches = layout.blocks.map((b) => state.get(b.numBatchesTracked)!.data[0]!);
    this.xBuf = this.make(config.batchSize * layout.dim);
    this.yBuf = this.make(config.batchSize);
  }

  /** Builds the graph and a session, and loads `state` (any float precision) into the first slot. */
  static async create(layout: Layout, config: FnnConfig, state: FnnState, dtype: Dtype, debug = false): Promise<OnnxTrainer> {
    const model = buildTrainStepGraph(layout, config, dtype, debug);
    const session = await createSession(model, `FNN train-step (${dtype})`);
    return new OnnxTrainer(layout, config, dtype, session, state, debug);
  }

  private scalar(v: number): OrtTensor {
    const a = this.make(1);
    a[0] = v;
    return new Tensor(this.dtype, a, []);
  }

  async step(x: Float32Array, labels: ArrayLike<number>, rows: Int32Array, lr: number, masks: FloatArray[] | null): Promise<StepResult> {
    const { layout, config } = this;
    const B = rows.length;
    const D = layout.dim;
    const xb = B === config.batchSize ? this.xBuf : this.make(B * D);
    const yb = B === config.batchSize ? this.yBuf : this.make(B);
    for (let r = 0; r < B; r++) {
      const src = rows[r]! * D;
      xb.set(x.subarray(src, src + D), r * D);
      yb[r] = labels[rows[r]!]!;
    }
    this.t += 1;
    const [b1, b2] = config.betas;
    const bc1 = 1 - b1 ** this.t;
    const bc2 = 1 - b2 ** this.t;
    const inSlot = this.slots[this.cur]!;
    const outSlot = this.slots[1 - this.cur]!;
    const feeds: Record<string, OrtTensor> = {
      ...inSlot.feeds,
      x: new Tensor(this.dtype, xb, [B, D]),
      y: new Tensor(this.dtype, yb, [B, 1]),
      b: this.scalar(B),
      b_minus_1: this.scalar(B - 1),
      inv_b: this.scalar(1 / B),
      decay: this.scalar(1 - lr * config.weightDecay),
      neg_step_size: this.scalar(-((lr * (1 - b1) * Math.sqrt(bc2)) / (bc1 * Math.sqrt(1 - b2)))),
      eps_hat: this.scalar((config.eps * Math.sqrt(bc2)) / Math.sqrt(1 - b2)),
    };
    if (config.dropout > 0) {
      if (!masks) throw new Error('OnnxTrainer: dropout > 0 needs masks');
      masks.forEach((mk, i) => {
        feeds[`mask${i}`] = new Tensor(this.dtype, mk, [B, layout.blocks[i]!.width]);
      });
    }
    const out = await this.session.run(feeds, outSlot.fetches);
    this.cur = 1 - this.cur;
    for (let i = 0; i < this.numBatches.length; i++) this.numBatches[i]! += 1;
    if (this.debug) {
      this.grads = new Map(layout.parameterKeys.map((k) => [k, Float64Array.from(out[`g:${k}`]!.data as Arr)]));
    }
    const loss = Number((out.loss!.data as Arr)[0]);
    const logits = this.debug ? (out.logits_out!.data as Arr) : this.make(0);
    return { loss, logits };
  }

  lastGrads(): Map<string, FloatArray> {
    if (!this.debug) throw new Error('OnnxTrainer: gradients are only kept in debug mode');
    return this.grads;
  }

  /** Adam moments in torch's scale (the graph carries m/(1−β1) and v/(1−β2)). */
  optimizer(): OptimizerSnapshot {
    const s = this.slots[this.cur]!;
    const [b1, b2] = this.config.betas;
    const pick = (prefix: string, scale: number): Map<string, FloatArray> =>
      new Map(this.layout.parameterKeys.map((k) => [k, Float64Array.from(s.arrays.get(`${prefix}:${k}`)!, (u) => u * scale)]));
    return { step: this.t, expAvg: pick('m', 1 - b1), expAvgSq: pick('v', 1 - b2) };
  }

  snapshot(): FnnState {
    const s = this.slots[this.cur]!;
    const state: FnnState = new Map();
    this.layout.blocks.forEach((b, i) => {
      for (const k of [b.weight, b.bias, b.bnWeight, b.bnBias, b.runningMean, b.runningVar]) {
        state.set(k, { shape: [...this.layout.shapes.get(k)!], data: s.arrays.get(`p:${k}`)!.slice() });
      }
      const nb = this.make(1);
      nb[0] = this.numBatches[i]!;
      state.set(b.numBatchesTracked, { shape: [], data: nb });
    });
    for (const k of [this.layout.headWeight, this.layout.headBias]) {
      state.set(k, { shape: [...this.layout.shapes.get(k)!], data: s.arrays.get(`p:${k}`)!.slice() });
    }
    return state;
  }

  dispose(): void {
    void this.session.release();
  }
}
