import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** rwda's cache root: $RWDA_HOME, else $XDG_CACHE_HOME/rwda, else ~/.cache/rwda. */
export function rwdaHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RWDA_HOME) return resolve(env.RWDA_HOME);
  if (env.XDG_CACHE_HOME) return resolve(env.XDG_CACHE_HOME, 'rwda');
  return join(homedir(), '.cache', 'rwda');
}
