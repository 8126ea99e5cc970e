/**
 * `rwda train`: trains the paper's detector for a backbone and writes the detector directory;
 * prints one JSON summary line. Also holds the option parsing and model/cache opening that
 * `rwda detect` shares.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { RwdaError } from '../../errors.ts';
import { checkDetectorOut } from '../../methods/rwda/index.ts';
import { ClipModel } from '../../clip/model.ts';
import { DEFAULT_MODEL, resolveModel } from '../../clip/hub/index.ts';
import { FNN_DEFAULTS, PROMPT_DEFAULTS } from '../../methods/rwda/index.ts';
import { trainDetector, type TrainDetectorOptions, type TrainProgress } from '../../methods/rwda/index.ts';
import { EmbeddingStore } from '../../store/index.ts';
import { createProgress, type Progress } from '../../util/progress.ts';

/** Commander parser for an integer option within [min, max]. */
export function intOption(flag: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new RwdaError(`${flag} must be an integer in [${min}, ${max}], got '${value}'`);
    }
    return n;
  };
}

/** Commander parser for a finite number option. */
export function numberOption(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new RwdaError(`${flag} must be a number, got '${value}'`);
    return n;
  };
}

/** Parses "512,256,128" into positive integers. */
export function widthsOption(flag: string) {
  return (value: string): number[] => {
    const parts = value.split(',').map((s) => s.trim());
    if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1)) {
      throw new RwdaError(`${flag} must be comma-separated positive integers such as 512,256,128, got '${value}'`);
    }
    return parts.map(Number);
  };
}

/** Parses "bottle,metal nut" into names (empty entries are an error). */
export function namesOption(flag: string) {
  return (value: string): string[] => {
    const names = value.split(',').map((s) => s.trim().replace(/\s+/gu, ' '));
    if (names.some((n) => n.length === 0)) throw new RwdaError(`${flag} must be comma-separated non-empty names such as "bottle,metal nut", got '${value}'`);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) throw new RwdaError(`${flag} names '${twice}' twice`);
    return names;
  };
}

/** Options every method command takes. */
export interface ModelCliOptions {
  model?: string;
  cache?: string | false;
  threads?: number;
  quiet?: boolean;
}

/** Adds --model, --cache/--no-cache, --threads and --quiet. */
export function addModelOptions(cmd: Command): Command {
  return cmd
    .option('--model <name|dir>', `model directory or pretrained name (default ${DEFAULT_MODEL}; downloaded when missing)`)
    .option('--cache <path>', 'embedding cache (SQLite file; default $RWDA_HOME/cache.sqlite)')
    .option('--no-cache', 'do not read or write the embedding cache')
    .option('--threads <n>', 'onnxruntime intra-op threads (default: one per core)', intOption('--threads', 1, 1024))
    .option('-q, --quiet', 'no progress bars or notes on stderr');
}

/** Resolves --model (a directory, or a registry name pulled on demand) and loads the towers asked for. */
export async function openModel(opts: ModelCliOptions, towers: 'both' | 'text'): Promise<{ model: ClipModel; name: string | undefined }> {
  const resolved = await resolveModel(opts.model ?? DEFAULT_MODEL, { quiet: opts.quiet });
  const model = await ClipModel.load(resolved.dir, { towers, intraOpNumThreads: opts.threads });
  return { model, name: resolved.name };
}

/** Opens the embedding cache unless --no-cache was given. */
export function openStore(opts: ModelCliOptions): EmbeddingStore | undefined {
  if (opts.cache === false) return undefined;
  return opts.cache === undefined ? EmbeddingStore.open() : EmbeddingStore.open(opts.cache);
}

/** Training flags as parsed by commander. */
export interface TrainCliOptions {
  pairs?: number;
  seed?: number;
  normalWord?: string;
  anomalyWord?: string;
  hidden?: number[];
  dropout?: number;
  lr?: number;
  weightDecay?: number;
  epochs?: number;
  batchSize?: number;
  independentWords?: boolean;
  /** `train` only: --objects "bottle,metal nut". */
  objects?: string[];
}

