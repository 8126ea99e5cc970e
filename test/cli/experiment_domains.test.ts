// `rwda experiment domains` (Figure 5) end to end on the tiny-gelu model with the hand-written COCO
// captions fixture: the selected sentences and labels, one panel per FNN layer plus the input, the
// 1-NN accuracies (recomputed here), a rerun that reads every map back, kill -9 after the first
// panel and a rerun giving identical output, and the page rendered in headless Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { loadCaptions } from '../../src/data/captions.ts';
import { CLASS_COLORS } from '../../src/eval/report/html.ts';
import { cliFixture, rwda, rwdaKilled, summaryOf } from '../eval/runner_fixture.ts';
import { attr, checkXml, elementsWithClass } from '../eval/experiments_helpers.ts';

const { tmp: TMP, home: HOME, cache: CACHE, model: MODEL } = cliFixture('rwda-domains-cli-');
const CAPTIONS = join(import.meta.dirname, '..', 'data', 'fixtures', 'captions_coco.json');
const OUT = join(TMP, 'out');
const base = ['experiment', 'domains', '--model', MODEL, '--captions', CAPTIONS, '--pairs', '20', '--perplexity', '5', '--iterations', '250'];

function readJson(path: string): Record<string, any> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
}

/** Leave-one-out 1-NN accuracy written independently of the library (ties: the lowest index). */
function loo(x: number[], y: number[], labels: unknown[]): number {
  let right = 0;
  for (let i = 0; i < x.length; i++) {
    let best = -1;
    let bestD = Infinity;
    for (let j = 0; j < x.length; j++) {
      if (j === i) continue;
      const d = Math.hypot(x[i]! - x[j]!, y[i]! - y[j]!);
      if (d < bestD) [bestD, best] = [d, j];
    }
    if (labels[best] === labels[i]) right++;
  }
  return right / x.length;
}

let first: Record<string, any>;

test('experiment domains: sentences selected and labelled, input + one panel per hidden layer, 1-NN in [0, 1] and recomputable', () => {
  const r = rwda([...base, '--cache', CACHE, '--out', OUT], HOME);
  assert.equal(r.status, 0, r.stderr);
  const s = summaryOf(r.stdout);
  assert.equal(s.experiment, 'domains');
  assert.deepEqual(s.counts, { 'prompt-normal': 20, 'prompt-anomalous': 20, 'sentence-normal': 10, 'sentence-anomalous': 10 });
  assert.deepEqual(s.captions, { read: 38, normal: 10, anomalous: 10, both: 3, duplicates: 1, used: 20 });
  const file = readJson(s.json);
  first = file;
  assert.equal(file.experiment, 'domains');
  const res = file.results;
  assert.equal(res.n, 60);
  // Sentences as the loader selects them, in file order after the 40 prompts.
  const want = loadCaptions(CAPTIONS).sentences;
  assert.deepEqual(res.texts.slice(40), want.map((c) => c.text));
  assert.deepEqual(res.label.slice(40), want.map((c) => c.label));
  assert.deepEqual(res.domain.slice(38), ['prompt', 'prompt', ...want.map(() => 'sentence')]);
  assert.deepEqual(res.label.slice(0, 4), [0, 1, 0, 1]);
  // Input panel plus one per hidden block of the detector.
  const hidden = file.config.detector.hidden as number[];
  assert.ok(hidden.length >= 1);
  assert.equal(res.panels[0].layer, 'input');
  assert.deepEqual(res.panels.slice(1).map((p: any) => [p.layer, p.width]), hidden.map((h, i) => [`hidden${i + 1}`, h]));
  assert.equal(s.panels.length, 1 + hidden.length);
  for (const p of res.panels) {
    assert.equal(p.x.length, 60);
    assert.ok([...p.x, ...p.y].every(Number.isFinite));
    for (const k of ['normality', 'domain']) assert.ok(p.nn1[k] >= 0 && p.nn1[k] <= 1, `${p.layer} ${k}`);
    assert.equal(p.nn1.normality, loo(p.x, p.y, res.label));
    assert.equal(p.nn1.domain, loo(p.x, p.y, res.domain));
    assert.equal(p.run.reused, false);
  }
  // Different layers give different maps.
  assert.notDeepEqual(res.panels[0].x, res.panels[1].x);
  assert.equal(file.config.captions.match.inflections, false);
  const svg = readFileSync(s.svg, 'utf8');
  checkXml(svg);
  assert.deepEqual(elementsWithClass(svg, 'g', 'panel').map((g) => attr(g, 'data-layer')), res.panels.map((p: any) => p.layer));
  const counts = elementsWithClass(svg, 'g', 'points').map((g) => Number(attr(g, 'data-count')));
  assert.deepEqual(counts, res.panels.flatMap(() => [20, 20, 10, 10]));
  assert.equal(elementsWithClass(svg, 'g', 'legend-entry').length, 4);
  const html = readFileSync(s.html, 'utf8');
  assert.ok(html.includes('class="domains-figure"') && html.includes('gives no numbers for this figure'));

  // Rerun: every map is read back, nothing is encoded, the same numbers.
  const again = rwda([...base, '--cache', CACHE, '--out', OUT], HOME);
  assert.equal(again.status, 0, again.stderr);
  const s2 = summaryOf(again.stdout);
  assert.ok(s2.panels.every((p: any) => p.reused));
  assert.equal(s2.cache.textsEncoded, 0);
  assert.deepEqual(readJson(s2.json).results.panels.map((p: any) => [p.x, p.y]), res.panels.map((p: any) => [p.x, p.y]));

  const infl = rwda([...base, '--cache', CACHE, '--out', join(TMP, 'infl'), '--inflections', '--max-sentences', '12'], HOME);
  assert.equal(infl.status, 0, infl.stderr);
  const si = summaryOf(infl.stdout);
  assert.deepEqual([si.captions.anomalous, si.captions.used], [14, 12]);
  assert.equal(readJson(si.json).config.captions.match.inflections, true);
});

