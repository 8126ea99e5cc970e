// The evaluation runner's parts in-process: the plan and its keys, the embedding phase on the tiny
// model (batches, store transactions, skipped images, cache reuse across crop settings), scoring of
// stored embeddings against Detector.score, results assembly against direct metric calls, and the
// run-time estimate.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TMP = mkdtempSync(join(tmpdir(), 'rwda-runner-'));
process.env.RWDA_HOME = join(TMP, 'home');

import { RwdaError } from '../../src/errors.ts';
import { ClipModel } from '../../src/clip/model.ts';
import { loadMvtec, type DatasetItem } from '../../src/data/index.ts';
import { computeMetrics } from '../../src/eval/metrics.ts';
import { validateRunResults } from '../../src/eval/report/index.ts';
import {
  assembleResults,
  dataKey,
  embedItems,
  estimateRunTime,
  planEval,
  readBenchTimings,
  runKey,
  scoreClip,
  scoreWithDetector,
  type EmbeddedItem,
  type EmbedBatchInfo,
  type ScoreContext,
} from '../../src/eval/runner/index.ts';
import { trainDetector } from '../../src/methods/rwda/train_detector.ts';
import { EmbeddingStore } from '../../src/store/index.ts';
import { HF_TOKENIZER_DIR, modelDir } from '../clip/towers_goldens.ts';
import { mvtecTree } from './runner_fixture.ts';

const TREE = mvtecTree(TMP);
const modelP = ClipModel.load(modelDir('tiny-gelu'), { vocab: HF_TOKENIZER_DIR, intraOpNumThreads: 1 });
const store = EmbeddingStore.open(join(TMP, 'cache.sqlite'));
after(async () => {
  store.close();
  await (await modelP).dispose();
  rmSync(TMP, { recursive: true, force: true });
});

const FP = 'f'.repeat(64);
const ITEM = { category: 'grid', promptName: 'grid', label: 0 as const, sha256: 'a'.repeat(64) };

test('plan: seeds 0..n-1, defaults, and option errors name the option', () => {
  const p = planEval({ seeds: 3 });
  assert.deepEqual(p.seeds, [0, 1, 2]);
  assert.equal(p.setup, 'unknown');
  assert.deepEqual(p.viewIds, ['std']);
  assert.equal(p.scales, undefined);
  assert.deepEqual(p.crops, { enabled: false, scales: [], aggregation: 'max' });
  assert.equal(p.train.prompts.pairs, 10_000);
  assert.equal(planEval().seeds.length, 10);
  const g = planEval({ crops: 'grid', train: { pairs: 5 } });
  assert.equal(g.viewIds.length, 14);
  assert.deepEqual(g.scales, [2, 3]);
  assert.equal(g.trainOptions(7).seed, 7);
  assert.equal(g.trainOptions(7).pairs, 5);
  assert.throws(() => planEval({ seeds: 0 }), (e: unknown) => e instanceof RwdaError && /seeds must be a positive integer/.test(e.message));
  assert.throws(() => planEval({ setup: 'other' as 'known' }), /setup must be 'unknown' or 'known'/);
  assert.throws(() => planEval({ crops: 'all' as 'grid' }), /crops must be 'none' or 'grid'/);
  assert.throws(() => planEval({ train: { pairs: 0 } }), /pairs must be a positive integer/);
});

test('run key: the same whatever the number of seeds; changes with everything that changes a score', () => {
  const d = dataKey([ITEM]);
  const key = (o: Parameters<typeof planEval>[0], fp = FP, data = d): string => runKey(planEval({ seeds: 3, train: { pairs: 100 }, ...o }), fp, data);
  const base = key({});
  assert.match(base, /^[0-9a-f]{32}$/);
  assert.equal(key({ seeds: 10 }), base);
  // Crop aggregation is irrelevant without crops.
  assert.equal(key({ aggregation: 'mean' }), base);
  const others = [
    key({ setup: 'known' }),
    key({ crops: 'grid' }),
    key({ crops: 'grid', aggregation: 'mean' }),
    key({ crops: 'grid', scales: [2] }),
    key({ train: { pairs: 101 } }),
    key({ train: { pairs: 100, hidden: [64] } }),
    key({ train: { pairs: 100, words: { anomaly: 'a broken' } } }),
    key({}, 'e'.repeat(64)),
    key({}, FP, dataKey([{ ...ITEM, label: 1 }])),
  ];
  assert.equal(new Set([base, ...others]).size, others.length + 1);
});

