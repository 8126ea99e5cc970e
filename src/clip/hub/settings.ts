/** Hub settings from options first, then the environment (the same variables huggingface_hub reads). */
import { join } from 'node:path';
import { RwdaError } from '../../errors.ts';
import { rwdaHome } from '../../util/cachedir.ts';
import { hfHubCacheDir } from './hf_snapshot.ts';

export interface HubOptions {
  /** Cache only, never the network (default: $HF_HUB_OFFLINE). */
  offline?: boolean;
  /** Folder holding one sub-folder per cached model (default `<rwdaHome()>/models`). */
  cacheDir?: string;
  /** Hub root URL (default $HF_ENDPOINT, else https://huggingface.co). */
  endpoint?: string;
  /** Bearer token (default $HF_TOKEN). */
  token?: string;
  /** No progress bars or notes on stderr. */
  quiet?: boolean;
  /** Abort a download that receives nothing for this long (default $RWDA_DOWNLOAD_TIMEOUT seconds, else 30 s). */
  timeoutMs?: number;
  /** Automatic resumes after a dropped connection, per file (default 3). */
  retries?: number;
  /** huggingface_hub cache to reuse read-only (default $HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub). */
  hfHubCache?: string;
  /** How long to wait for another process pulling the same model (default 30 min). */
  lockTimeoutMs?: number;
}

export interface HubSettings {
  offline: boolean;
  cacheDir: string;
  endpoint: string;
  token?: string;
  quiet: boolean;
  timeoutMs: number;
  retries: number;
  hfHubCache: string;
  lockTimeoutMs: number;
}

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
export const DEFAULT_TIMEOUT_MS = 30_000;

/** huggingface_hub's reading of boolean variables. */
export function envFlag(v: string | undefined): boolean {
  return v !== undefined && ['1', 'on', 'yes', 'true'].includes(v.trim().toLowerCase());
}

function checkEndpoint(raw: string, where: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RwdaError(`${where}: not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RwdaError(`${where}: must be an http(s) URL, got ${JSON.stringify(raw)}`);
  return raw.replace(/\/+$/, '');
}

/** Resolves every setting; bad environment values are RwdaErrors naming the variable. */
export function hubSettings(opts: HubOptions = {}, env: NodeJS.ProcessEnv = process.env): HubSettings {
  let timeoutMs = opts.timeoutMs;
  if (timeoutMs === undefined && env.RWDA_DOWNLOAD_TIMEOUT) {
    const s = Number(env.RWDA_DOWNLOAD_TIMEOUT);
    if (!Number.isFinite(s) || s <= 0) throw new RwdaError(`RWDA_DOWNLOAD_TIMEOUT: expected a positive number of seconds, got ${JSON.stringify(env.RWDA_DOWNLOAD_TIMEOUT)}`);
    timeoutMs = s * 1000;
  }
  if (timeoutMs !== undefined && !(timeoutMs > 0)) throw new RwdaError(`download timeout must be positive, got ${timeoutMs} ms`);
  return {
    offline: opts.offline ?? envFlag(env.HF_HUB_OFFLINE),
    cacheDir: opts.cacheDir ?? join(rwdaHome(env), 'models'),
    endpoint: opts.endpoint !== undefined ? checkEndpoint(opts.endpoint, 'endpoint') : env.HF_ENDPOINT ? checkEndpoint(env.HF_ENDPOINT, 'HF_ENDPOINT') : DEFAULT_ENDPOINT,
    token: opts.token || env.HF_TOKEN || undefined,
    quiet: opts.quiet ?? false,
    timeoutMs: timeoutMs ?? DEFAULT_TIMEOUT_MS,
    retries: opts.retries ?? 3,
    hfHubCache: opts.hfHubCache ?? hfHubCacheDir(env),
    lockTimeoutMs: opts.lockTimeoutMs ?? 30 * 60_000,
  };
}
