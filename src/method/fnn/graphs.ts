/**
 * The FNN as ONNX graphs for onnxruntime: one whole training step (train-mode forward with batch
 * statistics, running-stat update, BCEWithLogits mean loss, backward, AdamW) and the eval-mode
 * forward. Built per architecture and dtype; float64 graphs exist to check the graph itself
 * tightly against the float64 goldens.
 *
 * Train-step graph names (K = a state_dict key):
 *   inputs  x [B,D], y [B,1], mask{i} [B,h_i] (dropout > 0 only), scalars b (B), b_minus_1,
 *           inv_b (1/B), decay (1−lr·wd), neg_step_size and eps_hat (see the AdamW part),
 *           p:K m:K v:K for every parameter (m, v scaled, see below), p:K for running_mean/running_var
 *   outputs loss [], p_out:K m_out:K v_out:K, p_out:K for the running stats;
 *           with `debug`: logits [B,1] and g:K (the gradients).
 */
import type { FnnConfig, Layout } from './config.ts';
import { GraphBuilder } from './onnx_builder.ts';
import type { FnnState } from './state.ts';

export type Dtype = 'float32' | 'float64';

/** Names of the per-step scalar inputs. */
export const STEP_SCALARS = ['b', 'b_minus_1', 'inv_b', 'decay', 'neg_step_size', 'eps_hat'] as const;

/** Keys that travel through the step graph as state (parameters and BN running stats). */
export function stateKeysOf(layout: Layout): { params: string[]; buffers: string[] } {
  const buffers: string[] = [];
  for (const b of layout.blocks) buffers.push(b.runningMean, b.runningVar);
  return { params: [...layout.parameterKeys], buffers };
}

