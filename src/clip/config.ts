/**
 * open_clip model configs (the `model_cfg` / `preprocess_cfg` JSON schema) resolved into one fully
 * explicit ClipConfig. Only the plain ViT CLIP is supported; every open_clip option that would change
 * the weights or the computation is rejected by name rather than silently ignored.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RwdaError, fsErrorCode } from '../errors.ts';
import {
  Checker,
  isObj,
  PREPROCESS_RULES,
  TEXT_RULES,
  TOP_RULES,
  VISION_RULES,
  type Obj,
} from './config_fields.ts';

export type ResizeMode = 'shortest' | 'longest' | 'squash';

export interface VisionConfig {
  imageSize: number;
  patchSize: number;
  width: number;
  layers: number;
  heads: number;
  headWidth: number;
  /** int(width * mlp_ratio), as open_clip computes it. */
  mlpWidth: number;
  /** imageSize // patchSize (torch's strided conv drops any remainder). */
  gridSize: number;
  /** 1 + gridSize² (class token + patches). */
  numTokens: number;
}

export interface TextConfig {
  contextLength: number;
  vocabSize: number;
  width: number;
  heads: number;
  layers: number;
  mlpWidth: number;
}

export interface PreprocessConfig {
  size: number;
  mean: [number, number, number];
  std: [number, number, number];
  interpolation: 'bicubic';
  resizeMode: ResizeMode;
  fillColor: number;
}

export interface ClipConfig {
  name?: string;
  embedDim: number;
  /** QuickGELU (x·σ(1.702x)) instead of exact GELU, in both towers. */
  quickGelu: boolean;
  vision: VisionConfig;
  text: TextConfig;
  preprocess: PreprocessConfig;
}

/** OpenAI CLIP's normalisation constants (open_clip's OPENAI_DATASET_MEAN / _STD). */
export const OPENAI_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const OPENAI_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

/**
 * Resolves an open_clip `model_cfg` (and optional `preprocess_cfg`) into a ClipConfig.
 * `source` (a file path or model name) prefixes every error message.
 */
export function resolveClipConfig(modelCfg: unknown, preprocessCfg?: unknown, source = 'model config'): ClipConfig {
  const c = new Checker(source);
  const top = c.obj(modelCfg, 'model_cfg');
  c.rules(top, TOP_RULES, 'model_cfg');
  const embedDim = c.posInt(top.embed_dim, 'model_cfg.embed_dim');
  const qg = top.quick_gelu;
  if (qg !== undefined && qg !== null && typeof qg !== 'boolean') c.fail('model_cfg.quick_gelu', `must be true or false (got ${JSON.stringify(qg)})`);
  const quickGelu = qg === true;

  if (top.vision_cfg === undefined) c.fail('model_cfg.vision_cfg', 'missing required field');
  const vc = c.obj(top.vision_cfg, 'model_cfg.vision_cfg');
  if (Array.isArray(vc.layers)) {
    c.fail('model_cfg.vision_cfg.layers', `a list of layers means a ResNet vision tower, which is not supported (only ViT) (got ${JSON.stringify(vc.layers)})`);
  }
  c.rules(vc, VISION_RULES, 'model_cfg.vision_cfg');
  const vp = 'model_cfg.vision_cfg';
  const imageSize = c.squareInt(vc.image_size, `${vp}.image_size`, 224);
  const patchSize = c.squareInt(vc.patch_size, `${vp}.patch_size`, 16);
  const vWidth = c.posInt(vc.width, `${vp}.width`, 768);
  const vLayers = c.posInt(vc.layers, `${vp}.layers`, 12);
  const headWidth = c.posInt(vc.head_width, `${vp}.head_width`, 64);
  const vMlpRatio = c.posNum(vc.mlp_ratio, `${vp}.mlp_ratio`, 4.0);
  if (vWidth % headWidth !== 0) c.fail(`${vp}.head_width`, `width ${vWidth} is not a multiple of head_width ${headWidth}`);
  if (patchSize > imageSize) c.fail(`${vp}.patch_size`, `patch_size ${patchSize} is larger than image_size ${imageSize}`);
  const gridSize = Math.floor(imageSize / patchSize);

  if (top.text_cfg === undefined) c.fail('model_cfg.text_cfg', 'missing required field');
  const tc = c.obj(top.text_cfg, 'model_cfg.text_cfg');
  c.rules(tc, TEXT_RULES, 'model_cfg.text_cfg');
  const tp = 'model_cfg.text_cfg';
  const tWidth = c.posInt(tc.width, `${tp}.width`, 512);
  const tHeads = c.posInt(tc.heads, `${tp}.heads`, 8);
  if (tWidth % tHeads !== 0) c.fail(`${tp}.heads`, `width ${tWidth} is not a multiple of heads ${tHeads}`);
  const text: TextConfig = {
    contextLength: c.posInt(tc.context_length, `${tp}.context_length`, 77),
    vocabSize: c.posInt(tc.vocab_size, `${tp}.vocab_size`, 49408),
    width: tWidth,
    heads: tHeads,
    layers: c.posInt(tc.layers, `${tp}.layers`, 12),
    mlpWidth: Math.trunc(tWidth * c.posNum(tc.mlp_ratio, `${tp}.mlp_ratio`, 4.0)),
  };

  const vision: VisionConfig = {
    imageSize,
    patchSize,
    width: vWidth,
    layers: vLayers,
    heads: vWidth / headWidth,
    headWidth,
    mlpWidth: Math.trunc(vWidth * vMlpRatio),
    gridSize,
    numTokens: 1 + gridSize * gridSize,
  };

  const preprocess = resolvePreprocess(c, vc, preprocessCfg, imageSize);
  return { embedDim, quickGelu, vision, text, preprocess };
}