test('experiment domains killed (SIGKILL) after its first panel: the rerun reads that panel back and writes identical results', async () => {
  assert.ok(first, 'needs the first test');
  const cache = join(TMP, 'kill.sqlite');
  const home = join(TMP, 'home-kill');
  const args = [...base, '--cache', cache, '--out', join(TMP, 'kill')];
  const k = await rwdaKilled(args, home, { RWDA_TEST_TRACE: '1' }, (l) => l.startsWith('rwda-trace: {"type":"panel-done"'));
  assert.ok(k.killed, `killed (status ${k.status}): ${k.stderr}`);
  const r = rwda(args, home);
  assert.equal(r.status, 0, r.stderr);
  const s = summaryOf(r.stdout);
  assert.equal(s.panels[0].reused, true);
  const res = readJson(s.json).results;
  const strip = (x: any) => x.panels.map((p: any) => ({ ...p, run: { ...p.run, reused: undefined } }));
  assert.deepEqual(strip(res), strip(first.results));
  assert.deepEqual([res.texts, res.label, res.domain], [first.results.texts, first.results.label, first.results.domain]);
});

test('experiment domains: bad captions files are one-line rwda errors naming the file', () => {
  const bad = join(TMP, 'bad.json');
  writeFileSync(bad, '{"annotations": 3}');
  for (const [file, re] of [[join(TMP, 'missing.json'), /missing\.json: not found/], [bad, /bad\.json: "annotations" must be an array/]] as const) {
    const r = rwda(['experiment', 'domains', '--model', MODEL, '--captions', file, '--out', OUT], HOME);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, re);
    assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
  }
});

const CHROMIUM = process.env.RWDA_CHROMIUM ?? 'chromium';

