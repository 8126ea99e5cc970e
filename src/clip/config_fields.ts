/**
 * The open_clip config fields rwda knows, what it does with each (use, ignore, or reject unless the
 * value is harmless), and the typed field checks that turn a bad value into an RwdaError naming the
 * file and field. config.ts resolves a config with these.
 */
import { RwdaError } from '../errors.ts';

export type Json = unknown;
export type Obj = Record<string, Json>;

/**
 * What to do with each known field: 'use' = read by the resolver; 'ignore' = harmless at inference
 * (training-only or only meaningful for a tower type we reject anyway); a function = accepted only
 * when it returns undefined, otherwise its string says why the value is unsupported.
 */
export type Rule = 'use' | 'ignore' | ((v: Json) => string | undefined);

const mustBeFalsy = (what: string): Rule => (v) => (v === undefined || v === null || v === false ? undefined : what);
const mustBeNullish = (what: string): Rule => (v) => (v === undefined || v === null ? undefined : what);
const mustBeEmpty = (what: string): Rule => (v) =>
  v === undefined || v === null || (isObj(v) && Object.keys(v).length === 0) ? undefined : what;
const mustEqual = (expected: Json, what: string): Rule => (v) => (v === undefined || v === null || v === expected ? undefined : what);
const mustBeBool: Rule = (v) => (v === undefined || typeof v === 'boolean' ? undefined : 'must be true or false');

export const TOP_RULES: Record<string, Rule> = {
  embed_dim: 'use',
  vision_cfg: 'use',
  text_cfg: 'use',
  quick_gelu: 'use',
  cast_dtype: 'ignore',
  init_logit_scale: 'ignore',
  output_dict: 'ignore',
  init_logit_bias: mustBeNullish('a logit bias (SigLIP-style) is not supported'),
  custom_text: mustBeFalsy('custom text towers (CustomTextCLIP) are not supported'),
  multimodal_cfg: mustBeNullish('multimodal decoders (CoCa) are not supported'),
};

export const VISION_RULES: Record<string, Rule> = {
  image_size: 'use',
  patch_size: 'use',
  width: 'use',
  layers: 'use',
  head_width: 'use',
  mlp_ratio: 'use',
  image_mean: 'use',
  image_std: 'use',
  image_interpolation: 'use',
  image_resize_mode: 'use',
  patch_dropout: 'ignore', // only active in training
  output_tokens: mustBeBool, // a forward() option; weights and features are unchanged
  n_queries: 'ignore',
  attn_pooler_queries: 'ignore',
  attn_pooler_heads: 'ignore',
  timm_model_pretrained: 'ignore',
  timm_pool: 'ignore',
  timm_proj: 'ignore',
  timm_proj_bias: 'ignore',
  timm_drop: 'ignore',
  timm_drop_path: 'ignore',
  timm_model_name: (v) => (v === undefined || v === null || v === '' ? undefined : 'timm vision towers are not supported (only the plain ViT)'),
  ls_init_value: mustBeNullish('layer scale (ls_init_value) is not supported'),
  input_patchnorm: mustBeFalsy('dual patchnorm (input_patchnorm) is not supported'),
  global_average_pool: mustBeFalsy('global average pooling is not supported (only class-token pooling)'),
  attentional_pool: mustBeFalsy('attentional pooling is not supported'),
  no_ln_pre: mustBeFalsy('a vision tower without ln_pre is not supported'),
  final_ln_after_pool: mustBeFalsy('final_ln_after_pool is not supported'),
  pool_type: mustEqual('tok', "only pool_type 'tok' (class token) is supported"),
  pos_embed_type: mustEqual('learnable', "only learnable positional embeddings are supported"),
  act_kwargs: mustBeEmpty('custom activation arguments are not supported'),
  norm_kwargs: mustBeEmpty('custom normalisation arguments are not supported'),
};

