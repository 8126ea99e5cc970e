import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, openSync, writeSync, closeSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { APPLICATION_ID, EmbeddingStore, SCHEMA_VERSION, sha256Bytes } from '../../src/store/index.ts';
import { RwdaError } from '../../src/errors.ts';

const FP = 'ViT-B-16-plus-240@laion400m_e32:abc123';
const SHA_A = sha256Bytes('image a');
const SHA_B = sha256Bytes('image b');

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'rwda-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function bytes(v: Float32Array): number[] {
  return Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
}

test('image and text embeddings round-trip bit for bit', (t) => {
  const store = EmbeddingStore.open(join(tempDir(t), 'c.sqlite'));
  t.after(() => store.close());
  const special = new Float32Array([0, -0, 1.5, -3.25e-38, 1e-45, 3.4028234663852886e38, Infinity, -Infinity]);
  const nanBits = new Uint32Array([0x7fc00001, 0xffa00000]); // NaNs with payloads
  const withNaN = new Float32Array(10);
  withNaN.set(special);
  withNaN.set(new Float32Array(nanBits.buffer), 8);
  // An input that is a view at a non-zero byteOffset of a larger buffer.
  const big = Float32Array.from({ length: 700 }, (_, i) => Math.sin(i) * 1e3);
  const view = big.subarray(3, 643);
  store.putImages(FP, [
    { sha256: SHA_A, viewId: 'std', embedding: withNaN },
    { sha256: SHA_A, viewId: 'g2_0_1', embedding: view },
  ]);
  store.putTexts(FP, [{ text: 'a photo of a object', embedding: view }]);
  const a = store.getImage(FP, SHA_A, 'std')!;
  assert.deepEqual(bytes(a), bytes(withNaN));
  const b = store.getImage(FP, SHA_A, 'g2_0_1')!;
  assert.equal(b.length, 640);
  assert.deepEqual(bytes(b), bytes(view));
  assert.equal(b.byteOffset, 0);
  assert.deepEqual(bytes(store.getTexts(FP, ['a photo of a object'])[0]!), bytes(view));
  // Returned arrays are copies: changing one does not change the cache.
  b.fill(0);
  assert.deepEqual(bytes(store.getImage(FP, SHA_A, 'g2_0_1')!), bytes(view));
  // Keys are (fingerprint, sha256, view): other combinations miss.
  assert.equal(store.getImage('other-backbone', SHA_A, 'std'), undefined);
  assert.equal(store.getImage(FP, SHA_B, 'std'), undefined);
  assert.equal(store.getImage(FP, SHA_A, 'g3_0_0'), undefined);
  assert.deepEqual(store.getTexts('other-backbone', ['a photo of a object']), [undefined]);
  // A put replaces; dims may differ between rows.
  store.putImages(FP, [{ sha256: SHA_A, viewId: 'std', embedding: Float32Array.from([1, 2, 3]) }]);
  assert.deepEqual(Array.from(store.getImage(FP, SHA_A, 'std')!), [1, 2, 3]);
});