/** Adds the training flags (used by `train`; `detect` takes --pairs and --seed for its default detector). */
export function addTrainOptions(cmd: Command): Command {
  return cmd
    .option('--pairs <n>', `number of augmented prompt pairs (default ${PROMPT_DEFAULTS.pairs})`, intOption('--pairs', 1))
    .option('--seed <n>', `seed of the random words and the FNN (default ${FNN_DEFAULTS.seed})`, intOption('--seed', 0, 0xffffffff))
    .option('--normal-word <w>', `word(s) before "object" in normal prompts (default "${PROMPT_DEFAULTS.normalWord}")`)
    .option('--anomaly-word <w>', `word(s) before "object" in anomaly prompts (default "${PROMPT_DEFAULTS.anomalyWord}")`)
    .option('--hidden <widths>', `FNN hidden widths (default ${FNN_DEFAULTS.hidden.join(',')})`, widthsOption('--hidden'))
    .option('--dropout <p>', `dropout probability (default ${FNN_DEFAULTS.dropout})`, numberOption('--dropout'))
    .option('--lr <x>', `AdamW learning rate (default ${FNN_DEFAULTS.lr})`, numberOption('--lr'))
    .option('--weight-decay <x>', `AdamW weight decay (default ${FNN_DEFAULTS.weightDecay})`, numberOption('--weight-decay'))
    .option('--epochs <n>', `training epochs (default ${FNN_DEFAULTS.epochs})`, intOption('--epochs', 1))
    .option('--batch-size <n>', `rows per batch, even (default ${FNN_DEFAULTS.batchSize})`, intOption('--batch-size', 2))
    .option('--independent-words', 'draw separate random words for the anomaly prompt of each pair');
}

/** Maps the CLI flags to trainDetector options. */
export function trainOptionsFromCli(o: TrainCliOptions): TrainDetectorOptions {
  return {
    pairs: o.pairs,
    seed: o.seed,
    words: { normal: o.normalWord, anomaly: o.anomalyWord },
    independentWords: o.independentWords,
    hidden: o.hidden,
    dropout: o.dropout,
    lr: o.lr,
    weightDecay: o.weightDecay,
    epochs: o.epochs,
    batchSize: o.batchSize,
    trainObjects: o.objects,
  };
}

/** Progress bars for the two training phases (silent unless stderr is a TTY). */
export function trainProgress(quiet: boolean | undefined): { onProgress: (p: TrainProgress) => void; stop: () => void } {
  let phase: TrainProgress['phase'] | undefined;
  let bar: Progress | undefined;
  return {
    onProgress(p) {
      if (p.phase !== phase) {
        bar?.stop();
        phase = p.phase;
        bar = createProgress({ total: p.total, unit: p.phase === 'embed' ? 'pairs' : 'steps', label: p.phase === 'embed' ? 'embed prompts' : 'train FNN', quiet });
      }
      bar!.update(p.done);
    },
    stop() {
      bar?.stop();
    },
  };
}

/** Registers `train`. */
export function register(program: Command): void {
  const cmd = program
    .command('train')
    .description('train the detector (random-word prompt pairs → FNN) for a backbone and write it to a folder; prints a JSON summary')
    .requiredOption('--out <dir>', 'detector folder to write (replaced atomically if it holds a detector)')
    .option(
      '--objects <names>',
      'known object names for the training prompts instead of "object", comma-separated (pair i uses name i mod k; one category-agnostic detector)',
      namesOption('--objects'),
    );
  addTrainOptions(addModelOptions(cmd)).action(async (opts: TrainCliOptions & ModelCliOptions & { out: string }) => {
    // Fail on a bad --out now, not after minutes of training.
    checkDetectorOut(opts.out);
    const t0 = performance.now();
    const { model, name } = await openModel(opts, 'text');
    const store = openStore(opts);
    try {
      const t1 = performance.now();
      const progress = trainProgress(opts.quiet);
      const detector = await trainDetector(model, { ...trainOptionsFromCli(opts), store, backboneName: name, onProgress: progress.onProgress });
      progress.stop();
      const path = detector.save(resolve(opts.out));
      detector.dispose();
      const m = detector.meta;
      const summary = {
        detector: path,
        backbone: m.backbone.name,
        fingerprint: m.backbone.fingerprint,
        pairs: m.prompts.pairs,
        seed: m.prompts.seed,
        ...(m.prompts.objects ? { objects: m.prompts.objects } : {}),
        steps: m.training.steps,
        finalLoss: m.training.finalLoss,
        textsEncoded: m.training.textsEncoded,
        textsCached: m.training.textsCached,
        seconds: {
          load: round3((t1 - t0) / 1000),
          embed: m.training.seconds.embed,
          train: m.training.seconds.train,
          total: round3((performance.now() - t0) / 1000),
        },
      };
      process.stdout.write(JSON.stringify(summary) + '\n');
    } finally {
      store?.close();
      await model.dispose();
    }
  });
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
