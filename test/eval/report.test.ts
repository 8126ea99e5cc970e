import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RwdaError } from '../../src/errors.ts';
import { evaluateScores } from '../../src/eval/metrics.ts';
import {
  PAPER,
  curveSetFrom,
  downsampleCurve,
  formatDiff,
  formatStat,
  meanOverCategories,
  readRunResults,
  renderHtml,
  renderMarkdown,
  scoreHistogram,
  stringifyResults,
  summarize,
  validateRunResults,
  writeReports,
  type PaperData,
  type RunResults,
  type Stat,
} from '../../src/eval/report/index.ts';
import { Rng } from '../../src/util/rng.ts';
import { CATEGORY_SPECS, SEEDS, categoryScores, makeResults } from './report_fixture.ts';

const clone = (r: RunResults): RunResults => structuredClone(r);
const pct1 = (x: number): string => (x * 100).toFixed(1);

test('summarize: mean and sample (n-1) std; one value has std 0; bad input throws RwdaError', () => {
  const s = summarize([1, 2, 3, 4]);
  assert.equal(s.mean, 2.5);
  // sum of squared deviations 5, n-1 = 3
  assert.ok(Math.abs(s.std - Math.sqrt(5 / 3)) < 1e-15);
  assert.deepEqual(s.values, [1, 2, 3, 4]);
  assert.deepEqual(summarize([0.7]), { mean: 0.7, std: 0, values: [0.7] });
  // Large offset: the two-pass formula keeps the spread exact where E[x^2]-E[x]^2 would cancel.
  const big = summarize([1e9 + 1, 1e9 + 2, 1e9 + 3]);
  assert.equal(big.std, 1);
  assert.throws(() => summarize([]), RwdaError);
  assert.throws(() => summarize([0.5, Number.NaN]), (e: unknown) => e instanceof RwdaError && /index 1/.test(e.message));
});

test('meanOverCategories averages categories per seed, then summarises over seeds', () => {
  const r = makeResults();
  const [a, b] = r.categories;
  const expectAuroc = SEEDS.map((_, i) => (a!.methods.ours.auroc.values[i]! + b!.methods.ours.auroc.values[i]!) / 2);
  const m = meanOverCategories(r.categories);
  assert.deepEqual(m.ours.auroc.values, expectAuroc);
  assert.deepEqual(m.ours.auroc, summarize(expectAuroc));
  assert.equal(m.clip.f1Max.values.length, 1);
  assert.equal(m.clip.f1Max.mean, (a!.methods.clip.f1Max.mean + b!.methods.clip.f1Max.mean) / 2);
  const broken = clone(r);
  broken.categories[1]!.methods.ours.ap.values.pop();
  assert.throws(() => meanOverCategories(broken.categories), /ours\.ap has 2 values in category 'metal_nut'/);
});

test('the fixture metrics come from the metrics module (spot check)', () => {
  const spec = CATEGORY_SPECS[0]!;
  const { labels, scores } = categoryScores(spec, 1);
  const m = evaluateScores(labels, scores.ours).metrics;
  assert.equal(makeResults().categories[0]!.methods.ours.auroc.values[1], m.auroc);
});

test('downsampleCurve keeps both ends, order and shape, and at most maxPoints points', () => {
  const rng = new Rng(7);
  const n = 4000;
  const labels = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const scores = labels.map((l) => l * 0.8 + rng.normal());
  const { roc, pr } = evaluateScores(labels, scores);
  assert.ok(roc.fpr.length > 1000);
  const d = downsampleCurve(roc.fpr, roc.tpr, 300);
  assert.ok(d.x.length <= 300 && d.x.length >= 250, `kept ${d.x.length}`);
  assert.deepEqual([d.x[0], d.y[0]], [0, 0]);
  assert.deepEqual([d.x.at(-1), d.y.at(-1)], [1, 1]);
  for (let i = 1; i < d.x.length; i++) assert.ok(d.x[i]! >= d.x[i - 1]! && d.y[i]! >= d.y[i - 1]!);
  // The drawn shape keeps its area: trapezoid AUC of the kept points is within 0.005 of the full curve's.
  const auc = (xs: ArrayLike<number>, ys: ArrayLike<number>): number => {
    let a = 0;
    for (let i = 1; i < xs.length; i++) a += ((xs[i]! - xs[i - 1]!) * (ys[i]! + ys[i - 1]!)) / 2;
    return a;
  };
  assert.ok(Math.abs(auc(d.x, d.y) - auc(roc.fpr, roc.tpr)) < 0.005);
  const cs = curveSetFrom(roc, pr, 500);
  assert.ok(cs.pr.recall.length <= 500);
  assert.equal(cs.pr.recall.at(-1), 0); // sklearn's appended (R=0, P=1) end survives
  assert.equal(cs.pr.precision.at(-1), 1);
  // Short curves pass through unchanged (rounded to 1e-6).
  assert.deepEqual(downsampleCurve([0, 1 / 3, 1], [0, 2 / 3, 1], 10), { x: [0, 0.333333, 1], y: [0, 0.666667, 1] });
  assert.throws(() => downsampleCurve([0, 1], [0], 10), RwdaError);
  assert.throws(() => downsampleCurve([0, Number.NaN], [0, 1], 10), /point 1/);
});

