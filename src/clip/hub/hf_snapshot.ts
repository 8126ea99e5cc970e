/**
 * Read-only reuse of a huggingface_hub cache (what `open_clip`/`huggingface_hub` already fetched):
 * `<hub>/models--{org}--{name}/refs/{revision}` holds a commit hash and
 * `<hub>/models--{org}--{name}/snapshots/{commit}/` holds the files (usually symlinks into blobs/).
 * Nothing here ever writes to that cache.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** huggingface_hub's cache root: $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub. */
export function hfHubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return resolve(env.HF_HUB_CACHE);
  if (env.HF_HOME) return resolve(env.HF_HOME, 'hub');
  if (env.XDG_CACHE_HOME) return resolve(env.XDG_CACHE_HOME, 'huggingface', 'hub');
  return join(homedir(), '.cache', 'huggingface', 'hub');
}

/** The cache folder of a model repository, `models--{org}--{name}`. */
export function hfRepoFolder(hubCache: string, repo: string): string {
  return join(hubCache, `models--${repo.split('/').join('--')}`);
}

const COMMIT = /^[0-9a-f]{40}$/;

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile(); // follows the snapshot's symlinks into blobs/
  } catch {
    return false;
  }
}

export interface HfSnapshot {
  dir: string;
  commit: string;
}

/** The snapshot folder `revision` points at, if the cache has one (its files are not checked). */
export function hfSnapshotDir(repo: string, revision: string, hubCache = hfHubCacheDir()): HfSnapshot | undefined {
  const folder = hfRepoFolder(hubCache, repo);
  let commit = revision;
  if (!COMMIT.test(revision)) {
    try {
      commit = readFileSync(join(folder, 'refs', revision), 'utf8').trim();
    } catch {
      return undefined;
    }
    if (!COMMIT.test(commit)) return undefined;
  }
  return { dir: join(folder, 'snapshots', commit), commit };
}

/** The snapshot holding every one of `files` for `repo` at `revision`, if the cache has one. */
export function findHfSnapshot(repo: string, revision: string, files: string[], hubCache = hfHubCacheDir()): HfSnapshot | undefined {
  const snap = hfSnapshotDir(repo, revision, hubCache);
  return snap && files.every((f) => isFile(join(snap.dir, f))) ? snap : undefined;
}
