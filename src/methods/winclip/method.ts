/**
 * The `winclip` entry of the registry: WinCLIP (zero-shot) and, with reference images, WinCLIP+.
 * Images go through the backbone's window pass (cached per image in the store); the map is the
 * grid map upsampled bilinearly to the model input size.
 */
import { RwdaError } from '../../errors.ts';
import { embedImageWindows } from '../common/embed_windows.ts';
import { checkChunkSize, readInputs, reportErrors } from '../common/inputs.ts';
import { embedReferences } from '../common/references.ts';
import type { ImagePrediction, MethodContext, MethodRunner, MethodSpec, PredictOptions } from '../method.ts';
import { ensembleEmbeddings } from './ensemble.ts';
import { MaxDot } from '../common/nearest.ts';
import { buildReferenceMemory, scoreWinClip, upsampleBilinear, type ReferenceMemory } from './scoring.ts';
import { fewShotDistances } from './search.ts';
import { resolveWinClipSettings, WINCLIP_DEFAULTS } from './settings.ts';

/** anomalib's Lightning module default class name. */
const DEFAULT_CLASS = 'object';

async function open(ctx: MethodContext): Promise<MethodRunner> {
  const settings = resolveWinClipSettings(ctx.settings);
  const { backbone, store } = ctx;
  const S = backbone.config.preprocess.size;
  const texts = new Map<string, { tNormal: Float32Array; tAnomaly: Float32Array }>();
  const text = async (object: string) => {
    let t = texts.get(object);
    if (t === undefined) texts.set(object, (t = await ensembleEmbeddings(backbone, object, settings, store)));
    return t;
  };
  let memory: ReferenceMemory | undefined;
  let search: MaxDot | undefined;
  return {
    spec: WINCLIP_METHOD,
    async setReferences(refs, opts = {}) {
      const { grids, info } = await embedReferences(backbone, refs, { store, scales: settings.scales, maxPixels: opts.maxPixels });
      memory = buildReferenceMemory(grids, settings.scales);
      search ??= await MaxDot.create();
      return info;
    },
    async predict(images, opts: PredictOptions = {}) {
      if (opts.crops !== undefined && opts.crops !== 'none') throw new RwdaError('winclip scores windows, not multi-crop views: use crops none');
      const t = await text(opts.object ?? DEFAULT_CLASS);
      const chunkSize = checkChunkSize(opts.chunkSize, 4);
      const out: ImagePrediction[] = [];
      for (let start = 0; start < images.length; start += chunkSize) {
        const { names, sources, at, errors } = await readInputs(images.slice(start, start + chunkSize), start);
        const { results, counts } = await embedImageWindows(backbone, sources, { store, scales: settings.scales, maxPixels: opts.maxPixels });
        opts.onViews?.(counts);
        results.forEach((r, k) => {
          if (r instanceof Error) errors.set(at[k]!, r);
        });
        reportErrors(errors, names, opts.onError);
        for (const [k, r] of results.entries()) {
          if (r instanceof Error) continue;
          const dist = memory !== undefined ? await fewShotDistances(search!, r, memory, settings.scales) : undefined;
          const res = scoreWinClip(r, t, memory, settings, dist);
          const components: Record<string, number> = { s_zero_shot: res.zeroShot };
          if (res.fewShot !== undefined) components.s_few_shot = res.fewShot;
          const p: ImagePrediction = { index: start + at[k]!, file: names[at[k]!]!, s: res.s, components };
          if (opts.maps) p.map = upsampleBilinear(res.gridMap, r.grid, r.grid, S, S);
          out.push(p);
        }
        opts.onProgress?.(Math.min(start + chunkSize, images.length), images.length);
      }
      return out;
    },
    dispose() {
      void search?.dispose();
    },
  };
}

/** The comparator of the paper (Jeong et al., CVPR 2023), as anomalib implements it. */
export const WINCLIP_METHOD: MethodSpec = Object.freeze({
  id: 'winclip',
  label: 'WinCLIP',
  fewShotLabel: 'WinCLIP+',
  summary: 'WinCLIP: compositional prompt ensemble on multi-scale window embeddings (harmonic aggregation); with references WinCLIP+ adds the reference-patch distance',
  components: ['s_zero_shot'],
  fewShotComponents: ['s_zero_shot', 's_few_shot'],
  seeded: false,
  maps: true,
  settings: WINCLIP_DEFAULTS,
  readme: 'src/methods/winclip/README.md',
  open,
});
