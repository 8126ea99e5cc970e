/**
 * `rwda eval`: regenerates the paper's tables for a dataset (CLIP, Ours, CLIP + Ours; mean ± std
 * over seeds) and writes results.json, report.md and report.html into --out. Resumable: run the
 * same command again after an interruption and it picks up where it stopped (see
 * src/eval/runner/run.ts). Prints one JSON summary line on stdout; progress and notes on stderr.
 *
 * Test hooks (environment): RWDA_TEST_TRACE=1 prints each runner event as `rwda-trace: {json}` on
 * stderr; RWDA_TEST_PAUSE=<event type>:<k> additionally blocks the process for a minute right
 * after the k-th event of that type, so that a test can kill it at a known point.
 */
import type { Command } from 'commander';
import { basename, dirname } from 'node:path';
import { RwdaError } from '../../errors.ts';
import { ensureOutDir } from '../../util/outdir.ts';
import type { DatasetSpec } from '../../data/index.ts';
import { auprMetric, type AuprKind, type Setup } from '../../eval/report/index.ts';
import { DEFAULT_IMAGE_BATCH, DEFAULT_SEEDS, runEval, type DataEvent, type EvalEvent, type TrainObjectsMode } from '../../eval/runner/index.ts';
import { PROMPT_DEFAULTS } from '../../methods/rwda/index.ts';
import { EmbeddingStore } from '../../store/index.ts';
import { createProgress, type Progress } from '../../util/progress.ts';
import { addModelOptions, intOption, openModel, openStore, type ModelCliOptions } from './train.ts';

const DATASETS = ['mvtec', 'visa', 'sewerml', 'folder', 'folder-pair'] as const;

/** The dataset flags as parsed by commander (`rwda experiment` takes them too). */
export interface DatasetCliOptions {
  dataset?: string;
  root?: string;
  categories?: string;
  csv?: string;
  images?: string;
  normal?: string;
  anomalous?: string;
  category?: string;
  object?: string;
}

/** --setup, --seeds and --crops as parsed by commander. */
export interface RunCliOptions {
  setup: string;
  seeds: number;
  crops: string;
}

interface EvalCliOptions extends ModelCliOptions, DatasetCliOptions, RunCliOptions {
  dataset: string;
  pairs: number;
  trainObjects: string;
  aupr: string;
  imageBatch: number;
  out: string;
}

/** Adds the dataset flags; without `required`, --dataset is optional and its help says `optionalHint`. */
export function addDatasetOptions(cmd: Command, required: boolean, optionalHint = ''): Command {
  const kinds = DATASETS.join(' | ');
  return (required ? cmd.requiredOption('--dataset <kind>', kinds) : cmd.option('--dataset <kind>', `${kinds}${optionalHint}`))
    .option('--root <path>', 'dataset root (mvtec, visa, folder)')
    .option('--categories <a,b>', 'only these categories (mvtec, visa)')
    .option('--csv <file>', 'Sewer-ML annotation CSV (sewerml); VisA split CSV (visa, default <root>/split_csv/1cls.csv)')
    .option('--images <dir>', 'Sewer-ML image folder (sewerml)')
    .option('--normal <dir>', 'folder of normal images (folder-pair)')
    .option('--anomalous <dir>', 'folder of anomalous images (folder-pair)')
    .option('--category <name>', 'category name (folder, folder-pair)')
    .option('--object <name>', 'object name in the known-setup prompts (folder, folder-pair, sewerml)');
}

/** Adds --setup, --seeds and --crops (check them with checkRunFlags). */
export function addRunOptions(cmd: Command): Command {
  return cmd
    .option('--setup <s>', 'unknown (prompts say "object") | known (prompts name the category)', 'unknown')
    .option('--seeds <n>', `number of seeds 0..n-1 (default ${DEFAULT_SEEDS})`, intOption('--seeds', 1, 1000), DEFAULT_SEEDS)
    .option('--crops <mode>', 'none | grid (multi-crop: standard view + 2×2 and 3×3 grids)', 'none');
}

/** Adds --image-batch. */
export function addImageBatchOption(cmd: Command): Command {
  return cmd.option(
    '--image-batch <n>',
    `images per embedding batch, each stored in one transaction (default ${DEFAULT_IMAGE_BATCH})`,
    intOption('--image-batch', 1, 4096),
    DEFAULT_IMAGE_BATCH,
  );
}

