/** The paper's FNN detector: model, state_dict (de)serialisation, and torch-exact training. */
export { resolveConfig, layoutOf, type FnnConfig, type Layout } from './config.ts';
export { Fnn, rngStreams } from './model.ts';
export { stateFromTensors, toNamedTensors, type FnnState, type NamedTensor, type StateInput, type StateTensor } from './state.ts';
export { trainFnn, createTrainer, runSchedule, type StepInfo, type TrainOptions, type ScheduleHooks } from './train.ts';
export { validateTrainData, type TrainData } from './schedule.ts';
