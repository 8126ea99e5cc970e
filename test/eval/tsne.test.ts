import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RwdaError } from '../../src/errors.ts';
import { Rng } from '../../src/util/rng.ts';
import { initialEmbedding, tsne, type TsneOptions } from '../../src/eval/tsne.ts';
import { jointProbabilitiesFromDistances } from '../../src/eval/tsne/affinities.ts';
import { pcaProject } from '../../src/eval/tsne/linalg.ts';
import { threeClusters } from './tsne_fixtures.ts';

test('PCA projection: top two principal axes (checked against power iteration), sklearn sign convention', () => {
  const rng = new Rng(13);
  for (const [n, dim] of [
    [200, 6],
    [15, 30],
  ] as const) {
    const x = new Float64Array(n * dim);
    for (let i = 0; i < n; i++) for (let c = 0; c < dim; c++) x[i * dim + c] = rng.normal() * (c === 2 ? 5 : c === 4 ? 3 : 1) + 7;
    const proj = pcaProject(x, n, dim, 2, new Rng(1));
    const mean = new Float64Array(dim);
    for (let i = 0; i < n; i++) for (let c = 0; c < dim; c++) mean[c] += x[i * dim + c]! / n;
    const cov = new Float64Array(dim * dim);
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < dim; a++) {
        for (let b = 0; b < dim; b++) cov[a * dim + b] += (x[i * dim + a]! - mean[a]!) * (x[i * dim + b]! - mean[b]!);
      }
    }
    let deflated = Float64Array.from(cov);
    for (let axis = 0; axis < 2; axis++) {
      let v = new Float64Array(dim).fill(1);
      let lambda = 0;
      for (let it = 0; it < 5000; it++) {
        const w = new Float64Array(dim);
        for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) w[a] += deflated[a * dim + b]! * v[b]!;
        lambda = Math.hypot(...w);
        v = w.map((t) => t / lambda);
      }
      let big = 0;
      for (let c = 0; c < dim; c++) if (Math.abs(v[c]!) > Math.abs(big)) big = v[c]!;
      if (big < 0) v = v.map((t) => -t);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let c = 0; c < dim; c++) s += (x[i * dim + c]! - mean[c]!) * v[c]!;
        assert.ok(Math.abs(proj[i * 2 + axis]! - s) < 1e-8 * Math.sqrt(lambda), `n=${n} axis ${axis} row ${i}`);
      }
      deflated = deflated.map((t, idx) => t - lambda * v[Math.floor(idx / dim)]! * v[idx % dim]!);
    }
  }
});

test('initial embedding: PCA scaled to std 1e-4 on the first axis; random draws are N(0, 1e-4²) from the seed', () => {
  const { x } = threeClusters(90, 10, 1);
  const x64 = Float64Array.from(x);
  const y = initialEmbedding(x64, 90, 10, 'pca', 0);
  let m = 0;
  for (let i = 0; i < 90; i++) m += y[2 * i]! / 90;
  let v = 0;
  for (let i = 0; i < 90; i++) v += (y[2 * i]! - m) ** 2 / 90;
  assert.ok(Math.abs(Math.sqrt(v) - 1e-4) < 1e-16);
  const r = initialEmbedding(x64, 90, 10, 'random', 5);
  const rng = new Rng(5);
  for (let t = 0; t < r.length; t++) assert.equal(r[t], 1e-4 * rng.normal());
});

/** Leave-one-out 5-NN label accuracy in the 2-D embedding. */
function knnAccuracy(y: Float64Array, labels: number[]): number {
  const n = labels.length;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const near = Array.from({ length: n }, (_, j) => j)
      .filter((j) => j !== i)
      .sort((a, b) => (y[2 * a]! - y[2 * i]!) ** 2 + (y[2 * a + 1]! - y[2 * i + 1]!) ** 2 - ((y[2 * b]! - y[2 * i]!) ** 2 + (y[2 * b + 1]! - y[2 * i + 1]!) ** 2))
      .slice(0, 5);
    const votes = [0, 0, 0];
    for (const j of near) votes[labels[j]!]!++;
    if (votes.indexOf(Math.max(...votes)) === labels[i]) correct++;
  }
  return correct / n;
}

/** Smallest centroid distance divided by the largest within-cluster RMS radius. */
function separation(y: Float64Array, labels: number[]): number {
  const cx = [0, 0, 0];
  const cy = [0, 0, 0];
  const cnt = [0, 0, 0];
  labels.forEach((l, i) => {
    cx[l] += y[2 * i]!;
    cy[l] += y[2 * i + 1]!;
    cnt[l]++;
  });
  for (let l = 0; l < 3; l++) {
    cx[l] /= cnt[l]!;
    cy[l] /= cnt[l]!;
  }
  const rad = [0, 0, 0];
  labels.forEach((l, i) => (rad[l] += ((y[2 * i]! - cx[l]!) ** 2 + (y[2 * i + 1]! - cy[l]!) ** 2) / cnt[l]!));
  let minCentre = Infinity;
  for (let a = 0; a < 3; a++) for (let b = a + 1; b < 3; b++) minCentre = Math.min(minCentre, Math.hypot(cx[a]! - cx[b]!, cy[a]! - cy[b]!));
  return minCentre / Math.sqrt(Math.max(...rad));
}

