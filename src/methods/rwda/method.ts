/**
 * The `rwda` entry of the registry: the paper's "CLIP + ours" (s_clip, s_fnn, s = their mean; multi-
 * crop optional) and, with reference images, its few-shot form, which adds WinCLIP+'s reference
 * score s_ref (see ./few_shot.ts for the fusion, ours).
 */
import { RwdaError } from '../../errors.ts';
import type { ImagePrediction, MethodContext, MethodRunner, MethodSpec, PredictOptions } from '../method.ts';
import type { Detector } from './detector.ts';
import { FEW_SHOT_DEFAULTS } from './defaults.ts';
import { fuseFewShot, openReferenceScorer, type ReferenceScorer } from './few_shot.ts';

function fewShotWeight(settings: Readonly<Record<string, unknown>> = {}): number {
  for (const k of Object.keys(settings)) {
    if (k !== 'referenceWeight' && settings[k] !== undefined) throw new RwdaError(`unknown rwda setting '${k}' (known: referenceWeight)`);
  }
  const w = settings.referenceWeight ?? FEW_SHOT_DEFAULTS.referenceWeight;
  if (typeof w !== 'number' || !(w >= 0 && w <= 1)) throw new RwdaError(`rwda setting referenceWeight must be a number in [0, 1], got ${JSON.stringify(w)}`);
  return w;
}

async function open(ctx: MethodContext): Promise<MethodRunner> {
  if (ctx.detector === undefined) throw new RwdaError('method rwda needs a trained detector (MethodContext.detector)');
  const weight = fewShotWeight(ctx.settings);
  const detector: Detector = await ctx.detector();
  let reference: ReferenceScorer | undefined;
  return {
    spec: RWDA_METHOD,
    async setReferences(refs, opts = {}) {
      reference?.dispose();
      reference = await openReferenceScorer(ctx.backbone, refs, { store: ctx.store, maxPixels: opts.maxPixels });
      return reference.info;
    },
    async predict(images, opts: PredictOptions = {}) {
      const rows = await detector.score(images, {
        object: opts.object,
        crops: opts.crops,
        store: ctx.store,
        maxPixels: opts.maxPixels,
        chunkSize: opts.chunkSize,
        onError: opts.onError,
        onViews: opts.onViews,
        onProgress: reference === undefined ? opts.onProgress : undefined,
      });
      const out: ImagePrediction[] = rows.map((r) => ({ index: r.index, file: r.file, s: r.s, components: { s_clip: r.sClip, s_fnn: r.sFnn } }));
      if (reference === undefined) return out;
      // Images the zero-shot pass could not read were reported already; score the rest.
      const ref = await reference.score(out.map((p) => images[p.index]!), { maxPixels: opts.maxPixels, maps: opts.maps, onViews: opts.onViews });
      out.forEach((p, k) => {
        const r = ref[k]!;
        const zero = p.s;
        p.components = { ...p.components, s_zero_shot: zero, s_ref: r.sRef };
        p.s = fuseFewShot(zero, r.sRef, weight);
        if (r.map !== undefined) p.map = r.map;
      });
      opts.onProgress?.(images.length, images.length);
      return out;
    },
    dispose() {
      reference?.dispose();
      detector.dispose();
    },
  };
}

/** The paper's method. */
export const RWDA_METHOD: MethodSpec = Object.freeze({
  id: 'rwda',
  label: 'CLIP + Ours',
  fewShotLabel: 'CLIP + Ours (few-shot)',
  summary: 'the paper: CLIP score fused with an FNN trained on random-word prompt embeddings; with references, plus the WinCLIP+ reference score',
  components: ['s_clip', 's_fnn'],
  fewShotComponents: ['s_clip', 's_fnn', 's_zero_shot', 's_ref'],
  seeded: true,
  maps: false,
  settings: FEW_SHOT_DEFAULTS,
  readme: 'src/methods/rwda/README.md',
  open,
});
