import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  aggregateViewScores,
  centerSquare,
  cropViews,
  multiCropScore,
  roundHalfEvenDiv,
  viewIds,
  type View,
} from '../../src/methods/common/multicrop.ts';
import { RwdaError } from '../../src/errors.ts';

function crops(views: View[], k: number): Array<[string, number, number, number, number]> {
  return views
    .filter((v) => v.scale === k)
    .map((v) => [v.id, v.box.left, v.box.top, v.box.width, v.box.height]);
}

test('roundHalfEvenDiv rounds ties to even, like Python round()', () => {
  assert.deepEqual(
    [
      [1, 2],
      [3, 2],
      [5, 2],
      [21, 2],
      [7, 4],
      [14, 4],
      [10, 4],
      [200, 3],
      [100, 3],
      [0, 5],
    ].map(([n, d]) => roundHalfEvenDiv(n!, d!)),
    [0, 2, 2, 10, 2, 4, 2, 67, 33, 0],
  );
});

test('240×240: g2 side 160 at 0/80, g3 side 120 at 0/60/120', () => {
  const v = cropViews(240, 240);
  assert.equal(v.length, 1 + 4 + 9);
  assert.deepEqual(v[0], { id: 'std', kind: 'standard', scale: 0, row: 0, col: 0, box: { left: 0, top: 0, width: 240, height: 240 } });
  assert.deepEqual(crops(v, 2), [
    ['g2_0_0', 0, 0, 160, 160],
    ['g2_0_1', 80, 0, 160, 160],
    ['g2_1_0', 0, 80, 160, 160],
    ['g2_1_1', 80, 80, 160, 160],
  ]);
  assert.deepEqual(crops(v, 3), [
    ['g3_0_0', 0, 0, 120, 120],
    ['g3_0_1', 60, 0, 120, 120],
    ['g3_0_2', 120, 0, 120, 120],
    ['g3_1_0', 0, 60, 120, 120],
    ['g3_1_1', 60, 60, 120, 120],
    ['g3_1_2', 120, 60, 120, 120],
    ['g3_2_0', 0, 120, 120, 120],
    ['g3_2_1', 60, 120, 120, 120],
    ['g3_2_2', 120, 120, 120, 120],
  ]);
  const c = v.find((x) => x.id === 'g3_2_1')!;
  assert.deepEqual([c.kind, c.scale, c.row, c.col], ['crop', 3, 2, 1]);
});

test('rectangular images: the grid sits in the centre square (landscape and portrait)', () => {
  // 320×240: s = 240, square at left (320-240)/2 = 40.
  const land = cropViews(320, 240);
  assert.deepEqual(land[0]!.box, { left: 0, top: 0, width: 320, height: 240 });
  assert.deepEqual(crops(land, 2), [
    ['g2_0_0', 40, 0, 160, 160],
    ['g2_0_1', 120, 0, 160, 160],
    ['g2_1_0', 40, 80, 160, 160],
    ['g2_1_1', 120, 80, 160, 160],
  ]);
  // 240×300: square at top 30.
  const port = cropViews(240, 300, [3]);
  assert.deepEqual(crops(port, 3).map((c) => [c[1], c[2]]), [
    [0, 30], [60, 30], [120, 30],
    [0, 90], [60, 90], [120, 90],
    [0, 150], [60, 150], [120, 150],
  ]);
});

test('centre offsets round half to even (torchvision CenterCrop), not half up', () => {
  assert.deepEqual(centerSquare(241, 240), { left: 0, top: 0, width: 240, height: 240 }); // 0.5 → 0
  assert.deepEqual(centerSquare(243, 240), { left: 2, top: 0, width: 240, height: 240 }); // 1.5 → 2
  assert.deepEqual(centerSquare(100, 121), { left: 0, top: 10, width: 100, height: 100 }); // 10.5 → 10
  assert.deepEqual(centerSquare(100, 123), { left: 0, top: 12, width: 100, height: 100 }); // 11.5 → 12
});

