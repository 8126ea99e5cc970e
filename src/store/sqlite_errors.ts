/** Turns better-sqlite3 errors into RwdaErrors that name the database file and say what to do. */
import { RwdaError, type RwdaErrorCode } from '../errors.ts';

interface SqliteLike {
  code?: unknown;
  message?: unknown;
}

/** The RwdaError for an error raised while `action` on the cache at `path` (RwdaErrors pass through). */
export function sqliteError(err: unknown, path: string, action: string, busyTimeoutMs: number): RwdaError {
  if (err instanceof RwdaError) return err;
  const e = (err ?? {}) as SqliteLike;
  const code = typeof e.code === 'string' ? e.code : '';
  const msg = typeof e.message === 'string' ? e.message : String(err);
  let text: string;
  // Corruption, permissions and a full disk are the storage's trouble; another file or process in the way is a conflict.
  let kind: RwdaErrorCode = 'io';
  if (code === 'SQLITE_NOTADB') {
    text = `${path} is not an SQLite database (${msg}); delete it or point RWDA_HOME elsewhere to start a new cache`;
    kind = 'conflict';
  } else if (code.startsWith('SQLITE_CORRUPT')) {
    text = `${path} is corrupt (${msg}); delete it to rebuild the cache`;
  } else if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    text = `${path} is locked by another connection and stayed locked beyond the ${busyTimeoutMs} ms busy timeout (${action})`;
    kind = 'conflict';
  } else if (code.startsWith('SQLITE_CANTOPEN')) {
    text = `cannot open cache database ${path} (${msg})`;
  } else if (code.startsWith('SQLITE_READONLY')) {
    text = `cache database ${path} is read-only (${msg})`;
  } else if (code === 'SQLITE_FULL') {
    text = `cache database ${path}: disk full while ${action}`;
  } else {
    text = `cache database ${path}: ${action} failed: ${msg}`;
  }
  return new RwdaError(text, { code: kind, cause: err });
}
