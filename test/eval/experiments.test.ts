// The experiments as a library, on tiny-gelu over the generated two-category MVTec tree: the
// pair-count sweep (schema, numbers equal to an independent `runEval` of the same settings,
// prefix-cache property of the text encodings, rerun and extension reuse, partial files), the
// word grid (cells, shared normal prompts, CLIP numbers vs runEval, word checks) and the t-SNE map
// (equal to a direct tsne() of the training set's embeddings, images appended, stored map reused).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClipModel } from '../../src/clip/model.ts';
import { RwdaError } from '../../src/errors.ts';
import {
  checkCounts,
  checkWords,
  runPairsExperiment,
  runTsneExperiment,
  runWordsExperiment,
  type ExperimentEvent,
  type PairsFile,
} from '../../src/eval/experiments/index.ts';
import { runEval } from '../../src/eval/runner/index.ts';
import { tsne } from '../../src/eval/tsne.ts';
import { buildTrainingSet } from '../../src/methods/rwda/training_set.ts';
import { EmbeddingStore } from '../../src/store/index.ts';
import { mvtecTree, tinyModelDir } from './runner_fixture.ts';
import { attr, checkEnvelope, checkHeadline, checkStat, checkXml, curvePath, elementsWithClass, subpaths } from './experiments_helpers.ts';

const TMP = mkdtempSync(join(tmpdir(), 'rwda-experiments-'));
const MODEL_DIR = tinyModelDir(TMP);
const TREE = mvtecTree(TMP);
const OK = TREE.files - 1;
let model: ClipModel;

before(async () => {
  model = await ClipModel.load(MODEL_DIR, { intraOpNumThreads: 1 });
});
after(async () => {
  await model?.dispose();
  rmSync(TMP, { recursive: true, force: true });
});

const dataset = { kind: 'mvtec' as const, root: TREE.root };
const METHOD_KEYS = ['clip', 'clipOurs', 'ours'];

/** Means of an independent runEval (fresh store and detector cache: everything recomputed). */
async function evalMeans(train: { pairs: number; words?: { normal: string; anomaly: string } }, seeds: number): Promise<Record<string, Record<string, unknown>>> {
  const store = EmbeddingStore.open(':memory:');
  try {
    const out = await runEval({ backbone: model, dataset, store, seeds, train, out: join(TMP, `eval-${Math.random().toString(36).slice(2)}`), home: join(TMP, `home-${Math.random().toString(36).slice(2)}`), partialReports: false });
    assert.deepEqual(out.stats.seedsReused, []);
    const pick = (m: Record<string, any>) => ({ auroc: m.auroc, ap: m.ap, f1Max: m.f1Max });
    return { clip: pick(out.results.mean.clip), ours: pick(out.results.mean.ours), clipOurs: pick(out.results.mean.clipOurs) };
  } finally {
    store.close();
  }
}

const PAIRS_CACHE = join(TMP, 'pairs.sqlite');
const PAIRS_HOME = join(TMP, 'home-pairs');
let pairsFirst: PairsFile;

