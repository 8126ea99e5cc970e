/** The family of methods: one output type (Prediction), a registry, and one folder per method. */
export { METHODS, DEFAULT_METHOD, getMethod, methodIds } from './registry.ts';
export type { ImagePrediction, MethodContext, MethodRunner, MethodSpec, PredictOptions, ReferenceInfo } from './method.ts';
export type { AnomalyMap, Prediction } from './types.ts';
export type { DetectInput } from './common/inputs.ts';
