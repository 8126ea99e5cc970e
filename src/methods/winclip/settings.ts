/**
 * WinCLIP's settings as data, in two presets. `anomalib` reproduces anomalib's WinClipModel exactly
 * (the goldens in shared/fixtures/winclip pin it, duplicate template included); `corrected` fixes
 * the duplicate template and lets the temperature be set. Provenance: ANOMALIB = anomalib's code,
 * PAPER = Jeong et al., CVPR 2023, OURS = rwda's choice.
 */
import { readFileSync } from 'node:fs';
import { RwdaError } from '../../errors.ts';

interface PromptsFile {
  normal_states: string[];
  anomalous_states: string[];
  templates: Record<'anomalib' | 'corrected', string[]>;
}
const PROMPTS = JSON.parse(readFileSync(new URL('./prompts.json', import.meta.url), 'utf8')) as PromptsFile;

/** Preset names. */
export type WinClipPreset = 'anomalib' | 'corrected';

/** Settings of WinCLIP / WinCLIP+. */
export interface WinClipSettings {
  preset: WinClipPreset;
  /** ANOMALIB: 0.07 (CLIP's initial temperature; the checkpoint's logit_scale is not used). */
  temperature: number;
  /** PAPER / ANOMALIB: window sides in patches (2, 3 → 32 and 48 px windows on a 16 px grid). */
  scales: readonly number[];
  /** PAPER / ANOMALIB: the compositional prompt ensemble (states × templates). */
  normalStates: readonly string[];
  anomalousStates: readonly string[];
  templates: readonly string[];
}

/** The presets. */
export const WINCLIP_PRESETS: Readonly<Record<WinClipPreset, Readonly<WinClipSettings>>> = Object.freeze({
  anomalib: Object.freeze({
    preset: 'anomalib',
    temperature: 0.07,
    scales: Object.freeze([2, 3]),
    normalStates: Object.freeze(PROMPTS.normal_states),
    anomalousStates: Object.freeze(PROMPTS.anomalous_states),
    templates: Object.freeze(PROMPTS.templates.anomalib),
  }),
  corrected: Object.freeze({
    preset: 'corrected',
    temperature: 0.07,
    scales: Object.freeze([2, 3]),
    normalStates: Object.freeze(PROMPTS.normal_states),
    anomalousStates: Object.freeze(PROMPTS.anomalous_states),
    templates: Object.freeze(PROMPTS.templates.corrected),
  }),
});

/** The default preset (the comparator as the goldens pin it). */
export const WINCLIP_DEFAULTS = WINCLIP_PRESETS.anomalib;

/** A preset with overrides: `preset`, `temperature`, `scales` (unknown names and bad values refused). */
export function resolveWinClipSettings(overrides: Readonly<Record<string, unknown>> = {}): WinClipSettings {
  const p = overrides.preset ?? 'anomalib';
  if (p !== 'anomalib' && p !== 'corrected') throw new RwdaError(`winclip preset must be anomalib or corrected, got ${JSON.stringify(p)}`);
  const out: WinClipSettings = { ...WINCLIP_PRESETS[p] };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined || k === 'preset') continue;
    if (k === 'temperature') {
      if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0)) throw new RwdaError(`winclip temperature must be a positive number, got ${JSON.stringify(v)}`);
      out.temperature = v;
    } else if (k === 'scales') {
      if (!Array.isArray(v) || v.length === 0 || !v.every((s) => Number.isInteger(s) && s >= 1)) throw new RwdaError(`winclip scales must be a non-empty list of positive integers, got ${JSON.stringify(v)}`);
      out.scales = [...v] as number[];
    } else throw new RwdaError(`unknown winclip setting '${k}' (known: preset, temperature, scales)`);
  }
  return out;
}
