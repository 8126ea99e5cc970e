/**
 * The exactness reference: one training step of the FNN in plain JavaScript numbers (float64),
 * written straight from torch's semantics (BatchNorm1d train/eval, ReLU, inverted Dropout,
 * BCEWithLogits mean loss, AdamW with decoupled decay first). Slow; used for tests and as the
 * `backend: 'reference'` trainer.
 */
import type { FnnConfig, Layout } from './config.ts';
import { convertState, type FloatArray, type FnnState } from './state.ts';

/** AdamW moments after the last step, keyed like the parameters. */
export interface OptimizerSnapshot {
  step: number;
  expAvg: Map<string, FloatArray>;
  expAvgSq: Map<string, FloatArray>;
}

/** One step's result. */
export interface StepResult {
  loss: number;
  /** Train-mode logits of the batch (before the update). */
  logits: FloatArray;
}

/** A trainer both backends implement (the driver in train.ts runs either). */
export interface Trainer {
  /** Precision of the computation; dropout masks are made in it. */
  readonly dtype: 'float32' | 'float64';
  step(x: Float32Array, labels: ArrayLike<number>, rows: Int32Array, lr: number, masks: FloatArray[] | null): StepResult | Promise<StepResult>;
  /** Gradients of the last step, in parameter order (for tests). */
  lastGrads(): Map<string, FloatArray>;
  optimizer(): OptimizerSnapshot;
  /** The current state_dict (fresh arrays). */
  snapshot(): FnnState;
  dispose(): void;
}

interface BlockCache {
  input: Float64Array;
  zhat: Float64Array;
  relu: Float64Array;
  invstd: Float64Array;
  mask: FloatArray | null;
}

/** Float64 trainer holding its own copy of the state. */
export class ReferenceTrainer implements Trainer {
  readonly dtype = 'float64' as const;
  private readonly layout: Layout;
  private readonly config: FnnConfig;
  private readonly state: FnnState;
  private readonly m = new Map<string, Float64Array>();
  private readonly v = new Map<string, Float64Array>();
  private grads = new Map<string, Float64Array>();
  private t = 0;

  constructor(layout: Layout, config: FnnConfig, state: FnnState) {
    this.layout = layout;
    this.config = config;
    this.state = convertState(layout, state, 'float64');
    for (const key of layout.parameterKeys) {
      const n = this.state.get(key)!.data.length;
      this.m.set(key, new Float64Array(n));
      this.v.set(key, new Float64Array(n));
    }
  }

  private p(key: string): Float64Array {
    return this.state.get(key)!.data as Float64Array;
  }

