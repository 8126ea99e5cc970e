/** rwda: zero-shot image anomaly detection with CLIP and random word data augmentation. */
export { RwdaError, type RwdaErrorCode } from './errors.ts';
/** CLIP backbone on onnxruntime: `await ClipModel.load(dir)`, then encodeText / encodeImage / encodePixels. */
export { ClipModel, type ClipModelLoadOptions, type EncodeOptions, type EncodeWindowsOptions, type ImageInput } from './clip/model.ts';
export type { PixelOutputs } from './clip/vision_tower.ts';
export { WindowTower, DEFAULT_WINDOW_SCALES, type WindowOutputs } from './clip/window_tower.ts';
/** The method: `trainDetector(model, { pairs, seed, store })` → Detector; `Detector.load(dir, model)`; `detector.score(files, { object, crops })`. */
export { trainDetector, loadOrTrainDefaultDetector, defaultDetectorDir, Detector, buildTrainingSet, PROMPT_DEFAULTS, FNN_DEFAULTS, MULTICROP_DEFAULTS, type Backbone, type TrainDetectorOptions, type TrainProgress, type DetectorMeta, type DetectInput, type ImageScores, type ScoreOptions, type Scores, type ViewScores } from './methods/rwda/index.ts';
/** The family of methods: `getMethod('rwda' | 'clip' | 'winclip').open({ backbone })` → runner.predict(images) → Prediction { s, components, map? }. */
export { METHODS, DEFAULT_METHOD, getMethod, methodIds, type ImagePrediction, type MethodContext, type MethodRunner, type MethodSpec, type PredictOptions, type ReferenceInfo, type AnomalyMap, type Prediction } from './methods/index.ts';
/** The embedding cache (SQLite): `EmbeddingStore.open(path?)`, shared by train and detect. */
export { EmbeddingStore, type StoreCounters } from './store/index.ts';
/** Pretrained models from the Hugging Face hub: `resolveModel(nameOrDir)` → a local model directory. */
export { DEFAULT_MODEL, resolveModel, pullModel, listCachedModels, removeCachedModel, listPretrained, type HubOptions, type ResolvedModel, type CachedModel } from './clip/hub/index.ts';
/** Tokenizer and preprocessing, exact against open_clip / Pillow. */
export { ClipTokenizer, type TokenBatch } from './clip/tokenizer/index.ts';
export { decodeImage, preprocessImage, type DecodedImage } from './clip/preprocess/index.ts';
/** Dataset loaders: MVTec-AD, VisA, Sewer-ML, generic folders. */
export { loadDataset, loadMvtec, loadVisa, loadSewerMl, type DatasetSpec, type DatasetItem, type LoadedDataset } from './data/index.ts';
/** Image-level metrics, exact against scikit-learn: AUROC, AP, trapezoidal PR-AUC, F1-max. */
export { computeMetrics, rocCurve, prCurve, evaluateScores } from './eval/metrics.ts';
/** Pixel-level metrics (pixel AUROC / AP / F1-max, MVTec AU-PRO), exact against sklearn and MVTec's code; .npy maps and masks. */
export { PixelMetricsAccumulator, evaluatePixelFolders, pairMapsWithMasks, labelComponents, DEFAULT_PRO_LIMIT, type PixelMetrics, type ProCurve } from './eval/pixel/index.ts';
export { readNpy, parseNpy, writeNpyFloat32, encodeNpyFloat32, type NpyMap } from './data/npy.ts';
export { readMask, type BinaryMask } from './data/mask.ts';
/** The evaluation runner and its reports (results.json, report.md, report.html). */
export { runEval, type RunEvalOptions, type EvalOutcome } from './eval/runner/index.ts';
export { writeReports, renderMarkdown, renderHtml, type RunResults } from './eval/report/index.ts';
export { findPaperCell, paperCells, paperTableNotes, renderPaperTable, type PaperCell, type OursLookup } from './eval/report/index.ts';
/** The paper's analyses and t-SNE. */
export { runPairsExperiment, runWordsExperiment, runTsneExperiment } from './eval/experiments/index.ts';
export { runDomainsExperiment, nn1Accuracy, type DomainsFile } from './eval/experiments/index.ts';
export { loadCaptions, type CaptionSet, type CaptionMatchOptions } from './data/captions.ts';
export { tsne } from './eval/tsne.ts';
