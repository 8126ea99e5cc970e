/**
 * Reference images of the few-shot forms: read strictly (every reference must be readable and
 * decodable: a memory built from fewer images than asked is a silent change of method), then their
 * window grids from the store or one window pass.
 */
import { RwdaError } from '../../errors.ts';
import type { EmbeddingStore } from '../../store/index.ts';
import type { Backbone } from './backbone.ts';
import { embedImageWindows, type WindowGrids } from './embed_windows.ts';
import { readInputs, type DetectInput } from './inputs.ts';
import type { ReferenceInfo } from '../method.ts';

/** The window grids of every reference, in input order, and what ReferenceInfo reports. */
export async function embedReferences(
  backbone: Backbone,
  refs: readonly DetectInput[],
  opts: { store?: EmbeddingStore; scales: readonly number[]; maxPixels?: number },
): Promise<{ grids: WindowGrids[]; info: ReferenceInfo }> {
  if (refs.length === 0) throw new RwdaError('no reference images given: the few-shot form needs at least one normal image');
  const { names, sources, errors } = await readInputs(refs);
  const firstBad = [...errors.keys()].sort((a, b) => a - b)[0];
  if (firstBad !== undefined) throw new RwdaError(`reference ${errors.get(firstBad)!.message}`);
  const { results, counts } = await embedImageWindows(backbone, sources, { store: opts.store, scales: opts.scales, maxPixels: opts.maxPixels });
  const grids: WindowGrids[] = [];
  results.forEach((r, i) => {
    if (r instanceof Error) throw new RwdaError(`reference ${r.message.includes(names[i]!) ? r.message : `${names[i]}: ${r.message}`}`, { cause: r });
    grids.push(r);
  });
  return { grids, info: { count: grids.length, cached: counts.cached, sha256: grids.map((g) => g.sha256) } };
}