function resolvePreprocess(c: Checker, vc: Obj, preprocessCfg: unknown, imageSize: number): PreprocessConfig {
  const pp = 'preprocess_cfg';
  const p: Obj = preprocessCfg === undefined || preprocessCfg === null ? {} : c.obj(preprocessCfg, pp);
  c.rules(p, PREPROCESS_RULES, pp);
  const size = c.squareInt(p.size, `${pp}.size`, imageSize);
  if (size !== imageSize) c.fail(`${pp}.size`, `${size} does not match model_cfg.vision_cfg.image_size ${imageSize}`);
  const mean = c.triple(p.mean ?? vc.image_mean, p.mean !== undefined ? `${pp}.mean` : 'model_cfg.vision_cfg.image_mean', OPENAI_MEAN, false);
  const std = c.triple(p.std ?? vc.image_std, p.std !== undefined ? `${pp}.std` : 'model_cfg.vision_cfg.image_std', OPENAI_STD, true);
  const interpField = p.interpolation !== undefined ? `${pp}.interpolation` : 'model_cfg.vision_cfg.image_interpolation';
  const interp = p.interpolation ?? vc.image_interpolation ?? 'bicubic';
  if (interp !== 'bicubic') c.fail(interpField, `only 'bicubic' is supported (got ${JSON.stringify(interp)})`);
  const rmField = p.resize_mode !== undefined ? `${pp}.resize_mode` : 'model_cfg.vision_cfg.image_resize_mode';
  const resizeMode = p.resize_mode ?? vc.image_resize_mode ?? 'shortest';
  if (resizeMode !== 'shortest' && resizeMode !== 'longest' && resizeMode !== 'squash') {
    c.fail(rmField, `must be 'shortest', 'longest' or 'squash' (got ${JSON.stringify(resizeMode)})`);
  }
  const fill = p.fill_color ?? 0;
  if (typeof fill !== 'number' || !Number.isInteger(fill) || fill < 0 || fill > 255) {
    c.fail(`${pp}.fill_color`, `must be an integer in [0, 255] (got ${JSON.stringify(fill)})`);
  }
  return { size, mean, std, interpolation: 'bicubic', resizeMode, fillColor: fill };
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RwdaError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { code: fsErrorCode(err), cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RwdaError(`${path}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

/**
 * Resolves a config file: either the hub shape `{model_cfg, preprocess_cfg}` (open_clip_config.json)
 * or a bare open_clip model_cfg (src/open_clip/model_configs/*.json).
 */
export function loadConfigFile(path: string, name?: string): ClipConfig {
  const json = readJson(path);
  if (!isObj(json)) throw new RwdaError(`${path}: must be a JSON object`);
  let cfg: ClipConfig;
  if ('model_cfg' in json) {
    for (const k of Object.keys(json)) {
      // model_name appears in some exported configs; it is informational only.
      if (k !== 'model_cfg' && k !== 'preprocess_cfg' && k !== 'model_name') throw new RwdaError(`${path}: ${k}: unknown config field`);
    }
    cfg = resolveClipConfig(json.model_cfg, json.preprocess_cfg, path);
    if (name === undefined && typeof json.model_name === 'string') name = json.model_name;
  } else {
    cfg = resolveClipConfig(json, undefined, path);
  }
  if (name !== undefined) cfg.name = name;
  return cfg;
}

/** Name of the config file inside a model directory (the Hugging Face hub layout). */
export const MODEL_DIR_CONFIG = 'open_clip_config.json';

/** Reads `<dir>/open_clip_config.json` ({model_cfg, preprocess_cfg}). */
export function loadModelDirConfig(dir: string): ClipConfig {
  const path = join(dir, MODEL_DIR_CONFIG);
  if (!existsSync(path)) throw new RwdaError(`${dir}: not a model directory (no ${MODEL_DIR_CONFIG})`, { code: 'not_found' });
  return loadConfigFile(path);
}

const BUILTIN_DIR = fileURLToPath(new URL('./model_configs/', import.meta.url));

/** Names of the bundled model configs (e.g. "ViT-B-16-plus-240"). */
export function listBuiltinConfigs(): string[] {
  return readdirSync(BUILTIN_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** Path of a bundled config's JSON file ({model_cfg, preprocess_cfg}). */
export function builtinConfigPath(name: string): string {
  const names = listBuiltinConfigs();
  if (!names.includes(name)) {
    throw new RwdaError(`unknown model architecture '${name}' (known: ${names.join(', ')})`, { code: 'unsupported' });
  }
  return join(BUILTIN_DIR, `${name}.json`);
}

/** The bundled open_clip config of a named architecture. */
export function builtinModelConfig(name: string): ClipConfig {
  return loadConfigFile(builtinConfigPath(name), name);
}
