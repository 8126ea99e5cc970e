import { test } from 'node:test';
import assert from 'node:assert/strict';
import { radixSortKeys, toSortableKeys32, toSortableKeys64 } from '../../src/eval/pixel/radix.ts';
import { Rng } from '../../src/util/rng.ts';

/** Values with negatives, zeros, subnormals, huge magnitudes and many ties. */
function values(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const special = [0, 5e-324, -5e-324, 1e-310, -1e300, 1.7976931348623157e308, -1.7976931348623157e308, 1, -1, 0.5];
  return Float64Array.from({ length: n }, () => {
    const u = rng.nextFloat();
    if (u < 0.2) return special[rng.int(0, special.length - 1)]!;
    if (u < 0.4) return rng.int(-5, 5) / 4;
    return (rng.nextFloat() - 0.5) * 10 ** rng.int(-30, 30);
  });
}

test('64-bit keys sort like Float64Array.sort and carry the payload', () => {
  const x = values(5000, 1);
  const keys = toSortableKeys64Copy(x);
  const payload = Uint32Array.from({ length: x.length }, (_, i) => i);
  const r = radixSortKeys(keys, payload, 2);
  const want = x.slice().sort();
  for (let i = 0; i < x.length; i++) {
    assert.equal(x[r.payload![i]!], want[i], `position ${i}`);
    if (i > 0) assert.ok(r.payload![i - 1]! < r.payload![i]! || x[r.payload![i - 1]!]! < x[r.payload![i]!]!, 'stable');
  }
});

test('32-bit keys sort float32 values exactly', () => {
  const x = Float32Array.from(values(5000, 2), (v) => (Number.isFinite(Math.fround(v)) ? Math.fround(v) : 3e38));
  const keys = new Uint32Array(x.slice().buffer);
  toSortableKeys32(keys);
  const payload = Uint32Array.from({ length: x.length }, (_, i) => i);
  const r = radixSortKeys(keys, payload, 1);
  const want = x.slice().sort();
  for (let i = 0; i < x.length; i++) assert.ok(Object.is(x[r.payload![i]!], want[i]) || x[r.payload![i]!] === want[i], `position ${i}`);
});

function toSortableKeys64Copy(x: Float64Array): Uint32Array {
  const w = new Uint32Array(x.slice().buffer);
  toSortableKeys64(w);
  return w;
}
