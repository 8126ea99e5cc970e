/**
 * How long a cold evaluation run takes (nothing cached): the image views through the vision tower
 * once, then per seed the training prompts through the text tower (the random words depend on the
 * seed, so no two seeds share prompts) and the FNN training. Scoring and metrics are left out:
 * they take seconds next to the encoders' minutes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RwdaError } from '../../errors.ts';

/** Inputs of estimateRunTime. */
export interface RunTimeInputs {
  /** Test images. */
  images: number;
  /** Views per image: 1 without crops, 1 + 4 + 9 = 14 with the default grid. */
  views: number;
  /** Vision-tower milliseconds per view (one view costs one image's encoding). */
  msPerImage: number;
  seeds: number;
  /** FNN training seconds of one seed. */
  trainSecondsPerSeed: number;
  /** Text-tower seconds of ONE seed's training prompts (2 × pairs prompts). */
  textEncodeSeconds: number;
}

/** The estimate, in seconds. */
export interface RunTimeEstimate {
  imageSeconds: number;
  /** Text encoding + training of one seed. */
  perSeedSeconds: number;
  seedSeconds: number;
  totalSeconds: number;
}

/** Cold-run time of an evaluation (see the module comment). */
export function estimateRunTime(i: RunTimeInputs): RunTimeEstimate {
  for (const [k, v] of Object.entries(i)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RwdaError(`estimateRunTime: ${k} must be a non-negative number, got ${String(v)}`);
  }
  const imageSeconds = (i.images * i.views * i.msPerImage) / 1000;
  const perSeedSeconds = i.textEncodeSeconds + i.trainSecondsPerSeed;
  const seedSeconds = i.seeds * perSeedSeconds;
  return { imageSeconds, perSeedSeconds, seedSeconds, totalSeconds: imageSeconds + seedSeconds };
}

/** Encoder timings of the backbone benchmark (bench/backbone.ts). */
export interface BenchTimings {
  file: string;
  model: string;
  date?: string;
  threads?: number;
  /** Vision tower, batch 8. */
  imageMsPerImage: number;
  /** Text tower, dynamic-length batches of 64. */
  textMsPerPrompt: number;
}

type Obj = Record<string, unknown>;

function num(o: unknown, key: string, file: string): number {
  const v = (o as Obj | undefined)?.[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RwdaError(`${file}: ${key} is missing or not a number`);
  return v;
}

/**
 * The encoder timings in `dir`/backbone.json (or the `backbone` block of all.json, whichever is
 * newer); undefined when neither exists.
 */
export function readBenchTimings(dir: string): BenchTimings | undefined {
  const found: Array<{ file: string; block: Obj; date?: string }> = [];
  for (const [name, pickBlock] of [
    ['backbone.json', (j: Obj) => j],
    ['all.json', (j: Obj) => j.backbone as Obj | undefined],
  ] as const) {
    const file = join(dir, name);
    if (!existsSync(file)) continue;
    let json: Obj;
    try {
      json = JSON.parse(readFileSync(file, 'utf8')) as Obj;
    } catch (err) {
      throw new RwdaError(`${file}: not valid JSON (${(err as Error).message})`, { cause: err });
    }
    const block = pickBlock(json);
    if (block && typeof block === 'object') found.push({ file, block, date: typeof json.date === 'string' ? json.date : undefined });
  }
  if (found.length === 0) return undefined;
  found.sort((a, b) => (b.date ?? '').localeCompare(a.date ?? ''));
  const { file, block, date } = found[0]!;
  return {
    file,
    model: typeof block.model === 'string' ? block.model : 'unknown',
    date,
    threads: typeof block.threads === 'number' ? block.threads : undefined,
    imageMsPerImage: num(block.image, 'batch8_ms_per_image', `${file}: image`),
    textMsPerPrompt: num(block.text, 'dynamic_ms_per_prompt', `${file}: text`),
  };
}
