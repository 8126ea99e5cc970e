import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FIXTURES, REPO_ROOT } from '../helpers/paths.ts';

const run = promisify(execFile);
const TOL = 1e-12; // ../shared/fixtures/metrics/README.md
const tmp = mkdtempSync(join(tmpdir(), 'rwda-metrics-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Case {
  name: string;
  expected_error: boolean;
  labels: number[];
  scores: number[];
  roc_auc: number;
  average_precision: number;
  pr_auc_trapezoid: number;
  f1_max: number;
  f1_max_threshold: number;
  n: number;
  n_pos: number;
}
const cases = (
  JSON.parse(readFileSync(join(FIXTURES, 'metrics', 'metrics_cases.json'), 'utf8')) as { cases: Case[] }
).cases;
const byName = (name: string): Case => cases.find((c) => c.name === name)!;

async function rwda(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [join(REPO_ROOT, 'bin', 'rwda.js'), ...args], { cwd: tmp });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

function assertMatches(stdout: string, c: Case): void {
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'exactly one JSON object');
  const out = JSON.parse(lines[0]!) as Record<string, number>;
  assert.deepEqual(Object.keys(out), ['auroc', 'ap', 'aupr_trapezoid', 'f1_max', 'f1_max_threshold', 'n', 'n_anomalous']);
  for (const [key, want] of [
    ['auroc', c.roc_auc],
    ['ap', c.average_precision],
    ['aupr_trapezoid', c.pr_auc_trapezoid],
    ['f1_max', c.f1_max],
  ] as const) {
    assert.ok(Math.abs(out[key]! - want) <= TOL, `${key}: ${out[key]} vs ${want}`);
  }
  assert.equal(out.f1_max_threshold, c.f1_max_threshold);
  assert.equal(out.n, c.n);
  assert.equal(out.n_anomalous, c.n_pos);
}

test('golden case through a plain label,score CSV', async () => {
  const c = byName('random_n500');
  // String(x) is the shortest round-trip form, so the CLI sees the exact doubles of the golden file.
  const csv = ['label,score', ...c.labels.map((l, i) => `${l},${String(c.scores[i])}`)].join('\n') + '\n';
  const r = await rwda('metrics', file('plain.csv', csv));
  assert.equal(r.code, 0, r.stderr);
  assertMatches(r.stdout, c);
});

test('swapped column order, extra columns, quoted fields, CRLF line ends and a BOM', async () => {
  const c = byName('hand_n6_ties');
  const rows = c.labels.map((l, i) => `"img ""${i}"", a.png",${String(c.scores[i])},"${l}",x`);
  const csv = '\ufeff"path",score,label,extra\r\n' + rows.join('\r\n') + '\r\n\r\n';
  const r = await rwda('metrics', file('messy.csv', csv));
  assert.equal(r.code, 0, r.stderr);
  assertMatches(r.stdout, c);
});

test('tie case keeps the lowest threshold', async () => {
  const c = byName('f1_tie_two_thresholds');
  const csv = ['score,label', ...c.labels.map((l, i) => `${String(c.scores[i])},${l}`)].join('\n');
  const r = await rwda('metrics', file('tie.csv', csv));
  assert.equal(r.code, 0, r.stderr);
  assertMatches(r.stdout, c);
});

const errorCases: Array<[string, string | null, RegExp]> = [
  ['missing.csv', null, /missing\.csv: CSV file not found/],
  ['noheader.csv', '0,0.1\n1,0.9\n', /noheader\.csv: line 1: header lacks columns label, score/],
  ['nolabel.csv', 'name,score\na,0.1\n', /nolabel\.csv: line 1: header lacks column label \(header found: "name", "score"\)/],
  ['badscore.csv', 'label,score\n0,0.1\n1,abc\n', /badscore\.csv: line 3: score "abc" is not a finite decimal number/],
  ['nanscore.csv', 'label,score\n0,0.1\n1,NaN\n', /nanscore\.csv: line 3: score "NaN" is not a finite/],
  ['infscore.csv', 'label,score\n0,inf\n1,0.2\n', /infscore\.csv: line 2: score "inf" is not a finite/],
  ['emptyscore.csv', 'label,score\n0,0.3\n1,\n', /emptyscore\.csv: line 3: score "" is not a finite/],
  ['badlabel.csv', 'label,score\n0,0.1\n2,0.9\n', /badlabel\.csv: line 3: label "2" is not 0 \(normal\) or 1/],
  ['shortrow.csv', 'label,score\n0,0.1\n1\n', /shortrow\.csv: line 3: 1 field, expected the label and score columns/],
  ['oneclass.csv', 'label,score\n1,0.1\n1,0.9\n', /oneclass\.csv: only one class present \(0 normal, 2 anomalous\)/],
  ['headeronly.csv', 'label,score\n', /headeronly\.csv: no data rows after the header/],
  ['empty.csv', '', /empty\.csv: empty CSV file/],
  ['unterminated.csv', 'label,score\n0,"0.1\n1,0.2\n', /unterminated\.csv: line 2: unterminated quoted field/],
];

for (const [name, text, pattern] of errorCases) {
  test(`invalid input ${name} exits 1 with the reason on stderr`, async () => {
    const p = text === null ? join(tmp, name) : file(name, text);
    const r = await rwda('metrics', p);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^rwda: /);
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
}
