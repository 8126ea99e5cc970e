/**
 * The few-shot form of "CLIP + ours" (the paper's k-shot rows): WinCLIP+'s reference score s_ref
 * (the max of its few-shot map, from the window and patch embeddings of the query against those of
 * the k normal references) fused with the zero-shot score. The fusion is ours (FEW_SHOT_DEFAULTS).
 */
import { RwdaError } from '../../errors.ts';
import type { EmbeddingStore } from '../../store/index.ts';
import type { Backbone } from '../common/backbone.ts';
import { embedImageWindows } from '../common/embed_windows.ts';
import { readInputs } from '../common/inputs.ts';
import type { DetectInput } from '../common/inputs.ts';
import { embedReferences } from '../common/references.ts';
import type { ViewCounts } from '../common/embed_cache.ts';
import type { ReferenceInfo } from '../method.ts';
import type { AnomalyMap } from '../types.ts';
import { MaxDot } from '../common/nearest.ts';
import { buildReferenceMemory, fewShotDistances, fewShotMaps, upsampleBilinear, WINCLIP_DEFAULTS } from '../winclip/index.ts';

/** s = (1 − w)·s_zero_shot + w·s_ref. */
export function fuseFewShot(zeroShot: number, sRef: number, weight: number): number {
  return (1 - weight) * zeroShot + weight * sRef;
}

/** The reference side of the few-shot form, bound to k references. */
export interface ReferenceScorer {
  info: ReferenceInfo;
  dispose(): void;
  /** s_ref (and the few-shot map, upsampled to the input size, with `maps`) of each image; all must be readable. */
  score(images: readonly DetectInput[], opts: { maxPixels?: number; maps?: boolean; onViews?: (c: ViewCounts) => void }): Promise<Array<{ sRef: number; map?: AnomalyMap }>>;
}

/** Embeds the references (cached) and returns the scorer of queries against their memory. */
export async function openReferenceScorer(
  backbone: Backbone,
  refs: readonly DetectInput[],
  opts: { store?: EmbeddingStore; maxPixels?: number },
): Promise<ReferenceScorer> {
  const scales = WINCLIP_DEFAULTS.scales;
  const { grids, info } = await embedReferences(backbone, refs, { store: opts.store, scales, maxPixels: opts.maxPixels });
  const memory = buildReferenceMemory(grids, scales);
  const search = await MaxDot.create();
  const S = backbone.config.preprocess.size;
  return {
    info,
    dispose: () => void search.dispose(),
    async score(images, o) {
      const { names, sources, errors } = await readInputs(images);
      const bad = [...errors.values()][0];
      if (bad !== undefined) throw bad;
      const { results, counts } = await embedImageWindows(backbone, sources, { store: opts.store, scales, maxPixels: o.maxPixels });
      o.onViews?.(counts);
      const out: Array<{ sRef: number; map?: AnomalyMap }> = [];
      for (const [i, r] of results.entries()) {
        if (r instanceof Error) throw new RwdaError(r.message.includes(names[i]!) ? r.message : `${names[i]}: ${r.message}`, { cause: r });
        const few = fewShotMaps(r, memory, scales, await fewShotDistances(search, r, memory, scales));
        let sRef = -Infinity;
        for (const v of few.map) if (v > sRef) sRef = v;
        out.push(o.maps ? { sRef, map: upsampleBilinear(few.map, r.grid, r.grid, S, S) } : { sRef });
      }
      return out;
    },
  };
}