test('data key: order, content, category, object name and label count; paths do not', () => {
  const b = { ...ITEM, sha256: 'b'.repeat(64) };
  const k = dataKey([ITEM, b]);
  assert.equal(dataKey([{ ...ITEM }, { ...b }]), k);
  assert.notEqual(dataKey([b, ITEM]), k);
  assert.notEqual(dataKey([ITEM]), k);
  assert.notEqual(dataKey([{ ...ITEM, category: 'tile' }, b]), k);
  assert.notEqual(dataKey([{ ...ITEM, promptName: 'metal grid' }, b]), k);
  // A path field, if present, is ignored: the same bytes elsewhere are the same data.
  assert.equal(dataKey([{ ...ITEM, path: '/x/1.png' } as typeof ITEM, b]), k);
});

let embedded: EmbeddedItem[] = [];

test('embedding phase: batches stored one transaction each, bad images skipped with reasons, a second pass encodes nothing', async () => {
  const model = await modelP;
  const loaded = loadMvtec(TREE.root);
  assert.equal(loaded.items.length, TREE.files);
  const missing: DatasetItem = { path: join(TREE.root, 'grid/test/good/gone.png'), category: 'grid', label: 0, defectType: 'good', promptName: 'grid' };
  const items = [...loaded.items, missing];
  const before = store.counters;
  const batches: EmbedBatchInfo[] = [];
  const r = await embedItems(model, items, store, { scales: [2, 3], batchSize: 4, onBatch: (b) => batches.push(b) });
  const ok = TREE.files - 1;
  assert.equal(r.embedded.length, ok);
  assert.equal(r.viewsEncoded, ok * 14);
  assert.equal(r.viewsCached, 0);
  assert.deepEqual(
    batches.map((b) => [b.batch, b.batches, b.done, b.total]),
    [1, 2, 3, 4].map((i) => [i, 4, Math.min(4 * i, items.length), items.length]),
  );
  assert.equal(batches.reduce((a, b) => a + b.encoded, 0), ok * 14);
  const after1 = store.counters;
  assert.equal(after1.writeTransactions - before.writeTransactions, 4, 'one store transaction per batch');
  assert.equal(after1.imageWrites - before.imageWrites, ok * 14);
  assert.deepEqual(
    r.skipped.map((s) => [s.path, s.category, s.kind]),
    [
      [TREE.corrupt, 'grid', 'decode-error'],
      [missing.path, 'grid', 'read-error'],
    ],
  );
  assert.ok(r.skipped[0]!.reason.includes(TREE.corrupt), r.skipped[0]!.reason);
  assert.equal(r.skipped[1]!.reason, `cannot read ${missing.path}: no such file`);
  assert.ok(r.embedded.every((e) => /^[0-9a-f]{64}$/.test(e.sha256)));
  assert.deepEqual(
    r.embedded.map((e) => e.path),
    loaded.items.map((i) => i.path).filter((p) => p !== TREE.corrupt),
    'input order kept',
  );

  const again = await embedItems(model, items, store, { scales: [2, 3], batchSize: 5 });
  assert.equal(again.viewsEncoded, 0);
  assert.equal(again.viewsCached, ok * 14);
  assert.deepEqual(again.embedded, r.embedded);
  // The standard view is shared with the multi-crop runs.
  const std = await embedItems(model, items, store, {});
  assert.deepEqual([std.viewsEncoded, std.viewsCached], [0, ok]);
  assert.equal(store.counters.imageWrites, after1.imageWrites);
  await assert.rejects(embedItems(model, items, store, { batchSize: 0 }), /image batch size must be a positive integer/);
  embedded = r.embedded;
});

