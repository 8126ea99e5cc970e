import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

/** Repository root. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The read-only shared folder beside the checkout (RWDA_SHARED overrides). Tests never write there. */
export const SHARED = process.env.RWDA_SHARED ?? resolve(REPO_ROOT, '..', 'shared');
export const FIXTURES = resolve(SHARED, 'fixtures');
export const OPENCLIP_FIXTURES = resolve(FIXTURES, 'openclip');
export const AD_SAMPLES = resolve(SHARED, 'data', 'ad-samples');
