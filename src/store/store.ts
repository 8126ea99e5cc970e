/**
 * The on-disk cache: image and text embeddings keyed by backbone fingerprint, run results and a
 * detector index, in one SQLite file (WAL mode, so readers never block the writer and a killed
 * process leaves only whole transactions). Every write is one transaction per call.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { RwdaError } from '../errors.ts';
import { rwdaHome } from '../util/cachedir.ts';
import { decodeEmbedding, encodeEmbedding } from './blob.ts';
import { migrate } from './schema.ts';
import { sqliteError } from './sqlite_errors.ts';

/** Cache file name under rwdaHome(). */
export const CACHE_FILE = 'cache.sqlite';
/** Default wait for another connection's lock before giving up. */
export const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

/** Identifies one view of one image file. */
export interface ImageKey {
  sha256: string;
  viewId: string;
}
/** An image embedding to store. */
export interface ImageRow extends ImageKey {
  embedding: Float32Array;
}
/** A text embedding to store. */
export interface TextRow {
  text: string;
  embedding: Float32Array;
}
/** A stored run result with its timestamps (ISO 8601, UTC). */
export interface ResultEntry {
  value: unknown;
  createdAt: string;
  updatedAt: string;
}
/** An entry of the detector index. */
export interface DetectorEntry {
  name: string;
  path: string;
  fingerprint: string;
  meta: unknown;
  createdAt: string;
  updatedAt: string;
}
/** Cache statistics of this connection. */
export interface StoreCounters {
  imageHits: number;
  imageMisses: number;
  imageWrites: number;
  textHits: number;
  textMisses: number;
  textWrites: number;
  gridHits: number;
  gridMisses: number;
  gridWrites: number;
  /** Write transactions committed by this connection (a batch put is one). */
  writeTransactions: number;
}
/** One stored token grid: `rows` × `dim` float32 values of one image under one kind. */
export interface GridRow {
  sha256: string;
  kind: string;
  rows: number;
  data: Float32Array;
}

/** Options of EmbeddingStore.open. */
export interface StoreOptions {
  /** How long to wait for another connection's lock (ms). */
  busyTimeoutMs?: number;
}

const SHA256_RE = /^[0-9a-f]{64}$/;

interface EmbeddingRow {
  dim: number;
  embedding: Buffer;
}

function checkFingerprint(fp: unknown): string {
  if (typeof fp !== 'string' || fp.length === 0) {
    throw new RwdaError(`cache: backbone fingerprint must be a non-empty string, got ${JSON.stringify(fp)}`);
  }
  return fp;
}

function checkImageKey(k: ImageKey, i: number): void {
  if (typeof k?.sha256 !== 'string' || !SHA256_RE.test(k.sha256)) {
    throw new RwdaError(`cache: image row ${i}: sha256 must be 64 lowercase hex digits, got ${JSON.stringify(k?.sha256)}`);
  }
  if (typeof k.viewId !== 'string' || k.viewId.length === 0) {
    throw new RwdaError(`cache: image row ${i}: viewId must be a non-empty string, got ${JSON.stringify(k.viewId)}`);
  }
}

function checkEmbedding(e: unknown, what: string): void {
  if (!(e instanceof Float32Array) || e.length === 0) {
    throw new RwdaError(`cache: ${what}: embedding must be a non-empty Float32Array`);
  }
}

function checkText(t: unknown, i: number): void {
  if (typeof t !== 'string') throw new RwdaError(`cache: text row ${i}: text must be a string, got ${typeof t}`);
}

function checkKey(key: unknown, what: string): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new RwdaError(`cache: ${what} must be a non-empty string, got ${JSON.stringify(key)}`);
  }
  return key;
}

function toJson(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new RwdaError(`cache: ${what} is not JSON-serialisable (${(err as Error).message})`, { cause: err });
  }
  if (text === undefined) throw new RwdaError(`cache: ${what} is not JSON-serialisable (${typeof value})`);
  return text;
}

/** Embedding cache, run results and detector index in one SQLite file. */
export class EmbeddingStore {
  /** Absolute path of the database file (or ":memory:"). */
  readonly path: string;
  private db: BetterSqlite3.Database | undefined;
  private readonly busyTimeoutMs: number;
  private readonly stats: StoreCounters = {
    imageHits: 0,
    imageMisses: 0,
    imageWrites: 0,
    textHits: 0,
    textMisses: 0,
    textWrites: 0,
    gridHits: 0,
    gridMisses: 0,
    gridWrites: 0,
    writeTransactions: 0,
  };
  private readonly stmts: Map<string, BetterSqlite3.Statement> = new Map();