  step(x: Float32Array, labels: ArrayLike<number>, rows: Int32Array, lr: number, masks: FloatArray[] | null): StepResult {
    const { layout, config } = this;
    const B = rows.length;
    const D = layout.dim;
    let a = new Float64Array(B * D);
    for (let r = 0; r < B; r++) for (let k = 0; k < D; k++) a[r * D + k] = x[rows[r]! * D + k]!;
    const caches: BlockCache[] = [];
    const mom = config.bnMomentum;

    layout.blocks.forEach((blk, bi) => {
      const h = blk.width;
      const f = blk.fanIn;
      const z = linear(a, B, f, this.p(blk.weight), this.p(blk.bias), h);
      const gamma = this.p(blk.bnWeight);
      const beta = this.p(blk.bnBias);
      const zhat = new Float64Array(B * h);
      const relu = new Float64Array(B * h);
      const invstd = new Float64Array(h);
      const rm = this.p(blk.runningMean);
      const rv = this.p(blk.runningVar);
      for (let o = 0; o < h; o++) {
        let s = 0;
        for (let r = 0; r < B; r++) s += z[r * h + o]!;
        const mu = s / B;
        let ss = 0;
        for (let r = 0; r < B; r++) {
          const d = z[r * h + o]! - mu;
          ss += d * d;
        }
        const varB = ss / B;
        const is = 1 / Math.sqrt(varB + config.bnEps);
        invstd[o] = is;
        for (let r = 0; r < B; r++) {
          const zh = (z[r * h + o]! - mu) * is;
          zhat[r * h + o] = zh;
          relu[r * h + o] = Math.max(zh * gamma[o]! + beta[o]!, 0);
        }
        rm[o] = mom * mu + (1 - mom) * rm[o]!;
        rv[o] = mom * (ss / (B - 1)) + (1 - mom) * rv[o]!;
      }
      const nb = this.state.get(blk.numBatchesTracked)!.data;
      nb[0] = nb[0]! + 1;
      const mask = masks ? masks[bi]! : null;
      const out = new Float64Array(B * h);
      for (let i = 0; i < B * h; i++) out[i] = mask ? relu[i]! * mask[i]! : relu[i]!;
      caches.push({ input: a, zhat, relu, invstd, mask });
      a = out;
    });

    const hl = layout.hidden[layout.hidden.length - 1]!;
    const hw = this.p(layout.headWeight);
    const logits = linear(a, B, hl, hw, this.p(layout.headBias), 1);
    const dlogit = new Float64Array(B);
    for (let r = 0; r < B; r++) dlogit[r] = (1 / (1 + Math.exp(-logits[r]!)) - labels[rows[r]!]!) / B;
    const loss = bceWithLogitsMean(logits, labels, rows);

    const grads = new Map<string, Float64Array>();
    const [dhw, dhb] = linearGrads(dlogit, a, B, hl, 1);
    grads.set(layout.headWeight, dhw);
    grads.set(layout.headBias, dhb);
    let da = inputGrad(dlogit, B, hw, 1, hl);
    for (let bi = layout.blocks.length - 1; bi >= 0; bi--) {
      const blk = layout.blocks[bi]!;
      const c = caches[bi]!;
      const h = blk.width;
      const gamma = this.p(blk.bnWeight);
      const dbn = new Float64Array(B * h);
      for (let i = 0; i < B * h; i++) {
        const g = c.mask ? da[i]! * c.mask[i]! : da[i]!;
        dbn[i] = c.relu[i]! > 0 ? g : 0;
      }
      const dgamma = new Float64Array(h);
      const dbeta = new Float64Array(h);
      const dz = new Float64Array(B * h);
      for (let o = 0; o < h; o++) {
        let sg = 0;
        let sb = 0;
        for (let r = 0; r < B; r++) {
          sg += dbn[r * h + o]! * c.zhat[r * h + o]!;
          sb += dbn[r * h + o]!;
        }
        dgamma[o] = sg;
        dbeta[o] = sb;
        // dz = (1/B)·invstd·(B·dẑ − Σdẑ − ẑ·Σ(dẑ·ẑ)) with dẑ = dout·weight.
        const gsc = gamma[o]!;
        const sdz = sb * gsc;
        const sdzz = sg * gsc;
        for (let r = 0; r < B; r++) {
          const dzh = dbn[r * h + o]! * gsc;
          dz[r * h + o] = (c.invstd[o]! / B) * (B * dzh - sdz - c.zhat[r * h + o]! * sdzz);
        }
      }
      const [dw, db] = linearGrads(dz, c.input, B, blk.fanIn, h);
      grads.set(blk.weight, dw);
      grads.set(blk.bias, db);
      grads.set(blk.bnWeight, dgamma);
      grads.set(blk.bnBias, dbeta);
      if (bi > 0) da = inputGrad(dz, B, this.p(blk.weight), h, blk.fanIn);
    }
    this.grads = new Map(layout.parameterKeys.map((k) => [k, grads.get(k)!]));
    this.adamw(lr);
    return { loss, logits };
  }

  private adamw(lr: number): void {
    const { config } = this;
    const [b1, b2] = config.betas;
    this.t += 1;
    const bc1 = 1 - b1 ** this.t;
    const bc2 = 1 - b2 ** this.t;
    const stepSize = lr / bc1;
    const bc2Sqrt = Math.sqrt(bc2);
    const decay = 1 - lr * config.weightDecay;
    for (const key of this.layout.parameterKeys) {
      const p = this.p(key);
      const g = this.grads.get(key)!;
      const m = this.m.get(key)!;
      const v = this.v.get(key)!;
      for (let i = 0; i < p.length; i++) {
        p[i] = p[i]! * decay;
        m[i] = m[i]! * b1 + (1 - b1) * g[i]!;
        v[i] = v[i]! * b2 + (1 - b2) * g[i]! * g[i]!;
        const denom = Math.sqrt(v[i]!) / bc2Sqrt + config.eps;
        p[i] = p[i]! + (-stepSize * m[i]!) / denom;
      }
    }
  }

  lastGrads(): Map<string, FloatArray> {
    return new Map([...this.grads].map(([k, g]) => [k, Float64Array.from(g)]));
  }

