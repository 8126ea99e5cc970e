/**
 * The CLIP prompt baseline's pure scoring core (the paper's Section 3.1): for an L2-normalised
 * image embedding x and the prompt-guided pair "a photo of {normal} {object}" / "a photo of
 * {anomaly} {object}", s_clip = softmax([cos(x, t_n), cos(x, t_a)] / τ)[1]; with multi-crop the
 * per-view scores are aggregated as mean(standard view, max over crops).
 */
import type { Backbone } from '../common/backbone.ts';
import { embedTexts } from '../common/embed_cache.ts';
import type { CropAggregation } from '../common/multicrop.ts';
import { aggregateImageScores } from '../common/multicrop.ts';
import { clipScores } from '../common/scores.ts';
import type { EmbeddingStore } from '../../store/index.ts';
import { promptPair } from '../rwda/prompts.ts';

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

/** Per-image s_clip of images given as nViews consecutive L2-normalised rows each (standard view first). */
export function clipImageScores(
  x: Float32Array,
  dim: number,
  nViews: number,
  t: { tNormal: Float32Array; tAnomaly: Float32Array },
  opts: { temperature: number; aggregation: CropAggregation },
): Float64Array {
  return aggregateImageScores(clipScores(x, dim, t.tNormal, t.tAnomaly, opts.temperature), nViews, opts.aggregation);
}
