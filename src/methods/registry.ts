/**
 * The method registry: every method of the family, as a frozen table the CLI, the runner, reports
 * and the server iterate over (transformers.js's SUPPORTED_TASKS, anomalib's list_models).
 */
import { RwdaError } from '../errors.ts';
import { CLIP_METHOD } from './clip/method.ts';
import type { MethodSpec } from './method.ts';
import { RWDA_METHOD } from './rwda/method.ts';
import { WINCLIP_METHOD } from './winclip/method.ts';

/** Every method, by id, in display order. */
export const METHODS: Readonly<Record<string, MethodSpec>> = Object.freeze({
  [RWDA_METHOD.id]: RWDA_METHOD,
  [CLIP_METHOD.id]: CLIP_METHOD,
  [WINCLIP_METHOD.id]: WINCLIP_METHOD,
});

/** The default method (`rwda detect` without --method). */
export const DEFAULT_METHOD = RWDA_METHOD.id;

/** Registry ids, in display order. */
export function methodIds(): string[] {
  return Object.keys(METHODS);
}

/** The method of `id`, or an error listing the known ids. */
export function getMethod(id: string): MethodSpec {
  const m = Object.hasOwn(METHODS, id) ? METHODS[id] : undefined;
  if (m === undefined) throw new RwdaError(`unknown method '${id}' (known: ${methodIds().join(', ')})`);
  return m;
}
