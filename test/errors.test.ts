// RwdaError codes: the default, and one real throw site per code (what callers branch on instead of message text).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { RwdaError, fsErrorCode, type RwdaErrorCode } from '../src/errors.ts';
import { RwdaError as PublicRwdaError } from '../src/index.ts';
import { parseCsv, readCsvFile } from '../src/data/csv.ts';
import { builtinConfigPath } from '../src/clip/config.ts';
import { openWithRedirects } from '../src/clip/hub/http.ts';
import { ensureOutDir } from '../src/util/outdir.ts';
import { writeFileAtomic } from '../src/util/atomic.ts';
import { sqliteError } from '../src/store/sqlite_errors.ts';
import { Detector } from '../src/methods/rwda/detector.ts';
import { trainDetector } from '../src/methods/rwda/train_detector.ts';
import { stubBackbone } from './method/detector_stub.ts';

const TMP = mkdtempSync(join(tmpdir(), 'rwda-errors-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

/** Runs `f`, expecting an RwdaError with `code` whose message matches `re`. */
async function throwsCode(f: () => unknown, code: RwdaErrorCode, re: RegExp): Promise<void> {
  try {
    await f();
  } catch (err) {
    assert.ok(err instanceof RwdaError, `not an RwdaError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, re);
    return;
  }
  assert.fail(`expected an RwdaError (${code})`);
}

test('the default code is bad_input; the old call shapes still work; cause is kept only when given', () => {
  assert.equal(PublicRwdaError, RwdaError);
  const plain = new RwdaError('m');
  assert.equal(plain.code, 'bad_input');
  assert.equal(plain.name, 'RwdaError');
  assert.equal('cause' in plain, false);
  const cause = new Error('inner');
  const withCause = new RwdaError('m', { cause });
  assert.equal(withCause.code, 'bad_input');
  assert.equal(withCause.cause, cause);
  const both = new RwdaError('m', { code: 'io', cause });
  assert.deepEqual([both.code, both.cause, both.message], ['io', cause, 'm']);
});

test('fsErrorCode: ENOENT → not_found, EISDIR → bad_input, anything else → io', () => {
  const e = (code: string | undefined) => Object.assign(new Error(code ?? 'x'), code ? { code } : {});
  assert.deepEqual(['ENOENT', 'EISDIR', 'EACCES', 'ENOSPC', undefined].map((c) => fsErrorCode(e(c))), ['not_found', 'bad_input', 'io', 'io', 'io']);
  assert.equal(fsErrorCode(undefined), 'io');
});

test('bad_input: a malformed CSV', async () => {
  await throwsCode(() => parseCsv('a,"b', 'x.csv'), 'bad_input', /x\.csv: line 1: unterminated quoted field/);
});

test('not_found: a missing CSV file, a missing detector folder', async () => {
  await throwsCode(() => readCsvFile(join(TMP, 'absent.csv')), 'not_found', /absent\.csv: CSV file not found/);
  await throwsCode(() => Detector.load(join(TMP, 'no-detector'), stubBackbone('fp-A')), 'not_found', /^detector not found: /);
});

test('unsupported: an architecture rwda ships no config for', async () => {
  await throwsCode(() => builtinConfigPath('ViT-H-14'), 'unsupported', /unknown model architecture 'ViT-H-14'/);
});

test('io: a write that the file system refuses; a full disk in the cache', async () => {
  const file = join(TMP, 'a-file');
  writeFileSync(file, 'x');
  await throwsCode(() => writeFileAtomic(join(file, 'below.json'), '{}'), 'io', /cannot write .*a-file[/]below\.json/);
  await throwsCode(() => ensureOutDir('--out', join(file, 'run')), 'io', /--out .*a-file[/]run: cannot create the directory/);
  const full = sqliteError(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }), '/c.sqlite', 'writing', 1000);
  assert.deepEqual([full.code, full.message], ['io', 'cache database /c.sqlite: disk full while writing']);
});

test('network: a server that redirects forever', async () => {
  const server = http.createServer((req, res) => res.writeHead(302, { location: `/r${req.url}` }).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const start = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`);
    await throwsCode(() => openWithRedirects(start, { tokenOrigin: start.origin, idleTimeoutMs: 5000, maxRedirects: 2 }), 'network', /too many redirects \(more than 2\)/);
  } finally {
    server.close();
  }
});

test('conflict: a detector trained for another backbone; --out taken by a file; a cache locked by another process', async () => {
  const dir = join(TMP, 'det');
  const detector = await trainDetector(stubBackbone('fp-A'), { pairs: 8, hidden: [4], epochs: 1, batchSize: 8 });
  detector.save(dir);
  await throwsCode(() => Detector.load(dir, stubBackbone('fp-B')), 'conflict', /was trained for backbone stub \(fingerprint fp-A\)/);
  mkdirSync(join(TMP, 'out'));
  writeFileSync(join(TMP, 'out', 'file'), 'x');
  await throwsCode(() => ensureOutDir('--out', join(TMP, 'out', 'file')), 'conflict', /exists and is not a directory/);
  const busy = sqliteError(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }), '/c.sqlite', 'writing', 1000);
  assert.equal(busy.code, 'conflict');
});
