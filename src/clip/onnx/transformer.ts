/**
 * open_clip's residual attention blocks as ONNX nodes: x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)),
 * with the residual stream kept 2-D ([B·L, width]) so every projection is a Gemm on the torch-layout
 * weight. The residual add of each sub-block is left "pending" and folded into the next LayerNorm
 * (optionally as one SkipLayerNormalization), so callers finish the stack with their own final LayerNorm.
 */
import { GraphBuilder, int, MS_DOMAIN, float } from './graph.ts';
import { addAndNorm, gelu, layerNorm, linear, quickGelu, reshape, shapeOf, transpose } from './ops.ts';
import type { WeightBinder } from './weights.ts';

/** Which kernels implement the block; every choice computes the same function (see the exactness tests). */
export interface KernelOptions {
  /** 'mha': ORT's com.microsoft.MultiHeadAttention (flash attention on CPU when unmasked); 'ops': MatMul/Softmax. */
  attention: 'mha' | 'ops';
  /** com.microsoft Gelu/BiasGelu/QuickGelu instead of Erf/Sigmoid primitives. */
  contribActivations: boolean;
  /** com.microsoft SkipLayerNormalization for residual add + LayerNorm. */
  skipLayerNorm: boolean;
  /** One Gemm for q, k and v (then Split) instead of three. */
  fusedQkv: boolean;
}

/**
 * The fastest exact choice measured on 2 AVX-512 cores (ORT 1.30, ViT-B-16-plus-240 batch 8): the
 * contrib activations beat Erf/Sigmoid chains ~2x; SkipLayerNormalization's CPU kernel is scalar and
 * ~3x slower than Add + LayerNormalization; MHA and MatMul/Softmax attention and fused vs split q/k/v
 * were within noise of each other.
 */
export const DEFAULT_KERNELS: KernelOptions = { attention: 'mha', contribActivations: true, skipLayerNorm: false, fusedQkv: true };
/** Standard ONNX ops only: the reference the contrib variants are tested against. */
export const REFERENCE_KERNELS: KernelOptions = { attention: 'ops', contribActivations: false, skipLayerNorm: false, fusedQkv: true };

export interface TransformerSpec {
  /** State-dict prefix, e.g. 'visual.transformer' or 'transformer'. */
  prefix: string;
  layers: number;
  width: number;
  heads: number;
  quickGelu: boolean;
  /** Causal (text) vs bidirectional (vision) attention. */
  causal: boolean;
}

/** The residual stream after the last block: `residual + delta (+ deltaBias)`, not yet added. */
export interface PendingResidual {
  residual: string;
  delta?: string;
  deltaBias?: string;
}

export interface StackResult {
  pending: PendingResidual;
  /** Residual stream after each block except the last (the last one is `pending`), [B·L, width]. */
  blockOutputs: string[];
}

/**
 * Runs the blocks on `x` ([B·L, width], 2-D). `bl` is the int64 1-D tensor [B, L] used to view
 * the stream as [B, L, ...] for attention; `mask` is the additive [L, L] causal mask for the 'ops'
 * attention path (unused by 'mha', which applies causality itself). `qkv0`, when given, is block 0's
 * fused projection of ln_1(x) from `qkvProjection` (e.g. gathered from a pass that shares x's rows).
 */
export function transformerStack(
  b: GraphBuilder,
  w: WeightBinder,
  x: string,
  bl: string,
  spec: TransformerSpec,
  k: KernelOptions,
  mask?: string,
  pool?: PooledRows,
  qkv0?: string,
): StackResult {
  let pending: PendingResidual = { residual: x };
  const blockOutputs: string[] = [];
  for (let i = 0; i < spec.layers; i++) {
    b.within(`${spec.prefix}.${i}`, () => {
      const p = `${spec.prefix}.resblocks.${i}`;
      if (pool && i === spec.layers - 1) {
        if (qkv0 && i === 0) throw new Error('a precomputed first-block q/k/v needs a stack deeper than its pooled block');
        pending = pooledBlock(b, w, pending, bl, p, spec, k, pool);
        return;
      }
      // A caller-supplied first-block projection replaces ln_1 and the q/k/v Gemm (x is the stream as is).
      const shared = i === 0 ? qkv0 : undefined;
      const n1 = shared ? { sum: x, normed: '' } : finishNorm(b, pending, w.tensor(`${p}.ln_1.weight`), w.tensor(`${p}.ln_1.bias`), k.skipLayerNorm);
      if (i > 0) blockOutputs.push(n1.sum);
      const attnOut = attention(b, w, n1.normed, bl, p, spec, k, mask, shared);
      pending = { residual: n1.sum, ...attnOut };
      const n2 = finishNorm(b, pending, w.tensor(`${p}.ln_2.weight`), w.tensor(`${p}.ln_2.bias`), k.skipLayerNorm);
      const mlpOut = mlp(b, w, n2.normed, p, spec.quickGelu, k);
      pending = { residual: n2.sum, ...mlpOut };
    });
  }
  return { pending, blockOutputs };
}