test('scores of stored embeddings equal Detector.score on the files (multi-crop and standard view, known objects)', async () => {
  const model = await modelP;
  assert.ok(embedded.length > 0, 'needs the embedding test');
  const detector = await trainDetector(model, { pairs: 50, seed: 4, store });
  try {
    for (const crops of ['grid', 'none'] as const) {
      const plan = planEval({ crops });
      const ctx: ScoreContext = {
        backbone: model,
        store,
        items: embedded,
        viewIds: plan.viewIds,
        aggregation: 'max',
        objectOf: (it) => it.promptName,
        normalWord: 'a',
        anomalyWord: 'a damaged',
        chunkImages: 3,
      };
      const got = await scoreWithDetector(ctx, detector);
      const clip = await scoreClip(ctx);
      assert.deepEqual(Array.from(clip), Array.from(got.clip), 'the CLIP pass gives the detector pass s_clip');
      for (const object of ['grid', 'hazelnut']) {
        const idx = embedded.map((e, i) => (e.promptName === object ? i : -1)).filter((i) => i >= 0);
        const ref = await detector.score(idx.map((i) => embedded[i]!.path), { object, crops });
        assert.equal(ref.length, idx.length);
        idx.forEach((i, k) => {
          const r = ref[k]!;
          assert.deepEqual([got.clip[i], got.ours[i], got.clipOurs[i]], [r.sClip, r.sFnn, r.s], `${crops} ${embedded[i]!.path}`);
        });
      }
    }
  } finally {
    detector.dispose();
  }
});

function fakeItem(category: string, label: 0 | 1, i: number): EmbeddedItem {
  return { path: `/d/${category}/${i}.png`, category, label, defectType: label ? 'bad' : 'good', promptName: category, sha256: i.toString(16).padStart(64, '0') };
}