export const TEXT_RULES: Record<string, Rule> = {
  context_length: 'use',
  vocab_size: 'use',
  width: 'use',
  heads: 'use',
  layers: 'use',
  mlp_ratio: 'use',
  output_tokens: mustBeBool,
  hf_model_pretrained: 'ignore',
  hf_proj_type: 'ignore',
  hf_pooler_type: 'ignore',
  proj: 'ignore', // older name of hf_proj_type, used only by HF text towers
  pooler_type: 'ignore', // older name of hf_pooler_type
  hf_model_name: mustBeNullish('Hugging Face text towers are not supported (only the plain CLIP text transformer)'),
  hf_tokenizer_name: mustBeNullish('Hugging Face tokenizers are not supported (only the CLIP BPE tokenizer)'),
  tokenizer_kwargs: mustBeEmpty('tokenizer options are not supported'),
  ls_init_value: mustBeNullish('layer scale (ls_init_value) is not supported'),
  embed_cls: mustBeFalsy('a text CLS embedding (embed_cls) is not supported'),
  pad_id: mustEqual(0, 'only pad_id 0 is supported'),
  no_causal_mask: mustBeFalsy('a text tower without causal mask is not supported'),
  final_ln_after_pool: mustBeFalsy('final_ln_after_pool is not supported'),
  pool_type: mustEqual('argmax', "only pool_type 'argmax' (EOT token) is supported"),
  proj_bias: mustBeFalsy('a text projection bias is not supported'),
  proj_type: mustEqual('linear', "only proj_type 'linear' is supported"),
  act_kwargs: mustBeEmpty('custom activation arguments are not supported'),
  norm_kwargs: mustBeEmpty('custom normalisation arguments are not supported'),
};

export const PREPROCESS_RULES: Record<string, Rule> = {
  size: 'use',
  mode: mustEqual('RGB', "only mode 'RGB' is supported"),
  mean: 'use',
  std: 'use',
  interpolation: 'use',
  resize_mode: 'use',
  fill_color: 'use',
};

/** A plain JSON object (not null, not an array). */
export function isObj(v: Json): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Field validation that throws RwdaError prefixed by the config source and the field path. */
export class Checker {
  constructor(private readonly source: string) {}

  fail(field: string, msg: string): never {
    throw new RwdaError(`${this.source}: ${field}: ${msg}`);
  }

  rules(obj: Obj, rules: Record<string, Rule>, prefix: string): void {
    for (const [k, v] of Object.entries(obj)) {
      const rule = rules[k];
      const field = `${prefix}.${k}`;
      if (rule === undefined) this.fail(field, 'unknown config field');
      if (typeof rule === 'function') {
        const why = rule(v);
        if (why !== undefined) this.fail(field, `${why} (got ${JSON.stringify(v)})`);
      }
    }
  }

  obj(v: Json, field: string): Obj {
    if (!isObj(v)) this.fail(field, `must be a JSON object (got ${JSON.stringify(v)})`);
    return v;
  }

  posInt(v: Json, field: string, dflt?: number): number {
    if (v === undefined && dflt !== undefined) return dflt;
    if (v === undefined) this.fail(field, 'missing required field');
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      this.fail(field, `must be a positive integer (got ${JSON.stringify(v)})`);
    }
    return v;
  }

  posNum(v: Json, field: string, dflt: number): number {
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      this.fail(field, `must be a positive number (got ${JSON.stringify(v)})`);
    }
    return v;
  }

  /** An int, or a square [n, n] pair as open_clip allows for image_size/patch_size. */
  squareInt(v: Json, field: string, dflt?: number): number {
    if (Array.isArray(v)) {
      if (v.length !== 2) this.fail(field, `must be an integer or an [h, w] pair (got ${JSON.stringify(v)})`);
      const a = this.posInt(v[0], `${field}[0]`);
      const b = this.posInt(v[1], `${field}[1]`);
      if (a !== b) this.fail(field, `non-square sizes are not supported (got ${JSON.stringify(v)})`);
      return a;
    }
    return this.posInt(v, field, dflt);
  }

  triple(v: Json, field: string, dflt: [number, number, number], positive: boolean): [number, number, number] {
    if (v === undefined || v === null) return [...dflt];
    if (typeof v === 'number') v = [v, v, v];
    if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0))) {
      this.fail(field, `must be a list of 3 ${positive ? 'positive ' : ''}numbers (got ${JSON.stringify(v)})`);
    }
    return [v[0] as number, v[1] as number, v[2] as number];
  }
}