test('odd sizes: side and offsets by hand, and the clamp that keeps the last crop inside', () => {
  // s = 100: k=2 side round(66.67) = 67, offsets 0, round(33.33) = 33 (33 + 67 = 100).
  assert.deepEqual(crops(cropViews(100, 100, [2]), 2).map((c) => [c[1], c[2], c[3]]), [
    [0, 0, 67], [33, 0, 67], [0, 33, 67], [33, 33, 67],
  ]);
  // s = 7, k = 3: side round(3.5) = 4, offsets 0, round(1.75) = 2, round(3.5) = 4 → clamped to 7 - 4 = 3.
  assert.deepEqual(crops(cropViews(7, 7, [3]), 3).slice(0, 3).map((c) => [c[1], c[3]]), [
    [0, 4], [2, 4], [3, 4],
  ]);
  // s = 1: crops never shrink to zero pixels.
  for (const v of cropViews(1, 5)) assert.ok(v.box.width >= 1 && v.box.height >= 1);
});

test('every box lies inside the image, crops are square, for many sizes and scales', () => {
  for (let w = 1; w <= 60; w += 1) {
    for (const h of [1, 2, 3, 7, 16, 31, 48, 59]) {
      for (const v of cropViews(w, h, [1, 2, 3, 4, 5, 7])) {
        const b = v.box;
        assert.ok(b.left >= 0 && b.top >= 0 && b.left + b.width <= w && b.top + b.height <= h, `${w}×${h} ${v.id}`);
        assert.ok(Number.isInteger(b.left) && Number.isInteger(b.top) && Number.isInteger(b.width));
        if (v.kind === 'crop') assert.equal(b.width, b.height);
      }
    }
  }
});

test('view ids are stable and independent of the image size', () => {
  assert.deepEqual(viewIds(), [
    'std',
    'g2_0_0', 'g2_0_1', 'g2_1_0', 'g2_1_1',
    'g3_0_0', 'g3_0_1', 'g3_0_2', 'g3_1_0', 'g3_1_1', 'g3_1_2', 'g3_2_0', 'g3_2_1', 'g3_2_2',
  ]);
  assert.deepEqual(cropViews(640, 480).map((v) => v.id), viewIds());
  assert.deepEqual(viewIds([]), ['std']);
});

test('aggregateViewScores by hand', () => {
  assert.equal(aggregateViewScores(0.2, [0.1, 0.6, 0.4]), (0.2 + 0.6) / 2);
  assert.equal(aggregateViewScores(0.2, [0.1, 0.6, 0.4], 'max'), 0.4);
  assert.ok(Math.abs(aggregateViewScores(0.2, [0.1, 0.6, 0.5], 'mean') - 0.3) < 1e-15);
  assert.equal(aggregateViewScores(0.3, []), 0.3);
  assert.throws(() => aggregateViewScores(Number.NaN, [1]), /standard-view score/);
  assert.throws(() => aggregateViewScores(0, [1, Infinity]), /crop score 1/);
  assert.throws(() => aggregateViewScores(0, [1], 'median' as never), /aggregation/);
});

test('multiCropScore with a stub encoder: each view scored once, in order, aggregated', async () => {
  // Stub score: the crop's centre x over the image width, so the rightmost crops score highest.
  const seen: string[] = [];
  const stub = (v: View): number => {
    seen.push(v.id);
    return v.kind === 'standard' ? 0.25 : (v.box.left + v.box.width / 2) / 320;
  };
  const r = await multiCropScore(320, 240, stub);
  assert.deepEqual(seen, viewIds());
  assert.deepEqual(r.views.map((x) => x.id), viewIds());
  // Rightmost crop centre: g2 → 120 + 80 = 200, g3 → 160 + 60 = 220 → max 220/320.
  assert.equal(r.score, (0.25 + 220 / 320) / 2);
  // 'mean' over the 13 crops: g2 centres 120,200 (×2 rows), g3 centres 100,160,220 (×3 rows).
  const mean = (2 * (120 + 200) + 3 * (100 + 160 + 220)) / 13 / 320;
  const rm = await multiCropScore(320, 240, async (v) => stub(v), { aggregation: 'mean' });
  assert.ok(Math.abs(rm.score - (0.25 + mean) / 2) < 1e-15);
  const rs = await multiCropScore(320, 240, stub, { scales: [] });
  assert.equal(rs.score, 0.25);
});

test('bad sizes and scales raise RwdaError naming the field', () => {
  assert.throws(() => cropViews(0, 10), (e: unknown) => e instanceof RwdaError && /width/.test(e.message));
  assert.throws(() => cropViews(10, 2.5), /height/);
  assert.throws(() => cropViews(10, 10, [0]), /scale/);
  assert.throws(() => cropViews(10, 10, [2, 2]), /listed twice/);
  assert.throws(() => cropViews(10, 10, [33]), /scale/);
});
