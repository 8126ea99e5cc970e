/**
 * Float32 embeddings ↔ SQLite blobs. Blobs hold the raw float32 bytes in little-endian order, so
 * they round-trip bit for bit (NaN payloads and -0 included).
 */
import { endianness } from 'node:os';
import { RwdaError } from '../errors.ts';

// Blobs are the host's bytes; every platform Node supports in practice is little-endian, and a
// big-endian host would silently read garbage, so refuse it.
if (endianness() !== 'LE') throw new RwdaError('rwda cache: big-endian hosts are not supported', { code: 'unsupported' });

/** A Buffer view of the embedding's own bytes (no copy; SQLite copies on bind). */
export function encodeEmbedding(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/**
 * A fresh Float32Array from a blob. The bytes are copied because a Buffer from SQLite may start at
 * any byteOffset inside a shared pool, where a Float32Array view would be misaligned or alias.
 */
export function decodeEmbedding(blob: Uint8Array, dim: number, where: string): Float32Array {
  if (!(blob instanceof Uint8Array) || blob.byteLength !== dim * 4) {
    throw new RwdaError(`${where}: stored embedding has ${blob?.byteLength} bytes, expected ${dim * 4} (dim ${dim}); the cache row is corrupt`);
  }
  const out = new Float32Array(dim);
  new Uint8Array(out.buffer).set(blob);
  return out;
}
