// `rwda eval --setup known --train-objects categories` on the tiny fixture: one detector per seed
// trained on prompts cycling the dataset's category names, recorded in results.json, keyed apart
// from the default run, and scored as Detector.score scores with that detector.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClipModel } from '../../src/clip/model.ts';
import { computeMetrics } from '../../src/eval/metrics.ts';
import { readRunResults } from '../../src/eval/report/index.ts';
import { augmentedPairs } from '../../src/methods/rwda/prompts.ts';
import { loadOrTrainDefaultDetector } from '../../src/methods/rwda/train_detector.ts';
import { EmbeddingStore } from '../../src/store/index.ts';
import { cliFixture, rwda, summaryOf, traceEvents } from '../eval/runner_fixture.ts';

const { tmp: TMP, home: HOME, cache: CACHE, model: MODEL, tree: TREE } = cliFixture('rwda-eval-objects-');
const PAIRS = 40;
const NAMES = ['grid', 'hazelnut'];

const base = (out: string, extra: string[] = []): string[] => [
  'eval', '--model', MODEL, '--dataset', 'mvtec', '--root', TREE.root, '--pairs', String(PAIRS), '--seeds', '1', '--setup', 'known',
  '--cache', CACHE, '--out', join(TMP, out), ...extra,
];

test('--train-objects categories: detector trained on the category names, recorded in results.json, scored with that detector', async () => {
  const r = rwda(base('cats', ['--train-objects', 'categories']), HOME, { RWDA_TEST_TRACE: '1' });
  assert.equal(r.status, 0, r.stderr);
  const s = summaryOf(r.stdout);
  assert.deepEqual(s.trainObjects, NAMES);
  assert.equal(s.cache.detectorsTrained, 1);
  const res = readRunResults(join(TMP, 'cats', 'results.json'));
  assert.equal(res.config.setup, 'known');
  assert.deepEqual(res.config.prompts?.trainObjects, NAMES);
  assert.match(readFileSync(join(TMP, 'cats', 'report.md'), 'utf8'), /detector training objects.*grid, hazelnut/);

  // The seed's detector: its detector.json and the store's cached prompt texts name the categories.
  const det = traceEvents(r.stderr).find((e) => e.type === 'detector')!;
  const meta = JSON.parse(readFileSync(join(det.dir, 'detector.json'), 'utf8'));
  assert.deepEqual(meta.prompts.objects, NAMES);
  const texts = augmentedPairs({ n: PAIRS, seed: 0, objects: NAMES }).flatMap((p) => [p.normal, p.anomaly]);
  assert.ok(texts.some((t) => t.includes('a damaged hazelnut')) && texts.some((t) => t.includes('a damaged grid')));
  const model = await ClipModel.load(MODEL, { intraOpNumThreads: 1 });
  const store = EmbeddingStore.open(CACHE);
  try {
    assert.ok(store.getTexts(model.fingerprint, texts).every((v) => v !== undefined), 'every training prompt is in the text cache');
    // Scores: as Detector.score gives them with that detector and the category in the CLIP prompts.
    const { detector, trained, dir } = await loadOrTrainDefaultDetector(model, { pairs: PAIRS, seed: 0, trainObjects: NAMES, home: HOME });
    assert.equal(trained, false, 'the run left this detector in the detector cache');
    assert.equal(dir, det.dir);
    try {
      for (const c of res.categories) {
        const g = TREE.good[c.name as 'grid' | 'hazelnut'];
        const labels = [...g.normal.map(() => 0), ...g.anomalous.map(() => 1)];
        const sc = await detector.score([...g.normal, ...g.anomalous], { object: c.name });
        assert.equal(c.methods.ours.auroc.values[0], computeMetrics(labels, sc.map((x) => x.sFnn)).auroc, `${c.name} ours`);
        assert.equal(c.methods.clipOurs.auroc.values[0], computeMetrics(labels, sc.map((x) => x.s)).auroc, `${c.name} clip+ours`);
      }
    } finally {
      detector.dispose();
    }
  } finally {
    store.close();
    await model.dispose();
  }

  // The default (object) run of the same setup is a different run with a different detector, same CLIP scores.
  const o = rwda(base('object'), HOME, { RWDA_TEST_TRACE: '1' });
  assert.equal(o.status, 0, o.stderr);
  const so = summaryOf(o.stdout);
  assert.equal(so.trainObjects, undefined);
  assert.notEqual(so.runKey, s.runKey);
  assert.equal(so.cache.viewsEncoded, 0);
  const ro = readRunResults(join(TMP, 'object', 'results.json'));
  assert.equal(ro.config.prompts?.trainObjects, undefined);
  assert.equal('trainObjects' in ro.config.prompts!, false);
  for (const [i, c] of ro.categories.entries()) assert.deepEqual(c.methods.clip, res.categories[i]!.methods.clip);
  const detO = traceEvents(o.stderr).find((e) => e.type === 'detector')!;
  assert.notEqual(detO.dir, det.dir);
  assert.equal('objects' in JSON.parse(readFileSync(join(detO.dir, 'detector.json'), 'utf8')).prompts, false);

  // A rerun of the categories run reuses everything.
  const again = rwda(base('cats2', ['--train-objects', 'categories']), HOME);
  assert.equal(again.status, 0, again.stderr);
  const sa = summaryOf(again.stdout);
  assert.deepEqual([sa.runKey, sa.seedsReused, sa.cache.detectorsTrained, sa.cache.textsEncoded], [s.runKey, [0], 0, 0]);
});

test('--train-objects flag errors name the flag', () => {
  const cases: Array<[string[], RegExp]> = [
    [base('x', ['--train-objects', 'names']), /--train-objects must be object or categories, got 'names'/],
    [[...base('x', ['--train-objects', 'categories']), '--setup', 'unknown'], /--train-objects categories needs --setup known/],
  ];
  for (const [args, re] of cases) {
    const r = rwda(args, HOME);
    assert.equal(r.status, 1, `${args.join(' ')}\n${r.stderr}`);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
