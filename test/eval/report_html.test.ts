import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  METHODS,
  PAPER,
  barChart,
  histogramChart,
  lineChart,
  niceTicks,
  renderHtml,
  type PaperData,
  type RunResults,
} from '../../src/eval/report/index.ts';
import { niceTicksCovering } from '../../src/eval/report/svg.ts';
import { makeResults } from './report_fixture.ts';

const VOID = new Set(['meta', 'br', 'img', 'input', 'link', 'hr', 'col', 'area', 'base', 'source', 'wbr']);

/** Checks that every non-void tag is closed in order; returns the tag names seen. Raw text elements are skipped. */
function checkBalanced(html: string): string[] {
  const body = html.replace(/<style>[\s\S]*?<\/style>/g, '<style></style>').replace(/<!DOCTYPE[^>]*>/i, '');
  const stack: string[] = [];
  const seen: string[] = [];
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g)) {
    const [, close, name, , self] = m;
    const tag = name!.toLowerCase();
    seen.push(tag);
    if (close) {
      const top = stack.pop();
      assert.equal(top, tag, `</${tag}> closes <${top}> at offset ${m.index}`);
    } else if (!self && !VOID.has(tag)) {
      stack.push(tag);
    }
  }
  assert.deepEqual(stack, [], 'unclosed tags');
  // No stray angle brackets in text: every '<' starts a tag.
  assert.equal((body.match(/</g) ?? []).length, (body.match(/<[/a-zA-Z!]/g) ?? []).length);
  return seen;
}

function attributeValues(html: string): string[] {
  return [...html.matchAll(/\s[\w:-]+="([^"]*)"/g)].map((m) => m[1]!);
}

function svgs(html: string, cls: string): Array<{ attrs: string; body: string }> {
  return [...html.matchAll(new RegExp(`<svg ([^>]*class="${cls}"[^>]*)>([\\s\\S]*?)</svg>`, 'g'))].map((m) => ({ attrs: m[1]!, body: m[2]! }));
}

const PATH_D = /^(M-?[\d.]+ -?[\d.]+)(L-?[\d.]+ -?[\d.]+)+$/;