test('pairs: N ∈ {50, 100}, 2 seeds: schema, numbers equal to runEval, each N encodes only its extra prompts', async () => {
  const store = EmbeddingStore.open(PAIRS_CACHE);
  const events: ExperimentEvent[] = [];
  try {
    const { file, paths } = await runPairsExperiment({ backbone: model, dataset, store, seeds: 2, counts: [100, 50, 100], home: PAIRS_HOME, out: join(TMP, 'pairs'), onEvent: (e) => events.push(e) });
    pairsFirst = file;
    checkEnvelope(file, 'pairs');
    assert.equal(file.partial, false);
    assert.deepEqual(file.config.counts, [50, 100], 'sorted, distinct');
    assert.deepEqual(file.config.seeds, [0, 1]);
    assert.deepEqual(file.config.categories, ['grid', 'hazelnut']);
    assert.equal(file.config.images, OK);
    assert.equal(file.config.training.normalWord, 'a');
    assert.equal(file.skipped.length, 1);
    assert.equal(file.skipped[0]!.path, TREE.corrupt);
    assert.deepEqual(file.results.points.map((p) => p.pairs), [50, 100]);
    for (const p of file.results.points) {
      assert.deepEqual(Object.keys(p.mean).sort(), METHOD_KEYS);
      checkHeadline(p.mean.clip as never, 1, `N=${p.pairs} clip`);
      checkHeadline(p.mean.ours as never, 2, `N=${p.pairs} ours`);
      checkHeadline(p.mean.clipOurs as never, 2, `N=${p.pairs} clipOurs`);
      assert.deepEqual(p.categories.map((c) => [c.name, c.nNormal + c.nAnomalous]), [['grid', TREE.good.grid.normal.length + 3], ['hazelnut', TREE.good.hazelnut.normal.length + TREE.good.hazelnut.anomalous.length]]);
      for (const c of p.categories) checkStat(c.auroc.ours, 2, `${c.name} ours`);
      assert.deepEqual([p.seedsComputed, p.seedsReused, p.detectorsTrained], [[0, 1], [], 2]);
      assert.match(p.runKey, /^[0-9a-f]{32}$/);
    }
    // CLIP does not depend on N.
    assert.deepEqual(file.results.points[0]!.mean.clip, file.results.points[1]!.mean.clip);
    // Prefix property: N = 100 finds N = 50's prompts of the same seed in the text cache.
    const [p50, p100] = file.results.points as [PairsFile['results']['points'][0], PairsFile['results']['points'][0]];
    assert.deepEqual([p50.textsEncoded, p50.textsCached], [2 * 2 * 50, 0]);
    assert.deepEqual([p100.textsEncoded, p100.textsCached], [2 * 2 * 50, 2 * 2 * 50]);
    // The store wrote each prompt once: 2 seeds × 2 × 100 training prompts + CLIP's pair.
    assert.equal(file.stats.store.textWrites, 2 * 2 * 100 + 2);
    assert.equal(file.stats.textsEncoded, 400);
    assert.deepEqual([file.stats.viewsEncoded, file.stats.store.imageWrites], [OK, OK]);
    assert.match(file.notes.join('\n'), /prefix/);
    // Files written after each N: partial first, final last.
    assert.deepEqual(events.filter((e) => e.type === 'written').map((e) => (e as { partial: boolean }).partial), [true, false]);
    assert.deepEqual(JSON.parse(readFileSync(paths.json, 'utf8')), JSON.parse(JSON.stringify(file)));

    const svg = readFileSync(paths.svg, 'utf8');
    checkXml(svg);
    assert.match(svg, /^<\?xml /);
    assert.equal(elementsWithClass(svg, 'svg', 'pairs-chart').length, 1);
    for (const key of ['clip', 'ours', 'clipOurs']) assert.equal(subpaths(curvePath(svg, key)!), 1, key);
    assert.equal((curvePath(svg, 'ours')!.match(/L/g) ?? []).length, 1, 'two points');
    for (const key of ['ours-std', 'clipOurs-std']) assert.equal(subpaths(curvePath(svg, key)!), 2, `${key}: one error bar per N`);
    assert.ok(svg.includes('>50</text>') && svg.includes('>100</text>'), 'N tick labels');
    const html = readFileSync(paths.html, 'utf8');
    assert.ok(html.startsWith('<!DOCTYPE html>') && html.includes(svg.replace(/^<\?xml[^>]*>\n/, '').trim()));
    assert.equal((html.match(/<tr data-pairs="/g) ?? []).length, 2);
    assert.ok(!/<script|<link|url\(/i.test(html));
  } finally {
    store.close();
  }
  const ref = await evalMeans({ pairs: 100 }, 2);
  assert.deepEqual(pairsFirst.results.points[1]!.mean, ref, 'N = 100 equals rwda eval --pairs 100 --seeds 2');
});

test('pairs: a rerun computes nothing; adding N = 200 computes only it, encoding only its extra prompts', async () => {
  const store = EmbeddingStore.open(PAIRS_CACHE);
  try {
    const { file } = await runPairsExperiment({ backbone: model, dataset, store, seeds: 2, counts: [50, 100], home: PAIRS_HOME, out: join(TMP, 'pairs') });
    assert.deepEqual(file.results.points, pairsFirst.results.points.map((p) => ({ ...p, seedsComputed: [], seedsReused: [0, 1], detectorsTrained: 0, textsEncoded: 0, textsCached: 0 })));
    assert.deepEqual([file.stats.viewsEncoded, file.stats.detectorsTrained, file.stats.detectorsLoaded, file.stats.seedsReused], [0, 0, 0, 4]);
    assert.deepEqual([file.stats.store.imageWrites, file.stats.store.textWrites, file.stats.store.writeTransactions], [0, 0, 0]);
  } finally {
    store.close();
  }
  const store2 = EmbeddingStore.open(PAIRS_CACHE);
  try {
    const { file } = await runPairsExperiment({ backbone: model, dataset, store: store2, seeds: 2, counts: [50, 100, 200], home: PAIRS_HOME, out: join(TMP, 'pairs') });
    const p200 = file.results.points[2]!;
    assert.deepEqual([p200.pairs, p200.seedsComputed, p200.textsEncoded, p200.textsCached], [200, [0, 1], 2 * 2 * 100, 2 * 2 * 100]);
    assert.deepEqual(file.results.points.slice(0, 2).map((p) => p.seedsReused), [[0, 1], [0, 1]]);
    assert.equal(file.stats.store.textWrites, 400);
  } finally {
    store2.close();
  }
});

test('words 2 × 2, 1 seed: cells in row-major order, prompts shared along rows and columns, numbers equal to runEval', async () => {
  const store = EmbeddingStore.open(join(TMP, 'words.sqlite'));
  const normalWords = ['a', 'a good'];
  const anomalyWords = ['a damaged', 'a broken'];
  try {
    const { file, paths } = await runWordsExperiment({ backbone: model, dataset, store, seeds: 1, train: { pairs: 50 }, normalWords, anomalyWords, home: join(TMP, 'home-words'), out: join(TMP, 'words') });
    checkEnvelope(file, 'words');
    assert.deepEqual([file.config.normalWords, file.config.anomalyWords, file.config.pairs], [normalWords, anomalyWords, 50]);
    assert.deepEqual(
      file.results.cells.map((c) => [c.normalWord, c.anomalyWord]),
      [['a', 'a damaged'], ['a', 'a broken'], ['a good', 'a damaged'], ['a good', 'a broken']],
    );
    for (const c of file.results.cells) {
      checkHeadline(c.mean.clip as never, 1, 'clip');
      checkHeadline(c.mean.clipOurs as never, 1, 'clipOurs');
      assert.deepEqual(c.seedsComputed, [0]);
    }
    // A prompt depends on the seed and its own state word only (both prompts of a pair share the random
    // words): a cell finds its row's normal prompts and its column's anomaly prompts cached once seen.
    assert.deepEqual(file.results.cells.map((c) => [c.textsEncoded, c.textsCached]), [[100, 0], [50, 50], [50, 50], [0, 100]]);
    assert.equal(file.stats.textsEncoded, (2 + 2) * 50);
    assert.equal(new Set(file.results.cells.map((c) => c.runKey)).size, 4);

    const svg = readFileSync(paths.svg, 'utf8');
    checkXml(svg);
    const cells = elementsWithClass(svg, 'g', 'cell');
    assert.equal(cells.length, 4);
    assert.equal(elementsWithClass(svg, 'g', 'missing').length, 0);
    cells.forEach((tag, k) => {
      const c = file.results.cells[k]!;
      assert.deepEqual([attr(tag, 'data-normal-word'), attr(tag, 'data-anomaly-word')], [c.normalWord, c.anomalyWord]);
      assert.equal(Number(attr(tag, 'data-clip-ours')), c.mean.clipOurs.auroc.mean);
      assert.equal(Number(attr(tag, 'data-clip')), c.mean.clip.auroc.mean);
    });
    assert.equal(elementsWithClass(svg, 'text', 'row-label').length, 2);
    assert.equal(elementsWithClass(svg, 'text', 'column-label').length, 2);
    const html = readFileSync(paths.html, 'utf8');
    assert.equal((html.match(/<tr data-normal-word="/g) ?? []).length, 4);

    const cell = file.results.cells[3]!;
    assert.deepEqual(cell.mean, await evalMeans({ pairs: 50, words: { normal: 'a good', anomaly: 'a broken' } }, 1), 'cell equals rwda eval with those words');
  } finally {
    store.close();
  }
});

test('checkWords and checkCounts refuse bad lists with RwdaError', () => {
  assert.throws(() => checkWords(['a'], ['a']), (e: unknown) => e instanceof RwdaError && /same text/.test(e.message));
  assert.throws(() => checkWords(['a', 'a'], ['a broken']), (e: unknown) => e instanceof RwdaError && /listed twice/.test(e.message));
  assert.throws(() => checkWords([], ['a broken']), RwdaError);
  assert.throws(() => checkWords(['  '], ['a broken']), /empty/);
  assert.deepEqual(checkWords([' a  good '], ['a broken']).normal, ['a good']);
  assert.throws(() => checkCounts([]), RwdaError);
  assert.throws(() => checkCounts([0]), RwdaError);
  assert.throws(() => checkCounts([1.5]), RwdaError);
});

test('tsne: prompts only equal a direct t-SNE of the training set; with images, images follow the prompts; the map is reused', async () => {
  const store = EmbeddingStore.open(join(TMP, 'tsne.sqlite'));
  try {
    const { file, paths } = await runTsneExperiment({ backbone: model, store, pairs: 100, seed: 3, iterations: 250, out: join(TMP, 'tsne-text') });
    checkEnvelope(file, 'tsne');
    const r = file.results;
    assert.equal(r.n, 200);
    assert.deepEqual(r.counts, { 'text-normal': 100, 'text-anomalous': 100, 'image-normal': 0, 'image-anomalous': 0 });
    assert.deepEqual(r.group.slice(0, 4), ['text-normal', 'text-anomalous', 'text-normal', 'text-anomalous']);
    assert.equal(r.texts.length, 200);
    assert.equal(file.stats.textsEncoded, 200);
    assert.equal(r.run.reused, false);
    const set = await buildTrainingSet(model, { pairs: 100, seed: 3 });
    assert.deepEqual(r.texts, set.pairs.flatMap((p) => [p.normal, p.anomaly]));
    const direct = tsne(set.x, 200, set.dim, { perplexity: 30, iterations: 250, seed: 3, method: 'barnes_hut' });
    assert.equal(r.run.method, 'barnes_hut');
    assert.deepEqual(r.x, Array.from({ length: 200 }, (_, i) => direct.y[2 * i]));
    assert.deepEqual(r.y, Array.from({ length: 200 }, (_, i) => direct.y[2 * i + 1]));
    assert.equal(r.run.kl, direct.kl);
    const svg = readFileSync(paths.svg, 'utf8');
    checkXml(svg);
    const groups = elementsWithClass(svg, 'g', 'points');
    assert.deepEqual(groups.map((g) => [attr(g, 'data-group'), attr(g, 'data-count')]), [['text-normal', '100'], ['text-anomalous', '100']]);
    assert.equal((svg.match(/<circle /g) ?? []).length, 200 + 2, 'one circle per point, plus the two legend markers');

    const withImages = await runTsneExperiment({ backbone: model, store, pairs: 100, seed: 3, iterations: 250, images: { dataset }, out: join(TMP, 'tsne-img') });
    const w = withImages.file.results;
    assert.equal(w.n, 200 + OK);
    assert.deepEqual(w.counts, { 'text-normal': 100, 'text-anomalous': 100, 'image-normal': TREE.good.grid.normal.length + TREE.good.hazelnut.normal.length, 'image-anomalous': 3 + TREE.good.hazelnut.anomalous.length });
    assert.equal(w.images.length, OK);
    assert.ok(w.group.slice(200).every((g, i) => g === (w.images[i]!.label === 1 ? 'image-anomalous' : 'image-normal')));
    assert.deepEqual([withImages.file.stats.textsEncoded, withImages.file.stats.viewsEncoded], [0, OK]);
    assert.equal(withImages.file.skipped.length, 1);
    assert.deepEqual(withImages.file.config.images?.categories, ['grid', 'hazelnut']);
    const svg2 = readFileSync(withImages.paths.svg, 'utf8');
    checkXml(svg2);
    assert.deepEqual(
      elementsWithClass(svg2, 'g', 'points').map((g) => attr(g, 'data-group')),
      ['text-normal', 'text-anomalous', 'image-normal', 'image-anomalous'],
    );
    assert.equal((svg2.match(/<rect x/g) ?? []).length - 1 /* frame */ - 1 /* legend square */, w.counts['image-normal']);

    const again = await runTsneExperiment({ backbone: model, store, pairs: 100, seed: 3, iterations: 250, images: { dataset }, out: join(TMP, 'tsne-img') });
    assert.equal(again.file.results.run.reused, true);
    assert.deepEqual([again.file.results.x, again.file.results.y], [w.x, w.y]);
    assert.deepEqual([again.file.stats.viewsEncoded, again.file.stats.store.textWrites], [0, 0]);
  } finally {
    store.close();
  }
});
