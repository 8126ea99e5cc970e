import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.ts';
import {
  condensedToSparse,
  jointProbabilitiesExact,
  jointProbabilitiesNN,
  nearestNeighbors,
} from '../../src/eval/tsne/affinities.ts';
import { gradientDescent } from '../../src/eval/tsne/descent.ts';
import { klGradientBH, klGradientExact, QuadTree } from '../../src/eval/tsne/gradient.ts';
import { gaussian, relErr } from './tsne_fixtures.ts';

test('exact gradient matches central finite differences of the KL objective', () => {
  const rng = new Rng(21);
  const n = 12;
  const dim = 4;
  const p = jointProbabilitiesExact(gaussian(rng, n, dim), n, dim, 3);
  const y = gaussian(rng, n, 2);
  const grad = new Float64Array(2 * n);
  const kl = klGradientExact(p, y, n, 1, grad, true);
  assert.ok(kl > 0);
  const fd = new Float64Array(2 * n);
  const h = 1e-5;
  const scratch = new Float64Array(2 * n);
  for (let t = 0; t < 2 * n; t++) {
    const yp = Float64Array.from(y);
    yp[t] += h;
    const ym = Float64Array.from(y);
    ym[t] -= h;
    fd[t] = (klGradientExact(p, yp, n, 1, scratch, true) - klGradientExact(p, ym, n, 1, scratch, true)) / (2 * h);
  }
  assert.ok(relErr(grad, fd) < 1e-4, `relative error ${relErr(grad, fd)}`);
  // A broken gradient must fail this check: drop the factor 4 and it is off by 75%.
  assert.ok(relErr(grad.map((g) => g / 4), fd) > 0.5);
});

test('Barnes–Hut: θ = 0 gives the exact gradient and KL; θ = 0.5 is within 2% (duplicate points included)', () => {
  const rng = new Rng(3);
  const n = 300;
  const dim = 8;
  const x = gaussian(rng, n, dim);
  const pe = jointProbabilitiesExact(x, n, dim, 20);
  const nn = nearestNeighbors(x, n, dim, n - 1);
  const pb = jointProbabilitiesNN(nn.indices, nn.sqd, n, n - 1, 20);
  for (const scale of [1e-4, 1, 10]) {
    const y = gaussian(rng, n, 2, scale);
    y.copyWithin(10, 4, 6); // point 5 sits on point 2: a two-point leaf
    const ge = new Float64Array(2 * n);
    const gb = new Float64Array(2 * n);
    const ke = klGradientExact(pe, y, n, 1, ge, true);
    const kb = klGradientBH(pb, y, 0, 1, gb, true);
    assert.ok(relErr(gb, ge) < 1e-10, `θ=0 scale ${scale}: ${relErr(gb, ge)}`);
    assert.ok(Math.abs(kb - ke) < 1e-10 * ke, `θ=0 KL ${kb} vs ${ke}`);
    const kh = klGradientBH(pb, y, 0.5, 1, gb, true);
    assert.ok(relErr(gb, ge) < 0.02, `θ=0.5 scale ${scale}: ${relErr(gb, ge)}`);
    assert.ok(Math.abs(kh - ke) < 0.01 * ke);
    if (scale === 10) assert.ok(relErr(gb, ge) > 1e-6, 'θ=0.5 should approximate, not be exact');
  }
});

test('quadtree: cell counts, centres of mass and leaves are consistent', () => {
  const rng = new Rng(9);
  const n = 500;
  const y = gaussian(rng, n, 2, 3);
  y.copyWithin(20, 0, 2); // a duplicate
  const tree = new QuadTree();
  tree.build(y, n);
  assert.equal(tree.count[0], n);
  for (let k = 0; k < tree.nodeCount; k++) {
    const fc = tree.firstChild[k]!;
    if (fc < 0) continue;
    let c = 0;
    let sx = 0;
    for (let t = 0; t < tree.childCount[k]!; t++) {
      c += tree.count[fc + t]!;
      sx += tree.count[fc + t]! * tree.comX[fc + t]!;
    }
    assert.equal(c, tree.count[k]);
    assert.ok(Math.abs(sx / c - tree.comX[k]!) < 1e-12 * (1 + Math.abs(tree.comX[k]!)));
  }
  const perLeaf = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const leaf = tree.leafOf[i]!;
    assert.equal(tree.firstChild[leaf], -1);
    assert.ok(y[2 * i]! >= tree.minX[leaf]! && y[2 * i]! < tree.maxX[leaf]!);
    assert.ok(y[2 * i + 1]! >= tree.minY[leaf]! && y[2 * i + 1]! < tree.maxY[leaf]!);
    perLeaf.set(leaf, (perLeaf.get(leaf) ?? 0) + 1);
  }
  assert.equal(tree.leafOf[0], tree.leafOf[10]);
  for (const [leaf, c] of perLeaf) assert.equal(tree.count[leaf], c);
});

