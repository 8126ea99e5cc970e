// `rwda eval` end to end on the tiny-gelu model over a generated two-category MVTec tree with a
// corrupt image: the three report files (validated), skipped images, numbers checked against
// Detector.score + computeMetrics on the same files, a rerun that encodes no image view and
// recomputes no seed, more seeds reusing the finished ones, the known-object setup, flag errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClipModel } from '../../src/clip/model.ts';
import { computeMetrics } from '../../src/eval/metrics.ts';
import { readRunResults, type RunResults } from '../../src/eval/report/index.ts';
import { loadOrTrainDefaultDetector } from '../../src/methods/rwda/train_detector.ts';
import { cliFixture, comparable, rwda, summaryOf } from '../eval/runner_fixture.ts';

const { tmp: TMP, home: HOME, cache: CACHE, model: MODEL, tree: TREE, ok: OK } = cliFixture('rwda-eval-cli-');

const base = (out: string, extra: string[] = []): string[] => [
  'eval', '--model', MODEL, '--dataset', 'mvtec', '--root', TREE.root, '--pairs', '100', '--cache', CACHE, '--out', join(TMP, out), ...extra,
];

/** Metrics of one seed recomputed through Detector.score on the category's files. */
async function independentMetrics(
  r: RunResults,
  seed: number,
  object: (category: string) => string,
): Promise<Record<string, { clip: number; ours: number; clipOurs: number; range: [number, number] }>> {
  const model = await ClipModel.load(MODEL, { intraOpNumThreads: 1 });
  const { detector, trained } = await loadOrTrainDefaultDetector(model, { pairs: 100, seed, home: HOME });
  assert.equal(trained, false, 'the run left the detector of this seed in the detector cache');
  const out: Record<string, { clip: number; ours: number; clipOurs: number; range: [number, number] }> = {};
  try {
    for (const cat of ['grid', 'hazelnut'] as const) {
      const files = [...TREE.good[cat].normal, ...TREE.good[cat].anomalous];
      const labels = [...TREE.good[cat].normal.map(() => 0), ...TREE.good[cat].anomalous.map(() => 1)];
      const s = await detector.score(files, { object: object(cat), crops: r.config.crops.enabled ? 'grid' : 'none' });
      out[cat] = {
        clip: computeMetrics(labels, s.map((x) => x.sClip)).auroc,
        ours: computeMetrics(labels, s.map((x) => x.sFnn)).auroc,
        clipOurs: computeMetrics(labels, s.map((x) => x.s)).auroc,
        // The histogram's outer edges are the extreme CLIP + Ours scores: a check of the scores themselves.
        range: [Math.min(...s.map((x) => x.s)), Math.max(...s.map((x) => x.s))],
      };
    }
  } finally {
    detector.dispose();
    await model.dispose();
  }
  return out;
}

let first: RunResults;

