/**
 * The FNN as ONNX graphs for onnxruntime: one whole training step (train-mode forward with batch
 * statistics, running-stat update, BCEWithLogits mean loss, backward, AdamW) and the eval-mode
 * forward. Built per architecture and dtype; float64 graphs exist to check the graph itself
 * tightly against the float64 goldens.
 *
 * Every node costs a few µs of dispatch however small its tensor, so the train-step graph packs
 * the small tensors: all parameters except the hidden Linear weights travel as one row vector
 * `small` [1,S] (parameter order), and all BatchNorm running stats as one row vector `stats`
 * [1,S2] (rm_0, rv_0, rm_1, …); each has one AdamW (or momentum) update instead of one per tensor.
 *
 * Train-step graph names (K = a hidden Linear weight key, e.g. "0.weight"):
 *   inputs  x [B,D], y [B,1], mask{i} [B,h_i] (dropout > 0 only), scalars unbias (B/(B−1)),
 *           inv_b (1/B), decay (1−lr·wd), neg_step_size and eps_hat (see the AdamW part),
 *           p:K m:K v:K, p:small m:small v:small [1,S], p:stats [1,S2]   (m, v scaled, see below)
 *   outputs logits_out [B,1] (train mode; the loss is computed from them outside the graph),
 *           p_out:K m_out:K v_out:K, p_out:small m_out:small v_out:small, p_out:stats;
 *           with `debug`: g:<key> for every parameter.
 */
import type { FnnConfig, Layout } from './config.ts';
import { GraphBuilder, int, ints, type FloatDTypeName } from '../../../clip/onnx/graph.ts';
import { linear, reshape } from '../../../clip/onnx/ops.ts';
import type { FnnState } from './state.ts';

export type Dtype = 'float32' | 'float64';

const ELEM: Record<Dtype, FloatDTypeName> = { float32: 'float', float64: 'double' };

/** The FNN graphs need no op newer than opset 15 (onnx-proto 8's newest schema set), and were validated at it. */
const OPSET = 15;

/** Names of the per-step scalar inputs. */
export const STEP_SCALARS = ['unbias', 'inv_b', 'decay', 'neg_step_size', 'eps_hat'] as const;

/** A tensor's place in a packed row vector. */
export interface Segment {
  key: string;
  offset: number;
  length: number;
}

/** How the train-step graph carries the state (see the module comment). */
export interface Packing {
  /** Parameters carried as their own tensors (the hidden Linear weights). */
  big: string[];
  small: Segment[];
  smallSize: number;
  stats: Segment[];
  statsSize: number;
}

/** The packing for a layout. */
export function packingOf(layout: Layout): Packing {
  const big = layout.blocks.map((b) => b.weight);
  const segs = (keys: string[]): [Segment[], number] => {
    let offset = 0;
    const out = keys.map((key) => {
      const length = layout.shapes.get(key)!.reduce((a, b) => a * b, 1);
      const seg = { key, offset, length };
      offset += length;
      return seg;
    });
    return [out, offset];
  };
  const [small, smallSize] = segs(layout.parameterKeys.filter((k) => !big.includes(k)));
  const [stats, statsSize] = segs(layout.blocks.flatMap((b) => [b.runningMean, b.runningVar]));
  return { big, small, smallSize, stats, statsSize };
}

