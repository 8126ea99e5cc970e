import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPENCLIP_FIXTURES } from '../helpers/paths.ts';
import { SafetensorsFile, f16ToF32, writeSafetensors } from '../../src/clip/safetensors.ts';
import { RwdaError } from '../../src/errors.ts';

/** Builds safetensors bytes from a header object and a data section, without going through our writer. */
function raw(header: unknown, data: Uint8Array, headerText?: string): Buffer {
  const h = Buffer.from(headerText ?? JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, data]);
}

function withTmp(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'rwda-st-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Opens `bytes` as a file and expects an RwdaError naming the file and matching `re`. */
function expectOpenError(bytes: Uint8Array, re: RegExp): void {
  withTmp((dir) => {
    const p = join(dir, 'bad.safetensors');
    writeFileSync(p, bytes);
    assert.throws(() => SafetensorsFile.open(p), (err: unknown) => {
      assert.ok(err instanceof RwdaError, String(err));
      assert.ok(err.message.startsWith(p), err.message);
      assert.match(err.message, re);
      return true;
    });
  });
}

test('reads the tiny-gelu fixture: sorted keys, metadata, absolute offsets, F32 values', () => {
  const p = join(OPENCLIP_FIXTURES, 'tiny-gelu', 'open_clip_model.safetensors');
  const f = SafetensorsFile.open(p);
  try {
    assert.equal(f.keys().length, 62);
    assert.deepEqual(f.keys(), [...f.keys()].sort());
    assert.equal(f.metadata.seed, '1001');
    assert.deepEqual(f.warnings, []);
    // Cross-check getFloat32 against a direct read of the file bytes at info().begin.
    const bytes = readFileSync(p);
    const headerLen = Number(bytes.readBigUInt64LE(0));
    let last = 0;
    for (const k of f.keys()) {
      const info = f.info(k);
      assert.equal(info.dtype, 'F32');
      assert.ok(info.begin >= 8 + headerLen);
      last = Math.max(last, info.end);
      const vals = f.getFloat32(k);
      assert.equal(vals.length, info.shape.reduce((a, d) => a * d, 1));
      const ref = new Float32Array(bytes.buffer.slice(bytes.byteOffset + info.begin, bytes.byteOffset + info.end));
      assert.deepEqual(vals, ref);
    }
    assert.equal(last, bytes.length);
    assert.deepEqual(f.info('visual.conv1.weight').shape, [64, 3, 8, 8]);
    assert.throws(() => f.info('nope'), /no tensor named 'nope'/);
  } finally {
    f.close();
  }
  assert.throws(() => f.getFloat32('logit_scale'), /already closed/);
});

test('F16 and BF16 are converted exactly (normals, subnormals, zeros, inf, NaN)', () => {
  withTmp((dir) => {
    // half bit patterns and their exact values
    const halves: Array<[number, number]> = [
      [0x3c00, 1], [0xc000, -2], [0x3555, 0.333251953125], [0x7bff, 65504], [0x0001, 2 ** -24],
      [0x03ff, 1023 * 2 ** -24], [0x0400, 2 ** -14], [0x8000, -0], [0x0000, 0], [0x7c00, Infinity], [0xfc00, -Infinity],
    ];
    const h = new Uint16Array([...halves.map((x) => x[0]), 0x7e00]);
    const bf = new Uint16Array([0x3f80, 0xc040, 0x4049, 0x0001, 0x7f80, 0x7fc0]);
    const bfExpect = [1, -3, 3.140625, 9.183549615799121e-41, Infinity];
    const data = Buffer.concat([Buffer.from(h.buffer), Buffer.from(bf.buffer)]);
    const p = join(dir, 'mixed.safetensors');
    writeFileSync(p, raw({
      h: { dtype: 'F16', shape: [h.length], data_offsets: [0, h.byteLength] },
      b: { dtype: 'BF16', shape: [2, 3], data_offsets: [h.byteLength, h.byteLength + bf.byteLength] },
      i: { dtype: 'I64', shape: [0], data_offsets: [data.length, data.length] },
    }, data));
    const f = SafetensorsFile.open(p);
    try {
      const hv = f.getFloat32('h');
      halves.forEach(([, v], i) => assert.ok(Object.is(hv[i], v), `half ${i}: ${hv[i]} vs ${v}`));
      assert.ok(Number.isNaN(hv[halves.length]));
      const bv = f.getFloat32('b');
      bfExpect.forEach((v, i) => assert.equal(bv[i], Math.fround(v)));
      assert.ok(Number.isNaN(bv[5]));
      assert.throws(() => f.getFloat32('i'), /mixed\.safetensors: tensor 'i' has dtype I64; only F32, F16, BF16/);
    } finally {
      f.close();
    }
  });
  assert.deepEqual([...f16ToF32(new Uint16Array([0x4248]))], [3.140625]);
});

test('writeSafetensors: sorted names, 8-byte aligned space-padded header, round trip, lazy producers, atomic', () => {
  withTmp((dir) => {
    const p = join(dir, 'sub', 'w.safetensors');
    let produced = 0;
    writeSafetensors(p, {
      zeta: { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
      alpha: { shape: [], data: () => (produced++, new Float32Array([Math.PI])) },
      mid: { shape: [3], data: new Float32Array([-1, 0.5, 1e-30]) },
    }, { seed: '7' });
    assert.equal(produced, 1);
    const bytes = readFileSync(p);
    const n = Number(bytes.readBigUInt64LE(0));
    assert.equal(n % 8, 0);
    const text = bytes.subarray(8, 8 + n).toString('utf8');
    assert.match(text, /^\{.*\} *$/);
    const header = JSON.parse(text) as Record<string, { data_offsets: number[] }>;
    assert.deepEqual(Object.keys(header), ['__metadata__', 'alpha', 'mid', 'zeta']);
    assert.deepEqual(header.alpha!.data_offsets, [0, 4]);
    assert.deepEqual(header.mid!.data_offsets, [4, 16]);
    assert.deepEqual(header.zeta!.data_offsets, [16, 32]);
    assert.equal(bytes.length, 8 + n + 32);
    const f = SafetensorsFile.open(p);
    try {
      assert.deepEqual(f.metadata, { seed: '7' });
      assert.deepEqual(f.info('alpha').shape, []);
      assert.deepEqual([...f.getFloat32('alpha')], [Math.fround(Math.PI)]);
      assert.deepEqual([...f.getFloat32('mid')], [-1, 0.5, Math.fround(1e-30)]);
      assert.deepEqual([...f.getFloat32('zeta')], [1, 2, 3, 4]);
    } finally {
      f.close();
    }
    // A failing producer leaves neither the target nor a temp file behind.
    const q = join(dir, 'fail.safetensors');
    assert.throws(() => writeSafetensors(q, [{ name: 'a', shape: [3], data: new Float32Array(2) }]), /tensor 'a' has 2 values but shape \[3\] needs 3/);
    assert.deepEqual(readdirSync(dir).sort(), ['sub']);
  });
});

test('rejects a file shorter than 8 bytes', () => {
  expectOpenError(new Uint8Array([1, 2, 3]), /not a safetensors file \(only 3 bytes/);
});

test('rejects a header length beyond the end of the file (truncated)', () => {
  const full = raw({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4));
  expectOpenError(full.subarray(0, 20), /header length \d+ runs past the end of the file \(20 bytes\)/);
  const huge = Buffer.alloc(16);
  huge.writeBigUInt64LE(0xffffffffffffn);
  expectOpenError(huge, /header length 281474976710655 runs past the end/);
});

test('rejects a truncated data section naming the tensor', () => {
  const full = raw({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12));
  expectOpenError(full.subarray(0, full.length - 3), /tensor 'b': data_offsets \[4, 12\] run past the end of the data section \(9 bytes\); the file is truncated/);
});

test('rejects a header that is not JSON, or not an object', () => {
  expectOpenError(raw(null, new Uint8Array(0), '{"a": [1, 2'), /header is not valid UTF-8 JSON/);
  expectOpenError(raw(null, new Uint8Array(0), '[1, 2, 3]'), /header must be a JSON object/);
  expectOpenError(raw(null, new Uint8Array(0), Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('latin1')), /header is not valid UTF-8 JSON/);
});

test('rejects malformed entries naming the key', () => {
  const d = new Uint8Array(8);
  expectOpenError(raw({ w: { dtype: 'Q4', shape: [2], data_offsets: [0, 8] } }, d), /tensor 'w': unsupported dtype "Q4"/);
  expectOpenError(raw({ w: { shape: [2], data_offsets: [0, 8] } }, d), /tensor 'w': missing dtype/);
  expectOpenError(raw({ w: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 8] } }, d), /tensor 'w': shape must be a list of non-negative integers/);
  expectOpenError(raw({ w: { dtype: 'F32', shape: [2] } }, d), /tensor 'w': data_offsets must be \[begin, end\]/);
  expectOpenError(raw({ w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, d), /tensor 'w': data_offsets \[8, 0\] end before begin/);
  expectOpenError(raw({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, d), /tensor 'w': data_offsets \[0, 8\] hold 8 bytes but F32 \[3\] needs 12/);
  expectOpenError(raw({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 16] } }, d), /tensor 'w': data_offsets \[0, 16\] run past the end/);
  expectOpenError(raw({ w: 5 }, d), /tensor 'w': header entry must be an object/);
  expectOpenError(raw({ __metadata__: { seed: 3 } }, d), /__metadata__\.seed must be a string/);
});

test('rejects overlapping tensors naming both, warns about uncovered bytes', () => {
  expectOpenError(raw({
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
  }, new Uint8Array(12)), /tensor 'b' overlaps tensor 'a'/);
  withTmp((dir) => {
    const p = join(dir, 'gap.safetensors');
    writeFileSync(p, raw({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(12)));
    const f = SafetensorsFile.open(p);
    try {
      assert.equal(f.warnings.length, 1);
      assert.match(f.warnings[0]!, /8 bytes of the data section belong to no tensor/);
    } finally {
      f.close();
    }
  });
});

test('a missing file is an RwdaError naming the path', () => {
  assert.throws(() => SafetensorsFile.open('/nonexistent/x.safetensors'), /\/nonexistent\/x\.safetensors: cannot open safetensors file \(ENOENT\)/);
});
