/**
 * Model hub: turns a model name into a local folder of open_clip files. Order of preference: a
 * directory given as is, rwda's cache, a huggingface_hub snapshot (read-only), then a download
 * from the hub (unless offline). See README.md for variables and the cache layout.
 */
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RwdaError } from '../../errors.ts';
import { firstMissing, presentFile, readManifest, repoSlug, scanCache, writeManifest, type Manifest, type ManifestFile } from './cache.ts';
import { downloadFile } from './download.ts';
import { findHfSnapshot } from './hf_snapshot.ts';
import { withLock } from './lock.ts';
import { DEFAULT_MODEL, findPretrained, getPretrained, listPretrained, type PretrainedEntry } from './registry.ts';
import { hubSettings, type HubOptions, type HubSettings } from './settings.ts';

export { DEFAULT_MODEL, listPretrained, findPretrained, getPretrained } from './registry.ts';
export type { PretrainedEntry } from './registry.ts';
export type { HubOptions } from './settings.ts';
export type { Manifest, ManifestFile } from './cache.ts';

export type ModelSource = 'dir' | 'cache' | 'hf-snapshot' | 'downloaded';

export interface ResolvedModel {
  dir: string;
  /** The registry name, when one was resolved. */
  name?: string;
  source: ModelSource;
}