test('batch gets keep order and counters count hits, misses and writes', (t) => {
  const store = EmbeddingStore.open(join(tempDir(t), 'c.sqlite'));
  t.after(() => store.close());
  assert.deepEqual(store.counters, {
    imageHits: 0, imageMisses: 0, imageWrites: 0, textHits: 0, textMisses: 0, textWrites: 0, gridHits: 0, gridMisses: 0, gridWrites: 0, writeTransactions: 0,
  });
  store.putTexts(FP, [
    { text: 'x', embedding: Float32Array.from([1]) },
    { text: 'y', embedding: Float32Array.from([2]) },
  ]);
  const got = store.getTexts(FP, ['y', 'nope', 'x', 'y']);
  assert.deepEqual(got.map((v) => (v ? v[0] : undefined)), [2, undefined, 1, 2]);
  store.putImages(FP, [{ sha256: SHA_B, viewId: 'std', embedding: Float32Array.from([5, 6]) }]);
  const imgs = store.getImages(FP, [
    { sha256: SHA_A, viewId: 'std' },
    { sha256: SHA_B, viewId: 'std' },
  ]);
  assert.deepEqual(imgs.map((v) => (v ? Array.from(v) : undefined)), [undefined, [5, 6]]);
  assert.deepEqual(store.counters, {
    imageHits: 1, imageMisses: 1, imageWrites: 1, textHits: 3, textMisses: 1, textWrites: 2, gridHits: 0, gridMisses: 0, gridWrites: 0, writeTransactions: 2,
  });
  // The getter hands out a copy.
  (store.counters as { textHits: number }).textHits = 99;
  assert.equal(store.counters.textHits, 3);
  // Empty batches write nothing.
  store.putTexts(FP, []);
  assert.equal(store.counters.writeTransactions, 2);
});

test('a batch put of 10,000 text rows is one transaction', (t) => {
  const store = EmbeddingStore.open(join(tempDir(t), 'c.sqlite'));
  t.after(() => store.close());
  const rows = Array.from({ length: 10_000 }, (_, i) => ({
    text: `prompt ${i}`,
    embedding: Float32Array.from({ length: 640 }, (_, j) => i + j / 640),
  }));
  store.putTexts(FP, rows);
  assert.equal(store.counters.writeTransactions, 1);
  assert.equal(store.counters.textWrites, 10_000);
  const back = store.getTexts(FP, rows.map((r) => r.text));
  for (let i = 0; i < rows.length; i += 997) assert.deepEqual(bytes(back[i]!), bytes(rows[i]!.embedding), `row ${i}`);
  assert.ok(back.every((v) => v !== undefined && v.length === 640));
});

test('a batch with one bad row writes nothing', (t) => {
  const store = EmbeddingStore.open(join(tempDir(t), 'c.sqlite'));
  t.after(() => store.close());
  const rows = [
    { text: 'fine', embedding: Float32Array.from([1]) },
    { text: 'bad', embedding: [1, 2] as unknown as Float32Array },
  ];
  assert.throws(() => store.putTexts(FP, rows), /text row 1: embedding must be a non-empty Float32Array/);
  assert.deepEqual(store.getTexts(FP, ['fine']), [undefined]);
  assert.equal(store.counters.writeTransactions, 0);
});

