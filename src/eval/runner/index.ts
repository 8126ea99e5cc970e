/** The evaluation runner behind `rwda eval`: plan, embedding phase, scoring, results, run-time estimate. */
export { runEval, type EvalEvent, type EvalOutcome, type EvalStats, type RunEvalOptions } from './run.ts';
export {
  SCORES_FORMAT,
  clipScores,
  loadAndEmbed,
  readScores,
  runtimeVersions,
  scoreContext,
  seedScores,
  storedSeeds,
  type DataEvent,
  type EmbeddedDataset,
  type LoadAndEmbedOptions,
  type SeedDetector,
  type SeedScoresOptions,
} from './steps.ts';
export {
  DEFAULT_SEEDS,
  RUNNER_FORMAT,
  bindTrainObjects,
  clipResultKey,
  dataKey,
  planEval,
  runKey,
  seedResultKey,
  type EvalPlan,
  type EvalTrainOptions,
  type KeyedItem,
  type PlanOptions,
  type TrainObjectsMode,
} from './plan.ts';
export { DEFAULT_IMAGE_BATCH, embedItems, type EmbedBatchInfo, type EmbedItemsOptions, type EmbedPhaseResult, type EmbeddedItem } from './embed_images.ts';
export {
  aggregateImageScores,
  promptPairEmbeddings,
  readViewRows,
  scoreClip,
  scoreWithDetector,
  type DetectorScores,
  type ScoreContext,
} from './score.ts';
export { assembleResults, type AssembleInput, type SeedScores } from './assemble.ts';
export { estimateRunTime, readBenchTimings, type BenchTimings, type RunTimeEstimate, type RunTimeInputs } from './estimate.ts';