export interface PulledModel extends ResolvedModel {
  name: string;
  repo: string;
  revision: string;
  /** Commit hash, when known (snapshot folder name, or the hub's X-Repo-Commit). */
  commit?: string;
  source: Exclude<ModelSource, 'dir'>;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The rwda cache folder of a registry entry. */
export function modelCacheDir(entry: PretrainedEntry, s: HubSettings): string {
  return join(s.cacheDir, repoSlug(entry.repo, entry.revision));
}

function fromCache(entry: PretrainedEntry, dir: string): PulledModel | undefined {
  const m = readManifest(dir);
  if (!m || firstMissing(dir, m, entry.files) !== undefined) return undefined;
  return { dir, name: entry.name, repo: entry.repo, revision: entry.revision, commit: m.commit, source: 'cache' };
}

/**
 * Makes the files of registry model `name` available locally and says where they came from:
 * rwda's cache, a huggingface_hub snapshot, or a fresh download (resumable, verified, locked).
 */
export async function pullModel(name: string = DEFAULT_MODEL, opts: HubOptions = {}): Promise<PulledModel> {
  const s = hubSettings(opts);
  const entry = getPretrained(name);
  const dir = modelCacheDir(entry, s);
  const cached = fromCache(entry, dir);
  if (cached) return cached;
  const snap = findHfSnapshot(entry.repo, entry.revision, entry.files, s.hfHubCache);
  if (snap) return { dir: snap.dir, name: entry.name, repo: entry.repo, revision: entry.revision, commit: snap.commit, source: 'hf-snapshot' };
  if (s.offline) {
    const missing = firstMissing(dir, isDirectory(dir) ? readManifest(dir) : undefined, entry.files);
    throw new RwdaError(
      `model '${entry.name}' is not cached and offline mode is on (HF_HUB_OFFLINE or --offline): ` +
        `'${missing}' of ${entry.repo} is in neither ${dir} nor the huggingface_hub cache ${s.hfHubCache}; ` +
        `fetch it with \`rwda model pull ${name}\` while online`,
      { code: 'not_found' },
    );
  }
  return withLock(`${dir}.lock`, { timeoutMs: s.lockTimeoutMs, onWait: (h) => note(s, `waiting for another rwda process (pid ${h?.pid ?? '?'}) pulling ${entry.name}`) }, async () => {
    // Whoever held the lock may have finished the job.
    const done = fromCache(entry, dir);
    if (done) return done;
    try {
      return await download(entry, dir, s);
    } catch (err) {
      // A pull that failed before writing anything leaves no empty folder behind.
      if (isDirectory(dir) && readdirSync(dir).length === 0) rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  });
}

function note(s: HubSettings, msg: string): void {
  if (!s.quiet) process.stderr.write(`rwda: ${msg}\n`);
}

async function download(entry: PretrainedEntry, dir: string, s: HubSettings): Promise<PulledModel> {
  mkdirSync(dir, { recursive: true });
  const prior = readManifest(dir);
  const sameSource = prior && prior.repo === entry.repo && prior.revision === entry.revision;
  const manifest: Manifest = {
    format: 1,
    name: entry.name,
    repo: entry.repo,
    revision: entry.revision,
    commit: sameSource ? prior.commit : undefined,
    endpoint: s.endpoint,
    source: 'downloaded',
    complete: false,
    fetchedAt: new Date().toISOString(),
    files: [],
  };
  for (const file of entry.files) {
    const have = sameSource ? presentFile(dir, prior, file) : undefined;
    let rec: ManifestFile;
    if (have) {
      rec = have;
    } else {
      mkdirSync(join(dir, file, '..'), { recursive: true });
      const r = await downloadFile({ endpoint: s.endpoint, repo: entry.repo, revision: entry.revision, file }, join(dir, file), {
        token: s.token,
        timeoutMs: s.timeoutMs,
        retries: s.retries,
        quiet: s.quiet,
      });
      if (r.verified === 'none') note(s, `${file}: the hub sent no sha256 or git ETag, so only its size was checked`);
      manifest.commit ??= r.commit;
      rec = { name: file, size: r.size, sha256: r.sha256, etag: r.etag, verified: r.verified };
    }
    manifest.files.push(rec);
    writeManifest(dir, manifest);
  }
  manifest.complete = true;
  writeManifest(dir, manifest);
  return { dir, name: entry.name, repo: entry.repo, revision: entry.revision, commit: manifest.commit, source: 'downloaded' };
}

/**
 * A model folder for `nameOrDir`: an existing directory is used as is; anything else is a registry
 * name (`ViT-B-16-plus-240`, `ViT-B-16-plus-240:laion400m_e31`, `hf-hub:org/name`), pulled on demand.
 */
export async function resolveModel(nameOrDir: string, opts: HubOptions = {}): Promise<ResolvedModel> {
  if (isDirectory(nameOrDir)) return { dir: resolve(nameOrDir), source: 'dir' };
  const { dir, name, source } = await pullModel(nameOrDir, opts);
  return { dir, name, source };
}

export interface CachedModel {
  /** Registry name (from the manifest, or the folder name for an unfinished pull). */
  name: string;
  repo?: string;
  revision?: string;
  commit?: string;
  dir: string;
  source: 'downloaded' | 'hf-snapshot';
  complete: boolean;
  sizeBytes: number;
  fetchedAt?: string;
  files: string[];
}

function snapshotSize(dir: string, files: string[]): number {
  return files.reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

/**
 * rwda's cached models (complete or interrupted), then the registry models found only in the
 * huggingface_hub cache.
 */
export function listCachedModels(opts: HubOptions = {}): CachedModel[] {
  const s = hubSettings(opts);
  const out: CachedModel[] = scanCache(s.cacheDir).map(({ dir, slug, manifest, sizeBytes }) => ({
    name: manifest?.name ?? slug,
    repo: manifest?.repo,
    revision: manifest?.revision,
    commit: manifest?.commit,
    dir,
    source: 'downloaded' as const,
    complete: manifest?.complete === true,
    sizeBytes,
    fetchedAt: manifest?.fetchedAt,
    files: manifest?.files.map((f) => f.name) ?? [],
  }));
  const inRwda = new Set(out.filter((m) => m.complete).map((m) => `${m.repo}@${m.revision}`));
  for (const e of listPretrained()) {
    const key = `${e.repo}@${e.revision}`;
    if (inRwda.has(key)) continue;
    const snap = findHfSnapshot(e.repo, e.revision, e.files, s.hfHubCache);
    if (!snap) continue;
    inRwda.add(key);
    out.push({ name: e.name, repo: e.repo, revision: e.revision, commit: snap.commit, dir: snap.dir, source: 'hf-snapshot', complete: true, sizeBytes: snapshotSize(snap.dir, e.files), files: e.files });
  }
  return out;
}

/**
 * Deletes a model from rwda's cache (by registry name or cache folder name), under its lock.
 * huggingface_hub snapshots are never touched.
 */
export async function removeCachedModel(name: string, opts: HubOptions = {}): Promise<{ name: string; dir: string }> {
  const s = hubSettings(opts);
  const entry = findPretrained(name);
  const candidates = entry ? [modelCacheDir(entry, s)] : [];
  for (const c of scanCache(s.cacheDir)) if (c.slug === name || c.manifest?.name === name) candidates.push(c.dir);
  const dir = candidates.find(isDirectory);
  if (!dir) {
    const snap = entry && findHfSnapshot(entry.repo, entry.revision, entry.files, s.hfHubCache);
    throw new RwdaError(
      `model '${name}' is not in the rwda cache ${s.cacheDir}` +
        (snap ? `; it exists in the huggingface_hub cache at ${snap.dir}, which rwda never deletes` : ''),
      { code: 'not_found' },
    );
  }
  await withLock(`${dir}.lock`, { timeoutMs: s.lockTimeoutMs }, async () => rmSync(dir, { recursive: true, force: true }));
  return { name: entry?.name ?? name, dir };
}
