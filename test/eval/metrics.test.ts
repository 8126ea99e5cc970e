import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/paths.ts';
import { computeMetrics, evaluateScores, prCurve, rocCurve } from '../../src/eval/metrics.ts';
import { RwdaError } from '../../src/errors.ts';

// Tolerance stated by ../shared/fixtures/metrics/README.md.
const TOL = 1e-12;

interface Curves {
  pr_thresholds: number[];
  pr_precision: number[];
  pr_recall: number[];
  f1: number[];
  roc_fpr: number[];
  roc_tpr: number[];
  roc_thresholds: number[];
}
interface Case {
  name: string;
  expected_error: boolean;
  n?: number;
  n_pos?: number;
  labels: number[];
  scores: number[];
  roc_auc: number;
  average_precision: number;
  pr_auc_trapezoid: number;
  f1_max: number;
  f1_max_threshold: number;
  f1_max_thresholds_all: number[];
  n_thresholds: number;
  curves?: Curves;
}

const golden = JSON.parse(readFileSync(join(FIXTURES, 'metrics', 'metrics_cases.json'), 'utf8')) as {
  format: string;
  cases: Case[];
};

function close(actual: number, expected: number, what: string): void {
  assert.ok(Number.isFinite(actual), `${what}: got ${actual}`);
  assert.ok(Math.abs(actual - expected) <= TOL, `${what}: got ${actual}, expected ${expected}`);
}

function closeArray(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) close(actual[i]!, expected[i]!, `${what}[${i}]`);
}

test('golden file is the expected format with 32 valid and 6 error cases', () => {
  assert.equal(golden.format, 'anomaly-metrics-goldens/v1');
  assert.equal(golden.cases.filter((c) => !c.expected_error).length, 32);
  assert.equal(golden.cases.filter((c) => c.expected_error).length, 6);
  assert.equal(golden.cases.filter((c) => c.curves !== undefined).length, 23);
});

for (const c of golden.cases.filter((x) => !x.expected_error)) {
  test(`golden ${c.name}: metrics within 1e-12`, () => {
    const m = computeMetrics(c.labels, c.scores);
    close(m.auroc, c.roc_auc, 'auroc');
    close(m.ap, c.average_precision, 'ap');
    close(m.auprTrapezoid, c.pr_auc_trapezoid, 'auprTrapezoid');
    close(m.f1Max, c.f1_max, 'f1Max');
    // The threshold is a score value picked from the data: it must be that exact double.
    assert.equal(m.f1MaxThreshold, c.f1_max_threshold, 'f1MaxThreshold');
    assert.ok(c.f1_max_thresholds_all.includes(m.f1MaxThreshold));
    assert.equal(m.f1MaxThreshold, Math.min(...c.f1_max_thresholds_all), 'lowest threshold on ties');
    assert.equal(m.n, c.n);
    assert.equal(m.nAnomalous, c.n_pos);
    const pr = prCurve(c.labels, c.scores);
    assert.equal(pr.thresholds.length, c.n_thresholds);
    if (c.curves) {
      closeArray(pr.thresholds, c.curves.pr_thresholds, 'pr thresholds');
      closeArray(pr.precision, c.curves.pr_precision, 'pr precision');
      closeArray(pr.recall, c.curves.pr_recall, 'pr recall');
      closeArray(pr.f1, c.curves.f1, 'f1 curve');
      const roc = rocCurve(c.labels, c.scores);
      closeArray(roc.fpr, c.curves.roc_fpr, 'roc fpr');
      closeArray(roc.tpr, c.curves.roc_tpr, 'roc tpr');
      closeArray(roc.thresholds, c.curves.roc_thresholds, 'roc thresholds');
    }
  });
}

for (const c of golden.cases.filter((x) => x.expected_error)) {
  test(`golden ${c.name}: rejected by every entry point`, () => {
    for (const fn of [computeMetrics, prCurve, rocCurve, evaluateScores]) {
      assert.throws(() => fn(c.labels, c.scores), RwdaError);
    }
  });
}

test('error messages name the problem', () => {
  assert.throws(() => computeMetrics([0, 0, 0], [0.1, 0.2, 0.3]), /only one class present \(3 normal, 0 anomalous\)/);
  assert.throws(() => computeMetrics([1], [0.5]), /only one class present \(0 normal, 1 anomalous\)/);
  assert.throws(() => computeMetrics([], []), /no samples/);
  assert.throws(() => computeMetrics([0, 1, 1], [0.1, 0.2]), /3 labels but 2 scores/);
  assert.throws(() => computeMetrics([0, 2, 1], [0.1, 0.2, 0.3]), /label at index 1 is 2/);
  assert.throws(() => computeMetrics([0, 1, 0.5], [0.1, 0.2, 0.3]), /label at index 2 is 0.5/);
});

test('NaN and infinite scores are rejected', () => {
  assert.throws(() => computeMetrics([0, 1], [0.1, Number.NaN]), /score at index 1 is NaN/);
  assert.throws(() => computeMetrics([0, 1], [Number.POSITIVE_INFINITY, 0.2]), /score at index 0 is Infinity/);
  assert.throws(() => computeMetrics([0, 1], [0.1, Number.NEGATIVE_INFINITY]), /score at index 1 is -Infinity/);
  assert.throws(() => rocCurve([0, 1, 0], [0.1, 0.2, Number.NaN]), RwdaError);
  assert.throws(() => prCurve([0, 1, 0], [0.1, 0.2, Number.NaN]), RwdaError);
});

test('typed arrays are accepted and give the same result as plain arrays', () => {
  const c = golden.cases.find((x) => x.name === 'random_n500')!;
  const a = computeMetrics(c.labels, c.scores);
  const b = computeMetrics(Uint8Array.from(c.labels), Float64Array.from(c.scores));
  assert.deepEqual(b, a);
});

test('the result does not depend on the order of the samples', () => {
  const c = golden.cases.find((x) => x.name === 'quantised_0.01_n1999')!;
  const idx = c.labels.map((_, i) => i).reverse();
  const m = computeMetrics(
    idx.map((i) => c.labels[i]!),
    idx.map((i) => c.scores[i]!),
  );
  close(m.auroc, c.roc_auc, 'auroc');
  close(m.ap, c.average_precision, 'ap');
  close(m.auprTrapezoid, c.pr_auc_trapezoid, 'auprTrapezoid');
  close(m.f1Max, c.f1_max, 'f1Max');
  assert.equal(m.f1MaxThreshold, c.f1_max_threshold);
});

test('-0 and +0 form one threshold reported as the first occurrence (sklearn)', () => {
  const pr = prCurve([0, 1, 1, 0], [-0, 0, 1, 0]);
  assert.deepEqual(pr.thresholds.length, 2);
  assert.ok(Object.is(pr.thresholds[0], -0));
  const pr2 = prCurve([0, 1, 1, 0], [0, -0, 1, 0]);
  assert.ok(Object.is(pr2.thresholds[0], 0));
});

test('evaluateScores agrees with the separate entry points', () => {
  const c = golden.cases.find((x) => x.name === 'hand_n6_ties')!;
  const all = evaluateScores(c.labels, c.scores);
  assert.deepEqual(all.metrics, computeMetrics(c.labels, c.scores));
  assert.deepEqual(all.pr, prCurve(c.labels, c.scores));
  assert.deepEqual(all.roc, rocCurve(c.labels, c.scores));
  assert.throws(() => evaluateScores([1, 1], [0, 1], 'category bottle'), /^RwdaError: category bottle: only one class/);
});