test('assembly: per-category metrics equal direct metric calls; CLIP has one value; a one-class category is dropped', () => {
  const items = [
    ...[0, 0, 0, 1, 1, 1].map((l, i) => fakeItem('bottle', l as 0 | 1, i)),
    ...[0, 1, 0, 1].map((l, i) => fakeItem('cable', l as 0 | 1, 10 + i)),
    ...[0, 0].map((l, i) => fakeItem('capsule', l as 0 | 1, 20 + i)),
  ];
  const n = items.length;
  const wave = (a: number) => Array.from({ length: n }, (_, i) => 0.5 + 0.4 * Math.sin(a * (i + 1)));
  const clip = wave(1.3);
  const seeds = [0, 1, 2].map((s) => ({ seed: s, ours: wave(0.7 + s), clipOurs: wave(2.1 + s) }));
  const config = {
    dataset: 'mvtec' as const,
    root: '/d',
    setup: 'unknown' as const,
    crops: { enabled: false, scales: [], aggregation: 'max' as const },
    pairs: 100,
    backbone: { name: 'tiny', fingerprint: FP },
    fnn: { hidden: [8], dropout: 0.5, lr: 1e-3, weightDecay: 0.01, betas: [0.9, 0.999] as [number, number], eps: 1e-8, epochs: 2, batchSize: 128, lrDecay: 0.1 },
    aupr: 'ap' as const,
  };
  const r = assembleResults({ config, items, clip, seeds, skipped: [{ path: '/d/x.png', kind: 'non-image', reason: 'not an image' }], notes: ['n1'], rwdaVersion: '0.1.0', versions: { node: '20', onnxruntime: '1.30.0' } });
  validateRunResults(r);
  assert.deepEqual(r.config.categories, ['bottle', 'cable']);
  assert.deepEqual(r.config.seeds, [0, 1, 2]);
  assert.equal(r.notes![0], 'n1');
  assert.match(r.notes![1]!, /category 'capsule' was left out: .* 2 normal and 0 anomalous/);
  assert.deepEqual(
    r.skipped.map((s) => s.kind),
    ['non-image', 'category-dropped', 'category-dropped'],
  );
  for (const cat of r.categories) {
    const idx = items.map((it, i) => (it.category === cat.name ? i : -1)).filter((i) => i >= 0);
    const labels = idx.map((i) => items[i]!.label);
    const m = (s: number[]) => computeMetrics(labels, idx.map((i) => s[i]!));
    assert.deepEqual([cat.nNormal, cat.nAnomalous], [labels.filter((l) => l === 0).length, labels.filter((l) => l === 1).length]);
    assert.deepEqual(cat.methods.clip.auroc.values, [m(clip).auroc]);
    assert.equal(cat.methods.clip.auroc.std, 0);
    for (const key of ['auroc', 'ap', 'auprTrapezoid', 'f1Max'] as const) {
      assert.deepEqual(cat.methods.ours[key].values, seeds.map((s) => m(s.ours)[key]), `${cat.name} ours ${key}`);
      assert.deepEqual(cat.methods.clipOurs[key].values, seeds.map((s) => m(s.clipOurs)[key]), `${cat.name} clipOurs ${key}`);
    }
  }
  // Mean row: per seed over categories, then over seeds.
  const perSeed = [0, 1, 2].map((k) => (r.categories[0]!.methods.ours.auroc.values[k]! + r.categories[1]!.methods.ours.auroc.values[k]!) / 2);
  assert.deepEqual(r.mean.ours.auroc.values, perSeed);
  assert.equal(r.curves!.seed, 0);
  assert.deepEqual(Object.keys(r.curves!.perCategory), ['bottle', 'cable']);
  assert.deepEqual(Object.keys(r.curves!.perCategory.bottle!).sort(), ['clip', 'clipOurs', 'ours']);
  assert.equal(r.histograms!.method, 'clipOurs');
  const h = r.histograms!.perCategory.cable!;
  assert.deepEqual([h.normal.reduce((a, b) => a + b, 0), h.anomalous.reduce((a, b) => a + b, 0)], [2, 2]);

  assert.throws(
    () => assembleResults({ config, items: items.slice(10), clip: clip.slice(10), seeds: seeds.map((s) => ({ ...s, ours: s.ours.slice(10), clipOurs: s.clipOurs.slice(10) })), skipped: [], notes: [], rwdaVersion: '0', versions: { node: '20', onnxruntime: '1' } }),
    (e: unknown) => e instanceof RwdaError && /no category left to evaluate: category 'capsule'/.test(e.message),
  );
});

test('run-time estimate: encoder time of every view plus text encoding and training per seed', () => {
  const e = estimateRunTime({ images: 1725, views: 14, msPerImage: 500, seeds: 10, trainSecondsPerSeed: 2, textEncodeSeconds: 100 });
  assert.deepEqual(e, { imageSeconds: 1725 * 14 * 0.5, perSeedSeconds: 102, seedSeconds: 1020, totalSeconds: 1725 * 7 + 1020 });
  assert.throws(() => estimateRunTime({ images: -1, views: 1, msPerImage: 1, seeds: 1, trainSecondsPerSeed: 0, textEncodeSeconds: 0 }), /images must be a non-negative number/);

  const dir = join(TMP, 'bench-out');
  mkdirSync(dir);
  assert.equal(readBenchTimings(dir), undefined);
  const block = (ms: number) => ({ model: 'B16+', threads: 2, image: { batch8_ms_per_image: ms }, text: { dynamic_ms_per_prompt: 50 } });
  writeFileSync(join(dir, 'backbone.json'), JSON.stringify(block(600)));
  writeFileSync(join(dir, 'all.json'), JSON.stringify({ date: '2026-01-02T00:00:00Z', backbone: block(585.5) }));
  const t = readBenchTimings(dir)!;
  assert.deepEqual([t.file, t.imageMsPerImage, t.textMsPerPrompt, t.model, t.threads], [join(dir, 'all.json'), 585.5, 50, 'B16+', 2]);
  writeFileSync(join(dir, 'all.json'), '{');
  assert.throws(() => readBenchTimings(dir), /all\.json: not valid JSON/);
});