/** RwdaError for a --setup or --crops value the runner does not know. */
export function checkRunFlags(o: RunCliOptions): void {
  if (o.setup !== 'unknown' && o.setup !== 'known') throw new RwdaError(`--setup must be unknown or known, got '${o.setup}'`);
  if (o.crops !== 'none' && o.crops !== 'grid') throw new RwdaError(`--crops must be none or grid, got '${o.crops}'`);
}

function need(value: string | undefined, flag: string, dataset: string): string {
  if (value === undefined || value === '') throw new RwdaError(`--dataset ${dataset} needs ${flag}`);
  return value;
}

function refuse(o: DatasetCliOptions, flags: Array<[keyof DatasetCliOptions, string]>, dataset: string): void {
  for (const [k, flag] of flags) if (o[k] !== undefined) throw new RwdaError(`${flag} does not apply to --dataset ${dataset}`);
}

/** The loader spec the flags describe (RwdaError names the missing or misplaced flag). */
export function datasetSpecFromCli(o: DatasetCliOptions): DatasetSpec {
  const kind = o.dataset;
  const categories = o.categories?.split(',').map((c) => c.trim()).filter((c) => c.length > 0);
  switch (kind) {
    case 'mvtec':
      refuse(o, [['csv', '--csv'], ['images', '--images'], ['normal', '--normal'], ['anomalous', '--anomalous'], ['category', '--category'], ['object', '--object']], kind);
      return { kind, root: need(o.root, '--root', kind), categories };
    case 'visa':
      refuse(o, [['images', '--images'], ['normal', '--normal'], ['anomalous', '--anomalous'], ['category', '--category'], ['object', '--object']], kind);
      return { kind, root: need(o.root, '--root', kind), categories, csvPath: o.csv };
    case 'sewerml':
      refuse(o, [['root', '--root (use --images)'], ['categories', '--categories'], ['normal', '--normal'], ['anomalous', '--anomalous'], ['category', '--category']], kind);
      return { kind, csv: need(o.csv, '--csv', kind), imageDir: need(o.images, '--images', kind), promptName: o.object };
    case 'folder':
      refuse(o, [['csv', '--csv'], ['images', '--images'], ['normal', '--normal'], ['anomalous', '--anomalous'], ['categories', '--categories (use --category)']], kind);
      return { kind, root: need(o.root, '--root', kind), category: o.category, promptName: o.object };
    case 'folder-pair':
      refuse(o, [['csv', '--csv'], ['images', '--images'], ['root', '--root (use --normal and --anomalous)'], ['categories', '--categories (use --category)']], kind);
      return { kind, normal: need(o.normal, '--normal', kind), anomalous: need(o.anomalous, '--anomalous', kind), category: o.category, promptName: o.object };
    default:
      throw new RwdaError(`--dataset must be one of ${DATASETS.join(', ')}, got '${kind}'`);
  }
}

/** Blocks the thread (test hook; see the module comment). */
function pauseForTest(): void {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(cell, 0, 0, 60_000);
}

/** The stderr side shared by `rwda eval` and `rwda experiment`: notes, one progress bar at a time, the loading and embedding events. */
export interface StderrReporter {
  note: (msg: string) => void;
  /** Shows a bar for `label`, replacing the current one unless it already is that label's. */
  barFor: (label: string, total: number, unit: string) => void;
  update: (done: number) => void;
  stopBar: () => void;
  /** Reports a loading or embedding event. */
  onDataEvent: (e: DataEvent) => void;
}

