/**
 * open_clip ViT CLIP checkpoints: the exact state_dict key set a config implies, and a validated
 * view of a safetensors file holding those weights.
 */
import { RwdaError } from '../errors.ts';
import type { ClipConfig } from './config.ts';
import { FLOAT_DTYPES, SafetensorsFile } from './safetensors.ts';

function addBlocks(out: Map<string, number[]>, prefix: string, layers: number, width: number, mlpWidth: number): void {
  for (let i = 0; i < layers; i++) {
    const p = `${prefix}.resblocks.${i}`;
    out.set(`${p}.ln_1.weight`, [width]);
    out.set(`${p}.ln_1.bias`, [width]);
    out.set(`${p}.attn.in_proj_weight`, [3 * width, width]);
    out.set(`${p}.attn.in_proj_bias`, [3 * width]);
    out.set(`${p}.attn.out_proj.weight`, [width, width]);
    out.set(`${p}.attn.out_proj.bias`, [width]);
    out.set(`${p}.ln_2.weight`, [width]);
    out.set(`${p}.ln_2.bias`, [width]);
    out.set(`${p}.mlp.c_fc.weight`, [mlpWidth, width]);
    out.set(`${p}.mlp.c_fc.bias`, [mlpWidth]);
    out.set(`${p}.mlp.c_proj.weight`, [width, mlpWidth]);
    out.set(`${p}.mlp.c_proj.bias`, [width]);
  }
}

/** open_clip's `CLIP.state_dict()` keys and shapes for a ViT CLIP, in state_dict order (attn_mask is non-persistent, so absent). */
export function expectedClipKeys(cfg: ClipConfig): Map<string, number[]> {
  const v = cfg.vision;
  const t = cfg.text;
  const out = new Map<string, number[]>();
  out.set('positional_embedding', [t.contextLength, t.width]);
  out.set('text_projection', [t.width, cfg.embedDim]);
  out.set('logit_scale', []);
  out.set('visual.class_embedding', [v.width]);
  out.set('visual.positional_embedding', [v.numTokens, v.width]);
  out.set('visual.proj', [v.width, cfg.embedDim]);
  out.set('visual.conv1.weight', [v.width, 3, v.patchSize, v.patchSize]);
  out.set('visual.ln_pre.weight', [v.width]);
  out.set('visual.ln_pre.bias', [v.width]);
  addBlocks(out, 'visual.transformer', v.layers, v.width, v.mlpWidth);
  out.set('visual.ln_post.weight', [v.width]);
  out.set('visual.ln_post.bias', [v.width]);
  addBlocks(out, 'transformer', t.layers, t.width, t.mlpWidth);
  out.set('token_embedding.weight', [t.vocabSize, t.width]);
  out.set('ln_final.weight', [t.width]);
  out.set('ln_final.bias', [t.width]);
  return out;
}

/** Total number of parameters (elements over all expected keys). */
export function clipParameterCount(cfg: ClipConfig): number {
  let n = 0;
  for (const shape of expectedClipKeys(cfg).values()) n += shape.reduce((a, d) => a * d, 1);
  return n;
}

export interface ClipWeights {
  readonly file: SafetensorsFile;
  readonly cfg: ClipConfig;
  /** Keys in the file that the config does not use; reported, never read. */
  readonly extraKeys: string[];
  /** Human-readable warnings (extra keys, unused bytes in the file). */
  readonly warnings: string[];
  /** The tensor as float32; throws RwdaError naming the key if it holds NaN or ±Inf. */
  get(key: string): Float32Array;
  /** Reads every expected tensor once, so NaN/Inf anywhere is found before use. */
  checkAll(): void;
  close(): void;
}

/** Most problems listed in one error message; the rest are counted. */
const MAX_PROBLEMS = 20;

const fmt = (s: number[]): string => `[${s.join(', ')}]`;

/**
 * Opens an open_clip safetensors checkpoint and checks it against `cfg`: every expected key present
 * with a float dtype and the expected shape (all problems in one error), extra keys listed as warnings.
 */
export function openClipWeights(path: string, cfg: ClipConfig): ClipWeights {
  const file = SafetensorsFile.open(path);
  try {
    const expected = expectedClipKeys(cfg);
    const problems: string[] = [];
    for (const [key, shape] of expected) {
      if (!file.has(key)) {
        problems.push(`missing '${key}' (expected shape ${fmt(shape)})`);
        continue;
      }
      const info = file.info(key);
      if (!FLOAT_DTYPES.includes(info.dtype)) problems.push(`'${key}' has dtype ${info.dtype}, expected one of ${FLOAT_DTYPES.join(', ')}`);
      if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
        problems.push(`'${key}' has shape ${fmt(info.shape)}, expected ${fmt(shape)}`);
      }
    }
    if (problems.length > 0) {
      const shown = problems.slice(0, MAX_PROBLEMS).map((p) => `  - ${p}`);
      if (problems.length > MAX_PROBLEMS) shown.push(`  ... and ${problems.length - MAX_PROBLEMS} more`);
      const name = cfg.name ? ` (${cfg.name})` : '';
      throw new RwdaError(`${path}: weights do not match the model config${name}: ${problems.length} problem(s):\n${shown.join('\n')}`);
    }
    const extraKeys = file.keys().filter((k) => !expected.has(k));
    const warnings = [...file.warnings];
    if (extraKeys.length > 0) {
      const list = extraKeys.slice(0, MAX_PROBLEMS).join(', ') + (extraKeys.length > MAX_PROBLEMS ? `, ... (${extraKeys.length} in all)` : '');
      warnings.push(`${path}: ${extraKeys.length} tensor(s) not used by the model config are ignored: ${list}`);
    }
    const get = (key: string): Float32Array => {
      if (!expected.has(key)) throw new RwdaError(`${path}: '${key}' is not a weight of this model config`);
      const data = file.getFloat32(key);
      for (let i = 0; i < data.length; i++) {
        const x = data[i]!;
        // x - x is NaN exactly when x is NaN or ±Inf, which keeps the loop to one comparison.
        if (x - x !== 0) {
          throw new RwdaError(`${path}: tensor '${key}' holds a non-finite value (${x}) at flat index ${i}`);
        }
      }
      return data;
    };
    return {
      file,
      cfg,
      extraKeys,
      warnings,
      get,
      checkAll() {
        for (const key of expected.keys()) get(key);
      },
      close() {
        file.close();
      },
    };
  } catch (err) {
    file.close();
    throw err;
  }
}
