/**
 * WinCLIP's vision passes as one ONNX graph: pixels → image features, patch tokens, and the CLS
 * embedding of every window of each scale. A window's sequence is the class token plus its patches
 * gathered from the tokens before ln_pre (each keeping its global positional embedding), and all
 * windows of a scale (times the batch) run the blocks together as [B·nW, 1+s², W].
 */
import type { ClipConfig } from '../config.ts';
import { windowPatches } from '../windows.ts';
import { finishGraph, startGraph, type BuiltGraph, type TowerGraphOptions } from './build.ts';
import { int, type GraphBuilder } from './graph.ts';
import { dims, layerNorm, reshape, shapeOf } from './ops.ts';
import { finishNorm, qkvProjection, transformerStack, type KernelOptions } from './transformer.ts';
import { embedTokens, runVisionBlocks, VISION_INPUT, VISION_OUTPUT, VISION_TOKENS_OUTPUT } from './vision_graph.ts';
import type { WeightBinder } from './weights.ts';

/** The output holding the window embeddings of `scale`, [B, nWindows, embed]. */
export function windowOutputName(scale: number): string {
  return `window_features_s${scale}`;
}

export interface WindowGraphOptions extends TowerGraphOptions {
  /** Window sides in patches, each in 1..grid (anomalib: [2, 3]). */
  scales: readonly number[];
}

/** Token indices of every window of `scale` into the 1+g² sequence: [nWindows, 1+s²], CLS (0) first. */
export function windowTokenIndices(grid: number, scale: number): number[] {
  return windowPatches(grid, scale).flatMap((w) => [0, ...Array.from(w, (p) => p + 1)]);
}

/**
 * What every window pass of a batch shares: ln_pre of the image's tokens (the windows' residual
 * stream entering block 0) and block 0's q/k/v projection of their ln_1, both per token, so they are
 * computed once for the 1+g² tokens and gathered per window instead of once per window token.
 */
export interface SharedFirstBlock {
  /** ln_pre(tokens), [B, 1+g², W]. */
  lnPre: string;
  /** qkvProjection(ln_1(ln_pre(tokens))) of block 0, [B, 1+g², 3W]. */
  qkv: string;
}

/** ln_pre and block 0's q/k/v for all embedded tokens [B, 1+g², W]. */
export function sharedFirstBlock(b: GraphBuilder, w: WeightBinder, cfg: ClipConfig, k: KernelOptions, emb: string): SharedFirstBlock {
  const v = cfg.vision;
  const W = v.width;
  const p = 'visual.transformer.resblocks.0';
  const lnPre = layerNorm(b, reshape(b, emb, b.i64('shape_2d', [-1, W])), w.tensor('visual.ln_pre.weight'), w.tensor('visual.ln_pre.bias'));
  const qkv = qkvProjection(b, w, layerNorm(b, lnPre, w.tensor(`${p}.ln_1.weight`), w.tensor(`${p}.ln_1.bias`)), p, k);
  return {
    lnPre: reshape(b, lnPre, b.i64('shape_tokens', [-1, v.numTokens, W])),
    qkv: reshape(b, qkv, b.i64('shape_tokens_qkv', [-1, v.numTokens, 3 * W])),
  };
}

/**
 * The CLS embeddings [B·nW, embed] of the windows whose token indices are `idx` ([nW, T] into the
 * 1+g² sequence): block 0 from the gathered shared rows, then the other blocks, computing only what
 * the CLS output reads — the last block forms keys and values for every token but its query,
 * attention, MLP and residual for token 0 alone — then ln_post(CLS) @ proj.
 */
