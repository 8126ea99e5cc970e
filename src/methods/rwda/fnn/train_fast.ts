/**
 * The fast trainer: every step is one onnxruntime run of the train-step graph (graphs.ts).
 *
 * Parameters, Adam moments and running stats live in two sets of typed arrays; a step reads one
 * set and onnxruntime writes the updated tensors straight into the other (pre-allocated
 * outputs), then the sets swap. Nothing of the model's size is allocated or copied per step.
 */
import type { InferenceSession } from 'onnxruntime-node';
import type { FnnConfig, Layout } from './config.ts';
import { buildTrainStepGraph, packingOf, type Dtype, type Packing, type Segment } from './graphs.ts';
import { createSession, Tensor, type OrtTensor } from './ort.ts';
import type { FloatArray, FnnState } from './state.ts';
import { bceWithLogitsMean, type OptimizerSnapshot, type StepResult, type Trainer } from './train_reference.ts';

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
  private readonly packing: Packing;
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
    const pk = packingOf(layout);
    this.packing = pk;
    const pack = (segs: Segment[], size: number): Float64Array => {
      const arr = new Float64Array(size);
      for (const seg of segs) arr.set(state.get(seg.key)!.data, seg.offset);
      return arr;
    };
    const slot = (init: boolean): Slot => {
      const arrays = new Map<string, Arr>();
      const feeds: Record<string, OrtTensor> = {};
      const fetches: Record<string, OrtTensor | null> = {};
      const add = (name: string, dims: number[], src: FloatArray | null): void => {
        const arr = this.make(dims.reduce((a, b) => a * b, 1));
        if (init && src) arr.set(src);
        arrays.set(name, arr);
        feeds[name] = new Tensor(dtype, arr, dims);
        const [kind, key] = [name.slice(0, 1), name.slice(2)];
        fetches[`${kind}_out:${key}`] = new Tensor(dtype, arr, dims);
      };
      for (const k of pk.big) {
        const dims = layout.shapes.get(k)!;
        add(`p:${k}`, dims, state.get(k)!.data);
        add(`m:${k}`, dims, null);
        add(`v:${k}`, dims, null);
      }
      add('p:small', [1, pk.smallSize], pack(pk.small, pk.smallSize));
      add('m:small', [1, pk.smallSize], null);
      add('v:small', [1, pk.smallSize], null);
      add('p:stats', [1, pk.statsSize], pack(pk.stats, pk.statsSize));
      fetches.logits_out = null;
      if (debug) for (const k of layout.parameterKeys) fetches[`g:${k}`] = null;
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
      unbias: this.scalar(B / (B - 1)),
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
    const logits = out.logits_out!.data as Arr;
    return { loss: bceWithLogitsMean(logits, labels, rows), logits };
  }

  lastGrads(): Map<string, FloatArray> {
    if (!this.debug) throw new Error('OnnxTrainer: gradients are only kept in debug mode');
    return this.grads;
  }

  /** The value of `key` in a slot (big tensors directly, small ones out of the packed vectors). */
  private read(slot: Slot, prefix: 'p' | 'm' | 'v', key: string): Arr {
    if (this.packing.big.includes(key)) return slot.arrays.get(`${prefix}:${key}`)!.slice();
    const inSmall = this.packing.small.find((q) => q.key === key);
    const seg = inSmall ?? this.packing.stats.find((q) => q.key === key)!;
    const packed = slot.arrays.get(`${prefix}:${inSmall ? 'small' : 'stats'}`)!;
    return packed.slice(seg.offset, seg.offset + seg.length);
  }

  /** Adam moments in torch's scale (the graph carries m/(1−β1) and v/(1−β2)). */
  optimizer(): OptimizerSnapshot {
    const s = this.slots[this.cur]!;
    const [b1, b2] = this.config.betas;
    const pick = (prefix: 'm' | 'v', scale: number): Map<string, FloatArray> =>
      new Map(this.layout.parameterKeys.map((k) => [k, Float64Array.from(this.read(s, prefix, k), (u) => u * scale)]));
    return { step: this.t, expAvg: pick('m', 1 - b1), expAvgSq: pick('v', 1 - b2) };
  }

  snapshot(): FnnState {
    const s = this.slots[this.cur]!;
    const state: FnnState = new Map();
    const blockOf = new Map(this.layout.blocks.map((b, i) => [b.numBatchesTracked, i]));
    for (const k of this.layout.stateKeys) {
      const shape = [...this.layout.shapes.get(k)!];
      if (blockOf.has(k)) {
        const nb = this.make(1);
        nb[0] = this.numBatches[blockOf.get(k)!]!;
        state.set(k, { shape, data: nb });
      } else {
        state.set(k, { shape, data: this.read(s, 'p', k) });
      }
    }
    return state;
  }

  dispose(): void {
    void this.session.release();
  }
}
