/**
 * Resumable, verified download of one hub file: bytes go to `<file>.incomplete` (kept on failure and
 * resumed with `Range: bytes=N-`), the result is checked against the hub's ETag, then renamed into
 * place. Callers hold the model's lock (see index.ts); this module does no locking of its own.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IncomingMessage } from 'node:http';
import { RwdaError } from '../../errors.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { createProgress } from '../../util/progress.ts';
import { actualFor, hashFile, parseEtag, type ChecksumKind, type ExpectedChecksum } from './checksum.ts';
import { IdleWatchdog, StallError, header, openWithRedirects, type Hop } from './http.ts';

export interface FileTarget {
  /** Endpoint root, e.g. https://huggingface.co (no trailing slash). */
  endpoint: string;
  repo: string;
  revision: string;
  file: string;
}

export interface DownloadOptions {
  token?: string;
  /** Abort when no byte arrives for this long. */
  timeoutMs: number;
  /** Automatic resumes after a dropped connection (not after a stall). */
  retries: number;
  quiet?: boolean;
  maxRedirects?: number;
}

export interface DownloadResult {
  file: string;
  size: number;
  sha256: string;
  /** The ETag the file was checked against (X-Linked-Etag first). */
  etag?: string;
  verified: ChecksumKind;
  /** X-Repo-Commit: the commit the revision resolved to. */
  commit?: string;
}

/** `{endpoint}/{repo}/resolve/{revision}/{file}`, each path part percent-encoded. */
export function resolveUrl(t: FileTarget): URL {
  const file = t.file.split('/').map(encodeURIComponent).join('/');
  return new URL(`${t.endpoint}/${t.repo}/resolve/${encodeURIComponent(t.revision)}/${file}`);
}

/** A failure worth resuming from: the connection broke, the data so far is good. */
class Interrupted extends Error {}
/** The partial file cannot be continued; start again from byte 0 (at most once per attempt). */
class Restart extends Error {}

const RETRYABLE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET']);

function isRetryable(err: unknown): boolean {
  if (err instanceof Interrupted) return true;
  if (err instanceof RwdaError || err instanceof StallError) return false;
  const e = err as NodeJS.ErrnoException;
  return RETRYABLE_CODES.has(e?.code ?? '') || /aborted|socket hang up/i.test(e?.message ?? '');
}

function describe(t: FileTarget): string {
  return `'${t.file}' of ${t.repo} (revision ${t.revision})`;
}

/** X-Linked-Etag from any hop, else the ETag of the last answer from the endpoint itself. */
export function expectedChecksum(hops: Hop[], endpointOrigin: string): ExpectedChecksum | undefined {
  for (const h of hops) {
    const linked = parseEtag(header(h.headers, 'x-linked-etag'));
    if (linked) return linked;
  }
  for (let i = hops.length - 1; i >= 0; i--) {
    if (hops[i].url.origin !== endpointOrigin) continue;
    const e = parseEtag(header(hops[i].headers, 'etag'));
    if (e) return e;
  }
  return undefined;
}

function int(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v.trim())) return undefined;
  return Number(v);
}

function httpError(t: FileTarget, url: URL, res: IncomingMessage, tokenSent: boolean): RwdaError {
  const status = res.statusCode ?? 0;
  const code = header(res.headers, 'x-error-code');
  const serverSays = header(res.headers, 'x-error-message');
  const detail = `HTTP ${status}${code ? ` ${code}` : ''}${serverSays ? `: ${serverSays}` : ''}; ${url.href}`;
  if (status === 401 || status === 403) {
    return new RwdaError(
      tokenSent
        ? `access to ${describe(t)} was refused with the token from HF_TOKEN (gated repository not accepted, or no access) (${detail})`
        : `access to ${describe(t)} was refused: the repository needs a Hugging Face token (set HF_TOKEN), or it does not exist (${detail})`,
      { code: 'network' },
    );
  }
  if (status === 404) {
    const what =
      code === 'RepoNotFound' ? `repository ${t.repo} not found` : code === 'RevisionNotFound' ? `revision ${t.revision} not found in ${t.repo}` : `file ${describe(t)} not found`;
    return new RwdaError(`${what} (${detail})`, { code: 'not_found' });
  }
  return new RwdaError(`download of ${describe(t)} failed (${detail})`, { code: 'network' });
}

