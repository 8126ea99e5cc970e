/**
 * Random words for the prompt augmentation of the paper: strings of characters drawn uniformly
 * from an alphabet, with a length drawn uniformly from [minLength, maxLength].
 */
import { RwdaError } from '../../errors.ts';
import { PROMPT_DEFAULTS } from './defaults.ts';
import type { Rng } from '../../util/rng.ts';

/** How random words are drawn. */
export interface RandomWordOptions {
  /** Characters to draw from, each with equal probability (default a–z0–9). */
  alphabet?: string;
  /** Shortest word length, inclusive (default 5). */
  minLength?: number;
  /** Longest word length, inclusive (default 10). */
  maxLength?: number;
}

/** Validated random word settings, the alphabet split into code points. */
export interface WordSpec {
  readonly chars: readonly string[];
  readonly minLength: number;
  readonly maxLength: number;
}

// A guard against typos such as 1e6 that would build megabyte prompts; far above anything a
// 77-token CLIP context can use.
const MAX_WORD_LENGTH = 1000;

/** Checks the options and fills in the defaults; bad values raise RwdaError naming the field. */
export function wordSpec(opts: RandomWordOptions = {}): WordSpec {
  const alphabet = opts.alphabet ?? PROMPT_DEFAULTS.alphabet;
  const minLength = opts.minLength ?? PROMPT_DEFAULTS.minWordLength;
  const maxLength = opts.maxLength ?? PROMPT_DEFAULTS.maxWordLength;
  if (typeof alphabet !== 'string' || alphabet.length === 0) {
    throw new RwdaError(`random words: alphabet must be a non-empty string, got ${JSON.stringify(alphabet)}`);
  }
  // Code points, not UTF-16 units, so that an alphabet with emoji or accents never splits a character.
  const chars = Array.from(alphabet);
  const seen = new Set<string>();
  for (const c of chars) {
    if (/\s/u.test(c)) {
      throw new RwdaError(`random words: alphabet must not contain whitespace (found ${JSON.stringify(c)})`);
    }
    // A repeated character would silently be drawn more often than the others.
    if (seen.has(c)) throw new RwdaError(`random words: alphabet repeats the character ${JSON.stringify(c)}`);
    seen.add(c);
  }
  for (const [name, v] of [
    ['minLength', minLength],
    ['maxLength', maxLength],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > MAX_WORD_LENGTH) {
      throw new RwdaError(`random words: ${name} must be an integer in [0, ${MAX_WORD_LENGTH}], got ${v}`);
    }
  }
  if (minLength > maxLength) {
    throw new RwdaError(`random words: minLength (${minLength}) must not exceed maxLength (${maxLength})`);
  }
  return { chars, minLength, maxLength };
}

/** One random word: length uniform in [minLength, maxLength], then each character uniform over the alphabet. */
export function randomWord(rng: Rng, spec: WordSpec): string {
  const len = rng.int(spec.minLength, spec.maxLength);
  let word = '';
  for (let i = 0; i < len; i++) word += spec.chars[rng.int(0, spec.chars.length - 1)]!;
  return word;
}
