/**
 * Text prompts of the method: the prompt-guided pair "a photo of [n] object" / "a photo of [a] object"
 * and its random-word augmentation "[] a [] photo [] of [] {n} []" (five slots, one random word each).
 */
import { RwdaError } from '../../errors.ts';
import { PROMPT_DEFAULTS } from './defaults.ts';
import { randomWord, wordSpec, type RandomWordOptions } from './random_words.ts';
import { Rng } from '../../util/rng.ts';

export { randomWord, wordSpec, type RandomWordOptions, type WordSpec } from './random_words.ts';

/** A normal prompt and its anomaly counterpart. */
export interface PromptPair {
  normal: string;
  anomaly: string;
}

/** What the object is called and which words mark normal / anomalous. */
export interface PromptPairOptions {
  /** "object" in the unknown-object setup, a category name in the known-object setup. */
  object?: string;
  /** Word(s) before the object in the normal prompt (default "a"). */
  normalWord?: string;
  /** Word(s) before the object in the anomaly prompt (default "a damaged"). */
  anomalyWord?: string;
}

/** Options of the random-word augmentation. */
export interface AugmentOptions extends PromptPairOptions, RandomWordOptions {
  /** Number of pairs. */
  n: number;
  /** PRNG seed, an integer in [0, 2^32-1]. */
  seed: number;
  /** Draw separate random words for the anomaly prompt (default false: both prompts share them). */
  independent?: boolean;
  /** Which of the five slots get a word (default all five); a disabled slot is left out. */
  slots?: readonly boolean[];
  /**
   * Object names for a category-agnostic detector in the known-object setup (exclusive with
   * `object`): pair i uses objects[i mod k]. Cycling uses no random numbers, so the random words
   * of pair i are the same as with a single object name.
   */
  objects?: readonly string[];
}

/** Number of random-word slots in the augmentation template. */
export const AUGMENT_SLOTS = 5;

/** Joins prompt parts with single spaces, dropping empty parts so no double / leading / trailing spaces remain. */
export function joinWords(parts: readonly string[]): string {
  return parts
    .flatMap((p) => p.split(/\s+/u))
    .filter((p) => p.length > 0)
    .join(' ');
}

/** The object name for a dataset category in the known-object setup ("metal_nut" → "metal nut"). */
export function objectName(category: string): string {
  const name = joinWords([category.replace(/_/gu, ' ')]);
  if (name.length === 0) throw new RwdaError(`prompts: category name is empty (${JSON.stringify(category)})`);
  return name;
}

interface States {
  normal: string;
  anomaly: string;
}

function resolveStates(opts: PromptPairOptions): States {
  const object = opts.object ?? PROMPT_DEFAULTS.unknownObject;
  const normalWord = opts.normalWord ?? PROMPT_DEFAULTS.normalWord;
  const anomalyWord = opts.anomalyWord ?? PROMPT_DEFAULTS.anomalyWord;
  for (const [name, v] of [
    ['object', object],
    ['normalWord', normalWord],
    ['anomalyWord', anomalyWord],
  ] as const) {
    if (typeof v !== 'string') throw new RwdaError(`prompts: ${name} must be a string, got ${typeof v}`);
  }
  if (joinWords([object]) === '') throw new RwdaError('prompts: object must not be empty');
  const normal = joinWords([normalWord, object]);
  const anomaly = joinWords([anomalyWord, object]);
  if (normal === anomaly) {
    throw new RwdaError(
      `prompts: normalWord and anomalyWord give the same text ${JSON.stringify(normal)}; the pair would not discriminate`,
    );
  }
  return { normal, anomaly };
}

/** The prompt-guided pair: "a photo of {normalWord} {object}" / "a photo of {anomalyWord} {object}". */
export function promptPair(opts: PromptPairOptions = {}): PromptPair {
  const s = resolveStates(opts);
  return { normal: joinWords(['a photo of', s.normal]), anomaly: joinWords(['a photo of', s.anomaly]) };
}

/** Fills "[] a [] photo [] of [] {state} []" with five words ('' leaves a slot out). */
export function fillTemplate(words: readonly string[], state: string): string {
  if (words.length !== AUGMENT_SLOTS) {
    throw new RwdaError(`prompts: the template has ${AUGMENT_SLOTS} slots, got ${words.length} words`);
  }
  const [w0, w1, w2, w3, w4] = words as [string, string, string, string, string];
  return joinWords([w0, 'a', w1, 'photo', w2, 'of', w3, state, w4]);
}

