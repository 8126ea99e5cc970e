// `rwda train --objects`: the detector is trained on prompts cycling the given names, and records them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClipModel } from '../../src/clip/model.ts';
import { augmentedPairs } from '../../src/methods/rwda/prompts.ts';
import { EmbeddingStore } from '../../src/store/index.ts';
import { cliFixture, rwda, summaryOf } from '../eval/runner_fixture.ts';

const { tmp: TMP, home: HOME, cache: CACHE, model: MODEL } = cliFixture('rwda-train-objects-');
const train = (out: string, extra: string[] = []): string[] => ['train', '--model', MODEL, '--out', join(TMP, out), '--pairs', '30', '--seed', '2', '--cache', CACHE, ...extra];

test('train --objects: prompts cycle the names; summary and detector.json record them; without it nothing changes', async () => {
  const r = rwda(train('det-obj', ['--objects', 'bottle, metal  nut,screw']), HOME);
  assert.equal(r.status, 0, r.stderr);
  const s = summaryOf(r.stdout);
  assert.deepEqual(s.objects, ['bottle', 'metal nut', 'screw']);
  const meta = JSON.parse(readFileSync(join(TMP, 'det-obj', 'detector.json'), 'utf8'));
  assert.deepEqual(meta.prompts.objects, ['bottle', 'metal nut', 'screw']);
  assert.equal(meta.training.textsEncoded, 60);

  const texts = augmentedPairs({ n: 30, seed: 2, objects: ['bottle', 'metal nut', 'screw'] }).flatMap((p) => [p.normal, p.anomaly]);
  const model = await ClipModel.load(MODEL, { towers: 'text', intraOpNumThreads: 1 });
  const store = EmbeddingStore.open(CACHE);
  try {
    assert.ok(store.getTexts(model.fingerprint, texts).every((v) => v !== undefined));
  } finally {
    store.close();
    await model.dispose();
  }

  const p = rwda(train('det-plain'), HOME);
  assert.equal(p.status, 0, p.stderr);
  assert.equal(summaryOf(p.stdout).objects, undefined);
  const plain = JSON.parse(readFileSync(join(TMP, 'det-plain', 'detector.json'), 'utf8'));
  assert.equal('objects' in plain.prompts, false);
  // Same random words, other object word: every text is new, and the FNN differs.
  assert.equal(plain.training.textsEncoded, 60);
  assert.notEqual(plain.fnnSha256, meta.fnnSha256);
});

test('train --objects: bad lists name the flag', () => {
  for (const [value, re] of [
    ['bottle,,screw', /--objects must be comma-separated non-empty names/],
    ['bottle, bottle', /--objects names 'bottle' twice/],
  ] as const) {
    const r = rwda(train('x', ['--objects', value]), HOME);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});
