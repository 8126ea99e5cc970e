/**
 * open_clip's text tower (encode_text) as an ONNX graph over ids of any length L ≤ context_length:
 * token embedding + positional[:L], causal pre-LN blocks, pooling at the first argmax of the ids
 * (EOT), ln_final, @ text_projection. Because of the causal mask, the features depend only on the
 * tokens up to EOT, so callers may cut a batch to its longest EOT + 1.
 */
import type { ClipConfig } from '../config.ts';
import { finishGraph, startGraph, type BuiltGraph, type TowerGraphOptions } from './build.ts';
import { DType, int } from './graph.ts';
import { dims, reshape, shapeOf } from './ops.ts';
import { finishNorm, transformerStack, type PooledRows } from './transformer.ts';

export const TEXT_INPUT = 'input_ids';
export const TEXT_OUTPUT = 'text_features';

/** Builds the text tower: input `input_ids` int32 [B, L], output `text_features` float [B, embed]. */
export function buildTextGraph(cfg: ClipConfig, opts: TowerGraphOptions): BuiltGraph {
  const t = cfg.text;
  const D = t.width;
  const { b, w, k } = startGraph('clip_text', opts);
  const ids = b.input(TEXT_INPUT, 'int32', ['batch', 'length']);

  const tok = b.node('Gather', [w.tensor('token_embedding.weight'), ids], { axis: int(0) });
  const L = dims(b, ids, 1, 2);
  const pos = b.node('Slice', [w.tensor('positional_embedding'), b.i64('zero', [0]), L, b.i64('axis0', [0])]);
  const emb = b.node('Add', [tok, pos]);
  const bl = dims(b, ids, 0, 2);
  const x = reshape(b, emb, b.i64('shape_2d', [-1, D]));

  // Additive causal mask (-inf strictly above the diagonal), cut to [L, L]; only the 'ops' attention reads it.
  let mask: string | undefined;
  if (k.attention === 'ops') {
    const C = t.contextLength;
    const m = new Float32Array(C * C);
    for (let r = 0; r < C; r++) for (let c = r + 1; c < C; c++) m[r * C + c] = -Infinity;
    const full = b.constant('causal_mask', m, [C, C]);
    mask = b.node('Slice', [full, b.i64('zero2', [0, 0]), b.node('Concat', [L, L], { axis: int(0) }), b.i64('axes01', [0, 1])]);
  }

  const eot = b.node('Unsqueeze', [b.node('ArgMax', [ids], { axis: int(1), keepdims: int(0), select_last_index: int(0) }), b.i64('axis1', [1])]);
  // Only the pooled (EOT) rows of the last block reach the output, so that block runs its query side
  // on those rows alone; the debug graph keeps every row to expose per-layer activations.
  const pool: PooledRows | undefined = opts.debug ? undefined : { index: eot };
  if (pool && k.attention === 'mha') {
    pool.keyLengths = b.node('Cast', [b.node('Add', [b.node('Squeeze', [eot, b.i64('axis1', [1])]), b.i64('one', [1])])], { to: int(DType.int32) });
  } else if (pool) {
    const positions = b.node('Slice', [b.i64('arange', Array.from({ length: t.contextLength }, (_, i) => i)), b.i64('zero', [0]), L]);
    const after = b.node('Greater', [b.node('Unsqueeze', [positions, b.i64('axis0', [0])]), eot]);
    const additive = b.node('Where', [after, b.scalar('neg_inf', -Infinity), b.scalar('zero_f', 0)]);
    pool.additiveMask = b.node('Unsqueeze', [additive, b.i64('axes12', [1, 2])]);
  }

  const { pending, blockOutputs } = transformerStack(
    b,
    w,
    x,
    bl,
    { prefix: 'transformer', layers: t.layers, width: D, heads: t.heads, quickGelu: cfg.quickGelu, causal: true },
    k,
    mask,
    pool,
  );

  // Pool first, then ln_final: LayerNorm is per token, so normalising only the EOT rows is the same.
  const s3 = shapeOf(b, [bl, [D]]);
  const pick = (v: string | undefined) => (v && !pool ? b.node('GatherND', [reshape(b, v, s3), eot], { batch_dims: int(1) }) : v);
  const pooled = finishNorm(
    b,
    { residual: pick(pending.residual)!, delta: pick(pending.delta), deltaBias: pending.deltaBias },
    w.tensor('ln_final.weight'),
    w.tensor('ln_final.bias'),
    k.skipLayerNorm,
  ).normed;
  const features = b.node('MatMul', [pooled, w.tensor('text_projection')]);
  const outputs = [b.output(features, TEXT_OUTPUT, 'float', ['batch', cfg.embedDim])];

  if (opts.debug) {
    const lnW = w.tensor('ln_final.weight');
    const lnB = w.tensor('ln_final.bias');
    const all = finishNorm(b, pending, lnW, lnB, k.skipLayerNorm);
    outputs.push(b.output(emb, 'text.embeddings', 'float', ['batch', 'length', D]));
    [...blockOutputs, all.sum].forEach((v, i) => outputs.push(b.output(reshape(b, v, s3), `text.block${i}`, 'float', ['batch', 'length', D])));
    outputs.push(b.output(reshape(b, all.normed, s3), 'text.ln_final', 'float', ['batch', 'length', D]));
  }
  return finishGraph(b, w, [TEXT_INPUT], outputs);
}