/**
 * Validated object names for `objects` (normalised like objectName's output; RwdaError names the
 * bad entry, prefixed by `field`).
 */
export function objectNames(objects: readonly string[], field = 'objects'): string[] {
  if (!Array.isArray(objects) || objects.length === 0) {
    throw new RwdaError(`prompts: ${field} must be a non-empty array of object names, got ${JSON.stringify(objects)}`);
  }
  const seen = new Set<string>();
  return objects.map((o: unknown, i) => {
    if (typeof o !== 'string' || joinWords([o]) === '') {
      throw new RwdaError(`prompts: ${field}[${i}] must be a non-empty object name, got ${JSON.stringify(o)}`);
    }
    const name = joinWords([o]);
    // A repeated name would silently weight that object twice in the training set.
    if (seen.has(name)) throw new RwdaError(`prompts: ${field}[${i}] repeats ${JSON.stringify(name)}`);
    seen.add(name);
    return name;
  });
}

function checkObjects(opts: Omit<AugmentOptions, 'n'>): string[] | undefined {
  if (opts.objects === undefined) return undefined;
  if (opts.object !== undefined) throw new RwdaError('prompts: give either object or objects, not both');
  return objectNames(opts.objects);
}

function checkSlots(slots: readonly boolean[] | undefined): readonly boolean[] {
  if (slots === undefined) return new Array<boolean>(AUGMENT_SLOTS).fill(true);
  if (!Array.isArray(slots) || slots.length !== AUGMENT_SLOTS || slots.some((s) => typeof s !== 'boolean')) {
    throw new RwdaError(`prompts: slots must be an array of ${AUGMENT_SLOTS} booleans, got ${JSON.stringify(slots)}`);
  }
  return slots;
}

/**
 * Yields augmented pairs one by one (stop whenever; `n` is not needed here).
 *
 * PRNG use: Rng(seed) is forked into a normal-word stream and an anomaly-word stream; pair i takes
 * the next words of those streams in order. Pair i therefore depends only on pairs 0..i-1, so any
 * n gives a prefix of a longer run, and the normal prompts are the same with `independent` on or off.
 * With `objects`, pair i uses objects[i mod k] and the same random words as without them.
 */
export function iterAugmentedPairs(opts: Omit<AugmentOptions, 'n'>): Generator<PromptPair, never, undefined> {
  // Validation happens here, eagerly; a generator body would only run at the first next().
  const objects = checkObjects(opts);
  const stateList = objects === undefined ? [resolveStates(opts)] : objects.map((object) => resolveStates({ ...opts, object }));
  const spec = wordSpec(opts);
  const slots = checkSlots(opts.slots);
  const independent = opts.independent ?? PROMPT_DEFAULTS.independentWords;
  if (typeof independent !== 'boolean') throw new RwdaError('prompts: independent must be a boolean');
  const seed = opts.seed;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RwdaError(`prompts: seed must be an integer in [0, 2^32-1], got ${seed}`);
  }
  const root = new Rng(seed);
  const normalStream = root.fork();
  const anomalyStream = root.fork();
  const draw = (rng: Rng): string[] => slots.map((on) => (on ? randomWord(rng, spec) : ''));
  return (function* () {
    for (let i = 0; ; i = (i + 1) % stateList.length) {
      const states = stateList[i]!;
      const wn = draw(normalStream);
      const wa = independent ? draw(anomalyStream) : wn;
      yield { normal: fillTemplate(wn, states.normal), anomaly: fillTemplate(wa, states.anomaly) };
    }
  })();
}

/** The first n augmented prompt pairs for a seed (deterministic; a prefix of any longer run). */
export function augmentedPairs(opts: AugmentOptions): PromptPair[] {
  const { n } = opts;
  if (!Number.isInteger(n) || n < 0) throw new RwdaError(`prompts: n must be a non-negative integer, got ${n}`);
  const it = iterAugmentedPairs(opts);
  const out: PromptPair[] = [];
  for (let i = 0; i < n; i++) out.push(it.next().value);
  return out;
}