test('domains.html renders in Chromium: every panel frame and both class colours, legend included', async (t) => {
  if (spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8', timeout: 30_000 }).status !== 0) {
    t.skip(`'${CHROMIUM}' not found: install Debian's chromium to run the render test`);
    return;
  }
  assert.ok(first, 'needs the first test');
  const page = join(OUT, 'domains.html');
  const shot = join(TMP, 'domains.png');
  const W = 1400;
  const r = spawnSync(
    CHROMIUM,
    ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--hide-scrollbars', `--user-data-dir=${join(TMP, 'profile')}`, `--screenshot=${shot}`, `--window-size=${W},1000`, pathToFileURL(page).href],
    { encoding: 'utf8', timeout: 90_000 },
  );
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const { data, info } = await sharp(shot).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const panels = first.results.panels.length;
  const hex = (c: string) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
  // Class-coloured pixels per panel column: every panel shows both classes. The panels sit in a row
  // above the legend (the top 38.5% of this 1400×1000 shot) and span the horizontal extent of the
  // coloured points there, split into equal columns.
  const bandEnd = Math.floor(info.height * 0.385);
  // Points are drawn at fill-opacity 0.75 over white: match the blended colour (or the pure one where points overlap).
  const close = (i: number, [cr, cg, cb]: number[]) => Math.abs(data[i]! - cr!) <= 40 && Math.abs(data[i + 1]! - cg!) <= 40 && Math.abs(data[i + 2]! - cb!) <= 40;
  const near = (i: number, c: number[]) => close(i, c) || close(i, c.map((v) => 0.75 * v + 0.25 * 255));
  const colours = [CLASS_COLORS.normal, CLASS_COLORS.anomalous].map(hex);
  let minX = info.width;
  let maxX = 0;
  for (let y = 0; y < bandEnd; y++) {
    for (let x = 0; x < info.width; x++) {
      if (colours.some((c) => near((y * info.width + x) * 3, c))) {
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
      }
    }
  }
  assert.ok(maxX - minX > info.width / 3, `the panels span ${minX}..${maxX} px`);
  for (const colour of [CLASS_COLORS.normal, CLASS_COLORS.anomalous]) {
    const c = hex(colour);
    const perColumn = new Array(panels).fill(0);
    for (let y = 0; y < bandEnd; y++) {
      for (let x = minX; x <= maxX; x++) {
        if (near((y * info.width + x) * 3, c)) perColumn[Math.min(panels - 1, Math.floor(((x - minX) * panels) / (maxX - minX + 1)))]++;
      }
    }
    assert.ok(perColumn.every((c) => c > 20), `${colour} in every panel column: ${perColumn.join(', ')}`);
  }
});

test('reproduce fig5 is experiment domains with the paper defaults (same store: every panel read back); fig3 runs; fig4 needs --mvtec', () => {
  assert.ok(first, 'needs the first test');
  const r = rwda(['reproduce', 'fig5', '--model', MODEL, '--captions', CAPTIONS, '--pairs', '20', '--perplexity', '5', '--iterations', '250', '--cache', CACHE, '--out', join(TMP, 'fig5')], HOME);
  assert.equal(r.status, 0, r.stderr);
  const s = summaryOf(r.stdout);
  assert.ok(s.panels.every((p: any) => p.reused));
  assert.deepEqual(readJson(s.json).results.panels.map((p: any) => p.x), first.results.panels.map((p: any) => p.x));
  const f3 = rwda(['reproduce', 'fig3', '--model', MODEL, '--pairs', '20', '--cache', CACHE, '--out', join(TMP, 'fig3')], HOME);
  assert.equal(f3.status, 0, f3.stderr);
  const s3 = summaryOf(f3.stdout);
  assert.deepEqual([s3.figure, s3.points], ['fig3', 40]);
  assert.ok(readFileSync(s3.html, 'utf8').includes('Paper Figure 3 is a picture with no values'));
  const f4 = rwda(['reproduce', 'fig4', '--model', MODEL, '--out', join(TMP, 'fig4')], HOME);
  assert.equal(f4.status, 1);
  assert.match(f4.stderr, /--mvtec/);
});
