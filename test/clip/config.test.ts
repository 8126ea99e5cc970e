import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPENCLIP_FIXTURES } from '../helpers/paths.ts';
import {
  builtinModelConfig, listBuiltinConfigs, loadConfigFile, loadModelDirConfig, resolveClipConfig, OPENAI_MEAN, OPENAI_STD,
} from '../../src/clip/config.ts';
import { RwdaError } from '../../src/errors.ts';

const TINY = JSON.parse(readFileSync(join(OPENCLIP_FIXTURES, 'tiny-gelu', 'open_clip_config.json'), 'utf8')) as {
  model_cfg: Record<string, unknown> & { vision_cfg: Record<string, unknown>; text_cfg: Record<string, unknown> };
  preprocess_cfg: Record<string, unknown>;
};
const clone = () => structuredClone(TINY);

test('tiny fixtures resolve to the README table (heads, mlp widths, tokens, activation)', () => {
  const g = loadModelDirConfig(join(OPENCLIP_FIXTURES, 'tiny-gelu'));
  assert.deepEqual(g, {
    embedDim: 32,
    quickGelu: false,
    vision: { imageSize: 32, patchSize: 8, width: 64, layers: 2, heads: 2, headWidth: 32, mlpWidth: 256, gridSize: 4, numTokens: 17 },
    text: { contextLength: 77, vocabSize: 49408, width: 48, heads: 4, layers: 2, mlpWidth: 192 },
    preprocess: { size: 32, mean: OPENAI_MEAN, std: OPENAI_STD, interpolation: 'bicubic', resizeMode: 'shortest', fillColor: 0 },
  });
  const q = loadModelDirConfig(join(OPENCLIP_FIXTURES, 'tiny-quickgelu'));
  assert.equal(q.quickGelu, true);
  assert.deepEqual([q.embedDim, q.vision.imageSize, q.vision.patchSize, q.vision.width, q.vision.layers, q.vision.heads, q.vision.mlpWidth, q.vision.numTokens],
    [40, 48, 16, 96, 3, 3, 384, 10]);
  assert.deepEqual([q.text.width, q.text.heads, q.text.layers, q.text.mlpWidth], [64, 2, 2, 256]);
});

test('builtin configs: the four ViTs with open_clip values, B-16-plus-240 equal to the keys.json config', () => {
  assert.deepEqual(listBuiltinConfigs(), ['ViT-B-16', 'ViT-B-16-plus-240', 'ViT-B-32', 'ViT-L-14']);
  const keys = JSON.parse(readFileSync(join(OPENCLIP_FIXTURES, 'ViT-B-16-plus-240.keys.json'), 'utf8')) as {
    model_cfg: unknown; preprocess_cfg: unknown; derived: Record<string, number>;
  };
  const b = builtinModelConfig('ViT-B-16-plus-240');
  assert.equal(b.name, 'ViT-B-16-plus-240');
  const fromKeys = resolveClipConfig(keys.model_cfg, keys.preprocess_cfg, 'keys.json');
  assert.deepEqual({ ...b, name: undefined }, { ...fromKeys, name: undefined });
  assert.equal(b.vision.heads, keys.derived.vision_heads);
  assert.equal(b.text.heads, keys.derived.text_heads);
  assert.equal(b.vision.numTokens, keys.derived.vision_tokens);
  assert.equal(b.vision.mlpWidth, keys.derived.vision_mlp_width);
  assert.equal(b.text.mlpWidth, keys.derived.text_mlp_width);
  const l = builtinModelConfig('ViT-L-14');
  assert.deepEqual([l.embedDim, l.vision.width, l.vision.layers, l.vision.heads, l.vision.numTokens, l.text.width, l.text.heads], [768, 1024, 24, 16, 257, 768, 12]);
  const b32 = builtinModelConfig('ViT-B-32');
  assert.deepEqual([b32.embedDim, b32.vision.patchSize, b32.vision.numTokens, b32.preprocess.size], [512, 32, 50, 224]);
  assert.equal(builtinModelConfig('ViT-B-16').vision.numTokens, 197);
  assert.throws(() => builtinModelConfig('RN50'), /unknown model architecture 'RN50' \(known: ViT-B-16, /);
});

test('defaults: head_width 64, mlp_ratio 4, OpenAI mean/std, preprocess size from image_size', () => {
  const c = resolveClipConfig({ embed_dim: 8, vision_cfg: { image_size: 30, patch_size: 7, width: 128, layers: 1 }, text_cfg: { width: 16, heads: 2, layers: 1, mlp_ratio: 2.5 } });
  assert.equal(c.vision.headWidth, 64);
  assert.equal(c.vision.heads, 2);
  assert.equal(c.vision.mlpWidth, 512);
  assert.equal(c.vision.gridSize, 4); // 30 // 7, as torch's strided conv
  assert.equal(c.text.mlpWidth, 40);
  assert.equal(c.text.contextLength, 77);
  assert.equal(c.preprocess.size, 30);
  assert.deepEqual(c.preprocess.mean, OPENAI_MEAN);
  // vision_cfg.image_mean/std feed the preprocess defaults, as open_clip does
  const s = resolveClipConfig({ embed_dim: 8, vision_cfg: { image_size: 32, patch_size: 8, width: 64, head_width: 32, layers: 1, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], image_resize_mode: 'squash' }, text_cfg: { width: 16, heads: 2, layers: 1 } });
  assert.deepEqual(s.preprocess.mean, [0.5, 0.5, 0.5]);
  assert.equal(s.preprocess.resizeMode, 'squash');
});