interface PartMeta {
  url: string;
  etag?: string;
}

function readMeta(path: string): PartMeta | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as PartMeta;
  } catch {
    return undefined;
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Downloads one file to `dest` (resuming `dest.incomplete`), verifies it and renames it into place. */
export async function downloadFile(t: FileTarget, dest: string, opts: DownloadOptions): Promise<DownloadResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await attemptDownload(t, dest, opts);
    } catch (err) {
      if (isRetryable(err) && attempt < opts.retries) {
        await sleep(Math.min(2000, 100 * 2 ** attempt));
        continue;
      }
      if (err instanceof RwdaError) throw err;
      const url = resolveUrl(t).href;
      const part = `${dest}.incomplete`;
      const kept = sizeOf(part) > 0 ? `the partial file ${part} is kept; run the command again to resume` : 'run the command again to retry';
      if (err instanceof StallError) {
        throw new RwdaError(
          `download of ${describe(t)} stalled: no data from ${err.url} for ${err.ms / 1000} s ` +
            `(${kept}; RWDA_DOWNLOAD_TIMEOUT sets the limit in seconds)`,
          { code: 'network', cause: err },
        );
      }
      throw new RwdaError(
        `download of ${describe(t)} from ${url} failed: ${(err as Error).message} (${kept})`,
        { code: 'network', cause: err },
      );
    }
  }
}

async function attemptDownload(t: FileTarget, dest: string, opts: DownloadOptions): Promise<DownloadResult> {
  try {
    return await fetchOnce(t, dest, opts);
  } catch (err) {
    if (!(err instanceof Restart)) throw err;
    rmSync(`${dest}.incomplete`, { force: true });
    return await fetchOnce(t, dest, opts);
  }
}

async function fetchOnce(t: FileTarget, dest: string, opts: DownloadOptions): Promise<DownloadResult> {
  const url = resolveUrl(t);
  const endpointOrigin = new URL(t.endpoint).origin;
  const part = `${dest}.incomplete`;
  const offset = existsSync(part) ? sizeOf(part) : 0;
  const { res, hops, idle } = await openWithRedirects(url, {
    headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
    token: opts.token,
    tokenOrigin: endpointOrigin,
    idleTimeoutMs: opts.timeoutMs,
    maxRedirects: opts.maxRedirects,
  });
  try {
    return await handleResponse(t, dest, opts, res, hops, idle, offset);
  } finally {
    // Whatever happened, no timer or half-read response outlives this attempt.
    idle.stop();
    if (!res.complete) res.destroy();
  }
}