/** Builds the serialized train-step model. */
export function buildTrainStepGraph(layout: Layout, config: FnnConfig, dtype: Dtype, debug = false): Uint8Array {
  const g = new GraphBuilder('fnn_train_step');
  const T = ELEM[dtype];
  // Graph outputs rename their producers: an Identity would copy each state tensor on every step.
  const output = (value: string, name: string, dims: Array<number | string>): string => g.output(value, name, T, dims, { renameInPlace: true });
  const pk = packingOf(layout);
  const x = g.input('x', T, ['B', layout.dim]);
  const y = g.input('y', T, ['B', 1]);
  const s = Object.fromEntries(STEP_SCALARS.map((n) => [n, g.input(n, T, [])])) as Record<(typeof STEP_SCALARS)[number], string>;
  const p = new Map<string, string>();
  const state = new Map<string, { p: string; m: string; v: string; dims: number[] }>();
  for (const k of pk.big) {
    const dims = layout.shapes.get(k)!;
    const t = { p: g.input(`p:${k}`, T, dims), m: g.input(`m:${k}`, T, dims), v: g.input(`v:${k}`, T, dims), dims };
    state.set(k, t);
    p.set(k, t.p);
  }
  const smallDims = [1, pk.smallSize];
  const small = { p: g.input('p:small', T, smallDims), m: g.input('m:small', T, smallDims), v: g.input('v:small', T, smallDims), dims: smallDims };
  state.set('small', small);
  const stats = g.input('p:stats', T, [1, pk.statsSize]);
  const axis1 = g.i64('axis1', [1]);
  // Each small parameter is a [1,n] slice: it broadcasts over the batch like a torch [n] vector.
  for (const seg of pk.small) {
    p.set(seg.key, g.node('Slice', [small.p, g.i64('start', [seg.offset]), g.i64('end', [seg.offset + seg.length]), axis1], {}, { hint: `p_${seg.key}` }));
  }
  const axis0 = g.i64('axis0', [0]);
  const mom = g.scalar('mom', config.bnMomentum, T);
  const oneMinusMom = g.scalar('one_minus_mom', 1 - config.bnMomentum, T);
  const bnEps = g.scalar('bn_eps', config.bnEps, T);
  const one = g.scalar('one', 1, T);
  const sumRows = (t: string): string => g.node('ReduceSum', [t, axis0], { keepdims: int(1) });
  const meanRows = (t: string, hint?: string): string => g.node('ReduceMean', [t], { axes: ints([0]), keepdims: int(1) }, { hint });

  // Forward, train mode.
  interface Cache { input: string; zhat: string; relu: string; invstd: string; mask: string | null }
  const caches: Cache[] = [];
  const batchStats: string[] = [];
  let a = x;
  layout.blocks.forEach((blk, i) => {
    const input = a;
    const z = g.within(`block${i}`, () => linear(g, a, p.get(blk.weight)!, p.get(blk.bias)!));
    const mu = meanRows(z, `mu${i}`);
    const d = g.node('Sub', [z, mu]);
    const varB = meanRows(g.node('Mul', [d, d]), `var${i}`);
    const invstd = g.node('Div', [one, g.node('Sqrt', [g.node('Add', [varB, bnEps])])], {}, { hint: `invstd${i}` });
    const zhat = g.node('Mul', [d, invstd], {}, { hint: `zhat${i}` });
    const bn = g.node('Add', [g.node('Mul', [zhat, p.get(blk.bnWeight)!]), p.get(blk.bnBias)!]);
    const relu = g.node('Relu', [bn], {}, { hint: `relu${i}` });
    let mask: string | null = null;
    if (config.dropout > 0) {
      mask = g.input(`mask${i}`, T, ['B', blk.width]);
      a = g.node('Mul', [relu, mask], {}, { hint: `drop${i}` });
    } else {
      a = relu;
    }
    // Running stats use the unbiased variance σ²_b·B/(B−1).
    batchStats.push(mu, g.node('Mul', [varB, s.unbias], {}, { hint: `varu${i}` }));
    caches.push({ input, zhat, relu, invstd, mask });
  });
  // torch: running ← momentum·batch + (1 − momentum)·running, for all blocks at once.
  const batchRow = g.node('Concat', batchStats, { axis: int(1) });
  const newStats = g.node('Add', [g.node('Mul', [batchRow, mom]), g.node('Mul', [stats, oneMinusMom])]);

  const logits = g.within('head', () => linear(g, a, p.get(layout.headWeight)!, p.get(layout.headBias)!));

  // Backward.
  const grads = new Map<string, string>();
  const dlogit = g.node('Mul', [g.node('Sub', [g.node('Sigmoid', [logits]), y]), s.inv_b], {}, { hint: 'dlogit' });
  grads.set(layout.headWeight, g.node('Gemm', [dlogit, a], { transA: int(1) }));
  grads.set(layout.headBias, sumRows(dlogit));
  let da = g.node('MatMul', [dlogit, p.get(layout.headWeight)!]);
  for (let i = layout.blocks.length - 1; i >= 0; i--) {
    const blk = layout.blocks[i]!;
    const c = caches[i]!;
    const dout = c.mask ? g.node('Mul', [da, c.mask]) : da;
    // ReLU passes the gradient where its output is positive; Sign(relu) is exactly that 0/1 mask.
    const dbn = g.node('Mul', [dout, g.node('Sign', [c.relu])], {}, { hint: `dbn${i}` });
    const dgamma = sumRows(g.node('Mul', [dbn, c.zhat]));
    const dbeta = sumRows(dbn);
    // dz = invstd·γ·(dout − Σdout/B − ẑ·Σ(dout·ẑ)/B), the README's formula with γ factored out.
    const k1 = g.node('Mul', [dbeta, s.inv_b]);
    const k2 = g.node('Mul', [dgamma, s.inv_b]);
    const scale = g.node('Mul', [c.invstd, p.get(blk.bnWeight)!]);
    const dz = g.node('Mul', [g.node('Sub', [g.node('Sub', [dbn, k1]), g.node('Mul', [c.zhat, k2])]), scale], {}, { hint: `dz${i}` });
    grads.set(blk.weight, g.node('Gemm', [dz, c.input], { transA: int(1) }));
    grads.set(blk.bias, sumRows(dz));
    grads.set(blk.bnWeight, dgamma);
    grads.set(blk.bnBias, dbeta);
    if (i > 0) da = g.node('MatMul', [dz, p.get(blk.weight)!]);
  }
  grads.set('small', g.node('Concat', pk.small.map((seg) => grads.get(seg.key)!), { axis: int(1) }, { hint: 'g_small' }));

  // AdamW in torch's order (decoupled decay, moments, bias-corrected step), rearranged to need
  // fewer full-size ops (the same values up to rounding). The graph carries the moments scaled,
  // m̃ = m/(1−β1) and ṽ = v/(1−β2), so that m̃ ← β1·m̃ + g and ṽ ← β2·ṽ + g², and
  //   (lr/bc1)·m/(√v/√bc2 + eps) = c1·m̃/(√ṽ + c2)  with
  //   c1 = lr·(1−β1)·√bc2/(bc1·√(1−β2)),  c2 = eps·√bc2/√(1−β2)   (inputs neg_step_size = −c1, eps_hat = c2).
  const [b1, b2] = config.betas;
  const cb1 = g.scalar('beta1', b1, T);
  const cb2 = g.scalar('beta2', b2, T);
  for (const [k, t] of state) {
    const gk = grads.get(k)!;
    const p1 = g.node('Mul', [t.p, s.decay]);
    const m1 = g.node('Add', [g.node('Mul', [t.m, cb1]), gk]);
    const v1 = g.node('Add', [g.node('Mul', [t.v, cb2]), g.node('Mul', [gk, gk])]);
    const denom = g.node('Add', [g.node('Sqrt', [v1]), s.eps_hat]);
    const p2 = g.node('Add', [p1, g.node('Div', [g.node('Mul', [m1, s.neg_step_size]), denom])]);
    output(p2, `p_out:${k}`, t.dims);
    output(m1, `m_out:${k}`, t.dims);
    output(v1, `v_out:${k}`, t.dims);
  }
  output(newStats, 'p_out:stats', [1, pk.statsSize]);
  output(logits, 'logits_out', ['B', 1]);
  if (debug) {
    for (const k of layout.parameterKeys) output(grads.get(k)!, `g:${k}`, pk.big.includes(k) ? layout.shapes.get(k)! : [1, pk.small.find((q) => q.key === k)!.length]);
  }
  return g.toBytes(OPSET);
}

