/**
 * The cache database's schema and its migrations. `PRAGMA user_version` holds the schema version;
 * `PRAGMA application_id` marks the file as rwda's so a foreign SQLite file is never altered.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { RwdaError } from '../errors.ts';

/** "rwda" in ASCII, stored in the SQLite header. */
export const APPLICATION_ID = 0x72776461;

/** Migration i takes the schema from version i to i + 1. Append only; never edit a shipped one. */
const MIGRATIONS: ReadonlyArray<(db: BetterSqlite3.Database) => void> = [
  (db) => {
    // Rowid tables (not WITHOUT ROWID): rows carry 2–3 KB blobs, far above the size where
    // WITHOUT ROWID pays off.
    db.exec(`
      CREATE TABLE image_embeddings (
        fingerprint TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        view_id TEXT NOT NULL,
        dim INTEGER NOT NULL CHECK (dim > 0),
        embedding BLOB NOT NULL CHECK (length(embedding) = 4 * dim),
        PRIMARY KEY (fingerprint, sha256, view_id)
      );
      CREATE TABLE text_embeddings (
        fingerprint TEXT NOT NULL,
        text TEXT NOT NULL,
        dim INTEGER NOT NULL CHECK (dim > 0),
        embedding BLOB NOT NULL CHECK (length(embedding) = 4 * dim),
        PRIMARY KEY (fingerprint, text)
      );
      CREATE TABLE run_results (
        key TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL CHECK (json_valid(value)),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE detectors (
        name TEXT PRIMARY KEY NOT NULL,
        path TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        meta TEXT NOT NULL CHECK (json_valid(meta)),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
    `);
  },
  (db) => {
    // Token grids: a method's dense per-image embeddings (WinCLIP's window embeddings of one scale,
    // the unprojected patch tokens), kept apart from image_embeddings, which holds one pooled
    // vector per view. `kind` names the grid ("windows:2", "patches"); `rows` × `dim` float32.
    db.exec(`
      CREATE TABLE token_grids (
        fingerprint TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        kind TEXT NOT NULL,
        rows INTEGER NOT NULL CHECK (rows > 0),
        dim INTEGER NOT NULL CHECK (dim > 0),
        data BLOB NOT NULL CHECK (length(data) = 4 * rows * dim),
        PRIMARY KEY (fingerprint, sha256, kind)
      );
    `);
  },
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

function intPragma(db: BetterSqlite3.Database, name: string): number {
  return Number(db.pragma(name, { simple: true }));
}

/** Brings the database to SCHEMA_VERSION, refusing files that are not rwda caches or are newer. */
export function migrate(db: BetterSqlite3.Database, path: string): void {
  const check = (): number => {
    const version = intPragma(db, 'user_version');
    const appId = intPragma(db, 'application_id');
    if (appId !== 0 && appId !== APPLICATION_ID) {
      throw new RwdaError(`${path} is an SQLite database of another application (application_id ${appId}), not an rwda cache`, { code: 'conflict' });
    }
    if (version > SCHEMA_VERSION) {
      throw new RwdaError(
        `${path}: cache schema version ${version} is newer than this rwda supports (${SCHEMA_VERSION}); upgrade rwda or point RWDA_HOME elsewhere`,
        { code: 'unsupported' },
      );
    }
    if (version === 0) {
      const tables = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .all() as Array<{ name: string }>;
      if (tables.length > 0) {
        throw new RwdaError(
          `${path} is an SQLite database but not an rwda cache (it has tables ${tables.map((t) => t.name).join(', ')})`,
          { code: 'conflict' },
        );
      }
    }
    return version;
  };
  if (check() === SCHEMA_VERSION) return;
  // IMMEDIATE takes the write lock first, so two processes opening a fresh file cannot both migrate;
  // the version is read again under the lock.
  db.transaction(() => {
    for (let v = check(); v < SCHEMA_VERSION; v++) MIGRATIONS[v]!(db);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