test('the file is in WAL mode with busy_timeout, versioned schema and rwda application_id', (t) => {
  const path = join(tempDir(t), 'sub', 'dir', 'c.sqlite');
  const store = EmbeddingStore.open(path, { busyTimeoutMs: 1234 });
  store.putTexts(FP, [{ text: 'x', embedding: Float32Array.from([1]) }]);
  assert.ok(existsSync(path + '-wal'), 'a -wal file exists while the connection is open');
  const raw = new Database(path);
  try {
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(raw.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(raw.pragma('application_id', { simple: true }), APPLICATION_ID);
    const tables = (raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map(
      (r) => r.name,
    );
    assert.deepEqual(tables, ['detectors', 'image_embeddings', 'run_results', 'text_embeddings', 'token_grids']);
  } finally {
    raw.close();
  }
  const db = (store as unknown as { db: Database.Database }).db;
  assert.equal(db.pragma('busy_timeout', { simple: true }), 1234);
  store.close();
  store.close(); // idempotent
  assert.throws(() => store.getTexts(FP, ['x']), (e: unknown) => e instanceof RwdaError && /is closed/.test(e.message));
  // Reopening an up-to-date file runs no migration and keeps the rows.
  const again = EmbeddingStore.open(path);
  assert.deepEqual(Array.from(again.getTexts(FP, ['x'])[0]!), [1]);
  again.close();
});

test('open() without a path uses $RWDA_HOME/cache.sqlite', (t) => {
  const dir = tempDir(t);
  const saved = process.env.RWDA_HOME;
  process.env.RWDA_HOME = join(dir, 'home');
  t.after(() => {
    if (saved === undefined) delete process.env.RWDA_HOME;
    else process.env.RWDA_HOME = saved;
  });
  const store = EmbeddingStore.open();
  assert.equal(store.path, join(dir, 'home', 'cache.sqlite'));
  store.close();
  assert.ok(statSync(join(dir, 'home', 'cache.sqlite')).isFile());
});

test('a file that is not a database gives an RwdaError naming the path', (t) => {
  const path = join(tempDir(t), 'junk.sqlite');
  writeFileSync(path, Buffer.alloc(8192, 'this is not an sqlite file '));
  assert.throws(
    () => EmbeddingStore.open(path),
    (e: unknown) => e instanceof RwdaError && e.message.includes(path) && /not an SQLite database/.test(e.message),
  );
});

test('a database with damaged pages gives an RwdaError naming the path on read', (t) => {
  const path = join(tempDir(t), 'c.sqlite');
  const store = EmbeddingStore.open(path);
  store.putTexts(
    FP,
    Array.from({ length: 400 }, (_, i) => ({ text: `t${i}`, embedding: new Float32Array(256).fill(i) })),
  );
  store.close(); // checkpoints the WAL into the main file
  const size = statSync(path).size;
  assert.ok(size > 100_000, `size ${size}`);
  // Overwrite everything after the first two pages (header and schema stay readable).
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(size - 8192, 0xa5), 0, size - 8192, 8192);
  closeSync(fd);
  assert.throws(
    () => {
      const s = EmbeddingStore.open(path);
      try {
        s.getTexts(FP, Array.from({ length: 400 }, (_, i) => `t${i}`));
      } finally {
        s.close();
      }
    },
    (e: unknown) => e instanceof RwdaError && e.message.includes(path) && /corrupt|not an SQLite/.test(e.message),
  );
});

test('foreign SQLite files and newer schema versions are refused, untouched', (t) => {
  const dir = tempDir(t);
  const foreign = join(dir, 'foreign.sqlite');
  const raw = new Database(foreign);
  raw.exec('CREATE TABLE notes (x TEXT)');
  raw.close();
  assert.throws(() => EmbeddingStore.open(foreign), (e: unknown) => e instanceof RwdaError && /not an rwda cache \(it has tables notes\)/.test(e.message));
  const raw2 = new Database(foreign);
  assert.equal(raw2.pragma('user_version', { simple: true }), 0);
  raw2.close();

  const other = join(dir, 'other-app.sqlite');
  const raw3 = new Database(other);
  raw3.pragma('application_id = 42');
  raw3.close();
  assert.throws(() => EmbeddingStore.open(other), /another application \(application_id 42\)/);

  const newer = join(dir, 'newer.sqlite');
  EmbeddingStore.open(newer).close();
  const raw4 = new Database(newer);
  raw4.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  raw4.close();
  assert.throws(
    () => EmbeddingStore.open(newer),
    (e: unknown) => e instanceof RwdaError && e.message.includes(newer) && e.message.includes(`schema version ${SCHEMA_VERSION + 1} is newer`),
  );
});

test('a lock held beyond the busy timeout gives an RwdaError naming the path; nothing is half-written', (t) => {
  const path = join(tempDir(t), 'c.sqlite');
  const a = EmbeddingStore.open(path);
  const b = EmbeddingStore.open(path, { busyTimeoutMs: 150 });
  t.after(() => {
    a.close();
    b.close();
  });
  a.putTexts(FP, [{ text: 'before', embedding: Float32Array.from([1]) }]);
  const holder = new Database(path);
  holder.exec('BEGIN IMMEDIATE');
  try {
    assert.throws(
      () => b.putTexts(FP, [{ text: 'blocked', embedding: Float32Array.from([2]) }]),
      (e: unknown) => e instanceof RwdaError && e.message.includes(path) && /locked .* 150 ms busy timeout/.test(e.message),
    );
    // WAL: readers are not blocked by the writer.
    assert.deepEqual(Array.from(b.getTexts(FP, ['before'])[0]!), [1]);
  } finally {
    holder.exec('ROLLBACK');
    holder.close();
  }
  assert.deepEqual(b.getTexts(FP, ['blocked']), [undefined]);
  b.putTexts(FP, [{ text: 'after', embedding: Float32Array.from([3]) }]);
  assert.deepEqual(Array.from(a.getTexts(FP, ['after'])[0]!), [3]);
});

test('run results: JSON round trip, timestamps, prefixes, delete', async (t) => {
  const store = EmbeddingStore.open(join(tempDir(t), 'c.sqlite'));
  t.after(() => store.close());
  const value = { auroc: 0.91234567890123, per_class: { bottle: [1, 2.5, null] }, note: 'ü ✓' };
  assert.equal(store.getResult('run/a'), undefined);
  store.putResult('run/a', value);
  store.putResult('run/b', 3);
  store.putResult('other', 'x');
  assert.deepEqual(store.getResult('run/a'), value);
  const first = store.getResultEntry('run/a')!;
  assert.match(first.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(first.createdAt, first.updatedAt);
  await new Promise((r) => setTimeout(r, 5));
  store.putResult('run/a', { auroc: 0.5 });
  const second = store.getResultEntry('run/a')!;
  assert.deepEqual(second.value, { auroc: 0.5 });
  assert.equal(second.createdAt, first.createdAt);
  assert.ok(second.updatedAt > first.updatedAt);
  assert.deepEqual(store.resultKeys('run/'), ['run/a', 'run/b']);
  assert.deepEqual(store.resultKeys(), ['other', 'run/a', 'run/b']);
  assert.deepEqual(store.resultKeys('%'), []);
  assert.equal(store.deleteResult('run/b'), true);
  assert.equal(store.deleteResult('run/b'), false);
  assert.equal(store.getResult('run/b'), undefined);
  assert.throws(() => store.putResult('k', undefined), /result "k" is not JSON-serialisable/);
  assert.throws(() => store.putResult('k', { n: 1n }), /not JSON-serialisable/);
  assert.throws(() => store.putResult('', 1), /result key/);
});

test('detector index: put, update, list, delete', (t) => {
  const store = EmbeddingStore.open(join(tempDir(t), 'c.sqlite'));
  t.after(() => store.close());
  store.putDetector({ name: 'mvtec-b16', path: '/d/mvtec.rwda', fingerprint: FP, meta: { epochs: 2 } });
  store.putDetector({ name: 'a-first', path: '/d/a.rwda', fingerprint: FP });
  assert.deepEqual(store.listDetectors().map((d) => d.name), ['a-first', 'mvtec-b16']);
  const d = store.getDetector('mvtec-b16')!;
  assert.deepEqual([d.path, d.fingerprint, d.meta], ['/d/mvtec.rwda', FP, { epochs: 2 }]);
  assert.deepEqual(store.getDetector('a-first')!.meta, {});
  store.putDetector({ name: 'mvtec-b16', path: '/d/v2.rwda', fingerprint: FP, meta: { epochs: 3 } });
  assert.equal(store.getDetector('mvtec-b16')!.path, '/d/v2.rwda');
  assert.equal(store.getDetector('mvtec-b16')!.createdAt, d.createdAt);
  assert.equal(store.deleteDetector('a-first'), true);
  assert.equal(store.getDetector('a-first'), undefined);
  assert.throws(() => store.putDetector({ name: 'x', path: '', fingerprint: FP }), /detector x: path/);
});

test('bad keys and embeddings raise RwdaError naming the field', (t) => {
  const store = EmbeddingStore.open(join(tempDir(t), 'c.sqlite'));
  t.after(() => store.close());
  const e = Float32Array.from([1]);
  assert.throws(() => store.putTexts('', [{ text: 'x', embedding: e }]), /fingerprint/);
  assert.throws(() => store.putImages(FP, [{ sha256: 'ABC', viewId: 'std', embedding: e }]), /image row 0: sha256/);
  assert.throws(() => store.putImages(FP, [{ sha256: SHA_A.toUpperCase(), viewId: 'std', embedding: e }]), /sha256/);
  assert.throws(() => store.putImages(FP, [{ sha256: SHA_A, viewId: '', embedding: e }]), /viewId/);
  assert.throws(() => store.putImages(FP, [{ sha256: SHA_A, viewId: 'std', embedding: new Float32Array(0) }]), /embedding/);
  assert.throws(() => store.getImages(FP, [{ sha256: SHA_A, viewId: 'std' }, { sha256: 'x', viewId: 'std' }]), /image row 1/);
  assert.throws(() => store.putTexts(FP, [{ text: 5 as unknown as string, embedding: e }]), /text row 0: text must be a string/);
  assert.throws(() => EmbeddingStore.open(join(tempDir(t), 'd.sqlite'), { busyTimeoutMs: -1 }), /busyTimeoutMs/);
});

test('an in-memory store works (no WAL needed)', () => {
  const store = EmbeddingStore.open(':memory:');
  store.putTexts(FP, [{ text: 'x', embedding: Float32Array.from([4]) }]);
  assert.deepEqual(Array.from(store.getTexts(FP, ['x'])[0]!), [4]);
  store.close();
});

test('token grids round-trip bit for bit, keyed by (fingerprint, sha256, kind), and count hits and misses', (t) => {
  const store = EmbeddingStore.open(join(tempDir(t), 'c.sqlite'));
  t.after(() => store.close());
  const sha = 'ab'.repeat(32);
  const data = Float32Array.from({ length: 12 }, (_, i) => Math.fround(i / 7 - 0.5));
  store.putGrids('fp', [{ sha256: sha, kind: 'windows:2', rows: 3, data }]);
  const [hit, miss, other] = store.getGrids('fp', [{ sha256: sha, kind: 'windows:2' }, { sha256: sha, kind: 'patches' }, { sha256: sha, kind: 'windows:2' }]);
  assert.deepEqual(Array.from(hit!.data), Array.from(data));
  assert.equal(hit!.rows, 3);
  assert.equal(miss, undefined);
  assert.ok(other);
  assert.equal(store.getGrids('fp2', [{ sha256: sha, kind: 'windows:2' }])[0], undefined, 'another fingerprint misses');
  assert.equal(store.counters.gridHits, 2);
  assert.equal(store.counters.gridMisses, 2);
  assert.equal(store.counters.gridWrites, 1);
  assert.throws(() => store.putGrids('fp', [{ sha256: sha, kind: 'x', rows: 5, data }]), /not a whole number of 5 rows/);
});

test('a version-1 cache is migrated in place: its embeddings stay, token_grids is added', (t) => {
  const path = join(tempDir(t), 'v1.sqlite');
  const s1 = EmbeddingStore.open(path);
  const e = Float32Array.from([1, 2, 3]);
  s1.putTexts('fp', [{ text: 'a photo of a object', embedding: e }]);
  s1.close();
  const raw = new Database(path);
  raw.exec('DROP TABLE token_grids');
  raw.pragma('user_version = 1');
  raw.close();
  const s2 = EmbeddingStore.open(path);
  t.after(() => s2.close());
  assert.deepEqual(Array.from(s2.getTexts('fp', ['a photo of a object'])[0]!), [1, 2, 3]);
  s2.putGrids('fp', [{ sha256: 'cd'.repeat(32), kind: 'patches', rows: 1, data: e }]);
  const raw2 = new Database(path);
  assert.equal(raw2.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  raw2.close();
});