function pathPoints(d: string): Array<[number, number]> {
  return [...d.matchAll(/[ML](-?[\d.]+) (-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

test('renderHtml: well-formed, self-contained, no NaN/Infinity/undefined in any attribute', () => {
  const html = renderHtml(makeResults());
  assert.ok(html.startsWith('<!DOCTYPE html>'));
  const tags = checkBalanced(html);
  assert.equal(tags.filter((t) => t === 'svg').length % 2, 0);
  assert.equal((html.match(/<svg /g) ?? []).length, (html.match(/<\/svg>/g) ?? []).length);
  assert.ok(!/<script|<link|<img|@import|url\(/i.test(html), 'no scripts or external assets');
  assert.ok(!/(src|href)="(https?:)?\/\//.test(html));
  for (const v of attributeValues(html)) assert.ok(!/NaN|Infinity|undefined/.test(v), `attribute value ${v}`);
  assert.ok(!/NaN|undefined/.test(html.replace(/<[^>]*>/g, '')), 'no NaN/undefined in text either');
});

test('renderHtml: a ROC and a PR chart per category with one non-empty curve per method, inside the frame', () => {
  const r = makeResults();
  const html = renderHtml(r);
  for (const [cls, key] of [['roc-curve', 'roc'], ['pr-curve', 'pr']] as const) {
    const charts = svgs(html, cls);
    assert.equal(charts.length, r.categories.length, cls);
    charts.forEach((c, i) => {
      const cat = r.categories[i]!.name;
      assert.ok(c.attrs.includes(`data-category="${cat}"`));
      const vb = /viewBox="0 0 ([\d.]+) ([\d.]+)"/.exec(c.attrs)!;
      const frame = /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="none"/.exec(c.body)!;
      const [fx, fy, fw, fh] = frame.slice(1).map(Number) as [number, number, number, number];
      assert.ok(fx > 0 && fy > 0 && fx + fw < Number(vb[1]) && fy + fh < Number(vb[2]));
      for (const m of METHODS) {
        const d = new RegExp(`<path class="curve" data-method="${m}" d="([^"]*)"`).exec(c.body)?.[1];
        assert.ok(d && PATH_D.test(d), `${cls} ${cat} ${m}: d=${d?.slice(0, 40)}`);
        const pts = pathPoints(d);
        const stored = r.curves!.perCategory[cat]![m]![key];
        assert.equal(pts.length, (key === 'roc' ? (stored as { fpr: number[] }).fpr : (stored as { recall: number[] }).recall).length);
        for (const [x, y] of pts) assert.ok(x >= fx && x <= fx + fw && y >= fy && y <= fy + fh, `${cls} ${cat} ${m} point (${x}, ${y})`);
      }
      // ROC starts at (0,0): bottom-left corner of the data area, which is inside the frame by the axis padding.
      if (key === 'roc') {
        const [x0, y0] = pathPoints(/data-method="clip" d="([^"]*)"/.exec(c.body)![1]!)[0]!;
        assert.ok(x0 - fx < fw * 0.03 && fy + fh - y0 < fh * 0.03);
      }
      assert.match(c.body, /<g class="legend">/);
      assert.match(c.body, new RegExp(`CLIP \\(${(r.categories[i]!.methods.clip[key === 'roc' ? 'auroc' : 'ap'].values[0]! * 100).toFixed(1)}\\)`));
    });
  }
  const hists = svgs(html, 'score-histogram');
  assert.equal(hists.length, 2);
  for (const h of hists) {
    assert.match(h.body, /<path class="outline" data-series="normal" d="M[^"]+"/);
    assert.match(h.body, /<path class="outline" data-series="anomalous" d="M[^"]+"/);
    assert.match(h.body, />Anomaly score</);
  }
  assert.equal(svgs(html, 'auroc-bars').length, 1);
});

test('renderHtml: axes have ticks and labels', () => {
  const html = renderHtml(makeResults());
  const roc = svgs(html, 'roc-curve')[0]!.body;
  for (const t of ['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']) assert.ok(roc.split(`>${t}</text>`).length - 1 === 2, `tick ${t} on both axes`);
  assert.match(roc, /class="axis-label"[^>]*>False positive rate</);
  assert.match(roc, /class="axis-label"[^>]*>True positive rate</);
  const pr = svgs(html, 'pr-curve')[0]!.body;
  assert.match(pr, />Recall</);
  assert.match(pr, />Precision</);
});

test('renderHtml: summary table puts the paper beside ours with the right difference and colour', () => {
  const r = makeResults();
  const paper: PaperData = {
    ...PAPER,
    main: [{ dataset: 'mvtec', setup: 'unknown', method: 'clipOurs', values: { auroc: { mean: 99.0 }, aupr: { mean: 50.0 } }, source: 'test table' }],
    perCategory: [],
    references: [],
    lookupNotes: [],
  };
  const html = renderHtml(r, { paper });
  const row = /<tr data-method="clipOurs">([\s\S]*?)<\/tr>/.exec(html)![1]!;
  const cells = [...row.matchAll(/<td([^>]*)>([^<]*)<\/td>/g)].map((m) => ({ attrs: m[1]!, text: m[2]! }));
  const m = r.mean.clipOurs;
  const dA = Math.round((m.auroc.mean * 100 - 99) * 10) / 10;
  const dP = Math.round((m.ap.mean * 100 - 50) * 10) / 10;
  assert.equal(cells[0]!.text, 'CLIP + Ours');
  assert.equal(cells[1]!.text, `${(m.auroc.mean * 100).toFixed(1)} ± ${(m.auroc.std * 100).toFixed(1)}`);
  assert.equal(cells[2]!.text, '99.0');
  assert.equal(cells[3]!.text, dA.toFixed(1));
  assert.equal(cells[3]!.attrs, ' class="neg"');
  assert.equal(cells[5]!.text, '50.0');
  assert.equal(cells[6]!.text, `+${dP.toFixed(1)}`);
  assert.equal(cells[6]!.attrs, ' class="pos"');
  assert.equal(cells[8]!.text, '—');
  assert.ok(html.includes('Sources: test table.'));
});

test('renderHtml: hostile names and paths are escaped; missing curves and histograms are tolerated', () => {
  const r: RunResults = makeResults({ categoryNames: ['<script>alert(1)</script>', 'a"b'] });
  r.config.root = '/data/<b>&"quoted"';
  const html = renderHtml(r);
  checkBalanced(html);
  assert.ok(!html.includes('<script>'));
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(html.includes('data-category="a&quot;b"'));
  assert.ok(html.includes('/data/&lt;b&gt;&amp;&quot;quoted&quot;'));
  delete r.curves;
  delete r.histograms;
  const bare = renderHtml(r);
  checkBalanced(bare);
  assert.equal(svgs(bare, 'roc-curve').length, 0);
  assert.match(bare, /No curves or histograms were stored for this category/);
});

test('niceTicks: round steps covering the range', () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0.13, 0.87, 4), [0.2, 0.4, 0.6, 0.8]);
  assert.deepEqual(niceTicks(0, 37, 4), [0, 10, 20, 30]);
  assert.deepEqual(niceTicksCovering(0, 37, 4), [0, 10, 20, 30, 40]);
  assert.deepEqual(niceTicksCovering(0, 40, 4), [0, 10, 20, 30, 40]);
  assert.deepEqual(niceTicks(-0.3, 0.3, 3), [-0.2, 0, 0.2]);
  assert.deepEqual(niceTicks(5, 5), [5]);
  assert.deepEqual(niceTicks(Number.NaN, 1), []);
});

test('svg charts: data maps onto the frame corners; non-finite points break the line instead of leaking NaN', () => {
  const svg = lineChart({
    width: 300,
    height: 200,
    className: 'test-line',
    x: { label: 'x', min: 0, max: 1 },
    y: { label: 'y', min: 0, max: 1 },
    series: [
      { key: 'a', name: 'A', color: '#ff0000', x: [0, 1], y: [0, 1] },
      { key: 'b', name: 'B', color: '#00ff00', x: [0, 0.5, Number.NaN, 0.7, 1], y: [1, 0.5, 0.5, 0.3, 0] },
      { key: 'c', name: 'C', color: '#0000ff', x: [Number.NaN], y: [Number.NaN] },
    ],
  });
  const [fx, fy, fw, fh] = /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="none"/.exec(svg)!.slice(1).map(Number) as [number, number, number, number];
  const a = pathPoints(/data-method="a" d="([^"]*)"/.exec(svg)![1]!);
  assert.deepEqual(a, [[fx, fy + fh], [fx + fw, fy]]);
  const bd = /data-method="b" d="([^"]*)"/.exec(svg)![1]!;
  assert.equal((bd.match(/M/g) ?? []).length, 2);
  assert.ok(!svg.includes('data-method="c"'), 'an all-NaN series draws no path');
  assert.ok(!/NaN|Infinity/.test(svg));

  const hist = histogramChart({
    width: 300,
    height: 200,
    className: 'test-hist',
    edges: [0, 0.5, 1],
    xLabel: 's',
    yLabel: 'n',
    series: [{ key: 'normal', name: 'N', color: '#111111', counts: [3, 0] }],
  });
  // Outline: start at the baseline, one V/H pair per bin, back down to the baseline.
  assert.match(hist, /class="outline" data-series="normal" d="M[\d.]+ [\d.]+(V[\d.]+H[\d.]+){2}V[\d.]+"/);
  assert.match(hist, /class="bars" data-series="normal" d="M[^"]*Z"/);

  const bars = barChart({
    width: 400,
    height: 200,
    className: 'test-bars',
    groups: ['one', 'two'],
    y: { label: 'v', min: 0, max: 1 },
    series: [{ key: 'a', name: 'A', color: '#ff0000', values: [0.5, Number.NaN], errors: [0.1, 0.1] }],
  });
  assert.equal((/class="bar" data-method="a" d="([^"]*)"/.exec(bars)![1]!.match(/M/g) ?? []).length, 1);
  assert.match(bars, /class="error-bar"/);
  assert.ok(!/NaN/.test(bars));
});