/** A StderrReporter; `listedIn` names the file that lists every skipped image. */
export function stderrReporter(quiet: boolean | undefined, listedIn: string): StderrReporter {
  const note = (msg: string): void => {
    if (!quiet) process.stderr.write(`rwda: ${msg}\n`);
  };
  let bar: Progress | undefined;
  let phase = '';
  const stopBar = (): void => {
    bar?.stop();
    bar = undefined;
    phase = '';
  };
  const barFor = (label: string, total: number, unit: string): void => {
    if (label === phase) return;
    stopBar();
    phase = label;
    bar = createProgress({ total, unit, label, quiet });
  };
  const update = (done: number): void => bar?.update(done);
  let skippedShown = 0;
  const onDataEvent = (e: DataEvent): void => {
    switch (e.type) {
      case 'dataset':
        note(e.summary);
        for (const n of e.notes) note(n);
        break;
      case 'embed-start':
        note(`embedding ${e.images} image(s) × ${e.views} view(s) (cached views are read, not encoded)`);
        barFor('embed images', e.images, 'images');
        break;
      case 'embed-batch':
        update(e.done);
        break;
      case 'skipped':
        // One bad image never stops the run; the full list is in the written file.
        if (skippedShown++ < 10) process.stderr.write(`rwda: warning: skipped ${e.entry.reason}\n`);
        break;
      case 'embed-done':
        stopBar();
        if (skippedShown > 10) process.stderr.write(`rwda: warning: ... ${skippedShown - 10} more skipped image(s), listed in ${listedIn}\n`);
        note(`image views: ${e.encoded} encoded, ${e.cached} from the cache${e.skipped > 0 ? `; ${e.skipped} image(s) skipped` : ''}`);
        break;
    }
  };
  return { note, barFor, update, stopBar, onDataEvent };
}

/** Stderr side of the run: progress bars, notes, and the test hooks. */
function reporter(quiet: boolean | undefined): { onEvent: (e: EvalEvent) => void; stop: () => void } {
  const out = stderrReporter(quiet, 'results.json');
  const trace = process.env.RWDA_TEST_TRACE === '1';
  const pause = /^([a-z-]+):(\d+)$/.exec(process.env.RWDA_TEST_PAUSE ?? '');
  const seen = new Map<string, number>();
  const onEvent = (e: EvalEvent): void => {
    switch (e.type) {
      case 'run':
        if (e.seedsStored.length > 0) out.note(`run ${e.key}: seeds ${e.seedsStored.join(', ')} already stored, reused`);
        break;
      case 'train':
        out.barFor(`seed ${e.seed} ${e.progress.phase === 'embed' ? 'embed prompts' : 'train FNN'}`, e.progress.total, e.progress.phase === 'embed' ? 'pairs' : 'steps');
        out.update(e.progress.done);
        break;
      case 'detector':
        out.stopBar();
        if (e.trained && e.reason !== undefined && e.reason !== 'missing') out.note(`seed ${e.seed}: cached detector unusable (${e.reason}); retrained into ${e.dir}`);
        break;
      case 'seed-done':
        out.note(`seed ${e.seed} (${e.index + 1}/${e.total}) ${e.reused ? 'reused from the store' : 'done'}`);
        break;
      case 'clip-done':
      case 'seed-start':
      case 'report':
        break;
      default:
        out.onDataEvent(e);
    }
    if (trace && e.type !== 'train') process.stderr.write(`rwda-trace: ${JSON.stringify(e)}\n`);
    if (pause && pause[1] === e.type) {
      const k = (seen.get(e.type) ?? 0) + 1;
      seen.set(e.type, k);
      if (k === Number(pause[2])) {
        process.stderr.write('rwda-trace: paused\n');
        pauseForTest();
      }
    }
  };
  return { onEvent, stop: out.stopBar };
}

/** Opens model and store, runs `fn` with a reporter's onEvent, prints the summary it returns with timings, and always cleans up. */
export async function withModel<E>(
  opts: ModelCliOptions,
  makeReporter: (quiet: boolean | undefined) => { onEvent: (e: E) => void; stop: () => void },
  fn: (model: Awaited<ReturnType<typeof openModel>>['model'], name: string | undefined, store: EmbeddingStore, onEvent: (e: E) => void) => Promise<Record<string, unknown>>,
): Promise<void> {
  const t0 = performance.now();
  const { model, name } = await openModel(opts, 'both');
  // Without a cache the command still works, from memory, but cannot resume.
  const store = openStore(opts) ?? EmbeddingStore.open(':memory:');
  const t1 = performance.now();
  const rep = makeReporter(opts.quiet);
  try {
    const summary = await fn(model, name, store, rep.onEvent);
    rep.stop();
    summary.seconds = { load: round3((t1 - t0) / 1000), run: round3((performance.now() - t1) / 1000) };
    process.stdout.write(JSON.stringify(summary) + '\n');
  } finally {
    rep.stop();
    store.close();
    await model.dispose();
  }
}

