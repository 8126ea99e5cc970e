/**
 * Reading the images a method is asked to score: file paths, bytes, or named bytes. Unreadable
 * inputs become per-image errors (reported in input order), so one bad file never stops a run.
 */
import { readFile } from 'node:fs/promises';
import { RwdaError, fsErrorCode } from '../../errors.ts';
import type { ImageSource } from './embed_cache.ts';

/** An image to score: a file path, encoded bytes, or bytes with a name for messages. */
export type DetectInput = string | Uint8Array | { name: string; bytes: Uint8Array };

/** The display name of input i of a list that starts at `offset`. */
export function inputName(im: DetectInput, index: number): string {
  return typeof im === 'string' ? im : im instanceof Uint8Array ? `image ${index}` : im.name;
}

/** Reads a chunk of inputs: the readable ones as sources (with their positions), the rest as errors. */
export async function readInputs(
  chunk: readonly DetectInput[],
  offset = 0,
): Promise<{ names: string[]; sources: ImageSource[]; at: number[]; errors: Map<number, Error> }> {
  const names = chunk.map((im, i) => inputName(im, offset + i));
  const read = await Promise.allSettled(chunk.map((im) => (typeof im === 'string' ? readFile(im) : Promise.resolve(im instanceof Uint8Array ? im : im.bytes))));
  const sources: ImageSource[] = [];
  const at: number[] = [];
  const errors = new Map<number, Error>();
  read.forEach((r, i) => {
    if (r.status === 'fulfilled') {
      sources.push({ name: names[i]!, bytes: r.value });
      at.push(i);
    } else {
      const code = (r.reason as NodeJS.ErrnoException).code;
      errors.set(i, new RwdaError(`${names[i]}: cannot read (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (r.reason as Error).message})`, { code: fsErrorCode(r.reason) }));
    }
  });
  return { names, sources, at, errors };
}

/** Reports per-image errors in input order through onError, or throws the first without it. */
export function reportErrors(errors: ReadonlyMap<number, Error>, names: readonly string[], onError?: (file: string, error: Error) => void): void {
  for (const i of [...errors.keys()].sort((a, b) => a - b)) {
    const e = errors.get(i)!;
    const file = names[i]!;
    if (!onError) throw e instanceof RwdaError ? e : new RwdaError(e.message.includes(file) ? e.message : `${file}: ${e.message}`, { cause: e });
    onError(file, e);
  }
}

/** The images-per-step option of predict / score, checked (default `fallback`). */
export function checkChunkSize(n: number | undefined, fallback: number): number {
  const v = n ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new RwdaError(`chunkSize must be a positive integer, got ${v}`);
  return v;
}