  private constructor(path: string, db: BetterSqlite3.Database, busyTimeoutMs: number) {
    this.path = path;
    this.db = db;
    this.busyTimeoutMs = busyTimeoutMs;
  }

  /** Opens (creating and migrating if needed) the cache; default $RWDA_HOME/cache.sqlite. */
  static open(path: string = join(rwdaHome(), CACHE_FILE), opts: StoreOptions = {}): EmbeddingStore {
    const busyTimeoutMs = opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
      throw new RwdaError(`cache: busyTimeoutMs must be a non-negative integer, got ${busyTimeoutMs}`);
    }
    const memory = path === ':memory:';
    const abs = memory ? path : resolve(path);
    let db: BetterSqlite3.Database | undefined;
    try {
      if (!memory) mkdirSync(dirname(abs), { recursive: true });
      db = new Database(abs, { timeout: busyTimeoutMs });
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      const mode = String(db.pragma('journal_mode = WAL', { simple: true }));
      if (!memory && mode !== 'wal') throw new RwdaError(`${abs}: could not switch the cache to WAL mode (got ${mode})`, { code: 'io' });
      // NORMAL is the recommended pairing with WAL: committed transactions survive a process crash
      // (only an OS crash can lose the last ones, never corrupt the file).
      db.pragma('synchronous = NORMAL');
      migrate(db, abs);
    } catch (err) {
      db?.close();
      if (err instanceof RwdaError) throw err;
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && !code.startsWith('SQLITE')) {
        throw new RwdaError(`cannot open cache database ${abs}: ${(err as Error).message}`, { code: 'io', cause: err });
      }
      throw sqliteError(err, abs, 'opening', busyTimeoutMs);
    }
    return new EmbeddingStore(abs, db, busyTimeoutMs);
  }

  /** A copy of this connection's hit / miss / write counts. */
  get counters(): Readonly<StoreCounters> {
    return { ...this.stats };
  }

  private conn(): BetterSqlite3.Database {
    if (this.db === undefined) throw new RwdaError(`cache ${this.path} is closed`);
    return this.db;
  }

  private stmt(sql: string): BetterSqlite3.Statement {
    let s = this.stmts.get(sql);
    if (s === undefined) {
      s = this.conn().prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  private guard<T>(action: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw sqliteError(err, this.path, action, this.busyTimeoutMs);
    }
  }

  private write(action: string, fn: () => void): void {
    this.guard(action, () => {
      // IMMEDIATE takes the write lock up front, so a busy database fails (after the timeout)
      // before any work, never half-way through a batch.
      this.conn().transaction(fn).immediate();
      this.stats.writeTransactions++;
    });
  }

  private read<T>(action: string, fn: () => T): T {
    // One read transaction gives the whole batch a consistent snapshot and saves per-row locking.
    return this.guard(action, () => this.conn().transaction(fn).deferred());
  }

  /** One image view's embedding, or undefined. */
  getImage(fp: string, sha256: string, viewId: string): Float32Array | undefined {
    return this.getImages(fp, [{ sha256, viewId }])[0];
  }

  /** Embeddings for many image views (undefined where missing), in the order of `keys`. */
  getImages(fp: string, keys: readonly ImageKey[]): Array<Float32Array | undefined> {
    checkFingerprint(fp);
    keys.forEach(checkImageKey);
    return this.read('reading image embeddings', () => {
      const st = this.stmt(
        'SELECT dim, embedding FROM image_embeddings WHERE fingerprint = ? AND sha256 = ? AND view_id = ?',
      );
      return keys.map((k) => {
        const row = st.get(fp, k.sha256, k.viewId) as EmbeddingRow | undefined;
        if (row === undefined) {
          this.stats.imageMisses++;
          return undefined;
        }
        this.stats.imageHits++;
        return decodeEmbedding(row.embedding, row.dim, `${this.path}: image ${k.sha256} view ${k.viewId}`);
      });
    });
  }

  /** Stores (or replaces) image embeddings, all in one transaction. */
  putImages(fp: string, rows: readonly ImageRow[]): void {
    checkFingerprint(fp);
    rows.forEach((r, i) => {
      checkImageKey(r, i);
      checkEmbedding(r.embedding, `image row ${i}`);
    });
    if (rows.length === 0) return;
    this.write('writing image embeddings', () => {
      const st = this.stmt(
        'INSERT OR REPLACE INTO image_embeddings (fingerprint, sha256, view_id, dim, embedding) VALUES (?, ?, ?, ?, ?)',
      );
      for (const r of rows) st.run(fp, r.sha256, r.viewId, r.embedding.length, encodeEmbedding(r.embedding));
    });
    this.stats.imageWrites += rows.length;
  }

  /** Token grids of many images (undefined where missing), in the order of `keys`. */
  getGrids(fp: string, keys: ReadonlyArray<{ sha256: string; kind: string }>): Array<GridRow | undefined> {
    checkFingerprint(fp);
    keys.forEach((k, i) => {
      checkImageKey({ sha256: k?.sha256 as string, viewId: k?.kind as string }, i);
    });
    return this.read('reading token grids', () => {
      const st = this.stmt('SELECT rows, dim, data FROM token_grids WHERE fingerprint = ? AND sha256 = ? AND kind = ?');
      return keys.map((k) => {
        const row = st.get(fp, k.sha256, k.kind) as { rows: number; dim: number; data: Buffer } | undefined;
        if (row === undefined) {
          this.stats.gridMisses++;
          return undefined;
        }
        this.stats.gridHits++;
        const data = decodeEmbedding(row.data, row.rows * row.dim, `${this.path}: image ${k.sha256} grid ${k.kind}`);
        return { sha256: k.sha256, kind: k.kind, rows: row.rows, data };
      });
    });
  }

  /** Stores (or replaces) token grids, all in one transaction. */
  putGrids(fp: string, rows: readonly GridRow[]): void {
    checkFingerprint(fp);
    rows.forEach((r, i) => {
      checkImageKey({ sha256: r?.sha256 as string, viewId: r?.kind as string }, i);
      checkEmbedding(r.data, `grid row ${i}`);
      if (!Number.isInteger(r.rows) || r.rows < 1 || r.data.length % r.rows !== 0) {
        throw new RwdaError(`cache: grid row ${i} (${r.kind}) has ${r.data.length} values, not a whole number of ${r.rows} rows`);
      }
    });
    if (rows.length === 0) return;
    this.write('writing token grids', () => {
      const st = this.stmt('INSERT OR REPLACE INTO token_grids (fingerprint, sha256, kind, rows, dim, data) VALUES (?, ?, ?, ?, ?, ?)');
      for (const r of rows) st.run(fp, r.sha256, r.kind, r.rows, r.data.length / r.rows, encodeEmbedding(r.data));
    });
    this.stats.gridWrites += rows.length;
  }

  /** Embeddings for many prompt texts (undefined where missing), in the order of `texts`. */
  getTexts(fp: string, texts: readonly string[]): Array<Float32Array | undefined> {
    checkFingerprint(fp);
    texts.forEach(checkText);
    return this.read('reading text embeddings', () => {
      const st = this.stmt('SELECT dim, embedding FROM text_embeddings WHERE fingerprint = ? AND text = ?');
      return texts.map((t) => {
        const row = st.get(fp, t) as EmbeddingRow | undefined;
        if (row === undefined) {
          this.stats.textMisses++;
          return undefined;
        }
        this.stats.textHits++;
        return decodeEmbedding(row.embedding, row.dim, `${this.path}: text ${JSON.stringify(t)}`);
      });
    });
  }

  /** Stores (or replaces) text embeddings, all in one transaction. */
  putTexts(fp: string, rows: readonly TextRow[]): void {
    checkFingerprint(fp);
    rows.forEach((r, i) => {
      checkText(r?.text, i);
      checkEmbedding(r.embedding, `text row ${i}`);
    });
    if (rows.length === 0) return;
    this.write('writing text embeddings', () => {
      const st = this.stmt('INSERT OR REPLACE INTO text_embeddings (fingerprint, text, dim, embedding) VALUES (?, ?, ?, ?)');
      for (const r of rows) st.run(fp, r.text, r.embedding.length, encodeEmbedding(r.embedding));
    });
    this.stats.textWrites += rows.length;
  }

  /** A run result's value (parsed JSON), or undefined. */
  getResult(key: string): unknown {
    return this.getResultEntry(key)?.value;
  }

  /** A run result with its creation and update times, or undefined. */
  getResultEntry(key: string): ResultEntry | undefined {
    checkKey(key, 'result key');
    const row = this.guard('reading a run result', () =>
      this.stmt('SELECT value, created_at, updated_at FROM run_results WHERE key = ?').get(key),
    ) as { value: string; created_at: string; updated_at: string } | undefined;
    if (row === undefined) return undefined;
    return { value: JSON.parse(row.value) as unknown, createdAt: row.created_at, updatedAt: row.updated_at };
  }

  /** Stores a run result as JSON; an existing key keeps its creation time. */
  putResult(key: string, value: unknown): void {
    checkKey(key, 'result key');
    const json = toJson(value, `result ${JSON.stringify(key)}`);
    const now = new Date().toISOString();
    this.write('writing a run result', () => {
      this.stmt(
        `INSERT INTO run_results (key, value, created_at, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      ).run(key, json, now, now);
    });
  }

  /** Keys of stored run results starting with `prefix`, sorted. */
  resultKeys(prefix = ''): string[] {
    const rows = this.guard('listing run results', () =>
      this.stmt('SELECT key FROM run_results WHERE substr(key, 1, length(?)) = ? ORDER BY key').all(prefix, prefix),
    ) as Array<{ key: string }>;
    return rows.map((r) => r.key);
  }

  /** Removes a run result; returns whether it existed. */
  deleteResult(key: string): boolean {
    checkKey(key, 'result key');
    let changes = 0;
    this.write('deleting a run result', () => {
      changes = this.stmt('DELETE FROM run_results WHERE key = ?').run(key).changes;
    });
    return changes > 0;
  }

  /** Records (or updates) a trained detector in the index. */
  putDetector(entry: { name: string; path: string; fingerprint: string; meta?: unknown }): void {
    checkKey(entry?.name, 'detector name');
    checkKey(entry.path, `detector ${entry.name}: path`);
    checkFingerprint(entry.fingerprint);
    const meta = toJson(entry.meta ?? {}, `detector ${entry.name}: meta`);
    const now = new Date().toISOString();
    this.write('writing the detector index', () => {
      this.stmt(
        `INSERT INTO detectors (name, path, fingerprint, meta, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET path = excluded.path, fingerprint = excluded.fingerprint,
           meta = excluded.meta, updated_at = excluded.updated_at`,
      ).run(entry.name, entry.path, entry.fingerprint, meta, now, now);
    });
  }

  /** A detector index entry, or undefined. */
  getDetector(name: string): DetectorEntry | undefined {
    checkKey(name, 'detector name');
    return this.listDetectorsWhere('WHERE name = ?', [name])[0];
  }

  /** All detector index entries, sorted by name. */
  listDetectors(): DetectorEntry[] {
    return this.listDetectorsWhere('', []);
  }

  private listDetectorsWhere(where: string, params: unknown[]): DetectorEntry[] {
    const rows = this.guard('reading the detector index', () =>
      this.stmt(`SELECT name, path, fingerprint, meta, created_at, updated_at FROM detectors ${where} ORDER BY name`).all(
        ...params,
      ),
    ) as Array<{ name: string; path: string; fingerprint: string; meta: string; created_at: string; updated_at: string }>;
    return rows.map((r) => ({
      name: r.name,
      path: r.path,
      fingerprint: r.fingerprint,
      meta: JSON.parse(r.meta) as unknown,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  /** Removes a detector from the index; returns whether it existed. */
  deleteDetector(name: string): boolean {
    checkKey(name, 'detector name');
    let changes = 0;
    this.write('writing the detector index', () => {
      changes = this.stmt('DELETE FROM detectors WHERE name = ?').run(name).changes;
    });
    return changes > 0;
  }

  /** Closes the connection (idempotent); later calls raise RwdaError. */
  close(): void {
    if (this.db === undefined) return;
    const db = this.db;
    this.db = undefined;
    this.stmts.clear();
    try {
      db.close();
    } catch (err) {
      throw sqliteError(err, this.path, 'closing', this.busyTimeoutMs);
    }
  }
}
