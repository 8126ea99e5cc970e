/**
 * A cross-process lock file: created with O_EXCL, holding the owner's pid and host, its mtime
 * refreshed while held. A lock whose owner is dead (same host) or whose mtime is older than
 * `staleMs` is broken, under a short-lived second lock so two waiters cannot both break it and
 * then remove each other's fresh lock. No dependency: proper-lockfile would add one for the same
 * mtime-based scheme.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RwdaError } from '../../errors.ts';

export interface LockOptions {
  /** Give up waiting after this long (default 30 min: the holder may be fetching a large file). */
  timeoutMs?: number;
  /** A lock not refreshed for this long is stale (default 60 s; holders refresh every staleMs/4). */
  staleMs?: number;
  /** Wait between attempts (default 100 ms). */
  pollMs?: number;
  /** Called once, when the lock is found held by someone else. */
  onWait?: (holder: LockInfo | undefined) => void;
}

export interface LockInfo {
  pid: number;
  host: string;
  created: string;
  /** Distinguishes two holders in one process. */
  id: string;
}

/** Releases a held lock; calling it twice is harmless. */
export type ReleaseLock = () => void;

function tryCreate(path: string, info: LockInfo): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new RwdaError(`cannot create lock file ${path}: ${(err as Error).message}`, { code: 'io', cause: err });
  }
  try {
    writeSync(fd, JSON.stringify(info));
  } finally {
    closeSync(fd);
  }
  return true;
}

/** The holder recorded in a lock file, or undefined while it is being written or after it is gone. */
export function readLockInfo(path: string): LockInfo | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    return typeof v.pid === 'number' && typeof v.host === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

function newInfo(): LockInfo {
  return { pid: process.pid, host: hostname(), created: new Date().toISOString(), id: randomBytes(8).toString('hex') };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function mtimeAge(path: string): number | undefined {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function isStale(path: string, staleMs: number): boolean {
  const age = mtimeAge(path);
  if (age === undefined) return false; // gone: the next create attempt decides
  const info = readLockInfo(path);
  if (info && info.host === hostname() && !pidAlive(info.pid)) return true;
  // An unreadable lock younger than staleMs is most likely being written right now.
  return age > staleMs;
}

function breakIfStale(path: string, staleMs: number): void {
  const breaker = `${path}.break`;
  const me = newInfo();
  if (!tryCreate(breaker, me)) {
    // A breaker only lives for a few syscalls; one left behind by a crash is removed after a while.
    const age = mtimeAge(breaker);
    if (age !== undefined && age > Math.min(staleMs, 10_000)) rmSync(breaker, { force: true });
    return;
  }
  try {
    if (isStale(path, staleMs)) rmSync(path, { force: true });
  } finally {
    rmSync(breaker, { force: true });
  }
}

/** Waits for and takes the lock at `path`; resolves to its release function. */
export async function acquireLock(path: string, opts: LockOptions = {}): Promise<ReleaseLock> {
  const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
  const staleMs = opts.staleMs ?? 60_000;
  const pollMs = opts.pollMs ?? 100;
  mkdirSync(dirname(path), { recursive: true });
  const info = newInfo();
  const deadline = Date.now() + timeoutMs;
  let waited = false;
  while (!tryCreate(path, info)) {
    if (!waited) {
      waited = true;
      opts.onWait?.(readLockInfo(path));
    }
    breakIfStale(path, staleMs);
    if (Date.now() >= deadline) {
      const holder = readLockInfo(path);
      throw new RwdaError(
        `timed out after ${(timeoutMs / 1000).toFixed(1)} s waiting for lock ${path}` +
          (holder ? ` (held by pid ${holder.pid} on ${holder.host} since ${holder.created})` : '') +
          '; if no rwda process is running, delete that file',
        { code: 'conflict' },
      );
    }
    await sleep(pollMs);
  }
  // Refreshing the mtime tells waiters the holder is alive even when it runs on another host.
  const heartbeat = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      /* removed underneath us: nothing to refresh */
    }
  }, Math.max(50, staleMs / 4));
  heartbeat.unref();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    clearInterval(heartbeat);
    const holder = readLockInfo(path);
    if (holder?.id === info.id) rmSync(path, { force: true });
  };
}

/** Runs `fn` while holding the lock at `path`. */
export async function withLock<T>(path: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const release = await acquireLock(path, opts);
  try {
    return await fn();
  } finally {
    release();
  }
}