test('eval --crops grid --seeds 3: results.json, report.md, report.html; corrupt image skipped; numbers as Detector.score gives them', async () => {
  const r = rwda(base('run1', ['--seeds', '3', '--crops', 'grid']), HOME);
  assert.equal(r.status, 0, r.stderr);
  const s = summaryOf(r.stdout);
  assert.equal(s.out, join(TMP, 'run1'));
  for (const f of ['results.json', 'report.md', 'report.html']) assert.ok(existsSync(join(TMP, 'run1', f)), f);
  first = readRunResults(join(TMP, 'run1', 'results.json'));
  assert.deepEqual(first.config.seeds, [0, 1, 2]);
  assert.deepEqual(first.config.categories, ['grid', 'hazelnut']);
  assert.equal(first.config.setup, 'unknown');
  assert.deepEqual(first.config.crops, { enabled: true, scales: [2, 3], aggregation: 'max' });
  assert.equal(first.config.pairs, 100);
  assert.equal(first.config.backbone.name, 'tiny-gelu');
  assert.deepEqual(
    first.categories.map((c) => [c.name, c.nNormal, c.nAnomalous]),
    [
      ['grid', TREE.good.grid.normal.length, TREE.good.grid.anomalous.length],
      ['hazelnut', TREE.good.hazelnut.normal.length, TREE.good.hazelnut.anomalous.length],
    ],
  );
  assert.equal(first.skipped.length, 1);
  assert.equal(first.skipped[0]!.path, TREE.corrupt);
  assert.equal(first.skipped[0]!.kind, 'decode-error');
  assert.match(r.stderr, /warning: skipped .*broken\/001\.png/);
  for (const c of first.categories) {
    assert.equal(c.methods.clip.auroc.values.length, 1, 'CLIP is computed once');
    assert.equal(c.methods.ours.auroc.values.length, 3);
  }
  assert.deepEqual(
    [s.images, s.evaluated, s.skipped, s.categories, s.seedsComputed, s.seedsReused],
    [TREE.files, OK, 1, 2, [0, 1, 2], []],
  );
  assert.deepEqual(
    [s.cache.viewsPerImage, s.cache.viewsEncoded, s.cache.viewsCached, s.cache.imageWrites, s.cache.detectorsTrained, s.cache.textsEncoded, s.cache.clipReused],
    [14, OK * 14, 0, OK * 14, 3, 3 * 200, false],
  );
  assert.equal(s.mean.ours.auroc, first.mean.ours.auroc.mean);
  assert.equal(s.mean.clipOurs.aupr, first.mean.clipOurs.ap.mean);
  assert.match(readFileSync(join(TMP, 'run1', 'report.md'), 'utf8'), /^# rwda evaluation report: MVTec AD/);

  const ref = await independentMetrics(first, 1, () => 'object');
  for (const c of first.categories) {
    assert.equal(c.methods.clip.auroc.values[0], ref[c.name]!.clip, `${c.name} clip`);
    assert.equal(c.methods.ours.auroc.values[1], ref[c.name]!.ours, `${c.name} ours seed 1`);
    assert.equal(c.methods.clipOurs.auroc.values[1], ref[c.name]!.clipOurs, `${c.name} clip+ours seed 1`);
  }
  const ref0 = await independentMetrics(first, 0, () => 'object');
  for (const c of first.categories) {
    const edges = first.histograms!.perCategory[c.name]!.edges;
    assert.equal(first.histograms!.seed, 0);
    assert.deepEqual([edges[0], edges[edges.length - 1]], ref0[c.name]!.range, `${c.name} score range`);
  }
});

test('a rerun encodes no image view, trains nothing and gives the same results', () => {
  const r = rwda(base('run2', ['--seeds', '3', '--crops', 'grid']), HOME);
  assert.equal(r.status, 0, r.stderr);
  const s = summaryOf(r.stdout);
  assert.deepEqual(
    [s.cache.viewsEncoded, s.cache.viewsCached, s.cache.imageWrites, s.cache.detectorsTrained, s.cache.detectorsLoaded, s.cache.textsEncoded, s.cache.clipReused],
    [0, OK * 14, 0, 0, 0, 0, true],
  );
  assert.deepEqual([s.seedsComputed, s.seedsReused], [[], [0, 1, 2]]);
  assert.match(r.stderr, /seeds 0, 1, 2 already stored, reused/);
  assert.deepEqual(comparable(readRunResults(join(TMP, 'run2', 'results.json'))), comparable(first));
});

test('--seeds 4 reuses seeds 0..2 and trains seed 3 only; --crops none reuses the standard views', () => {
  const r = rwda(base('run3', ['--seeds', '4', '--crops', 'grid']), HOME);
  assert.equal(r.status, 0, r.stderr);
  const s = summaryOf(r.stdout);
  assert.deepEqual([s.seedsComputed, s.seedsReused, s.cache.detectorsTrained, s.cache.viewsEncoded], [[3], [0, 1, 2], 1, 0]);
  const res = readRunResults(join(TMP, 'run3', 'results.json'));
  for (const [i, c] of res.categories.entries()) {
    assert.deepEqual(c.methods.ours.auroc.values.slice(0, 3), first.categories[i]!.methods.ours.auroc.values);
    assert.deepEqual(c.methods.clip, first.categories[i]!.methods.clip);
  }

  const n = rwda(base('run4', ['--seeds', '2', '--categories', 'hazelnut']), HOME);
  assert.equal(n.status, 0, n.stderr);
  const sn = summaryOf(n.stdout);
  // The detectors of seeds 0 and 1 are reused from the detector cache; only the scores are new.
  assert.deepEqual([sn.cache.viewsEncoded, sn.cache.viewsCached, sn.cache.detectorsTrained, sn.cache.detectorsLoaded, sn.seedsComputed], [0, TREE.good.hazelnut.normal.length + TREE.good.hazelnut.anomalous.length, 0, 2, [0, 1]]);
  const rn = readRunResults(join(TMP, 'run4', 'results.json'));
  assert.deepEqual(rn.config.categories, ['hazelnut']);
  assert.equal(rn.config.crops.enabled, false);
});

test('--setup known puts the category name in the CLIP prompts', async () => {
  const r = rwda(base('known', ['--seeds', '2', '--setup', 'known', '--aupr', 'trapezoid']), HOME);
  assert.equal(r.status, 0, r.stderr);
  const res = readRunResults(join(TMP, 'known', 'results.json'));
  assert.equal(res.config.setup, 'known');
  assert.equal(res.config.aupr, 'trapezoid');
  assert.equal(summaryOf(r.stdout).mean.clip.aupr, res.mean.clip.auprTrapezoid.mean);
  const ref = await independentMetrics(res, 0, (c) => c);
  for (const c of res.categories) {
    assert.equal(c.methods.clip.auroc.values[0], ref[c.name]!.clip, `${c.name} clip`);
    assert.equal(c.methods.clipOurs.auroc.values[0], ref[c.name]!.clipOurs, `${c.name} clip+ours`);
    const edges = res.histograms!.perCategory[c.name]!.edges;
    assert.deepEqual([edges[0], edges[edges.length - 1]], ref[c.name]!.range, `${c.name} score range`);
  }
});

test('flag errors name the flag and stop before loading anything', () => {
  const cases: Array<[string[], RegExp]> = [
    [['eval', '--dataset', 'sewerml', '--images', TMP, '--out', join(TMP, 'x')], /--dataset sewerml needs --csv/],
    [['eval', '--dataset', 'mvtec', '--out', join(TMP, 'x')], /--dataset mvtec needs --root/],
    [['eval', '--dataset', 'mvtec', '--root', TREE.root, '--csv', 'a.csv', '--out', join(TMP, 'x')], /--csv does not apply to --dataset mvtec/],
    [['eval', '--dataset', 'imagenet', '--root', TMP, '--out', join(TMP, 'x')], /--dataset must be one of mvtec, visa, sewerml, folder, folder-pair/],
    [['eval', '--dataset', 'mvtec', '--root', TREE.root, '--crops', 'all', '--out', join(TMP, 'x')], /--crops must be none or grid/],
    [['eval', '--dataset', 'mvtec', '--root', TREE.root, '--seeds', '0', '--out', join(TMP, 'x')], /--seeds must be an integer in \[1, 1000\]/],
    [['eval', '--dataset', 'mvtec', '--root', TREE.root, '--setup', 'half', '--out', join(TMP, 'x')], /--setup must be unknown or known/],
  ];
  for (const [args, re] of cases) {
    const r = rwda(args, HOME);
    assert.equal(r.status, 1, `${args.join(' ')}\n${r.stderr}`);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  assert.equal(existsSync(join(TMP, 'x')), false);
});
