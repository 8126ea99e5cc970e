/**
 * Routes the text encoding of the training set through the backbone's pair encoder when it has one:
 * a view of the backbone whose encodeText, given the texts the store is missing, encodes every
 * complete missing pair with encodeTextPairs (shared prefix run once) and the rest with encodeText.
 * The store logic of embedTexts is untouched, so cached texts are still never encoded again.
 */
import { RwdaError } from '../../errors.ts';
import type { EncodeOptions } from '../../clip/model.ts';
import type { Backbone } from '../common/backbone.ts';
import type { PromptPair } from './prompts.ts';

/** `backbone` itself when it has no pair encoder; else a Backbone whose encodeText pairs up the texts of `pairs`. */
export function pairAwareBackbone(backbone: Backbone, pairs: readonly PromptPair[]): Backbone {
  const encodePairs = backbone.encodeTextPairs?.bind(backbone);
  if (!encodePairs) return backbone;
  return {
    dir: backbone.dir,
    config: backbone.config,
    get fingerprint() {
      return backbone.fingerprint;
    },
    encodeImage: (images, opts) => backbone.encodeImage(images, opts),
    encodeTextPairs: encodePairs,
    async encodeText(texts: readonly string[], opts: EncodeOptions = {}): Promise<Float32Array[]> {
      const slot = new Map<string, number>();
      texts.forEach((t, i) => {
        if (!slot.has(t)) slot.set(t, i);
      });
      const paired = new Set<string>();
      const todo: PromptPair[] = [];
      for (const p of pairs) {
        if (p.normal === p.anomaly || !slot.has(p.normal) || !slot.has(p.anomaly) || paired.has(p.normal) || paired.has(p.anomaly)) continue;
        paired.add(p.normal).add(p.anomaly);
        todo.push(p);
      }
      const rest = [...slot.keys()].filter((t) => !paired.has(t));
      const total = 2 * todo.length + rest.length;
      const found = new Map<string, Float32Array>();
      if (todo.length > 0) {
        const r = await encodePairs(todo, { batchSize: opts.batchSize, normalize: opts.normalize, onProgress: (d) => opts.onProgress?.(2 * d, total) });
        if (r.normal.length !== todo.length || r.anomaly.length !== todo.length) throw new RwdaError(`pair text encoder returned ${r.normal.length}/${r.anomaly.length} embeddings for ${todo.length} pairs`);
        todo.forEach((p, i) => found.set(p.normal, r.normal[i]!).set(p.anomaly, r.anomaly[i]!));
      }
      if (rest.length > 0) {
        const r = await backbone.encodeText(rest, { batchSize: opts.batchSize, normalize: opts.normalize, onProgress: (d) => opts.onProgress?.(2 * todo.length + d, total) });
        if (r.length !== rest.length) throw new RwdaError(`text encoder returned ${r.length} embeddings for ${rest.length} texts`);
        rest.forEach((t, i) => found.set(t, r[i]!));
      }
      return texts.map((t) => found.get(t)!);
    },
  };
}