test('Barnes–Hut θ = 1: a summarised cell containing the point itself counts only the other points', () => {
  // Point 0 at the origin, 50 points packed near (10, 10): with θ = 1 the root cell (which contains point 0) is
  // far enough from point 0 to be summarised, so its mass must exclude point 0.
  const rng = new Rng(3);
  const n = 51;
  const pe = jointProbabilitiesExact(gaussian(rng, n, 4), n, 4, 10);
  const pb = condensedToSparse(pe, n);
  const y = new Float64Array(2 * n);
  for (let i = 1; i < n; i++) {
    y[2 * i] = 10 + 0.01 * rng.normal();
    y[2 * i + 1] = 10 + 0.01 * rng.normal();
  }
  const ge = new Float64Array(2 * n);
  const gb = new Float64Array(2 * n);
  klGradientExact(pe, y, n, 1, ge, true);
  klGradientBH(pb, y, 1, 1, gb, true);
  assert.ok(Math.abs(gb[0]! - ge[0]!) < 1e-5 * Math.abs(ge[0]!), `${gb[0]} vs ${ge[0]}`);
  assert.ok(Math.abs(gb[1]! - ge[1]!) < 1e-5 * Math.abs(ge[1]!), `${gb[1]} vs ${ge[1]}`);
});

test('quadtree: a point on a centre line goes to the upper child, as in sklearn', () => {
  // Root ranges [0, 2000·(1 + 1e-3)] (sklearn's pushed-out upper bound); points at the centre c of both axes.
  const c = (2000 * (1 + 1e-3)) / 2;
  const y = new Float64Array([0, 0, c, 0, 2000, 0, c, 2000, 0, c]);
  const tree = new QuadTree();
  tree.build(y, 5);
  assert.equal(tree.minX[tree.leafOf[1]!], c);
  assert.equal(tree.minX[tree.leafOf[3]!], c);
  assert.equal(tree.minY[tree.leafOf[4]!], c);
  assert.equal(tree.count[0], 5);
});

test('gradient descent stops like sklearn (test_gradient_descent_stops)', () => {
  const base = { it: 0, momentum: 0, learningRate: 0, minGain: 0, checkEvery: 1 };
  // Small gradient: stops at the first check.
  let calls = -1;
  const smallGradient = (_p: Float64Array, g: Float64Array) => {
    calls++;
    g[0] = 1e-5;
    return (10 - calls) / 10;
  };
  let r = gradientDescent(new Float64Array(1), smallGradient, { ...base, end: 100, iterationsWithoutProgress: 100, minGradNorm: 1e-5 });
  assert.equal(r.error, 1.0);
  assert.equal(r.it, 0);
  // Flat objective: no progress for more than 10 iterations.
  const flat = (_p: Float64Array, g: Float64Array) => {
    g[0] = 1;
    return 0;
  };
  r = gradientDescent(new Float64Array(1), flat, { ...base, end: 100, iterationsWithoutProgress: 10, minGradNorm: 0 });
  assert.equal(r.error, 0);
  assert.equal(r.it, 11);
  // Iteration budget.
  calls = -1;
  r = gradientDescent(new Float64Array(1), smallGradient, { ...base, end: 11, iterationsWithoutProgress: 100, minGradNorm: 0 });
  assert.equal(r.error, 0);
  assert.equal(r.it, 10);
});

test('gradient descent: gains and momentum follow the update rule', () => {
  // Constant gradient g = 1: the first gain is ×0.8 (no update yet); afterwards the update opposes the gradient, so
  // the gain grows by 0.2 per step: 0.8, 1.0, 1.2.
  const p = new Float64Array(1);
  const steps: number[] = [];
  gradientDescent(
    p,
    (_p, g) => {
      g[0] = 1;
      return NaN;
    },
    { it: 0, end: 3, momentum: 0.5, learningRate: 2, iterationsWithoutProgress: 300, onIteration: () => steps.push(p[0]!) },
  );
  const u1 = -2 * 0.8;
  const u2 = 0.5 * u1 - 2 * 1.0;
  const u3 = 0.5 * u2 - 2 * 1.2;
  assert.deepEqual(steps.map((v) => +v.toFixed(12)), [u1, u1 + u2, u1 + u2 + u3].map((v) => +v.toFixed(12)));
  // A gradient that flips sign (now along the last update) shrinks the gain: 0.8, then 0.64.
  const q = new Float64Array(1);
  let s = 1;
  const moves: number[] = [];
  let last = 0;
  gradientDescent(
    q,
    (_p, g) => {
      g[0] = s;
      s = -1;
      return NaN;
    },
    {
      it: 0,
      end: 2,
      momentum: 0,
      learningRate: 1,
      iterationsWithoutProgress: 300,
      onIteration: () => {
        moves.push(q[0]! - last);
        last = q[0]!;
      },
    },
  );
  assert.deepEqual(moves.map((v) => +v.toFixed(12)), [-0.8, 0.64]);
});
