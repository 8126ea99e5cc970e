/** The paper's analyses (Sections 4.4–4.5) behind `rwda experiment`: pair-count sweep, state-word grid, t-SNE map. */
export { runtimeVersions } from '../runner/index.ts';
export {
  countersSince,
  evaluateSetting,
  prepareData,
  runSweep,
  trainingConfig,
  type CategoryAuroc,
  type ExperimentData,
  type ExperimentDataOptions,
  type ExperimentEvent,
  type HeadlineStats,
  type SettingResult,
  type SweepStats,
  type SweepStep,
  type TrainingConfig,
} from './setting.ts';
export {
  EXPERIMENT_FORMAT,
  renderExperimentHtml,
  writeExperimentFiles,
  type BackboneConfig,
  type DatasetConfig,
  type ExperimentFile,
  type ExperimentName,
  type ExperimentPage,
  type ExperimentPaths,
  type ExperimentStats,
} from './output.ts';
export { TSNE_STYLE, formatCount, pairsChart, scatterPlot, wordsGrid, type Marker, type PairsChartPoint, type ScatterGroup, type WordsGridCell } from './plots.ts';
export {
  DEFAULT_PAIR_COUNTS,
  checkCounts,
  renderPairsHtml,
  renderPairsSvg,
  runPairsExperiment,
  type PairsConfig,
  type PairsExperimentOptions,
  type PairsFile,
  type PairsPoint,
} from './pairs.ts';
export {
  DEFAULT_ANOMALY_WORDS,
  DEFAULT_NORMAL_WORDS,
  checkWords,
  renderWordsHtml,
  renderWordsSvg,
  runWordsExperiment,
  type WordsCell,
  type WordsConfig,
  type WordsExperimentOptions,
  type WordsFile,
} from './words.ts';
export {
  DEFAULT_TSNE_PAIRS,
  TSNE_GROUPS,
  renderTsneHtml,
  renderTsneSvg,
  runTsneExperiment,
  type TsneConfig,
  type TsneExperimentOptions,
  type TsneFile,
  type TsneGroup,
  type TsneResults,
} from './tsne_experiment.ts';