  optimizer(): OptimizerSnapshot {
    const copy = (mm: Map<string, Float64Array>): Map<string, FloatArray> => new Map([...mm].map(([k, g]) => [k, Float64Array.from(g)]));
    return { step: this.t, expAvg: copy(this.m), expAvgSq: copy(this.v) };
  }

  snapshot(): FnnState {
    return convertState(this.layout, this.state, 'float64');
  }

  dispose(): void {}
}

/** BCEWithLogitsLoss(reduction="mean") in float64: mean of max(x,0) − x·y + log(1 + exp(−|x|)). */
export function bceWithLogitsMean(logits: ArrayLike<number>, labels: ArrayLike<number>, rows: Int32Array): number {
  let sum = 0;
  for (let r = 0; r < rows.length; r++) {
    const x = logits[r]!;
    sum += Math.max(x, 0) - x * labels[rows[r]!]! + Math.log1p(Math.exp(-Math.abs(x)));
  }
  return sum / rows.length;
}

/** y[B][out] = a[B][in] · Wᵀ + b. */
function linear(a: Float64Array, B: number, fin: number, w: Float64Array, b: Float64Array, fout: number): Float64Array {
  const y = new Float64Array(B * fout);
  for (let r = 0; r < B; r++) {
    for (let o = 0; o < fout; o++) {
      let s = 0;
      for (let k = 0; k < fin; k++) s += a[r * fin + k]! * w[o * fin + k]!;
      y[r * fout + o] = s + b[o]!;
    }
  }
  return y;
}

/** dW[out][in] = dyᵀ · a, db = Σ_rows dy. */
function linearGrads(dy: Float64Array, a: Float64Array, B: number, fin: number, fout: number): [Float64Array, Float64Array] {
  const dw = new Float64Array(fout * fin);
  const db = new Float64Array(fout);
  for (let r = 0; r < B; r++) {
    for (let o = 0; o < fout; o++) {
      const g = dy[r * fout + o]!;
      db[o] = db[o]! + g;
      if (g === 0) continue;
      for (let k = 0; k < fin; k++) dw[o * fin + k] = dw[o * fin + k]! + g * a[r * fin + k]!;
    }
  }
  return [dw, db];
}

/** da[B][in] = dy[B][out] · W[out][in]. */
function inputGrad(dy: Float64Array, B: number, w: Float64Array, fout: number, fin: number): Float64Array {
  const da = new Float64Array(B * fin);
  for (let r = 0; r < B; r++) {
    for (let o = 0; o < fout; o++) {
      const g = dy[r * fout + o]!;
      if (g === 0) continue;
      for (let k = 0; k < fin; k++) da[r * fin + k] = da[r * fin + k]! + g * w[o * fin + k]!;
    }
  }
  return da;
}

/** Eval-mode post-ReLU activations of every hidden block, in float64 (fallback of Fnn.hiddenActivations). */
export function hiddenReference(layout: Layout, state: FnnState, x: ArrayLike<number>, n: number, bnEps: number): Float64Array[] {
  let a: Float64Array = Float64Array.from({ length: n * layout.dim }, (_, i) => x[i]!);
  const get = (k: string): Float64Array => Float64Array.from(state.get(k)!.data);
  const outs: Float64Array[] = [];
  for (const blk of layout.blocks) {
    const h = blk.width;
    const z = linear(a, n, blk.fanIn, get(blk.weight), get(blk.bias), h);
    const rm = get(blk.runningMean);
    const rv = get(blk.runningVar);
    const g = get(blk.bnWeight);
    const b = get(blk.bnBias);
    for (let r = 0; r < n; r++) {
      for (let o = 0; o < h; o++) {
        const v = ((z[r * h + o]! - rm[o]!) / Math.sqrt(rv[o]! + bnEps)) * g[o]! + b[o]!;
        z[r * h + o] = v > 0 ? v : 0;
      }
    }
    outs.push(z);
    a = z;
  }
  return outs;
}

/** Eval-mode logits in float64, torch's formula unfused: BN uses running stats, Dropout is the identity. */
export function evalLogitsReference(layout: Layout, state: FnnState, x: ArrayLike<number>, n: number, bnEps: number): Float64Array {
  const hidden = hiddenReference(layout, state, x, n, bnEps);
  const get = (k: string): Float64Array => Float64Array.from(state.get(k)!.data);
  return linear(hidden[hidden.length - 1]!, n, layout.hidden[layout.hidden.length - 1]!, get(layout.headWeight), get(layout.headBias), 1);
}
