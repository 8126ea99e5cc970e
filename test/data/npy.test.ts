import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpyFloat32, parseNpy, readNpy, writeNpyFloat32 } from '../../src/data/npy.ts';
import { RwdaError } from '../../src/errors.ts';
import { FIXTURES } from '../helpers/paths.ts';

const CASES = join(FIXTURES, 'pixel_metrics', 'cases');
const tmp = mkdtempSync(join(tmpdir(), 'rwda-npy-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function header(dict: string, data: Uint8Array): Uint8Array {
  const h = Buffer.from(dict.padEnd(117, ' ') + '\n', 'latin1');
  const out = new Uint8Array(10 + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length & 0xff, h.length >> 8]);
  out.set(h, 10);
  out.set(data, 10 + h.length);
  return out;
}

test('the writer produces the bytes numpy.save wrote for a float32 C-order map', () => {
  const file = join(CASES, 'mvtec_like_64x64_f32', 'maps', 'crack', '000.npy');
  const bytes = readFileSync(file);
  const m = readNpy(file);
  assert.equal(m.dtype, 'float32');
  assert.deepEqual([m.height, m.width], [64, 64]);
  assert.deepEqual(Buffer.from(encodeNpyFloat32(m.data, m.height, m.width)), bytes);
});

test('Fortran order is read column-major; float64 stays float64', () => {
  const dir = join(CASES, 'fortran_order_npy', 'maps');
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) e.isDirectory() ? walk(join(d, e.name)) : files.push(join(d, e.name));
  };
  walk(dir);
  assert.ok(files.length > 0);
  const m = readNpy(files[0]!);
  assert.deepEqual([m.height, m.width], [20, 30]);
  // Build the same map by hand in both orders and compare.
  const values = Float64Array.from({ length: 6 }, (_, i) => i * 1.5 - 2);
  const c = parseNpy(header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", new Uint8Array(values.buffer)), 'c.npy');
  const colMajor = Float64Array.from([values[0]!, values[3]!, values[1]!, values[4]!, values[2]!, values[5]!]);
  const f = parseNpy(header("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", new Uint8Array(colMajor.buffer)), 'f.npy');
  assert.equal(c.dtype, 'float64');
  assert.ok(c.data instanceof Float64Array);
  assert.deepEqual(Array.from(f.data), Array.from(values));
  assert.deepEqual(Array.from(c.data), Array.from(values));
});

test('round trip through the atomic writer', () => {
  const p = join(tmp, 'a', 'map.npy');
  const data = [0, -0.5, 1e-3, 3.4e38, -7, 0.1];
  writeNpyFloat32(p, data, 2, 3);
  const m = readNpy(p);
  assert.deepEqual(Array.from(m.data), data.map(Math.fround));
  assert.deepEqual(readdirSync(join(tmp, 'a')), ['map.npy']); // no temp file left
  assert.throws(() => encodeNpyFloat32([1, 2, 3], 2, 2), /3 values do not fill a 2x2 map/);
});

test('bad files are refused with the file named', () => {
  const f32 = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
  const cases: Array<[Uint8Array, RegExp]> = [
    [Buffer.from('not a numpy file'), /x\.npy: not a readable \.npy map \(no \\x93NUMPY magic\)/],
    [header("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }", f32), /x\.npy: dtype '<i4' is not supported/],
    [header("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", f32), /x\.npy: dtype '>f4' is not supported/],
    [header("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", f32), /x\.npy: map is 1-D with shape \(4\); expected a 2-D map/],
    [header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 1), }", f32), /x\.npy: map is 3-D/],
    [header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", f32), /x\.npy: .*truncated: header says 3x2 float32 \(24 bytes\), file holds 16/],
    [header("{'descr': '<f4', 'shape': (2, 2), }", f32), /x\.npy: .*malformed header/],
  ];
  for (const [bytes, re] of cases) {
    assert.throws(() => parseNpy(bytes, 'x.npy'), (err: unknown) => err instanceof RwdaError && re.test(err.message));
  }
  assert.throws(() => readNpy(join(tmp, 'missing.npy')), /missing\.npy: cannot read/);
});
