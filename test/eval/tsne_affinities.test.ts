import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.ts';
import {
  binarySearchPerplexity,
  condensedIndex,
  jointProbabilitiesExact,
  jointProbabilitiesNN,
  MACHINE_EPSILON,
  nearestNeighbors,
  PERPLEXITY_TOLERANCE,
  sparseToCondensed,
} from '../../src/eval/tsne/affinities.ts';
import { gaussian, squaredDistances } from './tsne_fixtures.ts';

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