function mean3(m: { auroc: { mean: number }; ap: { mean: number }; auprTrapezoid: { mean: number }; f1Max: { mean: number } }, aupr: AuprKind) {
  return { auroc: m.auroc.mean, aupr: m[auprMetric(aupr)].mean, f1Max: m.f1Max.mean };
}

/** Registers `eval`. */
export function register(program: Command): void {
  const cmd = program
    .command('eval')
    .description('evaluate CLIP, Ours and CLIP + Ours on a dataset (mean ± std over seeds); writes results.json, report.md, report.html; resumable');
  addRunOptions(addDatasetOptions(cmd, true))
    .option('--pairs <n>', `augmented prompt pairs per seed (default ${PROMPT_DEFAULTS.pairs})`, intOption('--pairs', 1), PROMPT_DEFAULTS.pairs)
    .option(
      '--train-objects <mode>',
      'object names in the detector\'s training prompts: object | categories (known setup: one detector trained on the dataset\'s category names, cycled over the pairs)',
      'object',
    )
    .option('--aupr <kind>', 'AUPR shown in the tables: ap (average precision) | trapezoid', 'ap');
  addImageBatchOption(cmd).requiredOption('--out <dir>', 'run directory for results.json, report.md, report.html');
  addModelOptions(cmd).action(async (opts: EvalCliOptions) => {
    checkRunFlags(opts);
    if (opts.aupr !== 'ap' && opts.aupr !== 'trapezoid') throw new RwdaError(`--aupr must be ap or trapezoid, got '${opts.aupr}'`);
    if (opts.trainObjects !== 'object' && opts.trainObjects !== 'categories') {
      throw new RwdaError(`--train-objects must be object or categories, got '${opts.trainObjects}'`);
    }
    if (opts.trainObjects === 'categories' && opts.setup !== 'known') throw new RwdaError('--train-objects categories needs --setup known');
    const dataset = datasetSpecFromCli(opts);
    ensureOutDir('--out', opts.out);
    await withModel(opts, reporter, async (model, name, store, onEvent) => {
      const out = await runEval({
        backbone: model,
        backboneName: name ?? basename(model.dir),
        pretrained: name,
        dataset,
        store,
        out: opts.out,
        setup: opts.setup as Setup,
        seeds: opts.seeds,
        crops: opts.crops as 'none' | 'grid',
        train: { pairs: opts.pairs },
        trainObjects: opts.trainObjects as TrainObjectsMode,
        aupr: opts.aupr as AuprKind,
        imageBatch: opts.imageBatch,
        onEvent,
      });
      const r = out.results;
      const s = out.stats;
      const aupr = opts.aupr as AuprKind;
      return {
        out: dirname(out.paths.results),
        results: out.paths.results,
        report: out.paths.markdown,
        html: out.paths.html,
        dataset: r.config.dataset,
        setup: r.config.setup,
        ...(opts.trainObjects === 'categories' ? { trainObjects: r.config.prompts?.trainObjects } : {}),
        crops: opts.crops,
        categories: r.categories.length,
        images: s.images,
        evaluated: r.categories.reduce((a, c) => a + c.nNormal + c.nAnomalous, 0),
        skipped: r.skipped.length,
        seeds: r.config.seeds,
        seedsComputed: s.seedsComputed,
        seedsReused: s.seedsReused,
        runKey: out.runKey,
        mean: { clip: mean3(r.mean.clip, aupr), ours: mean3(r.mean.ours, aupr), clipOurs: mean3(r.mean.clipOurs, aupr) },
        cache: {
          path: store.path,
          viewsPerImage: s.viewsPerImage,
          viewsEncoded: s.viewsEncoded,
          viewsCached: s.viewsCached,
          imageWrites: s.store.imageWrites,
          textsEncoded: s.textsEncoded,
          clipReused: s.clipReused,
          detectorsTrained: s.detectorsTrained,
          detectorsLoaded: s.detectorsLoaded,
        },
      };
    });
  });
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
