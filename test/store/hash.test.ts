import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Bytes, sha256File } from '../../src/store/index.ts';
import { RwdaError } from '../../src/errors.ts';
import { Rng } from '../../src/util/rng.ts';

test('sha256File: FIPS 180-2 vectors, and files spanning several read chunks', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rwda-hash-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cases: Array<[string, Uint8Array | string, string]> = [
    ['empty', '', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    [
      'two-block',
      'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    ],
  ];
  for (const [name, data, want] of cases) {
    const p = join(dir, name);
    writeFileSync(p, data);
    assert.equal(await sha256File(p), want, name);
    assert.equal(sha256Bytes(data), want, name);
  }
  // 2.5 MiB of pseudo-random bytes: three 1 MiB stream chunks, hashed in order.
  const rng = new Rng(4);
  const words = new Uint32Array((2.5 * 1024 * 1024) / 4);
  for (let i = 0; i < words.length; i++) words[i] = rng.nextUint32();
  const big = new Uint8Array(words.buffer);
  const p = join(dir, 'big.bin');
  writeFileSync(p, big);
  assert.equal(await sha256File(p), createHash('sha256').update(big).digest('hex'));
});

test('sha256File: a missing file or a directory gives an RwdaError naming the path', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rwda-hash-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const missing = join(dir, 'nope.png');
  await assert.rejects(sha256File(missing), (e: unknown) => e instanceof RwdaError && e.message === `cannot hash ${missing}: no such file`);
  await assert.rejects(sha256File(dir), (e: unknown) => e instanceof RwdaError && e.message.includes(dir) && /directory/.test(e.message));
});
