/** rwda's package version, read once from package.json (reports, detectors and runs record it). */
import { readFileSync } from 'node:fs';

let cachedVersion: string | undefined;

/** rwda's package version. */
export function packageVersion(): string {
  cachedVersion ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cachedVersion;
}
