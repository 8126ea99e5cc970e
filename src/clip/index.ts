/** The CLIP backbone: model loading, towers on onnxruntime, and the graph builders behind them. */
export { ClipModel, type ClipModelLoadOptions, type EncodeOptions, type EncodeWindowsOptions, type ImageInput } from './model.ts';
export { TextTower, DEFAULT_TEXT_BATCH, firstArgmax, type EncodeIdsOptions } from './text_tower.ts';
export { WindowTower, DEFAULT_WINDOW_SCALES, DEFAULT_WINDOW_BATCH, checkWindowScales, type WindowOutputs } from './window_tower.ts';
export { windowPatches, windowCoverage } from './windows.ts';
export { buildWindowGraph, windowOutputName, windowTokenIndices } from './onnx/window_graph.ts';
export { VisionTower, DEFAULT_IMAGE_BATCH, type PixelOutputs, type EncodePixelsOptions } from './vision_tower.ts';
export { buildTextGraph } from './onnx/text_graph.ts';
export { buildVisionGraph, buildVisionBlocksGraph, embedTokens, runVisionBlocks } from './onnx/vision_graph.ts';
export { DEFAULT_KERNELS, REFERENCE_KERNELS, type KernelOptions } from './onnx/transformer.ts';
export type { BuiltGraph, TowerGraphOptions } from './onnx/build.ts';