async function handleResponse(
  t: FileTarget,
  dest: string,
  opts: DownloadOptions,
  res: IncomingMessage,
  hops: Hop[],
  idle: IdleWatchdog,
  requestedOffset: number,
): Promise<DownloadResult> {
  const part = `${dest}.incomplete`;
  const metaPath = `${dest}.incomplete.json`;
  const url = resolveUrl(t);
  const endpointOrigin = new URL(t.endpoint).origin;
  let offset = requestedOffset;
  const status = res.statusCode ?? 0;
  const drain = () => {
    idle.stop();
    res.resume();
  };
  if (status >= 400 && status !== 416) {
    drain();
    throw httpError(t, hops[hops.length - 1].url, res, Boolean(opts.token) && hops[0].url.origin === endpointOrigin);
  }
  const expected = expectedChecksum(hops, endpointOrigin);
  const commit = hops.map((h) => header(h.headers, 'x-repo-commit')).find((c) => c);
  const linkedSize = hops.map((h) => int(header(h.headers, 'x-linked-size'))).find((n) => n !== undefined);
  const meta = readMeta(metaPath);
  if (offset > 0 && expected && meta?.etag && meta.etag !== expected.raw) {
    // The partial bytes belong to another version of the file.
    drain();
    throw new Restart();
  }

  let total: number | undefined;
  let flags: 'w' | 'a';
  if (status === 416) {
    drain();
    const m = /bytes \*\/(\d+)/.exec(header(res.headers, 'content-range') ?? '');
    if (!m || Number(m[1]) !== offset) throw new Restart();
    total = offset; // the partial file already holds every byte
    flags = 'a';
  } else if (status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header(res.headers, 'content-range') ?? '');
    if (!m || Number(m[1]) !== offset) {
      drain();
      throw new Restart();
    }
    total = m[3] === '*' ? linkedSize : Number(m[3]);
    flags = 'a';
  } else if (status === 200) {
    // A 200 to a ranged request means the server ignored Range: the body starts at byte 0.
    offset = 0;
    const len = int(header(res.headers, 'content-length'));
    total = len ?? linkedSize;
    flags = 'w';
  } else {
    drain();
    throw new RwdaError(`download of ${describe(t)} failed: unexpected HTTP ${status} from ${hops[hops.length - 1].url.href}`, { code: 'network' });
  }
  if (linkedSize !== undefined && total !== undefined && linkedSize !== total) {
    drain();
    throw new RwdaError(`download of ${describe(t)}: the hub announced ${linkedSize} bytes but the server sends ${total} (${url.href})`, { code: 'network' });
  }
  if (flags === 'w' || !meta) writeFileAtomic(metaPath, JSON.stringify({ url: url.href, etag: expected?.raw } satisfies PartMeta));

  if (status !== 416) {
    const from = hops[hops.length - 1].url.href;
    await receiveBody(res, idle, { part, flags, offset, total, label: t.file, quiet: opts.quiet, url: from, timeoutMs: opts.timeoutMs });
  }

  const digests = await hashFile(part);
  if (total !== undefined && digests.size !== total) {
    if (digests.size < total) throw new Interrupted(`connection closed after ${digests.size} of ${total} bytes`);
    rmSync(part, { force: true });
    rmSync(metaPath, { force: true });
    throw new RwdaError(`download of ${describe(t)} produced ${digests.size} bytes, expected ${total}; the file was removed (${url.href})`, { code: 'network' });
  }
  let verified: ChecksumKind = 'none';
  if (expected) {
    const actual = actualFor(expected, digests);
    if (actual !== undefined && actual !== expected.value) {
      rmSync(part, { force: true });
      rmSync(metaPath, { force: true });
      throw new RwdaError(
        `checksum mismatch for ${describe(t)}: the hub's ETag promises ${expected.kind} ${expected.value} ` +
          `but the downloaded bytes hash to ${actual}; the file was removed (${url.href})`,
        { code: 'network' },
      );
    }
    verified = expected.kind;
  }
  const fd = openSync(part, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(part, dest);
  rmSync(metaPath, { force: true });
  return { file: t.file, size: digests.size, sha256: digests.sha256, etag: expected?.raw, verified, commit };
}

interface BodyTarget {
  part: string;
  flags: 'w' | 'a';
  offset: number;
  total: number | undefined;
  label: string;
  quiet?: boolean;
  /** For the stall error: the URL the body comes from and the idle limit. */
  url: string;
  timeoutMs: number;
}

async function receiveBody(res: IncomingMessage, idle: IdleWatchdog, b: BodyTarget): Promise<void> {
  const progress = createProgress({ total: b.total ?? 0, unit: 'B', bytes: true, label: b.label, initial: b.offset, quiet: b.quiet });
  // Synchronous writes: every chunk received is on disk before the next, so a resume loses nothing.
  const fd = openSync(b.part, b.flags);
  let streamError: unknown;
  try {
    try {
      for await (const chunk of res) {
        idle.touch();
        const buf = chunk as Buffer;
        let off = 0;
        try {
          while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
        } catch (err) {
          throw new RwdaError(`cannot write ${b.part}: ${(err as Error).message}`, { code: 'io', cause: err });
        }
        progress.tick(buf.length);
      }
    } catch (err) {
      if (err instanceof RwdaError) throw err;
      streamError = err;
    }
    if (idle.fired) throw new StallError(b.url, b.timeoutMs);
    if (streamError !== undefined) throw new Interrupted((streamError as Error).message);
  } finally {
    idle.stop();
    closeSync(fd);
    progress.stop();
  }
}
