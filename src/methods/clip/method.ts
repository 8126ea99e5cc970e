/** The `clip` entry of the registry: s_clip of every image (multi-crop optional), no few-shot form. */
import { RwdaError } from '../../errors.ts';
import { embedImageViews } from '../common/embed_cache.ts';
import { checkChunkSize, readInputs, reportErrors } from '../common/inputs.ts';
import type { ImagePrediction, MethodContext, MethodRunner, MethodSpec, PredictOptions } from '../method.ts';
import { MULTICROP_DEFAULTS, PROMPT_DEFAULTS } from '../rwda/defaults.ts';
import { clipImageScores, promptPairEmbeddings } from './scoring.ts';
import { CLIP_SETTINGS, resolveClipSettings } from './settings.ts';

async function open(ctx: MethodContext): Promise<MethodRunner> {
  const settings = resolveClipSettings(ctx.settings);
  const { backbone, store } = ctx;
  const dim = backbone.config.embedDim;
  return {
    spec: CLIP_METHOD,
    async setReferences() {
      throw new RwdaError('method clip has no few-shot form; use --method rwda or --method winclip with --reference', { code: 'unsupported' });
    },
    async predict(images, opts: PredictOptions = {}) {
      const object = opts.object ?? PROMPT_DEFAULTS.unknownObject;
      const t = await promptPairEmbeddings(backbone, object, settings, store);
      const scales = opts.crops === 'grid' ? MULTICROP_DEFAULTS.scales : undefined;
      const chunkSize = checkChunkSize(opts.chunkSize, 8);
      const out: ImagePrediction[] = [];
      for (let start = 0; start < images.length; start += chunkSize) {
        const { names, sources, at, errors } = await readInputs(images.slice(start, start + chunkSize), start);
        const { results, counts } = await embedImageViews(backbone, sources, { store, scales, maxPixels: opts.maxPixels });
        opts.onViews?.(counts);
        results.forEach((r, k) => {
          if (r instanceof Error) errors.set(at[k]!, r);
        });
        reportErrors(errors, names, opts.onError);
        results.forEach((r, k) => {
          if (r instanceof Error) return;
          const [s] = clipImageScores(r.data, dim, r.ids.length, t, { temperature: settings.temperature, aggregation: settings.cropAggregation });
          out.push({ index: start + at[k]!, file: names[at[k]!]!, s: s!, components: { s_clip: s! } });
        });
        opts.onProgress?.(Math.min(start + chunkSize, images.length), images.length);
      }
      return out.sort((a, b) => a.index - b.index);
    },
    dispose() {},
  };
}

/** The CLIP prompt baseline (the paper's "CLIP" rows). */
export const CLIP_METHOD: MethodSpec = Object.freeze({
  id: 'clip',
  label: 'CLIP',
  fewShotLabel: 'CLIP',
  summary: 'zero-shot CLIP prompt score s_clip = softmax(cos/τ)[anomaly] of "a photo of [a] object" vs "a photo of [a damaged] object"',
  components: ['s_clip'],
  fewShotComponents: [],
  seeded: false,
  maps: false,
  readme: 'src/methods/clip/README.md',
  settings: CLIP_SETTINGS,
  open,
});
