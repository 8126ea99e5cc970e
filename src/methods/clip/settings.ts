/** The CLIP baseline's settings as data, with provenance (values shared with the rwda method's defaults). */
import { RwdaError } from '../../errors.ts';
import type { CropAggregation } from '../common/multicrop.ts';
import { MULTICROP_DEFAULTS, PROMPT_DEFAULTS } from '../rwda/defaults.ts';

/** Settings of the CLIP baseline. */
export interface ClipSettings {
  /** PAPER: "a photo of [n] object". */
  normalWord: string;
  /** PAPER: "a photo of [a] object". */
  anomalyWord: string;
  /** PAPER: softmax temperature τ = 0.01. */
  temperature: number;
  /** OURS: crop scores reduced by max before averaging with the standard view. */
  cropAggregation: CropAggregation;
}

/** Defaults, with where each value comes from. */
export const CLIP_SETTINGS: Readonly<ClipSettings> = Object.freeze({
  normalWord: PROMPT_DEFAULTS.normalWord,
  anomalyWord: PROMPT_DEFAULTS.anomalyWord,
  temperature: PROMPT_DEFAULTS.temperature,
  cropAggregation: MULTICROP_DEFAULTS.cropAggregation,
});

/** Defaults overridden by `overrides` (names as in ClipSettings; unknown names and bad values are refused). */
export function resolveClipSettings(overrides: Readonly<Record<string, unknown>> = {}): ClipSettings {
  const out: ClipSettings = { ...CLIP_SETTINGS };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) continue;
    if (k === 'normalWord' || k === 'anomalyWord') {
      if (typeof v !== 'string') throw new RwdaError(`clip setting ${k} must be a string, got ${JSON.stringify(v)}`);
      out[k] = v;
    } else if (k === 'temperature') {
      if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new RwdaError(`clip setting temperature must be a positive number, got ${JSON.stringify(v)}`);
      out.temperature = v;
    } else if (k === 'cropAggregation') {
      if (v !== 'max' && v !== 'mean') throw new RwdaError(`clip setting cropAggregation must be max or mean, got ${JSON.stringify(v)}`);
      out.cropAggregation = v;
    } else throw new RwdaError(`unknown clip setting '${k}' (known: ${Object.keys(CLIP_SETTINGS).join(', ')})`);
  }
  return out;
}
