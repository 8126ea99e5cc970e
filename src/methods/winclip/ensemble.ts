/**
 * WinCLIP's compositional prompt ensemble: each state filled with the class name, each template
 * with the state, state-major (prompt i·T + j = template j of state i). The text embeddings are
 * the means of the RAW prompt features (anomalib does not normalise before averaging; the cosine
 * normalises the means).
 */
import { RwdaError } from '../../errors.ts';
import type { Backbone } from '../common/backbone.ts';
import { embedTexts } from '../common/embed_cache.ts';
import type { EmbeddingStore } from '../../store/index.ts';
import type { WinClipSettings } from './settings.ts';

/** The normal and anomalous prompts of a class, in anomalib's order. */
export function promptEnsemble(className: string, s: Pick<WinClipSettings, 'normalStates' | 'anomalousStates' | 'templates'>): { normal: string[]; anomalous: string[] } {
  if (typeof className !== 'string' || className.trim() === '') throw new RwdaError(`winclip: the class name must be a non-empty string, got ${JSON.stringify(className)}`);
  // Python's str.format with one positional slot: the name goes in verbatim.
  const fill = (t: string, v: string): string => t.split('{}').join(v);
  const build = (states: readonly string[]): string[] => states.flatMap((st) => s.templates.map((t) => fill(t, fill(st, className))));
  return { normal: build(s.normalStates), anomalous: build(s.anomalousStates) };
}

/** Column mean of row-major [n, dim] (float64 accumulation). */
function meanRows(data: Float32Array, n: number, dim: number, from: number): Float32Array {
  const acc = new Float64Array(dim);
  for (let r = from; r < from + n; r++) for (let d = 0; d < dim; d++) acc[d]! += data[r * dim + d]!;
  return Float32Array.from(acc, (v) => v / n);
}

/** Text embeddings t_n, t_a (un-normalised means of raw features) of a class, through the text cache. */
export async function ensembleEmbeddings(
  backbone: Backbone,
  className: string,
  s: WinClipSettings,
  store?: EmbeddingStore,
): Promise<{ tNormal: Float32Array; tAnomaly: Float32Array; prompts: { normal: string[]; anomalous: string[] } }> {
  const prompts = promptEnsemble(className, s);
  const { data, dim } = await embedTexts(backbone, [...prompts.normal, ...prompts.anomalous], { store, normalize: false });
  return {
    tNormal: meanRows(data, prompts.normal.length, dim, 0),
    tAnomaly: meanRows(data, prompts.anomalous.length, dim, prompts.normal.length),
    prompts,
  };
}
