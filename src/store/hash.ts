/** Content hashes that key the image embedding cache. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { RwdaError, fsErrorCode } from '../errors.ts';

/** Lowercase hex SHA-256 of a file's bytes, read as a stream (constant memory). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new RwdaError(`cannot hash ${path}: ${why}`, { code: fsErrorCode(err), cause: err });
  }
  return hash.digest('hex');
}

/** Lowercase hex SHA-256 of bytes already in memory. */
export function sha256Bytes(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