test('harmless known fields are accepted', () => {
  const m = clone();
  Object.assign(m.model_cfg.vision_cfg, { patch_dropout: 0.5, input_patchnorm: false, timm_model_name: null, timm_pool: 'avg', timm_proj: 'linear', attentional_pool: false, ls_init_value: null, output_tokens: false, pool_type: 'tok', no_ln_pre: false });
  Object.assign(m.model_cfg.text_cfg, { pad_id: 0, embed_cls: false, hf_model_name: null, pool_type: 'argmax', proj_bias: false, output_tokens: false, act_kwargs: {} });
  Object.assign(m.model_cfg, { quick_gelu: false, cast_dtype: null, init_logit_scale: 2.65, custom_text: false, init_logit_bias: null });
  const c = resolveClipConfig(m.model_cfg, m.preprocess_cfg, 'x.json');
  assert.equal(c.vision.width, 64);
});

/** Applies `edit` to a copy of the tiny-gelu config and expects an error matching `re`. */
function rejects(edit: (m: ReturnType<typeof clone>) => void, re: RegExp): void {
  const m = clone();
  edit(m);
  assert.throws(() => resolveClipConfig(m.model_cfg, m.preprocess_cfg, 'cfg.json'), (err: unknown) => {
    assert.ok(err instanceof RwdaError, String(err));
    assert.match(err.message, /^cfg\.json: /);
    assert.match(err.message, re);
    return true;
  });
}

test('unknown fields are rejected, naming the field', () => {
  rejects((m) => { m.model_cfg.vision_cfg.widht = 3; }, /model_cfg\.vision_cfg\.widht: unknown config field/);
  rejects((m) => { m.model_cfg.text_cfg.foo = 1; }, /model_cfg\.text_cfg\.foo: unknown config field/);
  rejects((m) => { m.model_cfg.emb_dim = 1; }, /model_cfg\.emb_dim: unknown config field/);
  rejects((m) => { m.preprocess_cfg.crop = true; }, /preprocess_cfg\.crop: unknown config field/);
});

test('unsupported variants are rejected, naming the field', () => {
  rejects((m) => { m.model_cfg.vision_cfg.layers = [3, 4, 6, 3]; }, /model_cfg\.vision_cfg\.layers: .*ResNet/);
  rejects((m) => { m.model_cfg.vision_cfg.timm_model_name = 'vit_base_patch16_224'; }, /vision_cfg\.timm_model_name: timm vision towers are not supported/);
  rejects((m) => { m.model_cfg.vision_cfg.attentional_pool = true; }, /vision_cfg\.attentional_pool: attentional pooling is not supported \(got true\)/);
  rejects((m) => { m.model_cfg.vision_cfg.ls_init_value = 1e-5; }, /vision_cfg\.ls_init_value: layer scale/);
  rejects((m) => { m.model_cfg.text_cfg.ls_init_value = 1e-5; }, /text_cfg\.ls_init_value: layer scale/);
  rejects((m) => { m.model_cfg.vision_cfg.no_ln_pre = true; }, /vision_cfg\.no_ln_pre/);
  rejects((m) => { m.model_cfg.vision_cfg.final_ln_after_pool = true; }, /vision_cfg\.final_ln_after_pool/);
  rejects((m) => { m.model_cfg.vision_cfg.pool_type = 'avg'; }, /vision_cfg\.pool_type: only pool_type 'tok'/);
  rejects((m) => { m.model_cfg.vision_cfg.global_average_pool = true; }, /vision_cfg\.global_average_pool/);
  rejects((m) => { m.model_cfg.vision_cfg.input_patchnorm = true; }, /vision_cfg\.input_patchnorm/);
  rejects((m) => { m.model_cfg.vision_cfg.norm_kwargs = { eps: 1e-6 }; }, /vision_cfg\.norm_kwargs/);
  rejects((m) => { m.model_cfg.vision_cfg.image_size = [32, 48]; }, /vision_cfg\.image_size: non-square/);
  rejects((m) => { m.model_cfg.vision_cfg.head_width = 48; }, /vision_cfg\.head_width: width 64 is not a multiple of head_width 48/);
  rejects((m) => { m.model_cfg.text_cfg.hf_model_name = 'roberta-base'; }, /text_cfg\.hf_model_name: Hugging Face text towers/);
  rejects((m) => { m.model_cfg.text_cfg.hf_tokenizer_name = 'x'; }, /text_cfg\.hf_tokenizer_name/);
  rejects((m) => { m.model_cfg.text_cfg.pad_id = 1; }, /text_cfg\.pad_id: only pad_id 0/);
  rejects((m) => { m.model_cfg.text_cfg.embed_cls = true; }, /text_cfg\.embed_cls/);
  rejects((m) => { m.model_cfg.text_cfg.pool_type = 'last'; }, /text_cfg\.pool_type: only pool_type 'argmax'/);
  rejects((m) => { m.model_cfg.text_cfg.proj_bias = true; }, /text_cfg\.proj_bias/);
  rejects((m) => { m.model_cfg.text_cfg.no_causal_mask = true; }, /text_cfg\.no_causal_mask/);
  rejects((m) => { m.model_cfg.text_cfg.act_kwargs = { approximate: 'tanh' }; }, /text_cfg\.act_kwargs/);
  rejects((m) => { m.model_cfg.text_cfg.heads = 5; }, /text_cfg\.heads: width 48 is not a multiple of heads 5/);
  rejects((m) => { m.model_cfg.custom_text = true; }, /model_cfg\.custom_text/);
  rejects((m) => { m.model_cfg.init_logit_bias = -10; }, /model_cfg\.init_logit_bias/);
  rejects((m) => { m.model_cfg.multimodal_cfg = {}; }, /model_cfg\.multimodal_cfg: multimodal decoders/);
  rejects((m) => { m.model_cfg.quick_gelu = 'yes'; }, /model_cfg\.quick_gelu: must be true or false/);
});