test('three Gaussian clusters in 50-D come out separated (exact and Barnes–Hut), with similar KL', () => {
  const { x, labels } = threeClusters(150, 50, 7);
  const kls: Record<string, number> = {};
  for (const method of ['exact', 'barnes_hut'] as const) {
    const r = tsne(x, 150, 50, { method });
    assert.equal(r.method, method);
    assert.equal(r.y.length, 300);
    assert.equal(r.learningRate, 50);
    assert.equal(knnAccuracy(r.y, labels), 1);
    assert.ok(separation(r.y, labels) > 4, `${method}: separation ${separation(r.y, labels)}`);
    kls[method] = r.kl;
  }
  assert.ok(Math.abs(kls.barnes_hut! - kls.exact!) < 0.05 * kls.exact!, JSON.stringify(kls));
  // Control: a random layout fails the accuracy check.
  const scrambled = initialEmbedding(Float64Array.from(x), 150, 50, 'random', 1);
  assert.ok(knnAccuracy(scrambled, labels) < 0.6);
});

test('KL decreases over the iterations after early exaggeration', () => {
  const { x } = threeClusters(120, 20, 3);
  const kls: [number, number][] = [];
  const r = tsne(x, 120, 20, {
    perplexity: 15,
    onProgress: (p) => {
      if (p.stage === 'optimize' && p.kl !== undefined && p.done > 250) kls.push([p.done, p.kl]);
    },
  });
  assert.deepEqual(
    kls.map(([i]) => i),
    [300, 350, 400, 450, 500, 550, 600, 650, 700, 750, 800, 850, 900, 950, 1000],
  );
  for (let t = 1; t < kls.length; t++) assert.ok(kls[t]![1] <= kls[t - 1]![1] + 1e-9, `KL rose at ${kls[t]![0]}`);
  assert.ok(kls.at(-1)![1] < 0.9 * kls[0]![1]);
  assert.equal(r.kl, kls.at(-1)![1]);
  assert.equal(r.iterations, 1000);
});

test('deterministic for a seed; the seed matters for random init', () => {
  const { x } = threeClusters(60, 8, 2);
  const opts: TsneOptions = { perplexity: 10, iterations: 300, init: 'random', seed: 42 };
  for (const method of ['exact', 'barnes_hut'] as const) {
    const a = tsne(x, 60, 8, { ...opts, method });
    const b = tsne(x, 60, 8, { ...opts, method });
    assert.deepEqual(a.y, b.y);
    assert.equal(a.kl, b.kl);
    const c = tsne(x, 60, 8, { ...opts, method, seed: 43 });
    assert.notDeepEqual(a.y, c.y);
  }
});

test('progress: affinity pairs then iterations', () => {
  const { x } = threeClusters(200, 5, 1);
  const seen: string[] = [];
  let lastPairs = 0;
  tsne(x, 200, 5, {
    iterations: 250,
    onProgress: (p) => {
      if (p.stage === 'affinities') {
        assert.ok(p.done >= lastPairs && p.total === (200 * 199) / 2);
        lastPairs = p.done;
      }
      if (seen.at(-1) !== p.stage) seen.push(p.stage);
    },
  });
  assert.deepEqual(seen, ['affinities', 'optimize']);
  assert.equal(lastPairs, (200 * 199) / 2);
});

test('bad input is a RwdaError naming the field', () => {
  const x = new Float32Array(40);
  const bad = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof RwdaError && re.test(e.message));
  bad(() => tsne(new Float32Array(4), 1, 4), /n must be an integer ≥ 2/);
  bad(() => tsne(x, 10, 3), /x has 40 values but n × dim = 10 × 3/);
  bad(() => tsne(x, 10, 4), /perplexity must be > 0 and less than the number of points n = 10 \(got 30\)/);
  bad(() => tsne(x, 10, 4, { perplexity: 0 }), /perplexity/);
  const nan = new Float32Array(40);
  nan[13] = NaN;
  bad(() => tsne(nan, 10, 4, { perplexity: 3 }), /x\[13\] \(row 3, column 1\) is NaN/);
  bad(() => tsne(x, 10, 4, { perplexity: 3, iterations: 100 }), /iterations must be an integer ≥ 250/);
  bad(() => tsne(x, 10, 4, { perplexity: 3, theta: 2 }), /theta/);
  bad(() => tsne(x, 10, 4, { perplexity: 3, seed: -1 }), /seed/);
  bad(() => tsne(x, 10, 4, { perplexity: 3, learningRate: 0 }), /learningRate/);
  bad(() => tsne(x, 10, 4, { perplexity: 3, earlyExaggeration: 0.5 }), /earlyExaggeration/);
  bad(() => tsne(x, 10, 4, { perplexity: 3, method: 'fast' as never }), /method/);
  bad(() => tsne(x, 10, 4, { perplexity: 3, init: 'spectral' as never }), /init/);
  bad(() => tsne(new Float32Array(5001), 5001, 1, { method: 'exact' }), /at most 5000 points/);
  bad(() => tsne([1, 2] as never, 2, 1), /Float32Array/);
});

test('two points and identical points embed without NaN', () => {
  const two = tsne(new Float32Array([0, 0, 1, 1]), 2, 2, { perplexity: 1, iterations: 250 });
  assert.ok(two.y.every(Number.isFinite));
  const same = tsne(new Float32Array(30).fill(0.5), 10, 3, { perplexity: 3, iterations: 300, method: 'barnes_hut' });
  assert.ok(same.y.every(Number.isFinite) && Number.isFinite(same.kl));
  const sameExact = tsne(new Float32Array(30).fill(0.5), 10, 3, { perplexity: 3, iterations: 300 });
  assert.ok(sameExact.y.every(Number.isFinite) && Number.isFinite(sameExact.kl));
  // Distances from a dense matrix: a two-point P is 1/2 per ordered pair.
  const p = jointProbabilitiesFromDistances(new Float64Array([0, 4, 4, 0]), 2, 1);
  assert.deepEqual([...p], [0.5]);
});
