/**
 * One GET through node:http/https, following redirects by hand so that every hop's headers are seen
 * (the hub puts the checksum on its 302, not on the CDN's answer) and the token never leaves the
 * endpoint's origin. An idle watchdog turns a silent server into a StallError.
 */
import http, { type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { RwdaError } from '../../errors.ts';

/** The server sent nothing for `ms` milliseconds. */
export class StallError extends Error {
  override name = 'StallError';
  constructor(
    readonly url: string,
    readonly ms: number,
  ) {
    super(`no data from ${url} for ${ms / 1000} s`);
  }
}

/** Fires `onIdle` when `touch` has not been called for `ms`. */
export class IdleWatchdog {
  private timer: NodeJS.Timeout | undefined;
  fired = false;
  constructor(
    private readonly ms: number,
    private readonly onIdle: () => void,
  ) {
    this.touch();
  }
  touch(): void {
    if (this.fired) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.fired = true;
      this.onIdle();
    }, this.ms);
  }
  stop(): void {
    clearTimeout(this.timer);
  }
}

export interface Hop {
  url: URL;
  status: number;
  headers: IncomingHttpHeaders;
}

export interface OpenOptions {
  headers?: Record<string, string>;
  /** Sent as `Authorization: Bearer` to `tokenOrigin` only. */
  token?: string;
  tokenOrigin: string;
  idleTimeoutMs: number;
  maxRedirects?: number;
}

export interface Opened {
  req: ClientRequest;
  res: IncomingMessage;
  /** Every response, redirects included, the last one being `res`. */
  hops: Hop[];
  /** Still running: the body reader touches it per chunk and stops it at the end. */
  idle: IdleWatchdog;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const USER_AGENT = 'rwda/0.1 (model hub; node)';

function requestOnce(url: URL, headers: Record<string, string>, idleMs: number): Promise<{ req: ClientRequest; res: IncomingMessage; idle: IdleWatchdog }> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    // agent: false — one connection per request, so a stalled socket is never reused.
    const req = mod.request(url, { method: 'GET', headers, agent: false });
    const idle = new IdleWatchdog(idleMs, () => req.destroy(new StallError(url.href, idleMs)));
    req.on('response', (res) => {
      idle.touch();
      resolve({ req, res, idle });
    });
    req.on('error', (err) => {
      idle.stop();
      reject(idle.fired ? new StallError(url.href, idleMs) : err);
    });
    req.end();
  });
}

/** GETs `start`, following up to `maxRedirects` (default 10) relative or absolute redirects. */
export async function openWithRedirects(start: URL, opts: OpenOptions): Promise<Opened> {
  const maxRedirects = opts.maxRedirects ?? 10;
  const hops: Hop[] = [];
  let url = start;
  // Like huggingface_hub (via requests): once a redirect leaves the endpoint's origin the token is dropped for good.
  let tokenAllowed = true;
  for (;;) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new RwdaError(`redirect from ${start.href} to unsupported URL ${url.href}`, { code: 'network' });
    }
    if (url.origin !== opts.tokenOrigin) tokenAllowed = false;
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, 'accept-encoding': 'identity', ...opts.headers };
    if (opts.token && tokenAllowed) headers.authorization = `Bearer ${opts.token}`;
    const { req, res, idle } = await requestOnce(url, headers, opts.idleTimeoutMs);
    const status = res.statusCode ?? 0;
    hops.push({ url, status, headers: res.headers });
    const location = res.headers.location;
    if (!REDIRECTS.has(status) || !location) return { req, res, hops, idle };
    idle.stop();
    res.resume();
    if (hops.length > maxRedirects) {
      throw new RwdaError(`too many redirects (more than ${maxRedirects}) fetching ${start.href}`, { code: 'network' });
    }
    url = new URL(location, url);
  }
}

/** First value of a header that may repeat. */
export function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}
