/**
 * open_clip's text tower over "prefix trees": each sequence of the batch packs one shared token
 * prefix followed by K suffixes (e.g. the normal and the anomaly prompt of a pair after their first
 * differing token), and an additive attention bias lets every token see exactly its own causal
 * context: the prefix tokens before it, and the earlier tokens of its own suffix. Positions are
 * given per token (a suffix continues at the prefix length), so each suffix row computes what the
 * plain causal tower computes for the full prompt, while the prefix runs once per group.
 *
 * Inputs (all built by the caller, see ../text_pairs.ts):
 *   input_ids      int32 [B, L]     packed tokens (padding anywhere it is masked)
 *   position_ids   int64 [B, L]     the positional-embedding row of each token (< context_length)
 *   attention_bias float [B, 1, L, L] 0 where query row may see key column, -inf elsewhere; every
 *                                  row must see at least one key (padding rows: themselves)
 *   pool_index     int64 [B, K]     the row of each suffix's EOT
 * Output: text_features float [B·K, embed], row b·K + k = suffix k of sequence b.
 */
import type { ClipConfig } from '../config.ts';
import { finishGraph, startGraph, type BuiltGraph, type TowerGraphOptions } from './build.ts';
import { float, GraphBuilder, int, MS_DOMAIN } from './graph.ts';
import { dims, gelu, linear, quickGelu, reshape, shapeOf, transpose } from './ops.ts';
import { finishNorm, type KernelOptions, type PendingResidual } from './transformer.ts';
import type { WeightBinder } from './weights.ts';

export const TREE_IDS = 'input_ids';
export const TREE_POSITIONS = 'position_ids';
export const TREE_BIAS = 'attention_bias';
export const TREE_POOL = 'pool_index';
export const TREE_OUTPUT = 'text_features';

interface Ctx {
  b: GraphBuilder;
  w: WeightBinder;
  k: KernelOptions;
  D: number;
  H: number;
  quick: boolean;
}

/** Builds the prefix-tree text tower (inputs and output above). The debug option is not supported. */
export function buildTextPrefixGraph(cfg: ClipConfig, opts: TowerGraphOptions): BuiltGraph {
  const t = cfg.text;
  const D = t.width;
  const { b, w, k } = startGraph('clip_text_prefix_tree', opts);
  const c: Ctx = { b, w, k, D, H: t.heads, quick: cfg.quickGelu };
  const ids = b.input(TREE_IDS, 'int32', ['batch', 'length']);
  const positions = b.input(TREE_POSITIONS, 'int64', ['batch', 'length']);
  const bias = b.input(TREE_BIAS, 'float', ['batch', 1, 'length', 'length']);
  const pool = b.input(TREE_POOL, 'int64', ['batch', 'suffixes']);

  const tok = b.node('Gather', [w.tensor('token_embedding.weight'), ids], { axis: int(0) });
  const pos = b.node('Gather', [w.tensor('positional_embedding'), positions], { axis: int(0) });
  const bl = dims(b, ids, 0, 2);
  const x = reshape(b, b.node('Add', [tok, pos]), b.i64('shape_2d', [-1, D]));
  // [B, K] → [B, K, 1]: GatherND (batch_dims 1) then picks K rows of each sequence.
  const poolNd = b.node('Unsqueeze', [pool, b.i64('axis2', [2])]);

  let pending: PendingResidual = { residual: x };
  for (let i = 0; i < t.layers; i++) {
    b.within(`transformer.${i}`, () => {
      const p = `transformer.resblocks.${i}`;
      const n1 = finishNorm(b, pending, w.tensor(`${p}.ln_1.weight`), w.tensor(`${p}.ln_1.bias`), k.skipLayerNorm);
      if (i < t.layers - 1) {
        const ctx = attention(c, p, n1.normed, n1.normed, bl, bl, bias);
        pending = { residual: n1.sum, ...outProjection(c, p, ctx) };
      } else {
        // Only the pooled rows reach the output: the last block runs its query side on those alone.
        const gather = (v: string) => reshape(b, b.node('GatherND', [reshape(b, v, shapeOf(b, [bl, [D]])), poolNd], { batch_dims: int(1) }), b.i64('shape_2d', [-1, D]));
        const qRows = gather(n1.normed);
        const poolBias = b.node('Unsqueeze', [b.node('GatherND', [b.node('Squeeze', [bias, b.i64('axis1', [1])]), poolNd], { batch_dims: int(1) }), b.i64('axis1', [1])]);
        const ctx = attention(c, p, qRows, n1.normed, dims(b, pool, 0, 2), bl, poolBias);
        pending = { residual: gather(n1.sum), ...outProjection(c, p, ctx) };
      }
      const n2 = finishNorm(b, pending, w.tensor(`${p}.ln_2.weight`), w.tensor(`${p}.ln_2.bias`), k.skipLayerNorm);
      pending = { residual: n2.sum, ...mlp(c, p, n2.normed) };
    });
  }
  const pooled = finishNorm(b, pending, w.tensor('ln_final.weight'), w.tensor('ln_final.bias'), k.skipLayerNorm).normed;
  const features = b.node('MatMul', [pooled, w.tensor('text_projection')]);
  const outputs = [b.output(features, TREE_OUTPUT, 'float', ['rows', cfg.embedDim])];
  return finishGraph(b, w, [TREE_IDS, TREE_POSITIONS, TREE_BIAS, TREE_POOL], outputs);
}

