/**
 * rwda's own model cache: `<cacheDir>/<org>--<name>[--<revision>]/` holding the hub files and
 * `rwda-manifest.json` (repo, revision, files with sizes and sha256, source, fetch time). The
 * manifest is rewritten after every file, `complete` turning true once all are in place, so an
 * interrupted pull keeps what it finished.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RwdaError } from '../../errors.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import type { ChecksumKind } from './checksum.ts';

export const MANIFEST_FILE = 'rwda-manifest.json';

export interface ManifestFile {
  name: string;
  size: number;
  sha256: string;
  /** The hub ETag the file was verified against. */
  etag?: string;
  verified: ChecksumKind;
}

export interface Manifest {
  format: 1;
  /** Registry name the model was pulled as. */
  name: string;
  repo: string;
  revision: string;
  /** Commit the revision resolved to (X-Repo-Commit), when the hub said. */
  commit?: string;
  endpoint: string;
  source: 'downloaded';
  complete: boolean;
  fetchedAt: string;
  files: ManifestFile[];
}

/** Folder name of a repository at a revision: `org--name`, plus `--revision` unless it is main. */
export function repoSlug(repo: string, revision: string): string {
  const base = repo.split('/').join('--');
  return revision === 'main' ? base : `${base}--${revision.replace(/[^\w.-]/g, '_')}`;
}

/** The manifest in `dir`; undefined when there is none, an RwdaError naming the file when it is unreadable. */
export function readManifest(dir: string): Manifest | undefined {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return undefined;
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch (err) {
    throw new RwdaError(`${path}: not valid JSON (${(err as Error).message}); remove the model with 'rwda model rm' and pull it again`);
  }
  if (m?.format !== 1 || typeof m.repo !== 'string' || !Array.isArray(m.files)) {
    throw new RwdaError(`${path}: not an rwda manifest (format 1 with repo and files)`);
  }
  return m;
}

export function writeManifest(dir: string, m: Manifest): void {
  writeFileAtomic(join(dir, MANIFEST_FILE), JSON.stringify(m, null, 2) + '\n');
}

function fileSize(path: string): number | undefined {
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

/** The manifest record of `file` if the file is on disk with the recorded size (cheap: no re-hash). */
export function presentFile(dir: string, m: Manifest | undefined, file: string): ManifestFile | undefined {
  const rec = m?.files.find((f) => f.name === file);
  return rec && fileSize(join(dir, file)) === rec.size ? rec : undefined;
}

/** The first of `files` not present in the cached copy at `dir`, or undefined when all are. */
export function firstMissing(dir: string, m: Manifest | undefined, files: string[]): string | undefined {
  return files.find((f) => !presentFile(dir, m, f));
}

export interface CacheEntry {
  dir: string;
  slug: string;
  /** Undefined for a folder left by a pull interrupted before its first file finished, or a damaged manifest. */
  manifest?: Manifest;
  sizeBytes: number;
}

function dirSize(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += dirSize(p);
    else total += fileSize(p) ?? 0;
  }
  return total;
}

/** Every model folder under `cacheDir`, sorted by name. */
export function scanCache(cacheDir: string): CacheEntry[] {
  if (!existsSync(cacheDir)) return [];
  return readdirSync(cacheDir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .map((slug) => {
      const dir = join(cacheDir, slug);
      let manifest: Manifest | undefined;
      try {
        manifest = readManifest(dir);
      } catch {
        // A damaged manifest lists as an unfinished pull, so `rwda model rm` can clear it.
      }
      return { dir, slug, manifest, sizeBytes: dirSize(dir) };
    });
}