/** Builds the serialized train-step model. */
export function buildTrainStepGraph(layout: Layout, config: FnnConfig, dtype: Dtype, debug = false): Uint8Array {
  const g = new GraphBuilder(dtype);
  const shapeOf = (k: string): number[] => layout.shapes.get(k)!;
  const x = g.input('x', ['B', layout.dim]);
  const y = g.input('y', ['B', 1]);
  const s = Object.fromEntries(STEP_SCALARS.map((n) => [n, g.input(n, [])])) as Record<(typeof STEP_SCALARS)[number], string>;
  const p = new Map<string, string>();
  const m = new Map<string, string>();
  const v = new Map<string, string>();
  for (const k of layout.parameterKeys) {
    p.set(k, g.input(`p:${k}`, shapeOf(k)));
    m.set(k, g.input(`m:${k}`, shapeOf(k)));
    v.set(k, g.input(`v:${k}`, shapeOf(k)));
  }
  for (const b of layout.blocks) {
    p.set(b.runningMean, g.input(`p:${b.runningMean}`, [b.width]));
    p.set(b.runningVar, g.input(`p:${b.runningVar}`, [b.width]));
  }
  const axis0 = g.int64s([0], 'axis0');
  const flat = g.int64s([-1], 'flat');
  const mom = g.scalar(config.bnMomentum, 'mom');
  const oneMinusMom = g.scalar(1 - config.bnMomentum, 'one_minus_mom');
  const bnEps = g.scalar(config.bnEps, 'bn_eps');
  const one = g.scalar(1, 'one');
  const sumRows = (t: string, keep: 0 | 1): string => g.op('ReduceSum', [t, axis0], { keepdims: keep });

  // Forward, train mode.
  interface Cache { input: string; zhat: string; relu: string; invstd: string; mask: string | null }
  const caches: Cache[] = [];
  const newBuffers = new Map<string, string>();
  let a = x;
  layout.blocks.forEach((blk, i) => {
    const input = a;
    const z = g.op('Gemm', [a, p.get(blk.weight)!, p.get(blk.bias)!], { transB: 1 }, `z${i}`);
    const mu = g.op('Div', [sumRows(z, 1), s.b], {}, `mu${i}`);
    const d = g.op('Sub', [z, mu]);
    const sumSq = sumRows(g.op('Mul', [d, d]), 1);
    const varB = g.op('Div', [sumSq, s.b], {}, `var${i}`);
    const invstd = g.op('Div', [one, g.op('Sqrt', [g.op('Add', [varB, bnEps])])], {}, `invstd${i}`);
    const zhat = g.op('Mul', [d, invstd], {}, `zhat${i}`);
    const bn = g.op('Add', [g.op('Mul', [zhat, p.get(blk.bnWeight)!]), p.get(blk.bnBias)!]);
    const relu = g.op('Relu', [bn], {}, `relu${i}`);
    let mask: string | null = null;
    if (config.dropout > 0) {
      mask = g.input(`mask${i}`, ['B', blk.width]);
      a = g.op('Mul', [relu, mask], {}, `drop${i}`);
    } else {
      a = relu;
    }
    // torch: running ← momentum·batch + (1 − momentum)·running, with the unbiased variance.
    const rm = g.op('Add', [g.op('Mul', [mu, mom]), g.op('Mul', [p.get(blk.runningMean)!, oneMinusMom])]);
    const unbiased = g.op('Div', [sumSq, s.b_minus_1]);
    const rv = g.op('Add', [g.op('Mul', [unbiased, mom]), g.op('Mul', [p.get(blk.runningVar)!, oneMinusMom])]);
    newBuffers.set(blk.runningMean, g.op('Reshape', [rm, flat]));
    newBuffers.set(blk.runningVar, g.op('Reshape', [rv, flat]));
    caches.push({ input, zhat, relu, invstd, mask });
  });
  const logits = g.op('Gemm', [a, p.get(layout.headWeight)!, p.get(layout.headBias)!], { transB: 1 }, 'logits');
  // BCEWithLogits, mean: max(x,0) − x·y + log(1 + exp(−|x|)).
  const softplusNegAbs = g.op('Log', [g.op('Add', [one, g.op('Exp', [g.op('Neg', [g.op('Abs', [logits])])])])]);
  const perRow = g.op('Add', [g.op('Sub', [g.op('Relu', [logits]), g.op('Mul', [logits, y])]), softplusNegAbs]);
  const loss = g.op('ReduceMean', [perRow], { keepdims: 0 }, 'loss');

  // Backward.
  const grads = new Map<string, string>();
  const dlogit = g.op('Mul', [g.op('Sub', [g.op('Sigmoid', [logits]), y]), s.inv_b], {}, 'dlogit');
  grads.set(layout.headWeight, g.op('Gemm', [dlogit, a], { transA: 1 }));
  grads.set(layout.headBias, sumRows(dlogit, 0));
  let da = g.op('MatMul', [dlogit, p.get(layout.headWeight)!]);
  for (let i = layout.blocks.length - 1; i >= 0; i--) {
    const blk = layout.blocks[i]!;
    const c = caches[i]!;
    const dout = c.mask ? g.op('Mul', [da, c.mask]) : da;
    // ReLU passes the gradient where its output is positive; Sign(relu) is exactly that 0/1 mask.
    const dbn = g.op('Mul', [dout, g.op('Sign', [c.relu])], {}, `dbn${i}`);
    const dgamma = sumRows(g.op('Mul', [dbn, c.zhat]), 0);
    const dbeta = sumRows(dbn, 0);
    // dz = invstd·γ·(dout − Σdout/B − ẑ·Σ(dout·ẑ)/B), the README's formula with γ factored out.
    const k1 = g.op('Mul', [dbeta, s.inv_b]);
    const k2 = g.op('Mul', [dgamma, s.inv_b]);
    const scale = g.op('Mul', [c.invstd, p.get(blk.bnWeight)!]);
    const dz = g.op('Mul', [g.op('Sub', [g.op('Sub', [dbn, k1]), g.op('Mul', [c.zhat, k2])]), scale], {}, `dz${i}`);
    grads.set(blk.weight, g.op('Gemm', [dz, c.input], { transA: 1 }));
    grads.set(blk.bias, sumRows(dz, 0));
    grads.set(blk.bnWeight, dgamma);
    grads.set(blk.bnBias, dbeta);
    if (i > 0) da = g.op('MatMul', [dz, p.get(blk.weight)!]);
  }

  // AdamW in torch's order (decoupled decay, moments, bias-corrected step), rearranged to need
  // fewer full-size ops (the same values up to rounding). The graph carries the moments scaled,
  // m̃ = m/(1−β1) and ṽ = v/(1−β2), so that m̃ ← β1·m̃ + g and ṽ ← β2·ṽ + g², and
  //   (lr/bc1)·m/(√v/√bc2 + eps) = c1·m̃/(√ṽ + c2)  with
  //   c1 = lr·(1−β1)·√bc2/(bc1·√(1−β2)),  c2 = eps·√bc2/√(1−β2)   (inputs neg_step_size = −c1, eps_hat = c2).
  const [b1, b2] = config.betas;
  const cb1 = g.scalar(b1, 'beta1');
  const cb2 = g.scalar(b2, 'beta2');
  for (const k of layout.parameterKeys) {
    const gk = grads.get(k)!;
    const p1 = g.op('Mul', [p.get(k)!, s.decay]);
    const m1 = g.op('Add', [g.op('Mul', [m.get(k)!, cb1]), gk]);
    const v1 = g.op('Add', [g.op('Mul', [v.get(k)!, cb2]), g.op('Mul', [gk, gk])]);
    const denom = g.op('Add', [g.op('Sqrt', [v1]), s.eps_hat]);
    const p2 = g.op('Add', [p1, g.op('Div', [g.op('Mul', [m1, s.neg_step_size]), denom])]);
    g.output(p2, `p_out:${k}`, shapeOf(k));
    g.output(m1, `m_out:${k}`, shapeOf(k));
    g.output(v1, `v_out:${k}`, shapeOf(k));
    if (debug) g.output(gk, `g:${k}`, shapeOf(k));
  }
  for (const [k, t] of newBuffers) g.output(t, `p_out:${k}`, shapeOf(k));
  g.output(loss, 'loss', []);
  if (debug) g.output(logits, 'logits_out', ['B', 1]);
  return g.build('fnn_train_step');
}

/**
 * Eval-mode forward with each BatchNorm folded into its Linear (in float64, before rounding to
 * the graph's dtype): W'[o] = W[o]·s_o, b'_o = (b_o − rm_o)·s_o + β_o, s_o = γ_o/√(rv_o + eps).
 * Input x [N,D], output logits [N].
 */
export function buildEvalGraph(layout: Layout, state: FnnState, bnEps: number, dtype: Dtype): Uint8Array {
  const g = new GraphBuilder(dtype);
  let a = g.input('x', ['N', layout.dim]);
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
    const z = g.op('Gemm', [a, g.constant([blk.width, blk.fanIn], wf), g.constant([blk.width], bf)], { transB: 1 });
    a = g.op('Relu', [z]);
  }
  const last = layout.hidden[layout.hidden.length - 1]!;
  const hw = g.constant([1, last], state.get(layout.headWeight)!.data);
  const hb = g.constant([1], state.get(layout.headBias)!.data);
  const logits = g.op('Gemm', [a, hw, hb], { transB: 1 });
  g.output(g.op('Reshape', [logits, g.int64s([-1])]), 'logits', ['N']);
  return g.build('fnn_eval');
}
