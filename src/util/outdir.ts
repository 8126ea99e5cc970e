import { mkdirSync, statSync } from 'node:fs';
import { RwdaError } from '../errors.ts';

/**
 * Creates output directory `dir` (named by CLI flag `flag`) up front, so that a long run fails at
 * once rather than when it writes its first artifact.
 */
export function ensureOutDir(flag: string, dir: string): void {
  let isDir: boolean | undefined;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = undefined;
  }
  if (isDir === false) throw new RwdaError(`${flag} ${dir}: exists and is not a directory`, { code: 'conflict' });
  if (isDir === true) return;
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new RwdaError(`${flag} ${dir}: cannot create the directory (${(err as Error).message})`, { code: 'io', cause: err });
  }
}
