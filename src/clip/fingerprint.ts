/**
 * A backbone's identity: sha256 over the resolved config and the weights file's bytes. Anything
 * derived from a backbone (cached text features, exported ONNX graphs) is keyed by it.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RwdaError, fsErrorCode } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { rwdaHome } from '../util/cachedir.ts';
import { type ClipConfig, loadConfigFile, MODEL_DIR_CONFIG } from './config.ts';

/** Weights file name inside a model directory (the Hugging Face hub layout). */
export const MODEL_DIR_WEIGHTS = 'open_clip_model.safetensors';

/** Bumped if the fingerprint's definition changes, so old and new ids never collide. */
const FINGERPRINT_VERSION = 'rwda-backbone-fingerprint-v1';

export interface FingerprintOptions {
  /** Where weight hashes are cached; default `rwdaHome()/fingerprints`. */
  cacheDir?: string;
}

/** JSON with object keys sorted at every level, so equal configs give equal bytes. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** sha256 (hex) of a file's bytes, read in chunks. */
export function fileSha256(path: string): string {
  const hash = createHash('sha256');
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new RwdaError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { code: fsErrorCode(err), cause: err });
  }
  try {
    const buf = Buffer.allocUnsafe(8 << 20);
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

interface CacheEntry {
  path: string;
  size: number;
  mtimeMs: number;
  sha256: string;
}

/**
 * sha256 of a weights file, cached by (realpath, size, mtimeMs): hashing 830 MB takes seconds,
 * and a file rewritten in place changes at least its mtime.
 */
export function weightsSha256(path: string, opts: FingerprintOptions = {}): string {
  let real: string;
  try {
    real = realpathSync(path);
  } catch (err) {
    throw new RwdaError(`${path}: cannot read weights (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { code: fsErrorCode(err), cause: err });
  }
  const st = statSync(real);
  const dir = opts.cacheDir ?? join(rwdaHome(), 'fingerprints');
  const entryPath = join(dir, `${createHash('sha256').update(real).digest('hex').slice(0, 32)}.json`);
  try {
    const e = JSON.parse(readFileSync(entryPath, 'utf8')) as Partial<CacheEntry>;
    if (e.path === real && e.size === st.size && e.mtimeMs === st.mtimeMs && typeof e.sha256 === 'string' && /^[0-9a-f]{64}$/.test(e.sha256)) {
      return e.sha256;
    }
  } catch {
    // No entry, or an unreadable one: recompute below and overwrite it.
  }
  const sha256 = fileSha256(real);
  // Re-stat so a file modified while hashing is not cached under its new mtime with old bytes.
  const after = statSync(real);
  if (after.size === st.size && after.mtimeMs === st.mtimeMs) {
    const entry: CacheEntry = { path: real, size: st.size, mtimeMs: st.mtimeMs, sha256 };
    try {
      writeFileAtomic(entryPath, JSON.stringify(entry) + '\n');
    } catch {
      // The cache is an optimisation; a read-only cache dir must not stop the caller.
    }
  }
  return sha256;
}

/** The fingerprint of an already resolved config and a weights file's sha256. */
export function fingerprintOf(cfg: ClipConfig, weightsSha: string): string {
  const { name: _name, ...arch } = cfg; // the display name does not change the computation
  const payload = canonicalJson({ version: FINGERPRINT_VERSION, config: arch, weights_sha256: weightsSha });
  return createHash('sha256').update(payload).digest('hex');
}

/**
 * sha256 (hex) identifying a backbone: its resolved config (name excluded) and its weights' bytes.
 * Accepts a model directory (open_clip_config.json + open_clip_model.safetensors) or explicit paths.
 */
export function backboneFingerprint(
  model: string | { configPath: string; weightsPath: string },
  opts: FingerprintOptions = {},
): string {
  const { configPath, weightsPath } =
    typeof model === 'string' ? { configPath: join(model, MODEL_DIR_CONFIG), weightsPath: join(model, MODEL_DIR_WEIGHTS) } : model;
  const cfg = loadConfigFile(configPath);
  return fingerprintOf(cfg, weightsSha256(weightsPath, opts));
}