/**
 * Multi-head attention of query rows `hq` ([B·Lq, D]; `qBL` = [B, Lq] int64) over key/value rows
 * `hkv` ([B·Lk, D]; `kvBL` = [B, Lk]) with an additive bias [B, 1, Lq, Lk]; returns [B·Lq, D] before out_proj.
 */
function attention(c: Ctx, p: string, hq: string, hkv: string, qBL: string, kvBL: string, bias: string): string {
  const { b, w, D, H } = c;
  const hd = D / H;
  const inW = `${p}.attn.in_proj_weight`;
  const inB = `${p}.attn.in_proj_bias`;
  const same = hq === hkv;
  if (c.k.attention === 'mha') {
    let q: string, kk: string, v: string;
    if (same && c.k.fusedQkv) {
      [q, kk, v] = b.nodeN('Split', [linear(b, hq, w.tensor(inW)), b.i64('qkv_split', [D, D, D])], { axis: int(1) }, { outputs: 3 }) as [string, string, string];
    } else {
      q = linear(b, hq, w.tensor(inW, { rows: [0, D] }));
      [kk, v] = b.nodeN('Split', [linear(b, hkv, w.tensor(inW, { rows: [D, 3 * D] })), b.i64('kv_split', [D, D])], { axis: int(1) }, { outputs: 2 }) as [string, string];
    }
    const q3 = shapeOf(b, [qBL, [D]]);
    const kv3 = shapeOf(b, [kvBL, [D]]);
    const ctx = b.node(
      'MultiHeadAttention',
      [reshape(b, q, q3), reshape(b, kk, kv3), reshape(b, v, kv3), w.tensor(inB), '', bias],
      { num_heads: int(H), scale: float(1 / Math.sqrt(hd)) },
      { domain: MS_DOMAIN },
    );
    return reshape(b, ctx, b.i64('shape_2d', [-1, D]));
  }
  // Standard ops: [B·L, n·D] → [B, L, n, H, hd] → [n, B, H, L, hd].
  const heads = (v: string, blOf: string, n: number) => transpose(b, reshape(b, v, shapeOf(b, [blOf, [n, H, hd]])), [2, 0, 3, 1, 4]);
  const pick = (v: string, i: number) => b.node('Gather', [v, b.i64('index', [i], [])], { axis: int(0) });
  let q: string, kk: string, v: string;
  if (same) {
    const qkv = heads(linear(b, hq, w.tensor(inW), w.tensor(inB)), qBL, 3);
    [q, kk, v] = [pick(qkv, 0), pick(qkv, 1), pick(qkv, 2)];
  } else {
    q = pick(heads(linear(b, hq, w.tensor(inW, { rows: [0, D] }), w.tensor(inB, { rows: [0, D] })), qBL, 1), 0);
    const kv = heads(linear(b, hkv, w.tensor(inW, { rows: [D, 3 * D] }), w.tensor(inB, { rows: [D, 3 * D] })), kvBL, 2);
    [kk, v] = [pick(kv, 0), pick(kv, 1)];
  }
  // torch scales q before the product (q / sqrt(head_dim)).
  const scores = b.node('Add', [b.node('MatMul', [b.node('Mul', [q, b.scalar('attn_scale', 1 / Math.sqrt(hd))]), transpose(b, kk, [0, 1, 3, 2])]), bias]);
  const ctx = b.node('MatMul', [b.node('Softmax', [scores], { axis: int(-1) }), v]);
  return reshape(b, transpose(b, ctx, [0, 2, 1, 3]), b.i64('shape_2d', [-1, D]));
}

/** out_proj, with its bias either in the Gemm or deferred into the next residual add (as transformer.ts does). */
function outProjection(c: Ctx, p: string, ctx: string): { delta: string; deltaBias?: string } {
  return projection(c, ctx, `${p}.attn.out_proj`);
}

function projection(c: Ctx, x: string, key: string): { delta: string; deltaBias?: string } {
  const { b, w } = c;
  const weight = w.tensor(`${key}.weight`);
  const bias = w.tensor(`${key}.bias`);
  return c.k.skipLayerNorm ? { delta: linear(b, x, weight), deltaBias: bias } : { delta: linear(b, x, weight, bias) };
}

function mlp(c: Ctx, p: string, h: string): { delta: string; deltaBias?: string } {
  const { b, w, k } = c;
  const fcW = w.tensor(`${p}.mlp.c_fc.weight`);
  const fcB = w.tensor(`${p}.mlp.c_fc.bias`);
  // With contrib kernels the bias add is fused into the activation; otherwise the Gemm adds it.
  const pre = k.contribActivations ? linear(b, h, fcW) : linear(b, h, fcW, fcB);
  const biasForAct = k.contribActivations ? fcB : undefined;
  const act = c.quick ? quickGelu(b, pre, biasForAct, k.contribActivations) : gelu(b, pre, biasForAct, k.contribActivations);
  return projection(c, act, `${p}.mlp.c_proj`);
}
