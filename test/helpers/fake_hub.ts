/**
 * A loopback stand-in for the Hugging Face hub's `resolve` endpoint, for download tests that never
 * touch the network. It answers like the hub: small (git) files directly with a git-blob ETag, LFS
 * files with a 302 carrying X-Linked-Etag (sha256) and X-Linked-Size to a CDN path (relative, or an
 * absolute URL on a second loopback server = another origin); Range → 206, past the end → 416;
 * 401/404 with X-Error-Code. Every request is logged (path, Range, Authorization, status, bytes).
 * Per-file behaviours simulate dropped connections, stalls, servers ignoring Range and slow links.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';

export interface FakeFile {
  data: Buffer;
  /** Served through the LFS redirect (default: true for *.safetensors). */
  lfs?: boolean;
  /** Sent instead of the true checksum (to simulate corruption). */
  etag?: string;
}

export interface FileBehavior {
  /** Close the connection after this many body bytes, on the first `dropTimes` body responses. */
  dropAfter?: number;
  dropTimes?: number;
  /** Send this many body bytes, then nothing more (the socket stays open). */
  stallAfter?: number;
  /** Answer 200 with the whole body even to a Range request. */
  ignoreRange?: boolean;
  /** Pause between 16 KiB chunks. */
  chunkDelayMs?: number;
}

export interface LogEntry {
  server: 'hub' | 'cdn';
  method: string;
  path: string;
  range?: string;
  authorization?: string;
  status: number;
  /** Body bytes handed to the socket (write callbacks fired). */
  bytesSent: number;
}

export interface FakeHubOptions {
  /** repo id → file name → content (revision `main` and the fixed commit are served). */
  repos: Record<string, Record<string, FakeFile>>;
  /** These repos answer 401 unless `Authorization: Bearer <token>`. */
  privateRepos?: Record<string, string>;
  /** LFS redirects point at a second server (absolute Location, other origin) instead of a relative path. */
  separateCdn?: boolean;
  /** Answer every request with a redirect to itself (to test the redirect cap). */
  redirectLoop?: boolean;
}

export interface FakeHub {
  endpoint: string;
  cdnOrigin: string;
  commit: string;
  log: LogEntry[];
  /** Behaviour per `repo/file`. */
  behavior: Map<string, FileBehavior>;
  /** Log entries for one file's bodies (hub for git files, CDN for LFS ones). */
  bodyRequests(repo: string, file: string): LogEntry[];
  close(): Promise<void>;
}

export const FAKE_COMMIT = '0123456789abcdef0123456789abcdef01234567';

