/** The paper's method: prompts, scores, multi-crop, the FNN, and the detector built from them. */
export { PROMPT_DEFAULTS, FNN_DEFAULTS, MULTICROP_DEFAULTS } from './defaults.ts';
export { Rng } from '../../util/rng.ts';
export {
  promptPair,
  augmentedPairs,
  iterAugmentedPairs,
  fillTemplate,
  joinWords,
  objectName,
  randomWord,
  wordSpec,
  AUGMENT_SLOTS,
  type PromptPair,
  type PromptPairOptions,
  type AugmentOptions,
  type RandomWordOptions,
  type WordSpec,
} from './prompts.ts';
export { clipScore, clipScores, fuseScores, softmaxAnomaly, dot, l2norm, l2normalize, l2normalizeInPlace, l2normalizeRows, L2_EPS, type Vec } from '../common/scores.ts';
export {
  cropViews,
  centerSquare,
  viewIds,
  aggregateViewScores,
  multiCropScore,
  STANDARD_VIEW_ID,
  type View,
  type Box,
  type CropAggregation,
  type MultiCropOptions,
} from '../common/multicrop.ts';
export { Fnn, trainFnn, resolveConfig as resolveFnnConfig, type FnnConfig, type StepInfo, type TrainOptions as FnnTrainOptions } from './fnn/index.ts';
export { backboneName, type Backbone } from '../common/backbone.ts';
export { embedTexts, embedImageViews, viewTensor, type TextEmbeddings, type ViewEmbeddings, type ViewCounts, type ImageSource } from '../common/embed_cache.ts';
export { buildTrainingSet, type TrainingSet, type TrainingSetOptions } from './training_set.ts';
export {
  DETECTOR_FORMAT,
  DETECTOR_FORMAT_VERSION,
  DETECTOR_JSON,
  FNN_FILE,
  readMeta as readDetectorMeta,
  checkDetectorOut,
  type DetectorMeta,
} from './detector_artifact.ts';
export { Detector, type DetectInput, type ImageScores, type ScoreOptions, type Scores, type ViewScores } from './detector.ts';
export {
  trainDetector,
  resolveTrainSettings,
  trainSettingsHash,
  defaultDetectorDir,
  loadOrTrainDefaultDetector,
  type TrainDetectorOptions,
  type TrainProgress,
  type TrainSettings,
  type DefaultDetectorOptions,
} from './train_detector.ts';
export { packageVersion } from '../../util/version.ts';
export { checkPairs } from './training_set.ts';
export { scoreRows, scoreViewRows, aggregateImageScores, sigmoid, type LogitModel, type PromptEmbeddings } from './scoring.ts';
export { RWDA_METHOD } from './method.ts';
export { fuseFewShot, openReferenceScorer, type ReferenceScorer } from './few_shot.ts';
