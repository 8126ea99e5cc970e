// Detector scores against hand-computed values on a stub backbone: s_clip, s_fnn, s = (s_clip + s_fnn)/2,
// the object name in the prompts, and multi-crop through the real view pipeline (decode, crop boxes,
// Pillow-exact resize) with per-kind aggregation; the image-view cache; unreadable images.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TMP = mkdtempSync(join(tmpdir(), 'rwda-detector-'));
process.env.RWDA_HOME = join(TMP, 'home');
after(() => rmSync(TMP, { recursive: true, force: true }));

import { RwdaError } from '../../src/errors.ts';
import { decodeImage, preprocessImage, cropResizeToU8, toTensor } from '../../src/clip/preprocess/index.ts';
import { trainDetector } from '../../src/methods/rwda/train_detector.ts';
import { cropViews, viewIds } from '../../src/methods/common/multicrop.ts';
import { promptPair } from '../../src/methods/rwda/prompts.ts';
import { EmbeddingStore } from '../../src/store/index.ts';
import { OPENCLIP_FIXTURES } from '../helpers/paths.ts';
import { handClip, handFnn, stubBackbone, stubImage, stubText, unit } from './detector_stub.ts';

const IMAGES = join(OPENCLIP_FIXTURES, 'images');
// FNN logits run in float32 through onnxruntime; the hand pass is float64.
const FNN_TOL = 2e-6;
const CLIP_TOL = 1e-9;

const backbone = stubBackbone();
const detectorP = trainDetector(backbone, { pairs: 48, seed: 5, hidden: [16, 8], epochs: 1, batchSize: 16 });

function textPair(object: string): { tn: Float32Array; ta: Float32Array } {
  const p = promptPair({ object });
  return { tn: unit(stubText(p.normal)), ta: unit(stubText(p.anomaly)) };
}

test('scoreEmbeddings: s_clip, s_fnn and s match the hand computation; object names change only s_clip', async () => {
  const d = await detectorP;
  const raw = [Float32Array.of(0.3, -1.2, 0.5, 2, 0.1, -0.4), Float32Array.of(5, 1, -2, 0.5, 0.5, 3), stubText('a photo of a damaged object')];
  for (const object of ['object', 'metal nut']) {
    const got = object === 'object' ? await d.scoreEmbeddings(raw) : await d.scoreEmbeddings(raw, object);
    const { tn, ta } = textPair(object);
    assert.equal(got.length, raw.length);
    got.forEach((g, i) => {
      const x = unit(raw[i]!);
      const sClip = handClip(x, tn, ta);
      const sFnn = handFnn(d.fnn, x);
      assert.ok(Math.abs(g.sClip - sClip) <= CLIP_TOL, `${object} row ${i}: s_clip ${g.sClip} vs ${sClip}`);
      assert.ok(Math.abs(g.sFnn - sFnn) <= FNN_TOL, `${object} row ${i}: s_fnn ${g.sFnn} vs ${sFnn}`);
      assert.equal(g.s, (g.sClip + g.sFnn) / 2);
      for (const v of [g.sClip, g.sFnn, g.s]) assert.ok(v >= 0 && v <= 1);
    });
  }
  // The anomaly prompt's own embedding is far more "damaged" than "normal" for CLIP.
  const [, , self] = await d.scoreEmbeddings(raw);
  assert.ok(self!.sClip > 0.99);
  // A single embedding is accepted too.
  const [one] = await d.scoreEmbeddings(raw[0]!);
  assert.deepEqual(one, (await d.scoreEmbeddings([raw[0]!]))[0]);
  await assert.rejects(d.scoreEmbeddings([new Float32Array(3)]), (e: unknown) => e instanceof RwdaError && /embedding 0 has 3 values, expected 6/.test(e.message));
  await assert.rejects(d.scoreEmbeddings(raw, '  '), RwdaError);
});

test('score (crops none): the standard view is the open_clip val transform of the file', async () => {
  const d = await detectorP;
  const files = ['photo_300x200.jpg', 'rgba_31x97.png', 'palette_80x60.png'].map((f) => join(IMAGES, f));
  const got = await d.score(files, { object: 'hazelnut' });
  const { tn, ta } = textPair('hazelnut');
  assert.deepEqual(got.map((g) => g.file), files);
  assert.deepEqual(got.map((g) => g.index), [0, 1, 2]);
  for (const g of got) {
    const img = await decodeImage(g.file);
    const x = unit(stubImage(preprocessImage(img, backbone.config.preprocess), 32));
    assert.ok(Math.abs(g.sClip - handClip(x, tn, ta)) <= CLIP_TOL);
    assert.ok(Math.abs(g.sFnn - handFnn(d.fnn, x)) <= FNN_TOL);
    assert.equal(g.s, (g.sClip + g.sFnn) / 2);
    assert.equal(g.views, undefined);
  }
  // Bytes score like the file they came from.
  const [fromBytes] = await d.score([{ name: 'photo', bytes: readFileSync(files[0]!) }], { object: 'hazelnut' });
  assert.deepEqual({ ...fromBytes, file: files[0], index: 0 }, got[0]);
});