/**
 * The pooled row of each sequence (text: its first EOT). When given, the last block computes keys and
 * values for every token but its query, attention output, MLP and residual only at these rows, so
 * the stack ends with [B, width] instead of [B·L, width]; nothing else reads the other rows.
 */
export interface PooledRows {
  /** int64 [B, 1]: the pooled position in each sequence; absent: row 0 of every sequence (vision CLS). */
  index?: string;
  /** int32 [B]: index + 1, the keys each pooled query may see ('mha' attention); absent: every key. */
  keyLengths?: string;
  /** float [B, 1, 1, L]: 0 for positions ≤ index, -inf after ('ops' attention); absent: no mask. */
  additiveMask?: string;
}

function pooledBlock(
  b: GraphBuilder,
  w: WeightBinder,
  pending: PendingResidual,
  bl: string,
  p: string,
  spec: TransformerSpec,
  k: KernelOptions,
  pool: PooledRows,
): PendingResidual {
  const D = spec.width;
  const H = spec.heads;
  const hd = D / H;
  const n1 = finishNorm(b, pending, w.tensor(`${p}.ln_1.weight`), w.tensor(`${p}.ln_1.bias`), k.skipLayerNorm);
  const s3 = shapeOf(b, [bl, [D]]);
  const index = pool.index;
  const gather = index
    ? (v: string) => b.node('GatherND', [reshape(b, v, s3), index], { batch_dims: int(1) })
    : (v: string) => b.node('Gather', [reshape(b, v, s3), b.i64('index0', [0], [])], { axis: int(1) });
  // Causal text needs its key bounds; the vision CLS attends to the whole (unmasked) sequence.
  const causal = pool.index !== undefined;
  const inW = `${p}.attn.in_proj_weight`;
  const inB = `${p}.attn.in_proj_bias`;
  const hq = gather(n1.normed);
  let ctx2d: string;
  if (k.attention === 'mha') {
    if (causal && !pool.keyLengths) throw new Error('pooled mha attention needs keyLengths');
    const kv = linear(b, n1.normed, w.tensor(inW, { rows: [D, 3 * D] }));
    const [kk, v] = b.nodeN('Split', [kv, b.i64('kv_split', [D, D])], { axis: int(1) }, { outputs: 2 }) as [string, string];
    const q = reshape(b, linear(b, hq, w.tensor(inW, { rows: [0, D] })), b.i64('shape_b1d', [-1, 1, D]));
    const ctx = b.node(
      'MultiHeadAttention',
      [q, reshape(b, kk, s3), reshape(b, v, s3), w.tensor(inB), ...(pool.keyLengths ? [pool.keyLengths] : [])],
      { num_heads: int(H), scale: float(1 / Math.sqrt(hd)) },
      { domain: MS_DOMAIN },
    );
    ctx2d = reshape(b, ctx, b.i64('shape_2d', [-1, D]));
  } else {
    if (causal && !pool.additiveMask) throw new Error('pooled ops attention needs additiveMask');
    const q0 = linear(b, hq, w.tensor(inW, { rows: [0, D] }), w.tensor(inB, { rows: [0, D] }));
    const q = b.node('Mul', [transpose(b, reshape(b, q0, b.i64('shape_b1hd', [-1, 1, H, hd])), [0, 2, 1, 3]), b.scalar('attn_scale', 1 / Math.sqrt(hd))]);
    const kv = linear(b, n1.normed, w.tensor(inW, { rows: [D, 3 * D] }), w.tensor(inB, { rows: [D, 3 * D] }));
    const split = transpose(b, reshape(b, kv, shapeOf(b, [bl, [2, H, hd]])), [2, 0, 3, 1, 4]);
    const pick = (i: number) => b.node('Gather', [split, b.i64('kv_index', [i], [])], { axis: int(0) });
    const raw = b.node('MatMul', [q, transpose(b, pick(0), [0, 1, 3, 2])]);
    const scores = pool.additiveMask ? b.node('Add', [raw, pool.additiveMask]) : raw;
    const ctx = b.node('MatMul', [b.node('Softmax', [scores], { axis: int(-1) }), pick(1)]);
    ctx2d = reshape(b, transpose(b, ctx, [0, 2, 1, 3]), b.i64('shape_2d', [-1, D]));
  }
  let s: PendingResidual = { residual: gather(n1.sum), ...projection(b, ctx2d, w.tensor(`${p}.attn.out_proj.weight`), w.tensor(`${p}.attn.out_proj.bias`), k.skipLayerNorm) };
  const n2 = finishNorm(b, s, w.tensor(`${p}.ln_2.weight`), w.tensor(`${p}.ln_2.bias`), k.skipLayerNorm);
  s = { residual: n2.sum, ...mlp(b, w, n2.normed, p, spec.quickGelu, k) };
  return s;
}

/** Completes a pending residual add and applies LayerNorm; returns the sum and the normalised stream. */
export function finishNorm(b: GraphBuilder, s: PendingResidual, weight: string, bias: string, fused: boolean): { sum: string; normed: string } {
  if (!s.delta) return { sum: s.residual, normed: layerNorm(b, s.residual, weight, bias) };
  return addAndNorm(b, s.residual, s.delta, s.deltaBias, weight, bias, fused);
}

