import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RwdaError } from '../../src/errors.ts';
import { Rng } from '../../src/method/rng.ts';
import { initialEmbedding, tsne, type TsneOptions } from '../../src/eval/tsne.ts';
import {
  binarySearchPerplexity,
  condensedIndex,
  condensedToSparse,
  jointProbabilitiesExact,
  jointProbabilitiesFromDistances,
  jointProbabilitiesNN,
  MACHINE_EPSILON,
  nearestNeighbors,
  PERPLEXITY_TOLERANCE,
  sparseToCondensed,
} from '../../src/eval/tsne/affinities.ts';
import { gradientDescent } from '../../src/eval/tsne/descent.ts';
import { klGradientBH, klGradientExact, QuadTree } from '../../src/eval/tsne/gradient.ts';
import { pcaProject } from '../../src/eval/tsne/linalg.ts';

function gaussian(rng: Rng, n: number, dim: number, scale = 1): Float64Array {
  const x = new Float64Array(n * dim);
  for (let t = 0; t < x.length; t++) x[t] = scale * rng.normal();
  return x;
}

/** n points in `dim`-D around three centres 10·e_0, 10·e_1, 10·e_2 (unit noise); point i is in cluster i % 3. */
function threeClusters(n: number, dim: number, seed: number): { x: Float32Array; labels: number[] } {
  const rng = new Rng(seed);
  const x = new Float32Array(n * dim);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    labels.push(i % 3);
    for (let d = 0; d < dim; d++) x[i * dim + d] = rng.normal() + (d === i % 3 ? 10 : 0);
  }
  return { x, labels };
}

function squaredDistances(x: Float64Array, n: number, dim: number): Float64Array {
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let c = 0; c < dim; c++) s += (x[i * dim + c]! - x[j * dim + c]!) ** 2;
      d[i * n + j] = s;
    }
  }
  return d;
}

function relErr(a: Float64Array, b: Float64Array): number {
  let num = 0;
  let den = 0;
  for (let t = 0; t < a.length; t++) {
    num += (a[t]! - b[t]!) ** 2;
    den += b[t]! ** 2;
  }
  return Math.sqrt(num / den);
}

test('binary search: every row reaches log(perplexity) within 1e-5 nats (dense rows and kNN rows)', () => {
  const rng = new Rng(11);
  const n = 200;
  const dim = 10;
  const x = gaussian(rng, n, dim);
  const d = squaredDistances(x, n, dim);
  for (const perplexity of [2, 30, 120]) {
    const p = binarySearchPerplexity(d, n, n, perplexity, true);
    for (let i = 0; i < n; i++) {
      assert.equal(p[i * n + i], 0);
      let sum = 0;
      let h = 0;
      for (let j = 0; j < n; j++) {
        const v = p[i * n + j]!;
        sum += v;
        if (v > 0) h -= v * Math.log(v);
      }
      assert.ok(Math.abs(sum - 1) < 1e-12, `row ${i} sums to ${sum}`);
      assert.ok(Math.abs(h - Math.log(perplexity)) <= PERPLEXITY_TOLERANCE + 1e-12, `perplexity ${perplexity} row ${i}: H = ${h}`);
    }
  }
  // kNN rows (no self entry): the 91 nearest of each point, perplexity 30.
  const k = 91;
  const nn = nearestNeighbors(x, n, dim, k);
  const p = binarySearchPerplexity(nn.sqd, n, k, 30, false);
  for (let i = 0; i < n; i++) {
    let h = 0;
    for (let t = 0; t < k; t++) {
      const v = p[i * k + t]!;
      if (v > 0) h -= v * Math.log(v);
    }
    assert.ok(Math.abs(h - Math.log(30)) <= PERPLEXITY_TOLERANCE + 1e-12, `kNN row ${i}: H = ${h}`);
  }
});

