/**
 * open_clip's vision tower (VisionTransformer) as an ONNX graph, in two separable halves:
 * `embedTokens` (conv1 patchify, class token, + positional) and `runVisionBlocks` (ln_pre, blocks,
 * ln_post on all tokens, token 0 @ proj). The blocks accept any token count, so a later caller can
 * run them on a subset of the embedded tokens (WinCLIP windows) with the same weights.
 */
import type { ClipConfig } from '../config.ts';
import { finishGraph, startGraph, type BuiltGraph, type TowerGraphOptions } from './build.ts';
import { int, type GraphBuilder } from './graph.ts';
import { dims, layerNorm, reshape, shapeOf, transpose } from './ops.ts';
import { finishNorm, transformerStack, type KernelOptions } from './transformer.ts';
import type { WeightBinder } from './weights.ts';

export const VISION_INPUT = 'pixels';
export const VISION_OUTPUT = 'image_features';
export const VISION_TOKENS_OUTPUT = 'patch_tokens';
export const BLOCKS_INPUT = 'tokens';
export const BLOCKS_TOKENS_OUTPUT = 'tokens_out';

/** conv1 (stride p, no bias; the grid flattened row-major), class token at 0, + positional: [B, 3, S, S] → [B, 1+g², W]. */
export function embedTokens(b: GraphBuilder, w: WeightBinder, cfg: ClipConfig, pixels: string): string {
  const v = cfg.vision;
  const W = v.width;
  const grid = b.node('Conv', [pixels, w.tensor('visual.conv1.weight')], {
    kernel_shape: { kind: 'ints', value: [v.patchSize, v.patchSize] },
    strides: { kind: 'ints', value: [v.patchSize, v.patchSize] },
  });
  const patches = transpose(b, reshape(b, grid, b.i64('shape_bw_', [0, W, -1])), [0, 2, 1]);
  const batch = dims(b, pixels, 0, 1);
  const cls = b.node('Expand', [w.tensor('visual.class_embedding', { dims: [1, 1, W] }), shapeOf(b, [batch, [1, W]])]);
  const tokens = b.node('Concat', [cls, patches], { axis: int(1) });
  return b.node('Add', [tokens, w.tensor('visual.positional_embedding')]);
}

export interface VisionBlocksResult {
  /** ln_pre output, [B·T, W] (debug). */
  lnPre: string;
  /** Residual stream after each block, [B·T, W] (debug). */
  blockOutputs: string[];
  /** ln_post applied to every token, [B, T, W]. */
  tokens: string;
  /** ln_post(token 0) @ proj, [B, embed]. */
  pooled: string;
}

/** ln_pre → blocks → ln_post (all tokens) → token 0 @ proj, on embedded tokens [B, T, W] for any T. */
export function runVisionBlocks(b: GraphBuilder, w: WeightBinder, cfg: ClipConfig, k: KernelOptions, x3: string): VisionBlocksResult {
  const v = cfg.vision;
  const W = v.width;
  const bt = dims(b, x3, 0, 2);
  const x = reshape(b, x3, b.i64('shape_2d', [-1, W]));
  const lnPre = layerNorm(b, x, w.tensor('visual.ln_pre.weight'), w.tensor('visual.ln_pre.bias'));
  const { pending, blockOutputs } = transformerStack(
    b,
    w,
    lnPre,
    bt,
    { prefix: 'visual.transformer', layers: v.layers, width: W, heads: v.heads, quickGelu: cfg.quickGelu, causal: false },
    k,
  );
  const post = finishNorm(b, pending, w.tensor('visual.ln_post.weight'), w.tensor('visual.ln_post.bias'), k.skipLayerNorm);
  blockOutputs.push(post.sum);
  const tokens = reshape(b, post.normed, shapeOf(b, [bt, [W]]));
  const cls = b.node('Gather', [tokens, b.i64('index0', [0], [])], { axis: int(1) });
  const pooled = b.node('MatMul', [cls, w.tensor('visual.proj')]);
  return { lnPre, blockOutputs, tokens, pooled };
}

/**
 * Builds the vision tower: input `pixels` float [B, 3, S, S] (normalised), outputs `image_features`
 * [B, embed] and `patch_tokens` [B, g², W] (ln_post applied, CLS dropped, not projected).
 */
export function buildVisionGraph(cfg: ClipConfig, opts: TowerGraphOptions): BuiltGraph {
  const v = cfg.vision;
  const S = v.imageSize;
  const W = v.width;
  const { b, w, k } = startGraph('clip_vision', opts);
  const pixels = b.input(VISION_INPUT, 'float', ['batch', 3, S, S]);
  const emb = embedTokens(b, w, cfg, pixels);
  const r = runVisionBlocks(b, w, cfg, k, emb);
  const patchTokens = b.node('Slice', [r.tokens, b.i64('one', [1]), b.i64('int64_max', [Number.MAX_SAFE_INTEGER]), b.i64('axis1', [1])]);
  const outputs = [
    b.output(r.pooled, VISION_OUTPUT, 'float', ['batch', cfg.embedDim]),
    b.output(patchTokens, VISION_TOKENS_OUTPUT, 'float', ['batch', v.gridSize * v.gridSize, W]),
  ];
  if (opts.debug) {
    const s3 = shapeOf(b, [dims(b, emb, 0, 2), [W]]);
    outputs.push(b.output(emb, 'image.embeddings', 'float', ['batch', v.numTokens, W]));
    outputs.push(b.output(reshape(b, r.lnPre, s3), 'image.ln_pre', 'float', ['batch', v.numTokens, W]));
    r.blockOutputs.forEach((x, i) => outputs.push(b.output(reshape(b, x, s3), `image.block${i}`, 'float', ['batch', v.numTokens, W])));
    outputs.push(b.output(r.tokens, 'image.ln_post', 'float', ['batch', v.numTokens, W]));
  }
  return finishGraph(b, w, [VISION_INPUT], outputs);
}

/**
 * Builds the second half alone: input `tokens` float [B, T, W] (embedded tokens, any T, e.g. a
 * window's tokens with the class token first), outputs `image_features` [B, embed] (token 0 after
 * ln_post @ proj) and `tokens_out` [B, T, W] (ln_post on every token, not projected).
 */
export function buildVisionBlocksGraph(cfg: ClipConfig, opts: TowerGraphOptions): BuiltGraph {
  const W = cfg.vision.width;
  const { b, w, k } = startGraph('clip_vision_blocks', opts);
  const x = b.input(BLOCKS_INPUT, 'float', ['batch', 'tokens', W]);
  const r = runVisionBlocks(b, w, cfg, k, x);
  const outputs = [
    b.output(r.pooled, VISION_OUTPUT, 'float', ['batch', cfg.embedDim]),
    b.output(r.tokens, BLOCKS_TOKENS_OUTPUT, 'float', ['batch', 'tokens', W]),
  ];
  return finishGraph(b, w, [BLOCKS_INPUT], outputs);
}
