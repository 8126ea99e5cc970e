// Figure 5's measures: leave-one-out 1-NN accuracy in a 2-D map, and the seeded sentence subset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nn1Accuracy, sampleIndices } from '../../src/eval/experiments/domains.ts';

test('nn1Accuracy: hand-checked cases (separated, interleaved, ties to the lowest index)', () => {
  // Two clusters, each one label: every point's neighbour shares its label.
  assert.equal(nn1Accuracy([0, 0, 0, 1, 10, 10, 10, 11], [0, 0, 1, 1]), 1);
  // Alternating labels on a line with spacing 1, 2, 1: pairs (0,1) and (2,3) are nearest, each mixed.
  assert.equal(nn1Accuracy([0, 0, 1, 0, 3, 0, 4, 0], [0, 1, 0, 1]), 0);
  // Point 1 at x=1 is equidistant from 0 (x=0) and 2 (x=2): the tie goes to index 0 (label 0 = its own).
  assert.equal(nn1Accuracy([0, 0, 1, 0, 2, 0], [0, 0, 1]), 2 / 3);
  assert.throws(() => nn1Accuracy([0, 0], [0]), /at least 2 points/);
});

test('sampleIndices: all when n ≤ max; otherwise max distinct sorted indices, deterministic per seed', () => {
  assert.deepEqual(sampleIndices(4, 10, 0), [0, 1, 2, 3]);
  const a = sampleIndices(100, 10, 3);
  assert.equal(a.length, 10);
  assert.equal(new Set(a).size, 10);
  assert.deepEqual(a, [...a].sort((x, y) => x - y));
  assert.ok(a.every((i) => i >= 0 && i < 100));
  assert.deepEqual(sampleIndices(100, 10, 3), a);
  assert.notDeepEqual(sampleIndices(100, 10, 4), a);
});
