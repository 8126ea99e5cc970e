/** rwda: zero-shot image anomaly detection with CLIP and random word data augmentation. */
export { RwdaError } from './errors.ts';
/** CLIP backbone on onnxruntime: `await ClipModel.load(dir)`, then encodeText / encodeImage / encodePixels. */
export { ClipModel, type ClipModelLoadOptions, type EncodeOptions, type ImageInput } from './clip/model.ts';
export type { PixelOutputs } from './clip/vision_tower.ts';
/** The method: `trainDetector(model, { pairs, seed, store })` → Detector; `Detector.load(dir, model)`; `detector.score(files, { object, crops })`. */
export { trainDetector, loadOrTrainDefaultDetector, defaultDetectorDir, Detector, buildTrainingSet, PROMPT_DEFAULTS, FNN_DEFAULTS, MULTICROP_DEFAULTS, type Backbone, type TrainDetectorOptions, type TrainProgress, type DetectorMeta, type DetectInput, type ImageScores, type ScoreOptions, type Scores, type ViewScores } from './method/index.ts';
/** The embedding cache (SQLite): `EmbeddingStore.open(path?)`, shared by train and detect. */
export { EmbeddingStore, type StoreCounters } from './store/index.ts';