/** Deterministic pseudo-random bytes (a sha256 chain), so fixtures need no files. */
export function fakeBytes(n: number, seed: string): Buffer {
  const out = Buffer.alloc(n);
  let block = createHash('sha256').update(seed).digest();
  for (let off = 0; off < n; off += block.length) {
    block.copy(out, off, 0, Math.min(block.length, n - off));
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

export const sha256Hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');
export const gitBlobSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

/** Throws unless `url` is an http URL on 127.0.0.1 (tests must never reach the real hub). */
export function assertLoopback(url: string | undefined): void {
  assert.ok(url, 'HF_ENDPOINT must be set in hub tests');
  const u = new URL(url);
  assert.equal(u.protocol, 'http:');
  assert.equal(u.hostname, '127.0.0.1', `HF_ENDPOINT ${url} is not loopback`);
}

function isLfs(name: string, f: FakeFile): boolean {
  return f.lfs ?? name.endsWith('.safetensors');
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Starts the fake hub (and its CDN) on ephemeral loopback ports. */
export async function startFakeHub(opts: FakeHubOptions): Promise<FakeHub> {
  const log: LogEntry[] = [];
  const behavior = new Map<string, FileBehavior>();
  const served = new Map<string, number>();
  const byDigest = new Map<string, { key: string; data: Buffer }>();
  for (const [repo, files] of Object.entries(opts.repos)) {
    for (const [name, f] of Object.entries(files)) byDigest.set(sha256Hex(f.data), { key: `${repo}/${name}`, data: f.data });
  }

  const record = (server: LogEntry['server'], req: IncomingMessage): LogEntry => {
    const e: LogEntry = {
      server,
      method: req.method ?? '',
      path: req.url ?? '',
      range: req.headers.range,
      authorization: req.headers.authorization,
      status: 0,
      bytesSent: 0,
    };
    log.push(e);
    return e;
  };

  const fail = (res: ServerResponse, e: LogEntry, status: number, code: string, message: string) => {
    e.status = status;
    res.writeHead(status, { 'x-error-code': code, 'x-error-message': message, 'content-type': 'text/plain' });
    res.end(message);
  };

  /** Sends `data` honouring Range and the file's behaviour. */
  const serveBody = async (req: IncomingMessage, res: ServerResponse, e: LogEntry, key: string, data: Buffer, headers: Record<string, string>) => {
    const b = behavior.get(key) ?? {};
    const n = (served.get(key) ?? 0) + 1;
    served.set(key, n);
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && !b.ignoreRange) {
      start = Number(m[1]);
      if (start >= data.length) {
        e.status = 416;
        res.writeHead(416, { ...headers, 'content-range': `bytes */${data.length}` });
        res.end();
        return;
      }
      e.status = 206;
      res.writeHead(206, { ...headers, 'content-length': String(data.length - start), 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` });
    } else {
      e.status = 200;
      res.writeHead(200, { ...headers, 'content-length': String(data.length) });
    }
    let limit = data.length - start;
    const dropping = b.dropAfter !== undefined && n <= (b.dropTimes ?? 1);
    if (dropping) limit = Math.min(limit, b.dropAfter!);
    if (b.stallAfter !== undefined) limit = Math.min(limit, b.stallAfter);
    for (let off = 0; off < limit; off += 16384) {
      const chunk = data.subarray(start + off, start + Math.min(limit, off + 16384));
      await new Promise<void>((resolve, reject) => res.write(chunk, (err) => (err ? reject(err) : resolve())));
      e.bytesSent += chunk.length;
      if (b.chunkDelayMs) await sleep(b.chunkDelayMs);
    }
    if (dropping) {
      res.socket?.destroy();
      return;
    }
    if (b.stallAfter !== undefined) return; // silence until the client gives up
    res.end();
  };

  const serveCdn = (req: IncomingMessage, res: ServerResponse, e: LogEntry) => {
    const digest = /^\/api\/cdn\/([0-9a-f]{64})/.exec(req.url ?? '')?.[1];
    const hit = digest ? byDigest.get(digest) : undefined;
    if (!hit) return fail(res, e, 404, 'EntryNotFound', 'no such blob');
    // A CDN's own ETag: not a checksum the client may rely on.
    serveBody(req, res, e, hit.key, hit.data, { etag: `"cdn-${digest!.slice(0, 8)}"` }).catch(() => res.destroy());
  };
  const cdn = http.createServer((req, res) => serveCdn(req, res, record('cdn', req)));

  const hub = http.createServer((req, res) => {
    const e = record('hub', req);
    if (opts.redirectLoop) {
      e.status = 302;
      res.writeHead(302, { location: req.url ?? '/' });
      res.end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    // The CDN path on the hub origin (relative redirect target).
    if (url.pathname.startsWith('/api/cdn/')) return serveCdn(req, res, e);
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (!m) return fail(res, e, 404, 'NotFound', 'not a resolve URL');
    const [, repo, revEnc, fileEnc] = m;
    const rev = decodeURIComponent(revEnc);
    const file = fileEnc.split('/').map(decodeURIComponent).join('/');
    const files = opts.repos[repo];
    if (!files) return fail(res, e, 404, 'RepoNotFound', `Repository ${repo} not found`);
    const token = opts.privateRepos?.[repo];
    if (token && req.headers.authorization !== `Bearer ${token}`) {
      return fail(res, e, 401, 'GatedRepo', 'Invalid credentials in Authorization header');
    }
    if (rev !== 'main' && rev !== FAKE_COMMIT) return fail(res, e, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
    const f = files[file];
    if (!f) return fail(res, e, 404, 'EntryNotFound', `${file} does not exist on "${rev}"`);
    const common = { 'x-repo-commit': FAKE_COMMIT };
    if (isLfs(file, f)) {
      const digest = sha256Hex(f.data);
      const path = `/api/cdn/${digest}?repo=${encodeURIComponent(repo)}`;
      e.status = 302;
      res.writeHead(302, {
        ...common,
        location: opts.separateCdn ? `${cdnOrigin}${path}` : path,
        'x-linked-etag': `"${f.etag ?? digest}"`,
        'x-linked-size': String(f.data.length),
        // The hub's own ETag on the redirect differs; X-Linked-Etag must win.
        etag: `W/"${'0'.repeat(40)}"`,
      });
      res.end();
      return;
    }
    serveBody(req, res, e, `${repo}/${file}`, f.data, { ...common, etag: `"${f.etag ?? gitBlobSha1(f.data)}"` }).catch(() => res.destroy());
  });

  const endpoint = await listen(hub);
  const cdnOrigin = await listen(cdn);
  return {
    endpoint,
    cdnOrigin,
    commit: FAKE_COMMIT,
    log,
    behavior,
    bodyRequests(repo, file) {
      const f = opts.repos[repo]?.[file];
      if (!f) return [];
      if (!isLfs(file, f)) return log.filter((e) => e.server === 'hub' && e.path.includes(`/resolve/`) && e.path.endsWith(`/${file}`));
      const digest = sha256Hex(f.data);
      return log.filter((e) => e.path.startsWith(`/api/cdn/${digest}`));
    },
    async close() {
      for (const s of [hub, cdn]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };
}

/**
 * Writes a huggingface_hub-style cache entry: blobs/<etag>, snapshots/<commit>/<file> → symlink
 * into blobs, refs/<revision> = commit. Returns the snapshot folder.
 */
export function makeHfSnapshot(hubCache: string, repo: string, files: Record<string, Buffer>, commit = FAKE_COMMIT, revision = 'main'): string {
  const folder = join(hubCache, `models--${repo.split('/').join('--')}`);
  const snap = join(folder, 'snapshots', commit);
  mkdirSync(join(folder, 'blobs'), { recursive: true });
  mkdirSync(snap, { recursive: true });
  mkdirSync(join(folder, 'refs'), { recursive: true });
  for (const [name, data] of Object.entries(files)) {
    const blob = join(folder, 'blobs', name.endsWith('.safetensors') ? sha256Hex(data) : gitBlobSha1(data));
    writeFileSync(blob, data);
    symlinkSync(blob, join(snap, name));
  }
  writeFileSync(join(folder, 'refs', revision), commit);
  return snap;
}

const ENV_KEYS = ['HF_ENDPOINT', 'RWDA_HOME', 'HF_HUB_CACHE', 'HF_HOME', 'XDG_CACHE_HOME', 'HF_TOKEN', 'HF_HUB_OFFLINE', 'RWDA_DOWNLOAD_TIMEOUT'];

export interface HubTestEnv {
  root: string;
  /** rwda's model cache (`$RWDA_HOME/models`). */
  cacheDir: string;
  /** The huggingface_hub cache ($HF_HUB_CACHE). */
  hfHubCache: string;
  restore(): void;
}

/**
 * Points every variable the hub code reads at temp folders and `endpoint` (asserted loopback),
 * clears tokens and offline flags; `restore()` puts them back and deletes the folders.
 */
export function useHubEnv(endpoint: string): HubTestEnv {
  const root = mkdtempSync(join(tmpdir(), 'rwda-hub-'));
  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  for (const k of ENV_KEYS) delete process.env[k];
  process.env.HF_ENDPOINT = endpoint;
  process.env.RWDA_HOME = join(root, 'rwda');
  process.env.HF_HOME = join(root, 'hf');
  process.env.HF_HUB_CACHE = join(root, 'hf', 'hub');
  process.env.XDG_CACHE_HOME = join(root, 'xdg');
  assertLoopback(process.env.HF_ENDPOINT);
  return {
    root,
    cacheDir: join(root, 'rwda', 'models'),
    hfHubCache: join(root, 'hf', 'hub'),
    restore() {
      for (const k of ENV_KEYS) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
