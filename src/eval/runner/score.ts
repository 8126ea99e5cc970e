/**
 * The scoring phase: the three scores of every embedded image, from the view embeddings in the
 * store (no image is decoded or encoded here).
 *
 * The scores come from the methods' pure scoring cores (src/methods/clip, src/methods/rwda/scoring.ts),
 * the same functions Detector.score uses; this module only reads the stored rows and groups images
 * by object name.
 */
import { RwdaError } from '../../errors.ts';
import type { Backbone } from '../../methods/common/backbone.ts';
import { PROMPT_DEFAULTS } from '../../methods/rwda/index.ts';
import type { Detector } from '../../methods/rwda/index.ts';
import type { CropAggregation } from '../../methods/common/multicrop.ts';
import { l2normalizeRows } from '../../methods/common/scores.ts';
import { clipImageScores, promptPairEmbeddings } from '../../methods/clip/index.ts';
import { scoreViewRows } from '../../methods/rwda/index.ts';
import type { EmbeddingStore } from '../../store/index.ts';
import type { EmbeddedItem } from './embed_images.ts';

/** Everything the scoring passes share. */
export interface ScoreContext {
  backbone: Backbone;
  store: EmbeddingStore;
  /** The embedded images, in run order. */
  items: readonly EmbeddedItem[];
  /** View ids of every image, "std" first. */
  viewIds: readonly string[];
  aggregation: CropAggregation;
  /** The object name of an image's CLIP prompts ("object", or its category's name in the known setup). */
  objectOf: (item: EmbeddedItem) => string;
  /** State words of the prompt-guided pair. */
  normalWord: string;
  anomalyWord: string;
  /** Images read from the store per step (default 256). */
  chunkImages?: number;
}

export { promptPairEmbeddings } from '../../methods/clip/index.ts';
export { aggregateImageScores } from '../../methods/rwda/index.ts';

/** Row-major [shas.length × viewIds.length, dim] L2-normalised view embeddings read from the store. */
export function readViewRows(store: EmbeddingStore, backbone: Backbone, shas: readonly string[], viewIds: readonly string[]): Float32Array {
  const dim = backbone.config.embedDim;
  const keys = shas.flatMap((sha256) => viewIds.map((viewId) => ({ sha256, viewId })));
  const rows = store.getImages(backbone.fingerprint, keys);
  const x = new Float32Array(keys.length * dim);
  rows.forEach((r, i) => {
    const k = keys[i]!;
    if (r === undefined) {
      throw new RwdaError(`cache ${store.path}: the embedding of image ${k.sha256} view ${k.viewId} disappeared during the run; run the command again`, { code: 'conflict' });
    }
    if (r.length !== dim) throw new RwdaError(`cache ${store.path}: image ${k.sha256} view ${k.viewId} has ${r.length} values, the backbone's embed_dim is ${dim}`);
    x.set(r, i * dim);
  });
  l2normalizeRows(x, dim);
  return x;
}

/**
 * Calls `fn` for chunks of images that share an object name, with their normalised view rows and
 * the object's prompt embeddings; `indices` are positions in ctx.items.
 */
async function forEachChunk(
  ctx: ScoreContext,
  fn: (indices: number[], x: Float32Array, t: { tNormal: Float32Array; tAnomaly: Float32Array }) => void,
): Promise<void> {
  const chunk = ctx.chunkImages ?? 256;
  const groups = new Map<string, number[]>();
  ctx.items.forEach((it, i) => {
    const o = ctx.objectOf(it);
    let g = groups.get(o);
    if (g === undefined) groups.set(o, (g = []));
    g.push(i);
  });
  for (const [object, indices] of groups) {
    const t = await promptPairEmbeddings(ctx.backbone, object, ctx, ctx.store);
    for (let s = 0; s < indices.length; s += chunk) {
      const part = indices.slice(s, s + chunk);
      fn(part, readViewRows(ctx.store, ctx.backbone, part.map((i) => ctx.items[i]!.sha256), ctx.viewIds), t);
    }
  }
}

/** The zero-shot CLIP score of every image (seed-independent). */
export async function scoreClip(ctx: ScoreContext): Promise<Float64Array> {
  const dim = ctx.backbone.config.embedDim;
  const out = new Float64Array(ctx.items.length);
  await forEachChunk(ctx, (indices, x, t) => {
    const perImage = clipImageScores(x, dim, ctx.viewIds.length, t, { temperature: PROMPT_DEFAULTS.temperature, aggregation: ctx.aggregation });
    indices.forEach((i, k) => (out[i] = perImage[k]!));
  });
  return out;
}

/** Per-image scores of one detector: s_clip, s_fnn ("Ours") and s ("CLIP + Ours"). */
export interface DetectorScores {
  clip: Float64Array;
  ours: Float64Array;
  clipOurs: Float64Array;
}

/** Scores every image with a trained detector (its FNN on every view, then per-kind aggregation). */
export async function scoreWithDetector(ctx: ScoreContext, detector: Detector): Promise<DetectorScores> {
  const n = ctx.items.length;
  const out: DetectorScores = { clip: new Float64Array(n), ours: new Float64Array(n), clipOurs: new Float64Array(n) };
  const nViews = ctx.viewIds.length;
  await forEachChunk(ctx, (indices, x, t) => {
    const { images } = scoreViewRows(detector.fnn, x, nViews, t, { temperature: PROMPT_DEFAULTS.temperature, aggregation: ctx.aggregation });
    indices.forEach((i, k) => {
      out.clip[i] = images[k]!.sClip;
      out.ours[i] = images[k]!.sFnn;
      out.clipOurs[i] = images[k]!.s;
    });
  });
  return out;
}