test('score (crops grid): every view through the real pipeline, each kind aggregated as mean(std, max crops)', async () => {
  const d = await detectorP;
  for (const name of ['photo_300x200.jpg', 'rgb_17x23.png', 'rgba_31x97.png']) {
    const file = join(IMAGES, name);
    const [g] = await d.score([file], { crops: 'grid' });
    const img = await decodeImage(file);
    const views = cropViews(img.width, img.height, [2, 3]);
    assert.deepEqual(g!.views!.map((v) => v.id), viewIds([2, 3]));
    assert.equal(views.length, 14);
    const { tn, ta } = textPair('object');
    const cfg = backbone.config.preprocess;
    const hand = views.map((v) => {
      // Standard view: resize shortest side + centre crop; crops: Pillow crop(box) then resize to S×S.
      const t =
        v.kind === 'standard'
          ? preprocessImage(img, cfg)
          : toTensor(cropResizeToU8(img, [v.box.left, v.box.top, v.box.left + v.box.width, v.box.top + v.box.height], cfg.size), cfg.size, cfg.mean, cfg.std);
      const x = unit(stubImage(t, cfg.size));
      const sClip = handClip(x, tn, ta);
      const sFnn = handFnn(d.fnn, x);
      return { sClip, sFnn, s: (sClip + sFnn) / 2 };
    });
    g!.views!.forEach((v, i) => {
      assert.ok(Math.abs(v.sClip - hand[i]!.sClip) <= CLIP_TOL, `${name} ${v.id} s_clip`);
      assert.ok(Math.abs(v.sFnn - hand[i]!.sFnn) <= FNN_TOL, `${name} ${v.id} s_fnn`);
      assert.equal(v.s, (v.sClip + v.sFnn) / 2);
    });
    // Crops really differ from each other and from the standard view (else the test proves nothing).
    assert.ok(new Set(hand.map((h) => h.sFnn.toFixed(12))).size >= 10, `${name}: views should score differently`);
    const agg = (k: 'sClip' | 'sFnn' | 's'): number => (hand[0]![k] + Math.max(...hand.slice(1).map((h) => h[k]))) / 2;
    assert.ok(Math.abs(g!.sClip - agg('sClip')) <= CLIP_TOL, `${name} aggregated s_clip`);
    assert.ok(Math.abs(g!.sFnn - agg('sFnn')) <= FNN_TOL, `${name} aggregated s_fnn`);
    assert.ok(Math.abs(g!.s - agg('s')) <= FNN_TOL, `${name} aggregated s`);
    // 'mean' over crops is the alternative reduction.
    const [m] = await d.score([file], { crops: 'grid', aggregation: 'mean' });
    const meanAgg = (hand[0]!.sFnn + hand.slice(1).reduce((a, h) => a + h.sFnn, 0) / 13) / 2;
    assert.ok(Math.abs(m!.sFnn - meanAgg) <= FNN_TOL);
  }
});

test('image views are cached by (fingerprint, file sha256, view id): a second run encodes nothing', async () => {
  const d = await detectorP;
  const files = ['rgb_64x48.png', 'gray_41x32.png'].map((f) => join(IMAGES, f));
  const store = EmbeddingStore.open(join(TMP, 'views.sqlite'));
  try {
    const before = backbone.imagesEncoded;
    const first = await d.score(files, { crops: 'grid', store });
    assert.equal(backbone.imagesEncoded - before, 28);
    assert.equal(store.counters.imageWrites, 28);
    let counts = { encoded: 0, cached: 0 };
    const second = await d.score(files, { crops: 'grid', store, onViews: (c) => (counts = c) });
    assert.equal(backbone.imagesEncoded - before, 28, 'second run must not encode');
    assert.deepEqual(counts, { encoded: 0, cached: 28 });
    assert.deepEqual(second, first);
    // The standard view is shared with crops 'none'.
    const none = await d.score(files, { store });
    assert.equal(backbone.imagesEncoded - before, 28);
    assert.deepEqual(none.map((r) => r.sClip), first.map((r) => r.views![0]!.sClip));
    // The same bytes under another name hit the cache too; another fingerprint does not.
    const copy = join(TMP, 'copy.png');
    writeFileSync(copy, readFileSync(files[0]!));
    await d.score([copy], { store });
    assert.equal(backbone.imagesEncoded - before, 28);
    assert.equal(store.getImages('other-fingerprint', [{ sha256: '0'.repeat(64), viewId: 'std' }])[0], undefined);
  } finally {
    store.close();
  }
});

test('unreadable images: reported through onError while the rest are scored; thrown without it', async () => {
  const d = await detectorP;
  const bad = join(TMP, 'broken.png');
  writeFileSync(bad, Buffer.from('\x89PNG\r\n\x1a\nnot really a png'));
  const good = join(IMAGES, 'rgb_48x48.png');
  const missing = join(TMP, 'missing.png');
  const errors: string[] = [];
  const got = await d.score([bad, good, missing, good], { onError: (file, e) => errors.push(`${file}|${e.message}`), chunkSize: 3 });
  assert.deepEqual(got.map((g) => g.index), [1, 3]);
  assert.deepEqual(got.map((g) => g.file), [good, good]);
  assert.equal(errors.length, 2);
  assert.match(errors[0]!, /broken\.png\|.*broken\.png/);
  assert.match(errors[1]!, /missing\.png\|.*missing\.png: cannot read \(no such file\)/);
  await assert.rejects(d.score([good, bad]), (e: unknown) => e instanceof RwdaError && e.message.includes(bad));
  await assert.rejects(d.score([good], { crops: 'all' as 'grid' }), /crops must be 'none' or 'grid'/);
});