test('binary search: with all n − 1 neighbours, kNN rows equal the dense rows (sklearn test_binary_search_neighbors)', () => {
  const rng = new Rng(5);
  const n = 120;
  const x = gaussian(rng, n, 2);
  const dense = binarySearchPerplexity(squaredDistances(x, n, 2), n, n, 25, true);
  const nn = nearestNeighbors(x, n, 2, n - 1);
  const sparse = binarySearchPerplexity(nn.sqd, n, n - 1, 25, false);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < n - 1; t++) {
      const j = nn.indices[i * (n - 1) + t]!;
      assert.ok(Math.abs(sparse[i * (n - 1) + t]! - dense[i * n + j]!) < 1e-13, `p(${j}|${i})`);
    }
  }
});

test('joint P: (p_j|i + p_i|j) / 2n, floored at machine epsilon, from the blocked distance kernel', () => {
  const rng = new Rng(8);
  const n = 150; // spans three 64-row blocks, so off-diagonal and ragged blocks are exercised
  const dim = 37;
  const x = gaussian(rng, n, dim);
  const cond = binarySearchPerplexity(squaredDistances(x, n, dim), n, n, 10, true);
  const p = jointProbabilitiesExact(x, n, dim, 10);
  assert.equal(p.length, (n * (n - 1)) / 2);
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const want = Math.max((cond[i * n + j]! + cond[j * n + i]!) / (2 * n), MACHINE_EPSILON);
      const got = p[condensedIndex(n, i, j)]!;
      assert.ok(Math.abs(got - want) <= 1e-12 * want + 1e-18, `p_${i},${j}: ${got} vs ${want}`);
      total += 2 * got;
    }
  }
  assert.ok(Math.abs(total - 1) < 1e-9);
});

test('nearest neighbours match a brute-force sort, duplicates and ties included', () => {
  const rng = new Rng(2);
  const n = 300;
  const dim = 20;
  const x = gaussian(rng, n, dim);
  x.copyWithin(7 * dim, 3 * dim, 4 * dim); // row 7 duplicates row 3
  x.copyWithin(250 * dim, 3 * dim, 4 * dim); // and so does row 250
  const k = 10;
  const nn = nearestNeighbors(x, n, dim, k);
  const d = squaredDistances(x, n, dim);
  for (let i = 0; i < n; i++) {
    const order = Array.from({ length: n }, (_, j) => j)
      .filter((j) => j !== i)
      .sort((a, b) => d[i * n + a]! - d[i * n + b]! || a - b);
    for (let t = 0; t < k; t++) {
      const got = nn.indices[i * k + t]!;
      // Distances from the expanded-norm formula differ from the direct sum in the last bits: compare the
      // neighbour's true distance, and the index wherever the next candidate is not within rounding.
      assert.ok(Math.abs(nn.sqd[i * k + t]! - d[i * n + order[t]!]!) < 1e-9, `row ${i} rank ${t}`);
      if (Math.abs(d[i * n + order[t]!]! - d[i * n + order[t + 1]!]!) > 1e-9) assert.equal(got, order[t], `row ${i} rank ${t}`);
    }
  }
  assert.equal(nn.indices[3 * k], 7);
  assert.equal(nn.sqd[3 * k], 0);
  assert.equal(nn.indices[3 * k + 1], 250);
});

test('sparse P over all n − 1 neighbours equals the exact P (sklearn test_barnes_hut_angle)', () => {
  const rng = new Rng(4);
  const n = 100;
  const dim = 5;
  const x = gaussian(rng, n, dim);
  const exact = jointProbabilitiesExact(x, n, dim, 10);
  const nn = nearestNeighbors(x, n, dim, n - 1);
  const sparse = jointProbabilitiesNN(nn.indices, nn.sqd, n, n - 1, 10);
  assert.equal(sparse.indptr[n], n * (n - 1));
  const dense = sparseToCondensed(sparse);
  for (let t = 0; t < dense.length; t++) assert.ok(Math.abs(Math.max(dense[t]!, MACHINE_EPSILON) - exact[t]!) < 1e-15);
});

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
