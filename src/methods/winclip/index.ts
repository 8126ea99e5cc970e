/** WinCLIP / WinCLIP+ (Jeong et al., CVPR 2023) as anomalib computes it: settings, prompt ensemble, pure scoring core, registry entry. */
export { WINCLIP_PRESETS, WINCLIP_DEFAULTS, resolveWinClipSettings, type WinClipPreset, type WinClipSettings } from './settings.ts';
export { promptEnsemble, ensembleEmbeddings } from './ensemble.ts';
export {
  zeroShotScores,
  harmonicAggregation,
  buildReferenceMemory,
  fewShotMaps,
  scoreWinClip,
  upsampleBilinear,
  distancesFromMaxDot,
  normalizedRows,
  type FewShotDistances,
  type WinClipInputs,
  type ReferenceMemory,
  type WinClipResult,
} from './scoring.ts';
export { fewShotDistances } from './search.ts';
export { WINCLIP_METHOD } from './method.ts';