export function windowClsEmbedding(b: GraphBuilder, w: WeightBinder, cfg: ClipConfig, k: KernelOptions, shared: SharedFirstBlock, idx: string, T: number): string {
  const v = cfg.vision;
  const W = v.width;
  const pick = (x: string, width: number) => b.node('Gather', [x, idx], { axis: int(1) }); // [B, nW, T, width]
  const residual3 = reshape(b, pick(shared.lnPre, W), b.i64('shape_windows', [-1, T, W]));
  const bt = dims(b, residual3, 0, 2);
  const residual = reshape(b, residual3, b.i64('shape_2d', [-1, W]));
  const qkv = reshape(b, pick(shared.qkv, 3 * W), b.i64('shape_2d_qkv', [-1, 3 * W]));
  const spec = { prefix: 'visual.transformer', layers: v.layers, width: W, heads: v.heads, quickGelu: cfg.quickGelu, causal: false };
  const { pending } = transformerStack(b, w, residual, bt, spec, k, undefined, v.layers > 1 ? {} : undefined, qkv);
  const out = finishNorm(b, pending, w.tensor('visual.ln_post.weight'), w.tensor('visual.ln_post.bias'), k.skipLayerNorm).normed;
  // A one-block tower keeps every row (its only block consumes the shared projection): take the CLS here.
  const cls = v.layers > 1 ? out : b.node('Gather', [reshape(b, out, shapeOf(b, [bt, [W]])), b.i64('index0', [0], [])], { axis: int(1) });
  return b.node('MatMul', [cls, w.tensor('visual.proj')]);
}

/**
 * Builds the WinCLIP vision graph: input `pixels` float [B, 3, S, S] (normalised), outputs
 * `image_features` [B, embed], `patch_tokens` [B, g², W] (as the vision tower) and
 * `window_features_s<s>` [B, nWindows, embed] per scale, windows in windowPatches order. With
 * `debug`, the window passes run the plain pass on the gathered tokens (nothing shared, every row of
 * the last block) and expose per-stage activations
 * `windows.s<s>.{tokens,ln_pre,blockN,ln_post}` [B·nWindows, 1+s², W].
 */
export function buildWindowGraph(cfg: ClipConfig, opts: WindowGraphOptions): BuiltGraph {
  const v = cfg.vision;
  const S = v.imageSize;
  const W = v.width;
  const E = cfg.embedDim;
  const { b, w, k } = startGraph('clip_windows', opts);
  const pixels = b.input(VISION_INPUT, 'float', ['batch', 3, S, S]);
  const emb = embedTokens(b, w, cfg, pixels);
  const batch = dims(b, pixels, 0, 1);
  const r = b.within('image', () => runVisionBlocks(b, w, cfg, k, emb));
  const shared = opts.debug || opts.scales.length === 0 ? undefined : b.within('windows_shared', () => sharedFirstBlock(b, w, cfg, k, emb));
  const patchTokens = b.node('Slice', [r.tokens, b.i64('one', [1]), b.i64('int64_max', [Number.MAX_SAFE_INTEGER]), b.i64('axis1', [1])]);
  const outputs = [
    b.output(r.pooled, VISION_OUTPUT, 'float', ['batch', E]),
    b.output(patchTokens, VISION_TOKENS_OUTPUT, 'float', ['batch', v.gridSize * v.gridSize, W]),
  ];
  for (const s of opts.scales) {
    b.within(`windows_s${s}`, () => {
      const T = 1 + s * s;
      const idx = windowTokenIndices(v.gridSize, s);
      const nW = idx.length / T;
      const tokenIdx = b.i64('window_tokens', idx, [nW, T]);
      // Debug: the plain reference pass on the gathered tokens, every row of every block kept.
      // [B, 1+g², W] gathered on the token axis by [nW, T] → [B, nW, T, W] → [B·nW, T, W]
      const x3 = shared ? '' : reshape(b, b.node('Gather', [emb, tokenIdx], { axis: int(1) }), b.i64('shape_windows', [-1, T, W]));
      const d = shared ? undefined : runVisionBlocks(b, w, cfg, k, x3);
      const feats = d ? d.pooled : windowClsEmbedding(b, w, cfg, k, shared!, tokenIdx, T);
      outputs.push(b.output(reshape(b, feats, shapeOf(b, [batch, [nW, E]])), windowOutputName(s), 'float', ['batch', nW, E]));
      if (d) {
        const s3 = b.i64('shape_debug', [-1, T, W]);
        const rows = ['batch_windows', T, W];
        outputs.push(b.output(x3, `windows.s${s}.tokens`, 'float', rows));
        outputs.push(b.output(reshape(b, d.lnPre, s3), `windows.s${s}.ln_pre`, 'float', rows));
        d.blockOutputs.forEach((o, i) => outputs.push(b.output(reshape(b, o, s3), `windows.s${s}.block${i}`, 'float', rows)));
        outputs.push(b.output(d.tokens, `windows.s${s}.ln_post`, 'float', rows));
      }
    });
  }
  return finishGraph(b, w, [VISION_INPUT], outputs);
}