/**
 * Eval-mode forward with each BatchNorm folded into its Linear (in float64, before rounding to
 * the graph's dtype): W'[o] = W[o]·s_o, b'_o = (b_o − rm_o)·s_o + β_o, s_o = γ_o/√(rv_o + eps).
 * Input x [N,D], output logits [N]; with hiddenOutputs also hidden<i> [N,h_i], block i's post-ReLU output.
 */
export function buildEvalGraph(layout: Layout, state: FnnState, bnEps: number, dtype: Dtype, opts: { hiddenOutputs?: boolean } = {}): Uint8Array {
  const g = new GraphBuilder('fnn_eval');
  const T = ELEM[dtype];
  let a = g.input('x', T, ['N', layout.dim]);
  for (const blk of layout.blocks) {
    const w = state.get(blk.weight)!.data;
    const b = state.get(blk.bias)!.data;
    const gamma = state.get(blk.bnWeight)!.data;
    const beta = state.get(blk.bnBias)!.data;
    const rm = state.get(blk.runningMean)!.data;
    const rv = state.get(blk.runningVar)!.data;
    const wf = new Float64Array(w.length);
    const bf = new Float64Array(blk.width);
    for (let o = 0; o < blk.width; o++) {
      const sc = gamma[o]! / Math.sqrt(rv[o]! + bnEps);
      for (let k = 0; k < blk.fanIn; k++) wf[o * blk.fanIn + k] = w[o * blk.fanIn + k]! * sc;
      bf[o] = (b[o]! - rm[o]!) * sc + beta[o]!;
    }
    const z = linear(g, a, g.floatConstant('w', wf, [blk.width, blk.fanIn], T), g.floatConstant('b', bf, [blk.width], T));
    a = g.node('Relu', [z]);
    // Dropout is the identity in eval mode, so the post-ReLU value is the block's output.
    if (opts.hiddenOutputs) g.output(a, `hidden${layout.blocks.indexOf(blk)}`, T, ['N', blk.width]);
  }
  const last = layout.hidden[layout.hidden.length - 1]!;
  const hw = g.floatConstant('head_w', state.get(layout.headWeight)!.data, [1, last], T);
  const hb = g.floatConstant('head_b', state.get(layout.headBias)!.data, [1], T);
  const logits = linear(g, a, hw, hb);
  g.output(reshape(g, logits, g.i64('flat', [-1])), 'logits', T, ['N'], { renameInPlace: true });
  return g.toBytes(OPSET);
}