test('bad values are rejected, naming the field', () => {
  rejects((m) => { delete m.model_cfg.embed_dim; }, /model_cfg\.embed_dim: missing required field/);
  rejects((m) => { m.model_cfg.vision_cfg.width = 64.5; }, /vision_cfg\.width: must be a positive integer \(got 64\.5\)/);
  rejects((m) => { m.model_cfg.text_cfg.layers = 0; }, /text_cfg\.layers: must be a positive integer/);
  rejects((m) => { m.model_cfg.vision_cfg.mlp_ratio = -1; }, /vision_cfg\.mlp_ratio: must be a positive number/);
  rejects((m) => { m.model_cfg.vision_cfg = 3 as never; }, /model_cfg\.vision_cfg: must be a JSON object/);
  rejects((m) => { delete (m.model_cfg as Record<string, unknown>).text_cfg; }, /model_cfg\.text_cfg: missing required field/);
  rejects((m) => { m.preprocess_cfg.size = [64, 64]; }, /preprocess_cfg\.size: 64 does not match model_cfg\.vision_cfg\.image_size 32/);
  rejects((m) => { m.preprocess_cfg.interpolation = 'bilinear'; }, /preprocess_cfg\.interpolation: only 'bicubic'/);
  rejects((m) => { m.preprocess_cfg.resize_mode = 'crop'; }, /preprocess_cfg\.resize_mode: must be 'shortest', 'longest' or 'squash'/);
  rejects((m) => { m.preprocess_cfg.std = [0.2, 0, 0.2]; }, /preprocess_cfg\.std: must be a list of 3 positive numbers/);
  rejects((m) => { m.preprocess_cfg.mean = [0.2, 0.2]; }, /preprocess_cfg\.mean: must be a list of 3 numbers/);
  rejects((m) => { m.preprocess_cfg.mode = 'L'; }, /preprocess_cfg\.mode: only mode 'RGB'/);
  rejects((m) => { m.preprocess_cfg.fill_color = 300; }, /preprocess_cfg\.fill_color: must be an integer in \[0, 255\]/);
});

test('config files: hub shape and bare model_cfg, unreadable/invalid files named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rwda-cfg-'));
  try {
    const bare = join(dir, 'bare.json');
    writeFileSync(bare, JSON.stringify(TINY.model_cfg));
    assert.equal(loadConfigFile(bare).vision.numTokens, 17);
    const extra = join(dir, 'extra.json');
    writeFileSync(extra, JSON.stringify({ ...TINY, licence: 'x' }));
    assert.throws(() => loadConfigFile(extra), /extra\.json: licence: unknown config field/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"model_cfg": ');
    assert.throws(() => loadConfigFile(broken), /broken\.json: not valid JSON/);
    assert.throws(() => loadConfigFile(join(dir, 'none.json')), /none\.json: cannot read \(ENOENT\)/);
    assert.throws(() => loadModelDirConfig(dir), /not a model directory \(no open_clip_config\.json\)/);
    const nested = join(dir, 'nested.json');
    writeFileSync(nested, JSON.stringify({ model_cfg: { ...TINY.model_cfg, vision_cfg: { ...TINY.model_cfg.vision_cfg, attentional_pool: true } } }));
    assert.throws(() => loadConfigFile(nested), /nested\.json: model_cfg\.vision_cfg\.attentional_pool/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
