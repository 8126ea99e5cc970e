// `rwda experiment pairs | words | tsne` end to end on the tiny-gelu model over the generated
// two-category MVTec tree (child processes, RWDA_HOME in a temp folder): the summary line, the
// three files (JSON schema, well-formed SVG with the expected curves / cells / points, HTML), a
// rerun that computes nothing, and the flag errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliFixture, rwda, rwdaKilled, summaryOf, traceEvents } from '../eval/runner_fixture.ts';
import { attr, checkEnvelope, checkHeadline, checkXml, curvePath, elementsWithClass, subpaths } from '../eval/experiments_helpers.ts';

const { tmp: TMP, home: HOME, cache: CACHE, model: MODEL, tree: TREE, ok: OK } = cliFixture('rwda-experiment-cli-');
const OUT = join(TMP, 'out');

const data = ['--model', MODEL, '--dataset', 'mvtec', '--root', TREE.root, '--cache', CACHE, '--out', OUT];

function readJson(path: string): Record<string, any> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
}

test('experiment pairs --n 50,100 --seeds 2: summary, pairs.json/.svg/.html; the rerun computes nothing', () => {
  const r = rwda(['experiment', 'pairs', ...data, '--n', '50,100', '--seeds', '2'], HOME, { RWDA_TEST_TRACE: '1' });
  assert.equal(r.status, 0, r.stderr);
  const s = summaryOf(r.stdout);
  assert.equal(s.experiment, 'pairs');
  for (const k of ['json', 'svg', 'html']) assert.equal(s[k], join(OUT, `pairs.${k}`));
  assert.deepEqual(s.points.map((p: any) => [p.pairs, p.seedsComputed, p.textsEncoded, p.textsCached]), [[50, [0, 1], 200, 0], [100, [0, 1], 200, 200]]);
  assert.deepEqual([s.cache.viewsEncoded, s.cache.imageWrites, s.cache.textWrites, s.cache.detectorsTrained], [OK, OK, 402, 4]);
  assert.match(r.stderr, /N = 100 seed 1: trained \(100 new prompt texts encoded\)/);
  const written = traceEvents(r.stderr).filter((e) => e.type === 'written');
  assert.deepEqual(written.map((e) => e.partial), [true, false]);

  const file = readJson(s.json);
  checkEnvelope(file, 'pairs');
  assert.deepEqual([file.partial, file.config.counts, file.config.seeds, file.config.dataset], [false, [50, 100], [0, 1], 'mvtec']);
  assert.equal(file.config.spec.root, TREE.root);
  for (const p of file.results.points) {
    checkHeadline(p.mean.ours, 2, 'ours');
    checkHeadline(p.mean.clipOurs, 2, 'clipOurs');
    checkHeadline(p.mean.clip, 1, 'clip');
    assert.equal(s.points.find((q: any) => q.pairs === p.pairs).auroc.ours.mean, p.mean.ours.auroc.mean);
  }
  const svg = readFileSync(s.svg, 'utf8');
  checkXml(svg);
  assert.equal(subpaths(curvePath(svg, 'clipOurs-std')!), 2);
  assert.equal(subpaths(curvePath(svg, 'clip')!), 1);
  const html = readFileSync(s.html, 'utf8');
  assert.ok(html.includes('class="pairs-chart"') && html.includes('<section id="config">'));

  const again = rwda(['experiment', 'pairs', ...data, '--n', '50,100', '--seeds', '2'], HOME);
  assert.equal(again.status, 0, again.stderr);
  const s2 = summaryOf(again.stdout);
  assert.deepEqual(s2.points.map((p: any) => [p.seedsComputed, p.seedsReused, p.textsEncoded]), [[[], [0, 1], 0], [[], [0, 1], 0]]);
  assert.deepEqual([s2.cache.viewsEncoded, s2.cache.imageWrites, s2.cache.textWrites, s2.cache.detectorsTrained, s2.cache.detectorsLoaded], [0, 0, 0, 0, 0]);
  assert.deepEqual(s2.points.map((p: any) => p.auroc), s.points.map((p: any) => p.auroc));
});

test('experiment words 2 × 2: words.json cells, a 2 × 2 grid in words.svg; the (a, a damaged) cell reuses the pairs run', () => {
  const r = rwda(
    ['experiment', 'words', ...data, '--normal-words', 'a,a good', '--anomaly-words', 'a damaged, a broken', '--pairs', '50', '--seeds', '2'],
    HOME,
  );
  assert.equal(r.status, 0, r.stderr);
  const s = summaryOf(r.stdout);
  assert.deepEqual(
    s.cells.map((c: any) => [c.normalWord, c.anomalyWord, c.seedsReused]),
    [['a', 'a damaged', [0, 1]], ['a', 'a broken', []], ['a good', 'a damaged', []], ['a good', 'a broken', []]],
  );
  const file = readJson(s.json);
  checkEnvelope(file, 'words');
  assert.deepEqual([file.config.normalWords, file.config.anomalyWords, file.config.pairs], [['a', 'a good'], ['a damaged', 'a broken'], 50]);
  // Same settings as N = 50 of the pairs run: same numbers.
  const pairs = readJson(join(OUT, 'pairs.json'));
  assert.deepEqual(file.results.cells[0].mean, pairs.results.points[0].mean);
  const svg = readFileSync(s.svg, 'utf8');
  checkXml(svg);
  const cells = elementsWithClass(svg, 'g', 'cell');
  assert.deepEqual(cells.map((c) => [attr(c, 'data-normal-word'), attr(c, 'data-anomaly-word')]), s.cells.map((c: any) => [c.normalWord, c.anomalyWord]));
  assert.ok(existsSync(s.html));
});

