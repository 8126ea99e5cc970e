// The training set through the pair encoder: which texts reach encodeTextPairs vs encodeText (stub
// backbone), the store still serving hits, and on the tiny-gelu model the same rows as the plain path.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TMP = mkdtempSync(join(tmpdir(), 'rwda-pairtext-'));
process.env.RWDA_HOME = join(TMP, 'home');

import { ClipModel } from '../../src/clip/model.ts';
import type { Backbone } from '../../src/methods/common/backbone.ts';
import { pairAwareBackbone } from '../../src/methods/rwda/paired_text.ts';
import { buildTrainingSet } from '../../src/methods/rwda/training_set.ts';
import { EmbeddingStore } from '../../src/store/index.ts';
import { HF_TOKENIZER_DIR, maxAbsDiff, modelDir } from '../clip/towers_goldens.ts';
import { stubBackbone, stubText } from './detector_stub.ts';

after(() => rmSync(TMP, { recursive: true, force: true }));

/** The stub backbone plus a pair encoder that records what it is asked for. */
function pairStub() {
  const base = stubBackbone();
  const calls: { pairs: string[][]; texts: string[][] } = { pairs: [], texts: [] };
  const b: Backbone = {
    ...base,
    async encodeText(texts, opts) {
      calls.texts.push([...texts]);
      opts?.onProgress?.(texts.length, texts.length);
      return base.encodeText(texts, opts);
    },
    async encodeTextPairs(pairs, opts) {
      calls.pairs.push(pairs.flatMap((p) => [p.normal, p.anomaly]));
      opts?.onProgress?.(pairs.length, pairs.length);
      return { normal: pairs.map((p) => stubText(p.normal)), anomaly: pairs.map((p) => stubText(p.anomaly)) };
    },
  };
  return { b, calls };
}

test('missing complete pairs go to encodeTextPairs, lone texts to encodeText, in the order asked', async () => {
  const { b, calls } = pairStub();
  const pairs = [
    { normal: 'n0', anomaly: 'a0' },
    { normal: 'n1', anomaly: 'a1' },
    { normal: 'same', anomaly: 'same' },
    { normal: 'n0', anomaly: 'a3' },
  ];
  const view = pairAwareBackbone(b, pairs);
  assert.equal(view.fingerprint, b.fingerprint);
  const asked = ['a1', 'n0', 'x', 'same', 'a0', 'n1', 'a3', 'n0'];
  const progress: Array<[number, number]> = [];
  const got = await view.encodeText(asked, { onProgress: (d, t) => progress.push([d, t]) });
  assert.deepEqual(got, asked.map(stubText));
  assert.deepEqual(calls.pairs, [['n0', 'a0', 'n1', 'a1']]);
  // 'a3' lost its partner n0 to pair 0; 'same' pairs with itself; 'x' is in no pair.
  assert.deepEqual(calls.texts, [['x', 'same', 'a3']]);
  assert.deepEqual(progress, [[4, 7], [7, 7]]);
  // Without a pair encoder the backbone is used as it is.
  const plain = stubBackbone();
  assert.equal(pairAwareBackbone(plain, pairs), plain);
});

test('training set: a cold build pairs every prompt; a longer build with a store pairs only the new ones', async () => {
  const { b, calls } = pairStub();
  const store = EmbeddingStore.open(join(TMP, 'stub.sqlite'));
  try {
    const first = await buildTrainingSet(b, { pairs: 30, seed: 2, store });
    assert.equal(calls.pairs.length, 1);
    assert.equal(calls.pairs[0]!.length, 60);
    assert.deepEqual(calls.texts, []);
    assert.equal(first.encoded, 60);
    const longer = await buildTrainingSet(b, { pairs: 45, seed: 2, store });
    assert.equal(longer.cached, 60);
    assert.equal(longer.encoded, 30);
    assert.deepEqual(calls.pairs[1], longer.pairs.slice(30).flatMap((p) => [p.normal, p.anomaly]));
    assert.deepEqual(longer.x.subarray(0, first.x.length), first.x);
    const plain = await buildTrainingSet(stubBackbone(), { pairs: 45, seed: 2 });
    assert.deepEqual(longer.x, plain.x);
  } finally {
    store.close();
  }
});

test('tiny-gelu: the training set through ClipModel.encodeTextPairs equals the plain encodeText path', async () => {
  const model = await ClipModel.load(modelDir('tiny-gelu'), { vocab: HF_TOKENIZER_DIR, towers: 'text', intraOpNumThreads: 1 });
  try {
    const plainOnly: Backbone = {
      config: model.config,
      fingerprint: 'x',
      encodeText: (t, o) => model.encodeText(t, o),
      encodeImage: () => Promise.reject(new Error('not used')),
    };
    for (const independentWords of [false, true]) {
      const viaPairs = await buildTrainingSet(model, { pairs: 60, seed: 11, independentWords });
      const plain = await buildTrainingSet(plainOnly, { pairs: 60, seed: 11, independentWords });
      const d = maxAbsDiff(viaPairs.x, plain.x);
      assert.ok(d <= 1e-5, `independent=${independentWords}: max |Δ| ${d}`);
    }
  } finally {
    await model.dispose();
  }
});
