/**
 * The scoring phase: the three scores of every embedded image, from the view embeddings in the
 * store (no image is decoded or encoded here).
 *
 * Per view, exactly as Detector.score computes them: s_clip from the prompt-guided pair of the
 * image's object, s_fnn = sigmoid(FNN(x)), s = (s_clip + s_fnn) / 2; then each kind is aggregated
 * over the views on its own (mean of the standard view and the max, or mean, over the crops).
 * Detector.score works on files only, so that per-view aggregation is repeated here for stored
 * embeddings (aggregateImageScores; a candidate to move into src/method/detector.ts).
 */
import { RwdaError } from '../../errors.ts';
import type { Backbone } from '../../method/backbone.ts';
import { PROMPT_DEFAULTS } from '../../method/defaults.ts';
import type { Detector } from '../../method/detector.ts';
import { embedTexts } from '../../method/embed_cache.ts';
import { aggregateViewScores, type CropAggregation } from '../../method/multicrop.ts';
import { promptPair } from '../../method/prompts.ts';
import { clipScores, l2normalizeRows } from '../../method/scores.ts';
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

/** L2-normalised embeddings of "a photo of {normal} {object}" / "a photo of {anomaly} {object}" (text cache used). */
export async function promptPairEmbeddings(
  backbone: Backbone,
  object: string,
  words: { normalWord: string; anomalyWord: string },
  store?: EmbeddingStore,
): Promise<{ tNormal: Float32Array; tAnomaly: Float32Array }> {
  const pair = promptPair({ object, normalWord: words.normalWord, anomalyWord: words.anomalyWord });
  const { data, dim } = await embedTexts(backbone, [pair.normal, pair.anomaly], { store });
  return { tNormal: data.slice(0, dim), tAnomaly: data.slice(dim, 2 * dim) };
}

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

/** Per-image aggregate of per-view scores (views of image i at rows i·nViews .. i·nViews + nViews − 1). */
export function aggregateImageScores(perView: ArrayLike<number>, nViews: number, aggregation: CropAggregation): Float64Array {
  if (perView.length % nViews !== 0) throw new RwdaError(`internal: ${perView.length} view scores is not a whole number of ${nViews}-view images`);
  const n = perView.length / nViews;
  const out = new Float64Array(n);
  const crops: number[] = new Array(nViews - 1);
  for (let i = 0; i < n; i++) {
    for (let v = 1; v < nViews; v++) crops[v - 1] = perView[i * nViews + v]!;
    out[i] = aggregateViewScores(perView[i * nViews]!, crops, aggregation);
  }
  return out;
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
    const perImage = aggregateImageScores(clipScores(x, dim, t.tNormal, t.tAnomaly, PROMPT_DEFAULTS.temperature), ctx.viewIds.length, ctx.aggregation);
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
    const views = detector.scoreRows(x, t.tNormal, t.tAnomaly, PROMPT_DEFAULTS.temperature);
    const agg = (kind: 'sClip' | 'sFnn' | 's'): Float64Array => aggregateImageScores(views.map((v) => v[kind]), nViews, ctx.aggregation);
    const [clip, fnn, s] = [agg('sClip'), agg('sFnn'), agg('s')];
    indices.forEach((i, k) => {
      out.clip[i] = clip[k]!;
      out.ours[i] = fnn[k]!;
      out.clipOurs[i] = s[k]!;
    });
  });
  return out;
}
