/** rwda: zero-shot image anomaly detection with CLIP and random word data augmentation. */
export { RwdaError } from './errors.ts';
