// ClipModel end to end on the tiny fixture models: tokenizer → text tower, preprocess → vision tower,
// normalisation and logits, all against open_clip goldens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backboneFingerprint } from '../../src/clip/fingerprint.ts';
import { SafetensorsFile, writeSafetensors } from '../../src/clip/safetensors.ts';
import { ClipModel } from '../../src/index.ts';
import { OPENCLIP_FIXTURES } from '../helpers/paths.ts';
import { assertClose, concat, f32, HF_TOKENIZER_DIR, loadGoldens, minRowCosine, modelDir, TINY_MODELS, TOL, VOCAB_GZ } from './towers_goldens.ts';

for (const name of TINY_MODELS) {
  test(`${name}: ClipModel text, images, pixels, logits match open_clip`, async () => {
    const g = loadGoldens(name);
    const model = await ClipModel.load(modelDir(name), { vocab: VOCAB_GZ, intraOpNumThreads: 1 });
    try {
      const E = model.config.embedDim;
      assert.ok(Math.abs(model.logitScale - g.logit_scale_exp) <= 1e-5 * g.logit_scale_exp);

      // Our tokenizer gives open_clip's ids, and the text features through it match.
      const batch = model.tokenize(g.text.prompts);
      assert.deepEqual(Array.from(batch.ids), g.text.ids.flat());
      const text = await model.encodeText(g.text.prompts);
      assert.equal(text.length, g.text.prompts.length);
      assertClose(concat(text), f32(g, g.text.features), TOL.features, 'text features');
      const textN = await model.encodeText(g.text.prompts, { normalize: true });
      assertClose(concat(textN), f32(g, g.text.features_normalized), TOL.normalized, 'normalised text features');
      assert.ok(minRowCosine(concat(text), f32(g, g.text.features), E) >= TOL.cosine);
      // Golden ids as rows give the same features.
      assertClose(concat(await model.encodeTokens(g.text.ids)), f32(g, g.text.features), TOL.features, 'text features from ids');

      // Pixel tensors: features and patch tokens.
      const px = await model.encodePixels(f32(g, g.pixels.input), { batchSize: 3 });
      assertClose(px.features, f32(g, g.pixels.features), TOL.features, 'pixel features');
      assertClose(px.patchTokens, f32(g, g.pixels.patch_tokens), TOL.features, 'patch tokens');

      // Fixture images from their preprocessed tensors, and from the files through our preprocessing.
      const pre = g.images.map((im) => f32(g, im.preprocessed));
      const expectedImg = concat(g.images.map((im) => f32(g, im.features)));
      const fromTensors = await model.encodeImage(pre, { batchSize: 3 });
      assertClose(concat(fromTensors), expectedImg, TOL.features, 'image features (preprocessed tensors)');
      const files = g.images.map((im) => join(OPENCLIP_FIXTURES, 'images', im.name));
      const fromFiles = await model.encodeImage(files, { normalize: true });
      assertClose(concat(fromFiles), concat(g.images.map((im) => f32(g, im.features_normalized))), TOL.normalized, 'normalised image features (files)');

      // logits = exp(logit_scale) · [pixels; images]_n @ text_nᵀ
      const imgN = [...(await model.encodeImage([...splitRows(f32(g, g.pixels.input), pre[0]!.length), ...pre], { normalize: true }))];
      const logits = imgN.flatMap((im) => textN.map((t) => model.logitScale * dot(im, t)));
      assertClose(logits, f32(g, g.logits_per_image), TOL.logits, 'logits_per_image');
    } finally {
      await model.dispose();
    }
  });
}

test('ClipModel: vocabulary from a Hugging Face directory; towers option; disposal; bad inputs', async () => {
  const name = 'tiny-gelu';
  const g = loadGoldens(name);
  const textOnly = await ClipModel.load(modelDir(name), { vocab: HF_TOKENIZER_DIR, towers: 'text' });
  try {
    assertClose(concat(await textOnly.encodeText(g.text.prompts)), f32(g, g.text.features), TOL.features, 'text features (HF vocab)');
    await assert.rejects(textOnly.encodeImage([f32(g, g.images[0]!.preprocessed)]), /vision tower .* not loaded/);
  } finally {
    await textOnly.dispose();
  }
  await assert.rejects(textOnly.encodeText(['x']), /not loaded/);

  const visionOnly = await ClipModel.load(modelDir(name), { towers: 'vision' });
  try {
    await assert.rejects(visionOnly.encodeTokens(g.text.ids), /text tower .* not loaded/);
    // No vocabulary next to the fixture model and none given: the error names what is missing.
    assert.throws(() => visionOnly.tokenize(['a']), /no tokenizer vocabulary in .*tiny-gelu/);
    await assert.rejects(visionOnly.encodeImage([new Float32Array(5)]), /expected 3·32² = 3072/);
    await assert.rejects(visionOnly.encodeImage([join(OPENCLIP_FIXTURES, 'README.md')]), /README\.md/);
  } finally {
    await visionOnly.dispose();
  }
  await assert.rejects(ClipModel.load(join(OPENCLIP_FIXTURES, 'images')), /not a model directory/);
  await assert.rejects(ClipModel.load(modelDir(name), { vocab: '/nonexistent/vocab.gz' }), /vocabulary not found/);
});

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function splitRows(flat: Float32Array, per: number): Float32Array[] {
  return Array.from({ length: flat.length / per }, (_, i) => flat.subarray(i * per, (i + 1) * per));
}

test('ClipModel.fingerprint is the backbone fingerprint of its directory', async () => {
  const cache = mkdtempSync(join(tmpdir(), 'rwda-fp-'));
  const saved = process.env.RWDA_HOME;
  process.env.RWDA_HOME = cache;
  const model = await ClipModel.load(modelDir('tiny-quickgelu'), { towers: 'vision' });
  try {
    const fp = model.fingerprint;
    assert.match(fp, /^[0-9a-f]{64}$/);
    assert.equal(fp, backboneFingerprint(modelDir('tiny-quickgelu'), { cacheDir: join(cache, 'other') }));
    assert.notEqual(fp, backboneFingerprint(modelDir('tiny-gelu'), { cacheDir: join(cache, 'other') }));
  } finally {
    await model.dispose();
    if (saved === undefined) delete process.env.RWDA_HOME;
    else process.env.RWDA_HOME = saved;
    rmSync(cache, { recursive: true, force: true });
  }
});

test('ClipModel: a NaN weight is reported by name with validateWeights, and as non-finite output without', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rwda-nan-'));
  try {
    const src = SafetensorsFile.open(join(modelDir('tiny-gelu'), 'open_clip_model.safetensors'));
    const bad = 'transformer.resblocks.0.mlp.c_fc.weight';
    const tensors = src.keys().map((name) => {
      const data = src.getFloat32(name);
      if (name === bad) data[5] = NaN;
      return { name, shape: src.info(name).shape, data };
    });
    src.close();
    writeSafetensors(join(dir, 'open_clip_model.safetensors'), tensors);
    copyFileSync(join(modelDir('tiny-gelu'), 'open_clip_config.json'), join(dir, 'open_clip_config.json'));
    await assert.rejects(ClipModel.load(dir, { validateWeights: true }), new RegExp(`'${bad.replaceAll('.', '\\.')}' holds a non-finite value`));
    const model = await ClipModel.load(dir, { vocab: VOCAB_GZ, towers: 'text' });
    try {
      await assert.rejects(model.encodeText(['a photo of a object']), /non-finite value in embeddings/);
    } finally {
      await model.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