test('scoreHistogram counts every score once, the maximum in the last bin', () => {
  const h = scoreHistogram([0, 0.1, 0.25, 0.5], [0.5, 0.75, 1, 1], 4);
  assert.deepEqual(h.edges, [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(h.normal, [2, 1, 1, 0]);
  assert.deepEqual(h.anomalous, [0, 0, 1, 3]);
  // explicit range: outside values land in the end bins
  const r = scoreHistogram([-5, 0.2], [0.9, 7], 2, [0, 1]);
  assert.deepEqual(r.normal, [2, 0]);
  assert.deepEqual(r.anomalous, [0, 2]);
  // zero-width data range widens to ±0.5
  assert.deepEqual(scoreHistogram([0.3], [0.3], 2).edges, [-0.2, 0.3, 0.8]);
  assert.throws(() => scoreHistogram([Number.POSITIVE_INFINITY], [0], 3), /normal score at index 0/);
});

test('validateRunResults accepts the fixture and names the first bad field', () => {
  const r = makeResults();
  assert.equal(validateRunResults(r), r);
  const cases: Array<[(x: RunResults) => void, RegExp]> = [
    [(x) => ((x as { format: string }).format = 'rwda-eval/v0'), /format is "rwda-eval\/v0"; this rwda reads 'rwda-eval\/v1'/],
    [(x) => (x.categories[1]!.methods.ours.auroc.values[2] = Number.NaN), /categories\[1\]\.methods\.ours\.auroc\.values\[2\] must be a finite number/],
    [(x) => (x.categories[0]!.methods.clipOurs.f1Max.values = [0.5, 0.6]), /has 2 values; expected one per seed \(3\)/],
    [(x) => (x.mean.clip.ap.mean = 1.5), /mean\.clip\.ap\.mean must lie in \[0, 1\]/],
    [(x) => (x.categories[0]!.methods.ours.ap.std = 0.5), /categories\[0\]\.methods\.ours\.ap has mean [\d.]+ and std 0\.5, but its values give/],
    [(x) => ((x.config as { setup: string }).setup = 'few-shot'), /config\.setup must be one of 'unknown', 'known'/],
    [(x) => x.config.categories.push('zipper'), /config\.categories names 'zipper'/],
    [(x) => (x.curves!.perCategory.bottle!.ours!.roc.tpr = [0]), /curves\.perCategory\.bottle\.ours\.roc has \d+ fpr but 1 tpr/],
    [(x) => x.histograms!.perCategory.bottle!.normal.push(1), /histograms\.perCategory\.bottle\.normal has 21 bins but 21 edges/],
  ];
  for (const [mutate, re] of cases) {
    const x = clone(r);
    mutate(x);
    assert.throws(() => validateRunResults(x, 'run/results.json'), (e: unknown) => e instanceof RwdaError && re.test(e.message) && e.message.startsWith('run/results.json: '), re.source);
  }
});

test('formatStat and formatDiff: one decimal, ± only with several seeds, signed differences', () => {
  const s = (mean: number, std: number, n: number): Stat => ({ mean, std, values: new Array<number>(n).fill(mean) });
  assert.equal(formatStat(s(0.91234, 0.00456, 3)), '91.2 ± 0.5');
  assert.equal(formatStat(s(0.91234, 0, 1)), '91.2');
  assert.equal(formatStat(s(1, 0, 10)), '100.0 ± 0.0');
  assert.equal(formatDiff(92.34 - 91.8), '+0.5');
  assert.equal(formatDiff(80 - 81.3), '-1.3');
  assert.equal(formatDiff(0.04), '0.0');
  assert.equal(formatDiff(-0.04), '0.0');
  assert.equal(formatDiff(undefined), '—');
});

function paperFor(r: RunResults): PaperData {
  // Numbers chosen for the test, not the paper's.
  return {
    ...PAPER,
    main: [
      { dataset: 'mvtec', setup: 'unknown', method: 'ours', values: { auroc: { mean: 80.0, std: 0.3 }, f1Max: { mean: 90.0 } }, source: 'test table A' },
      { dataset: 'mvtec', setup: 'known', method: 'clip', values: { auroc: { mean: 10.0 } }, source: 'test table B' },
      { dataset: 'mvtec', setup: 'unknown', method: 'clip', multiCrop: false, values: { auroc: { mean: 11.0 } }, source: 'test table C' },
    ],
    perCategory: r.categories.map((c) => ({
      dataset: 'mvtec' as const,
      setup: 'unknown' as const,
      method: 'clipOurs' as const,
      category: c.name,
      values: { aupr: { mean: 50.0 } },
      source: 'test appendix',
    })),
    references: [],
    lookupNotes: [],
  };
}

test('renderMarkdown: Table-1 block with the paper beside ours and the right difference', () => {
  const r = makeResults();
  const md = renderMarkdown(r, { paper: paperFor(r) });
  const ours = r.mean.ours;
  const dA = ours.auroc.mean * 100 - 80;
  const dF = ours.f1Max.mean * 100 - 90;
  const sign = (d: number): string => (d > 0 ? '+' : '') + d.toFixed(1);
  const oursRow =
    `| Ours | ${pct1(ours.auroc.mean)} ± ${pct1(ours.auroc.std)} | 80.0 ± 0.3 | ${sign(dA)} | ` +
    `${pct1(ours.ap.mean)} ± ${pct1(ours.ap.std)} | — | — | ${pct1(ours.f1Max.mean)} ± ${pct1(ours.f1Max.std)} | 90.0 | ${sign(dF)} |`;
  assert.ok(md.includes(oursRow), `missing row:\n${oursRow}\nin\n${md}`);
  // CLIP: the known-setup row and the multi-crop-off row must not match this (unknown, multi-crop on) run.
  const clip = r.mean.clip;
  assert.ok(md.includes(`| CLIP | ${pct1(clip.auroc.mean)} | — | — | ${pct1(clip.ap.mean)} | — | — |`));
  assert.ok(md.includes('| Method | AUROC | paper | Δ | AUPR (AP) | paper | Δ | F1-max | paper | Δ |'));
  assert.match(md, /AUPR is the step-wise average precision/);
  assert.match(md, /Sources: test table A\./);
  // Per-category tables get paper columns because the paper data has per-category rows for this setup.
  const cOurs = r.categories[0]!.methods.clipOurs.ap;
  const d = cOurs.mean * 100 - 50;
  assert.ok(md.includes(`| ${pct1(cOurs.mean)} ± ${pct1(cOurs.std)} | 50.0 | ${sign(d)} |`));
  assert.ok(md.includes('| Category | normal | anomalous | CLIP | paper | Δ | Ours | paper | Δ | CLIP + Ours | paper | Δ |'));
});

test('renderMarkdown: appendix tables, mean row, configuration, trapezoid AUPR and escaping', () => {
  const r = makeResults({ categoryNames: ['bot|tle', 'metal_nut'] });
  r.config.aupr = 'trapezoid';
  const md = renderMarkdown(r, { paper: { ...PAPER, main: [], perCategory: [], references: [], lookupNotes: [] } });
  assert.ok(md.includes('### AUPR (trapezoid)'));
  assert.match(md, /AUPR is the trapezoidal area under the PR curve/);
  const c = r.categories[1]!;
  const row = `| metal_nut | 22 | 93 | ${pct1(c.methods.clip.auroc.mean)} | ${pct1(c.methods.ours.auroc.mean)} ± ${pct1(c.methods.ours.auroc.std)} |`;
  assert.ok(md.includes(row), row);
  const t = r.categories[0]!.methods.ours.auprTrapezoid;
  assert.ok(md.includes(`| bot\\|tle | 40 | 63 |`));
  assert.ok(md.includes(`${pct1(t.mean)} ± ${pct1(t.std)}`));
  const mean = r.mean.clipOurs.f1Max;
  assert.ok(md.includes(`| **Mean** |  |  | ${pct1(r.mean.clip.f1Max.mean)} | ${pct1(r.mean.ours.f1Max.mean)} ± ${pct1(r.mean.ours.f1Max.std)} | ${pct1(mean.mean)} ± ${pct1(mean.std)} |`));
  // No per-category paper columns without per-category paper data.
  assert.ok(md.includes('| Category | normal | anomalous | CLIP | Ours | CLIP + Ours |'));
  assert.ok(md.includes('| backbone | ViT-B-16-plus-240 (laion400m_e32) |'));
  assert.ok(md.includes('| seeds | 3: 0, 1, 2 |'));
  assert.ok(md.includes('| multi-crop | multi-crop on (grids 2×2, 3×3; crops aggregated by max) |'));
});

test('renderMarkdown: skipped list shows the first N and "... and K more"; WinCLIP context only in the known setup', () => {
  const r = makeResults();
  r.skipped = Array.from({ length: 25 }, (_, i) => ({ path: `/d/img${i}.png`, kind: 'decode-error', reason: 'truncated PNG' }));
  const md = renderMarkdown(r, { skippedLimit: 20 });
  assert.match(md, /## Skipped \(25\)/);
  assert.ok(md.includes('- /d/img19.png: [decode-error] truncated PNG'));
  assert.ok(!md.includes('/d/img20.png'));
  assert.ok(md.includes('- ... and 5 more'));
  assert.ok(!/\| WinCLIP/.test(md));
  r.config.setup = 'known';
  const known = renderMarkdown(r);
  assert.match(known, /\| WinCLIP \(Jeong et al\., CVPR 2023\), as reported by the paper \| — \| 91\.8 \| — \| — \| 96\.5 \| — \| — \| 92\.9 \| — \|/);
  r.skipped = [];
  assert.match(renderMarkdown(r), /Nothing was skipped\./);
});

test('writeReports writes the three files atomically; results.json reads back identical', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rwda-report-'));
  try {
    const r = makeResults();
    const paths = writeReports(join(dir, 'run'), r);
    assert.deepEqual(readdirSync(join(dir, 'run')).sort(), ['report.html', 'report.md', 'results.json']);
    assert.deepEqual(readRunResults(paths.results), JSON.parse(JSON.stringify(r)));
    assert.equal(readFileSync(paths.markdown, 'utf8'), renderMarkdown(r));
    assert.match(readFileSync(paths.results, 'utf8'), /"seeds": \[0, 1, 2\]/);
    // Invalid results: nothing is written.
    const bad = clone(r);
    bad.mean.ours.auroc.mean = Number.NaN;
    assert.throws(() => writeReports(join(dir, 'bad'), bad), /results: mean\.ours\.auroc\.mean must be a finite number, got NaN/);
    assert.deepEqual(readdirSync(dir), ['run']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stringifyResults round-trips and keeps primitive arrays on one line', () => {
  const v = { a: [1, 2.5, -3e-7], b: { c: [], d: [{ e: 'x' }], f: 'q"' }, g: null, h: undefined };
  const s = stringifyResults(v);
  assert.deepEqual(JSON.parse(s), JSON.parse(JSON.stringify(v)));
  assert.ok(s.includes('"a": [1, 2.5, -3e-7]'));
  assert.ok(!s.includes('"h"'));
});

test('readRunResults: unreadable and non-JSON files give RwdaError naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rwda-report-'));
  try {
    assert.throws(() => readRunResults(join(dir, 'nope.json')), (e: unknown) => e instanceof RwdaError && e.message.includes('nope.json'));
    const p = join(dir, 'results.json');
    writeReports(dir, makeResults());
    const text = readFileSync(p, 'utf8');
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, text.slice(0, 100));
    assert.throws(() => readRunResults(broken), /broken\.json is not valid JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('renderMarkdown with the built-in PAPER: Table 1 and appendix numbers beside ours, with Δ; other words → Table 3', () => {
  const r = makeResults();
  const md = renderMarkdown(r);
  const pct = (x: number) => (x * 100).toFixed(1);
  const ours = r.mean.clipOurs.auroc;
  const delta = ours.mean * 100 - 92.2;
  const sign = delta >= 0 ? '+' : '−';
  const row = md.split('\n').find((l) => l.startsWith('| CLIP + Ours |'))!;
  assert.ok(row.includes('| 92.2 ± 0.3 |'), row);
  assert.ok(row.includes(pct(ours.mean)), row);
  assert.ok(row.includes(`${sign}${Math.abs(delta).toFixed(1)}`) || row.includes(`${delta >= 0 ? '+' : '-'}${Math.abs(delta).toFixed(1)}`), row);
  // Appendix A: metal_nut CLIP AUROC 94.4, Bottle CLIP+ours AUROC 97.1 ± 1.1.
  assert.ok(md.includes('94.4'));
  assert.ok(md.includes('97.1 ± 1.1'));
  assert.match(md, /Section 4\.2 says "a"/);
  r.config.prompts = { ...r.config.prompts!, normalWord: 'a good', anomalyWord: 'a defective' };
  const t3 = renderMarkdown(r).split('\n').find((l) => l.startsWith('| CLIP + Ours |'))!;
  assert.ok(t3.includes('| 86.3 ± 0.4 |') && !t3.includes('92.2'), t3);
  // report.html reads the same data.
  const html = renderHtml(makeResults());
  assert.ok(html.includes('<td>92.2 ± 0.3</td>'));
  assert.ok(html.includes('97.1 ± 1.1'));
});
