// The training set on the tiny-gelu fixture model: row layout and labels, normalisation, the prompts
// of the seed, and the text-embedding cache (a second build encodes nothing; a longer run only the new pairs).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TMP = mkdtempSync(join(tmpdir(), 'rwda-trainset-'));
process.env.RWDA_HOME = join(TMP, 'home');

import { RwdaError } from '../../src/errors.ts';
import { ClipModel } from '../../src/clip/model.ts';
import type { Backbone } from '../../src/methods/common/backbone.ts';
import { buildTrainingSet } from '../../src/methods/rwda/training_set.ts';
import { augmentedPairs } from '../../src/methods/rwda/prompts.ts';
import { EmbeddingStore } from '../../src/store/index.ts';
import { HF_TOKENIZER_DIR, modelDir } from '../clip/towers_goldens.ts';

const modelP = ClipModel.load(modelDir('tiny-gelu'), { vocab: HF_TOKENIZER_DIR, towers: 'text', intraOpNumThreads: 1 });
after(async () => {
  await (await modelP).dispose();
  rmSync(TMP, { recursive: true, force: true });
});

/** The model, counting the texts that reach its text tower. */
function counting(model: ClipModel): Backbone & { texts: number } {
  return {
    dir: model.dir,
    config: model.config,
    fingerprint: model.fingerprint,
    texts: 0,
    encodeText(texts, opts) {
      this.texts += texts.length;
      return model.encodeText(texts, opts);
    },
    encodeImage: () => Promise.reject(new Error('not used')),
  };
}

test('rows 2k / 2k+1 are the normalised normal / anomaly prompts of pair k, labels 0 / 1', async () => {
  const model = await modelP;
  const progress: Array<[number, number]> = [];
  const set = await buildTrainingSet(model, { pairs: 40, seed: 9, onProgress: (d, t) => progress.push([d, t]) });
  const E = model.config.embedDim;
  assert.equal(set.dim, E);
  assert.equal(set.x.length, 80 * E);
  assert.deepEqual(set.pairs, augmentedPairs({ n: 40, seed: 9 }));
  assert.deepEqual(Array.from(set.labels), Array.from({ length: 80 }, (_, i) => i % 2));
  assert.equal(set.encoded, 80);
  assert.equal(set.cached, 0);
  // Against the model directly, one text at a time (batching moves features by ≤ 2e-6).
  for (const k of [0, 17, 39]) {
    const [n, a] = await model.encodeText([set.pairs[k]!.normal, set.pairs[k]!.anomaly], { normalize: true, batchSize: 1 });
    for (let i = 0; i < E; i++) {
      assert.ok(Math.abs(set.x[2 * k * E + i]! - n![i]!) <= 1e-5, `pair ${k} normal, dim ${i}`);
      assert.ok(Math.abs(set.x[(2 * k + 1) * E + i]! - a![i]!) <= 1e-5, `pair ${k} anomaly, dim ${i}`);
    }
  }
  for (let r = 0; r < 80; r++) {
    let s = 0;
    for (let i = 0; i < E; i++) s += set.x[r * E + i]! ** 2;
    assert.ok(Math.abs(Math.sqrt(s) - 1) < 1e-6, `row ${r} norm`);
  }
  assert.deepEqual(progress.at(-1), [40, 40]);
  assert.ok(progress.every(([d], i) => i === 0 || d >= progress[i - 1]![0]), 'progress is monotone');
  // Independent words change only the anomaly prompts.
  const ind = await buildTrainingSet(model, { pairs: 40, seed: 9, independentWords: true });
  assert.deepEqual(ind.x.subarray(0, E), set.x.subarray(0, E));
  assert.notDeepEqual(ind.x.subarray(E, 2 * E), set.x.subarray(E, 2 * E));
});

test('text cache: a second build encodes nothing and gives identical rows; a longer run encodes only the new pairs', async () => {
  const model = counting(await modelP);
  const path = join(TMP, 'cache.sqlite');
  let store = EmbeddingStore.open(path);
  const first = await buildTrainingSet(model, { pairs: 100, seed: 4, store });
  assert.equal(model.texts, 200);
  assert.deepEqual({ misses: store.counters.textMisses, writes: store.counters.textWrites }, { misses: 200, writes: 200 });
  store.close();

  // A new connection, as a second `rwda train` would open.
  store = EmbeddingStore.open(path);
  const second = await buildTrainingSet(model, { pairs: 100, seed: 4, store });
  assert.equal(model.texts, 200, 'the second build must not reach the text tower');
  assert.deepEqual({ hits: store.counters.textHits, misses: store.counters.textMisses, writes: store.counters.textWrites }, { hits: 200, misses: 0, writes: 0 });
  assert.equal(second.encoded, 0);
  assert.equal(second.cached, 200);
  assert.deepEqual(Buffer.from(second.x.buffer), Buffer.from(first.x.buffer), 'cached rows are bit-identical');

  // Prompts are prefix-stable, so 150 pairs reuse the first 100.
  const longer = await buildTrainingSet(model, { pairs: 150, seed: 4, store });
  assert.equal(model.texts, 300);
  assert.equal(longer.encoded, 100);
  assert.deepEqual(longer.x.subarray(0, first.x.length), first.x);
  store.close();
});

test('bad options are RwdaErrors naming the field', async () => {
  const model = await modelP;
  await assert.rejects(buildTrainingSet(model, { pairs: 0 }), (e: unknown) => e instanceof RwdaError && /pairs must be a positive integer/.test(e.message));
  await assert.rejects(buildTrainingSet(model, { pairs: 2.5 }), RwdaError);
  await assert.rejects(buildTrainingSet(model, { pairs: 2, normalWord: 'a damaged' }), /same text/);
  await assert.rejects(buildTrainingSet(model, { pairs: 2, seed: -1 }), /seed/);
});
