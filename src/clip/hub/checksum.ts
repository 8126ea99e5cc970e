/**
 * What a hub ETag promises about a file. For LFS files (the weights) the hub's X-Linked-Etag / ETag
 * is the sha256 of the content (64 hex); for small files kept in git it is the git blob id, a sha1
 * of `"blob <len>\0" + bytes` (40 hex). Any other shape (a CDN's own tag) verifies nothing.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';

export type ChecksumKind = 'sha256' | 'git-sha1' | 'none';

export interface ExpectedChecksum {
  kind: ChecksumKind;
  /** Lower-case hex digest (empty for 'none'). */
  value: string;
  /** The header value as sent. */
  raw: string;
}

/** Interprets an ETag header value: strips `W/` and quotes, then classifies by length. */
export function parseEtag(raw: string | undefined): ExpectedChecksum | undefined {
  if (raw === undefined || raw === '') return undefined;
  let v = raw.trim();
  if (v.startsWith('W/')) v = v.slice(2);
  v = v.replace(/^"+|"+$/g, '').toLowerCase();
  if (/^[0-9a-f]{64}$/.test(v)) return { kind: 'sha256', value: v, raw };
  if (/^[0-9a-f]{40}$/.test(v)) return { kind: 'git-sha1', value: v, raw };
  return { kind: 'none', value: '', raw };
}

export interface FileDigests {
  size: number;
  sha256: string;
  /** git's blob id of the content. */
  gitSha1: string;
}

/** sha256 and git blob sha1 of a file, in one streaming pass. */
export async function hashFile(path: string): Promise<FileDigests> {
  const size = statSync(path).size;
  const sha256 = createHash('sha256');
  const sha1 = createHash('sha1').update(`blob ${size}\0`);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    sha256.update(chunk as Buffer);
    sha1.update(chunk as Buffer);
  }
  return { size, sha256: sha256.digest('hex'), gitSha1: sha1.digest('hex') };
}

/** The digest `expected` is compared against, or undefined when it verifies nothing. */
export function actualFor(expected: ExpectedChecksum, d: FileDigests): string | undefined {
  if (expected.kind === 'sha256') return d.sha256;
  if (expected.kind === 'git-sha1') return d.gitSha1;
  return undefined;
}
