/** Pixel-level (segmentation) metrics: pixel AUROC / AP / F1-max and MVTec's AU-PRO. */
export { DEFAULT_PRO_LIMIT, PixelMetricsAccumulator, checkProLimit, type PixelMetrics, type PixelMetricsOptions, type ProCurve } from './metrics.ts';
export { labelComponents, type Components } from './components.ts';
export { evaluatePixelFolders, pairMapsWithMasks, type MapMaskPair } from './folders.ts';