/** A Linear whose bias is either applied by the Gemm or handed on to be fused into the next add. */
function projection(b: GraphBuilder, x: string, weight: string, bias: string, deferBias: boolean): { delta: string; deltaBias?: string } {
  return deferBias ? { delta: linear(b, x, weight), deltaBias: bias } : { delta: linear(b, x, weight, bias) };
}

function mlp(b: GraphBuilder, w: WeightBinder, h: string, p: string, quick: boolean, k: KernelOptions): { delta: string; deltaBias?: string } {
  const fcW = w.tensor(`${p}.mlp.c_fc.weight`);
  const fcB = w.tensor(`${p}.mlp.c_fc.bias`);
  // With contrib kernels the bias add is fused into the activation; otherwise the Gemm adds it.
  const pre = k.contribActivations ? linear(b, h, fcW) : linear(b, h, fcW, fcB);
  const biasForAct = k.contribActivations ? fcB : undefined;
  const act = quick ? quickGelu(b, pre, biasForAct, k.contribActivations) : gelu(b, pre, biasForAct, k.contribActivations);
  return projection(b, act, w.tensor(`${p}.mlp.c_proj.weight`), w.tensor(`${p}.mlp.c_proj.bias`), k.skipLayerNorm);
}

/**
 * A block's fused q/k/v projection of its ln_1 output h, [N, 3·width], as its attention consumes it:
 * without the bias on the 'mha' path (MultiHeadAttention adds it), with it on the 'ops' path.
 */
export function qkvProjection(b: GraphBuilder, w: WeightBinder, h: string, p: string, k: KernelOptions): string {
  const inW = w.tensor(`${p}.attn.in_proj_weight`);
  return k.attention === 'mha' ? linear(b, h, inW) : linear(b, h, inW, w.tensor(`${p}.attn.in_proj_bias`));
}

function attention(
  b: GraphBuilder,
  w: WeightBinder,
  h: string,
  bl: string,
  p: string,
  spec: TransformerSpec,
  k: KernelOptions,
  mask: string | undefined,
  precomputed?: string,
): { delta: string; deltaBias?: string } {
  const D = spec.width;
  const H = spec.heads;
  const hd = D / H;
  const inW = `${p}.attn.in_proj_weight`;
  const inB = `${p}.attn.in_proj_bias`;
  let ctx2d: string;
  if (k.attention === 'mha') {
    let q: string, kk: string, v: string;
    if (k.fusedQkv || precomputed) {
      const qkv = precomputed ?? qkvProjection(b, w, h, p, k);
      [q, kk, v] = b.nodeN('Split', [qkv, b.i64('qkv_split', [D, D, D])], { axis: int(1) }, { outputs: 3 }) as [string, string, string];
    } else {
      q = linear(b, h, w.tensor(inW, { rows: [0, D] }));
      kk = linear(b, h, w.tensor(inW, { rows: [D, 2 * D] }));
      v = linear(b, h, w.tensor(inW, { rows: [2 * D, 3 * D] }));
    }
    const s3 = shapeOf(b, [bl, [D]]);
    const ctx = b.node(
      'MultiHeadAttention',
      [reshape(b, q, s3), reshape(b, kk, s3), reshape(b, v, s3), w.tensor(inB)],
      { num_heads: int(H), unidirectional: int(spec.causal ? 1 : 0), scale: float(1 / Math.sqrt(hd)) },
      { domain: MS_DOMAIN },
    );
    ctx2d = reshape(b, ctx, b.i64('shape_2d', [-1, D]));
  } else {
    const qkv = precomputed ?? qkvProjection(b, w, h, p, k);
    // [B·L, 3D] → [B, L, 3, H, hd] → [3, B, H, L, hd]
    const split = transpose(b, reshape(b, qkv, shapeOf(b, [bl, [3, H, hd]])), [2, 0, 3, 1, 4]);
    const pick = (i: number) => b.node('Gather', [split, b.i64('qkv_index', [i], [])], { axis: int(0) });
    // torch scales q before the product (q / sqrt(head_dim)).
    const q = b.node('Mul', [pick(0), b.scalar('attn_scale', 1 / Math.sqrt(hd))]);
    let scores = b.node('MatMul', [q, transpose(b, pick(1), [0, 1, 3, 2])]);
    if (spec.causal) {
      if (!mask) throw new Error('causal attention needs a mask on the ops path');
      scores = b.node('Add', [scores, mask]);
    }
    const probs = b.node('Softmax', [scores], { axis: int(-1) });
    const ctx = b.node('MatMul', [probs, pick(2)]);
    ctx2d = reshape(b, transpose(b, ctx, [0, 2, 1, 3]), b.i64('shape_2d', [-1, D]));
  }
  return projection(b, ctx2d, w.tensor(`${p}.attn.out_proj.weight`), w.tensor(`${p}.attn.out_proj.bias`), k.skipLayerNorm);
}
