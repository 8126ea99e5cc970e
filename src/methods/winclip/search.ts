/** The few-shot nearest-neighbour distances of WinCLIP+ through onnxruntime (see common/nearest.ts for why). */
import { MaxDot } from '../common/nearest.ts';
import { distancesFromMaxDot, normalizedRows, type FewShotDistances, type ReferenceMemory, type WinClipInputs } from './scoring.ts';

/** Per patch and per window of each scale, min (1 − cos)/2 over the memory's rows of that kind. */
export async function fewShotDistances(search: MaxDot, x: WinClipInputs, memory: ReferenceMemory, scales: readonly number[]): Promise<FewShotDistances> {
  const patch = distancesFromMaxDot(await search.run(normalizedRows(x.patchTokens, memory.width, 'patch tokens'), memory.patches, memory.width));
  const windows: Record<number, Float32Array> = {};
  for (const s of scales) {
    windows[s] = distancesFromMaxDot(await search.run(normalizedRows(x.windows[s]!, memory.embedDim, `windows of scale ${s}`), memory.windows[s]!, memory.embedDim));
  }
  return { patch, windows };
}
