/** rwda: zero-shot image anomaly detection with CLIP and random word data augmentation. */
export { RwdaError } from './errors.ts';
/** CLIP backbone on onnxruntime: `await ClipModel.load(dir)`, then encodeText / encodeImage / encodePixels. */
export { ClipModel, type ClipModelLoadOptions, type EncodeOptions, type ImageInput } from './clip/model.ts';
export type { PixelOutputs } from './clip/vision_tower.ts';