test('experiment tsne --with-images: tsne.json points and groups, scatter with one marker per point; rerun reuses the map', () => {
  const args = ['experiment', 'tsne', ...data, '--with-images', '--pairs', '100', '--iterations', '250'];
  const r = rwda(args, HOME);
  assert.equal(r.status, 0, r.stderr);
  const s = summaryOf(r.stdout);
  assert.equal(s.points, 200 + OK);
  assert.equal(s.tsne.reused, false);
  assert.equal(s.tsne.method, 'barnes_hut');
  const file = readJson(s.json);
  checkEnvelope(file, 'tsne');
  const res = file.results;
  assert.equal(res.x.length, res.n);
  assert.equal(res.y.length, res.n);
  assert.equal(res.group.length, res.n);
  assert.ok([...res.x, ...res.y].every((v: number) => Number.isFinite(v)));
  assert.deepEqual(file.config.tsne, { perplexity: 30, iterations: 250, method: 'barnes_hut', init: 'pca', learningRate: 'auto', earlyExaggeration: 12, theta: 0.5 });
  const svg = readFileSync(s.svg, 'utf8');
  checkXml(svg);
  const groups = elementsWithClass(svg, 'g', 'points');
  assert.deepEqual(
    groups.map((g) => [attr(g, 'data-group'), Number(attr(g, 'data-count'))]),
    Object.entries(res.counts),
  );
  const again = rwda(args, HOME);
  assert.equal(again.status, 0, again.stderr);
  const s2 = summaryOf(again.stdout);
  assert.equal(s2.tsne.reused, true);
  assert.deepEqual([s2.cache.viewsEncoded, s2.cache.textWrites], [0, 0]);
  assert.deepEqual(readJson(s2.json).results.x, res.x);
});

test('experiment pairs killed (SIGKILL) after its first seed resumes there and gives the same numbers', async () => {
  const cache = join(TMP, 'kill.sqlite');
  const home = join(TMP, 'home-kill');
  const args = ['experiment', 'pairs', '--model', MODEL, '--dataset', 'mvtec', '--root', TREE.root, '--cache', cache, '--out', join(TMP, 'kill'), '--n', '50,100', '--seeds', '2'];
  const k = await rwdaKilled(args, home, { RWDA_TEST_TRACE: '1' }, (line) => line.startsWith('rwda-trace: {"type":"seed-done"'));
  assert.ok(k.killed, `the run was killed (status ${k.status}): ${k.stderr}`);
  const r = rwda(args, home);
  assert.equal(r.status, 0, r.stderr);
  const s = summaryOf(r.stdout);
  assert.ok(s.points[0].seedsReused.includes(0), `seed 0 of N = 50 was stored before the kill: ${JSON.stringify(s.points[0])}`);
  assert.deepEqual(s.points[1].seedsComputed, [0, 1]);
  assert.equal(s.cache.viewsEncoded, 0, 'image views were stored before the first seed');
  const full = readJson(join(OUT, 'pairs.json'));
  assert.deepEqual(readJson(s.json).results.points.map((p: any) => p.mean), full.results.points.map((p: any) => p.mean));
});

test('experiment: flag errors are one-line rwda messages with exit 1', () => {
  const cases: Array<[string[], RegExp]> = [
    [['experiment', 'pairs', ...data, '--n', '100,abc'], /--n must be comma-separated integers/],
    [['experiment', 'pairs', ...data, '--n', '0'], /--n must be comma-separated integers ≥ 1/],
    [['experiment', 'pairs', ...data, '--setup', 'maybe'], /--setup must be unknown or known/],
    [['experiment', 'words', ...data, '--normal-words', 'a,a damaged', '--anomaly-words', 'a damaged'], /same text/],
    [['experiment', 'words', ...data, '--normal-words', 'a,,b'], /--normal-words must be comma-separated words/],
    [['experiment', 'tsne', '--model', MODEL, '--out', OUT, '--with-images'], /--with-images needs --dataset/],
    [['experiment', 'tsne', ...data], /--dataset given without --with-images/],
    [['experiment', 'tsne', '--model', MODEL, '--out', OUT, '--pairs', '5'], /--perplexity 30 must be > 0 and less than the number of points, 10 \(2 × 5 --pairs \+ 0 images\)/],
    [['experiment', 'tsne', '--model', MODEL, '--out', OUT, '--tsne-method', 'fast'], /--tsne-method must be exact or barnes_hut/],
    [['experiment', 'pairs', '--model', MODEL, '--dataset', 'mvtec', '--out', OUT], /--dataset mvtec needs --root/],
  ];
  for (const [args, re] of cases) {
    const r = rwda(args, HOME);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^rwda: /m);
    assert.match(r.stderr, re, args.join(' '));
    assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
  }
});
