/**
 * `rwda experiment pairs | words | tsne`: the paper's analyses (Sections 4.4–4.5). Each writes
 * `<name>.json`, `<name>.svg` and `<name>.html` into --out (atomically, after every finished
 * setting for the sweeps) and prints one JSON summary line on stdout; progress and notes go to
 * stderr. Every finished seed of every setting is kept in the store (same records as `rwda eval`),
 * so the same command resumes an interrupted sweep and a rerun recomputes nothing.
 *
 * Test hook (environment): RWDA_TEST_TRACE=1 prints each event (except progress ticks) as
 * `rwda-trace: {json}` on stderr.
 */
import type { Command } from 'commander';
import { basename } from 'node:path';
import type { ClipModel } from '../../clip/model.ts';
import { RwdaError } from '../../errors.ts';
import { ensureOutDir } from '../../util/outdir.ts';
import type { DatasetSpec } from '../../data/index.ts';
import { METHODS, type MethodId } from '../../eval/report/index.ts';
import {
  DEFAULT_ANOMALY_WORDS,
  DEFAULT_NORMAL_WORDS,
  DEFAULT_PAIR_COUNTS,
  DEFAULT_TSNE_PAIRS,
  DOMAINS_DEFAULTS,
  runDomainsExperiment,
  runPairsExperiment,
  runTsneExperiment,
  runWordsExperiment,
  type DomainsEvent,
  type ExperimentDataOptions,
  type ExperimentEvent,
  type ExperimentStats,
  type HeadlineStats,
} from '../../eval/experiments/index.ts';
import { PROMPT_DEFAULTS } from '../../methods/rwda/index.ts';
import type { EmbeddingStore } from '../../store/index.ts';
import {
  addDatasetOptions,
  addImageBatchOption,
  addRunOptions,
  checkRunFlags,
  datasetSpecFromCli,
  stderrReporter,
  withModel,
  type DatasetCliOptions,
  type RunCliOptions,
} from './eval.ts';
import { addModelOptions, intOption, numberOption, type ModelCliOptions } from './train.ts';

interface ImageCliOptions extends DatasetCliOptions {
  imageBatch: number;
}

interface SweepCliOptions extends ModelCliOptions, ImageCliOptions, RunCliOptions {
  out: string;
}

/** The eval flags the sweeps share: dataset, image batch, setup, seeds, crops, out, model and cache. */
function addSweepOptions(cmd: Command): Command {
  addRunOptions(addImageBatchOption(addDatasetOptions(cmd, true))).requiredOption('--out <dir>', 'directory for <experiment>.json, .svg and .html');
  return addModelOptions(cmd);
}

/** The options every sweep passes on from its flags and the opened model and store. */
function sweepData(
  o: SweepCliOptions,
  dataset: DatasetSpec,
  model: ClipModel,
  name: string | undefined,
  store: EmbeddingStore,
  onEvent: (e: ExperimentEvent) => void,
): ExperimentDataOptions {
  return {
    backbone: model,
    backboneName: name ?? basename(model.dir),
    pretrained: name,
    dataset,
    store,
    seeds: o.seeds,
    setup: o.setup as 'unknown' | 'known',
    crops: o.crops as 'none' | 'grid',
    imageBatch: o.imageBatch,
    onEvent,
  };
}

/** Commander parser for a comma-separated list of integers ≥ min. */
function intListOption(flag: string, min: number) {
  return (value: string): number[] => {
    const parts = value.split(',').map((s) => s.trim());
    if (parts.some((p) => !/^\d+$/.test(p) || !Number.isSafeInteger(Number(p)) || Number(p) < min)) {
      throw new RwdaError(`${flag} must be comma-separated integers ≥ ${min} such as 1000,3000, got '${value}'`);
    }
    return parts.map(Number);
  };
}

/** Commander parser for a comma-separated list of words (each may hold spaces: "a,a normal"). */
function wordListOption(flag: string) {
  return (value: string): string[] => {
    const parts = value.split(',').map((s) => s.trim());
    if (parts.some((p) => p === '')) throw new RwdaError(`${flag} must be comma-separated words such as "a,a normal", got '${value}' (an empty entry)`);
    return parts;
  };
}

/** Stderr side of an experiment: notes, progress bars, warnings, the trace hook. */
export function reporter(quiet: boolean | undefined): { onEvent: (e: DomainsEvent) => void; stop: () => void } {
  const out = stderrReporter(quiet, 'the JSON file');
  const trace = process.env.RWDA_TEST_TRACE === '1';
  let panel = '';
  const onEvent = (e: DomainsEvent): void => {
    switch (e.type) {
      case 'panel-start':
        panel = `${e.panel} (${e.index + 1}/${e.total}) `;
        if (e.reused) out.note(`${panel}: t-SNE map read back from the store`);
        break;
      case 'panel-done':
        out.stopBar();
        break;
      case 'setting-start':
        out.note(`${e.label} (${e.index + 1}/${e.total})${e.seedsStored.length > 0 ? `: seeds ${e.seedsStored.join(', ')} already stored` : ''}`);
        break;
      case 'train':
        out.barFor(`${e.label} seed ${e.seed} ${e.progress.phase === 'embed' ? 'embed prompts' : 'train FNN'}`, e.progress.total, e.progress.phase === 'embed' ? 'pairs' : 'steps');
        out.update(e.progress.done);
        break;
      case 'seed-done':
        out.stopBar();
        out.note(
          `${e.label} seed ${e.seed}: ` +
            (e.reused ? 'reused from the store' : e.trained ? `trained (${e.textsEncoded} new prompt texts encoded)` : 'detector from the detector cache'),
        );
        break;
      case 'tsne':
        out.barFor(`${panel}t-SNE ${e.stage}`, e.total, e.stage === 'affinities' ? 'pairs' : 'iterations');
        out.update(e.done);
        break;
      case 'setting-done':
      case 'written':
        break;
      default:
        out.onDataEvent(e);
    }
    if (trace && e.type !== 'train' && e.type !== 'embed-batch' && e.type !== 'tsne') process.stderr.write(`rwda-trace: ${JSON.stringify(e)}\n`);
  };
  return { onEvent, stop: out.stopBar };
}

/** Mean ± std AUROC of each method, for the summary line. */
export function brief(m: Record<MethodId, HeadlineStats>): Record<MethodId, { mean: number; std: number }> {
  return Object.fromEntries(METHODS.map((k) => [k, { mean: m[k].auroc.mean, std: m[k].auroc.std }])) as Record<MethodId, { mean: number; std: number }>;
}

/** The cache part of the summary line. */
export function cacheSummary(path: string, s: ExperimentStats): Record<string, unknown> {
  return {
    path,
    viewsEncoded: s.viewsEncoded,
    viewsCached: s.viewsCached,
    imageWrites: s.store.imageWrites,
    textsEncoded: s.textsEncoded,
    textWrites: s.store.textWrites,
    detectorsTrained: s.detectorsTrained,
    detectorsLoaded: s.detectorsLoaded,
    seedsComputed: s.seedsComputed,
    seedsReused: s.seedsReused,
  };
}

/** Captions and t-SNE flags of `experiment domains` (and `reproduce fig5`). */
export interface DomainsCliOptions extends ModelCliOptions {
  captions: string;
  pairs: number;
  seed: number;
  maxSentences: number;
  normalWords?: string[];
  anomalyWords?: string[];
  inflections?: boolean;
  caseSensitive?: boolean;
  perplexity?: number;
  iterations?: number;
  tsneMethod?: string;
  out: string;
}

/** Adds the flags of `experiment domains`. */
export function addDomainsOptions(cmd: Command): Command {
  cmd
    .requiredOption('--captions <file>', 'COCO captions JSON (captions_train2017.json) or a text file, one sentence per line')
    .option('--pairs <n>', `prompt pairs: the detector's training set, all plotted (default ${DOMAINS_DEFAULTS.pairs})`, intOption('--pairs', 1), DOMAINS_DEFAULTS.pairs)
    .option('--seed <n>', 'seed of the words, the detector, the sentence subset and the t-SNE (default 0)', intOption('--seed', 0, 0xffffffff), 0)
    .option('--max-sentences <n>', `at most this many sentences, a seeded random subset (default ${DOMAINS_DEFAULTS.maxSentences})`, intOption('--max-sentences', 1), DOMAINS_DEFAULTS.maxSentences)
    .option('--normal-words <list>', 'words that make a sentence normal (default "normal")', wordListOption('--normal-words'))
    .option('--anomaly-words <list>', 'words that make a sentence anomalous (default "damage")', wordListOption('--anomaly-words'))
    .option('--inflections', 'count inflections ("damaged", "damages", "damaging") as the word')
    .option('--case-sensitive', 'match letter case exactly')
    .option('--perplexity <x>', 't-SNE perplexity (default 30)', numberOption('--perplexity'))
    .option('--iterations <n>', 't-SNE iterations, ≥ 250 (default 1000)', intOption('--iterations', 250, 100_000))
    .option('--tsne-method <m>', 'barnes_hut (default) | exact (O(n²), at most 5,000 points)')
    .requiredOption('--out <dir>', 'directory for domains.json, domains.svg and domains.html');
  return addModelOptions(cmd);
}

/** Runs `experiment domains` from its flags and prints the summary. */
export async function domainsAction(o: DomainsCliOptions): Promise<void> {
  if (o.tsneMethod !== undefined && o.tsneMethod !== 'exact' && o.tsneMethod !== 'barnes_hut') {
    throw new RwdaError(`--tsne-method must be exact or barnes_hut, got '${o.tsneMethod}'`);
  }
  ensureOutDir('--out', o.out);
  await withModel(o, reporter, async (model, name, store, onEvent) => {
    const { file, paths } = await runDomainsExperiment({
      backbone: model,
      backboneName: name ?? basename(model.dir),
      pretrained: name,
      store,
      captions: o.captions,
      match: { normalWords: o.normalWords, anomalyWords: o.anomalyWords, inflections: o.inflections, caseSensitive: o.caseSensitive },
      pairs: o.pairs,
      seed: o.seed,
      maxSentences: o.maxSentences,
      perplexity: o.perplexity,
      iterations: o.iterations,
      method: o.tsneMethod as 'exact' | 'barnes_hut' | undefined,
      out: o.out,
      onEvent,
    });
    const r = file.results;
    return {
      experiment: 'domains',
      ...paths,
      points: r.n,
      counts: r.counts,
      captions: r.captions,
      panels: r.panels.map((p) => ({ layer: p.layer, width: p.width, nn1: p.nn1, reused: p.run.reused })),
      cache: cacheSummary(store.path, file.stats),
    };
  });
}

/** Registers `experiment` with its subcommands `pairs`, `words`, `tsne` and `domains`. */
export function register(program: Command): void {
  const group = program
    .command('experiment')
    .description("the paper's analyses (Sections 4.4–4.5): pairs, words, tsne, domains; each writes <name>.json, <name>.svg and <name>.html into --out");

  const pairs = group
    .command('pairs')
    .description('mean AUROC of Ours and CLIP + Ours vs the number of prompt pairs N (mean ± std over seeds; CLIP as reference); resumable')
    .option('--n <list>', `pair counts (default ${DEFAULT_PAIR_COUNTS.join(',')})`, intListOption('--n', 1));
  addSweepOptions(pairs).action(async (o: SweepCliOptions & { n?: number[] }) => {
    checkRunFlags(o);
    const dataset = datasetSpecFromCli(o);
    ensureOutDir('--out', o.out);
    await withModel(o, reporter, async (model, name, store, onEvent) => {
      const { file, paths } = await runPairsExperiment({
        ...sweepData(o, dataset, model, name, store, onEvent),
        counts: o.n ?? DEFAULT_PAIR_COUNTS,
        out: o.out,
      });
      return {
        experiment: 'pairs',
        ...paths,
        dataset: file.config.dataset,
        categories: file.config.categories.length,
        seeds: file.config.seeds,
        points: file.results.points.map((p) => ({
          pairs: p.pairs,
          auroc: brief(p.mean),
          seedsComputed: p.seedsComputed,
          seedsReused: p.seedsReused,
          textsEncoded: p.textsEncoded,
          textsCached: p.textsCached,
        })),
        cache: cacheSummary(store.path, file.stats),
      };
    });
  });

  const words = group
    .command('words')
    .description('CLIP → CLIP + Ours AUROC for every normal word × anomaly word (mean over seeds); resumable')
    .option('--normal-words <list>', `comma-separated normal words (default "${DEFAULT_NORMAL_WORDS.join(',')}")`, wordListOption('--normal-words'))
    .option('--anomaly-words <list>', `comma-separated anomaly words (default "${DEFAULT_ANOMALY_WORDS.join(',')}")`, wordListOption('--anomaly-words'))
    .option('--pairs <n>', `augmented prompt pairs per seed (default ${PROMPT_DEFAULTS.pairs})`, intOption('--pairs', 1), PROMPT_DEFAULTS.pairs);
  addSweepOptions(words).action(async (o: SweepCliOptions & { normalWords?: string[]; anomalyWords?: string[]; pairs: number }) => {
    checkRunFlags(o);
    const dataset = datasetSpecFromCli(o);
    ensureOutDir('--out', o.out);
    await withModel(o, reporter, async (model, name, store, onEvent) => {
      const { file, paths } = await runWordsExperiment({
        ...sweepData(o, dataset, model, name, store, onEvent),
        train: { pairs: o.pairs },
        normalWords: o.normalWords,
        anomalyWords: o.anomalyWords,
        out: o.out,
      });
      return {
        experiment: 'words',
        ...paths,
        dataset: file.config.dataset,
        categories: file.config.categories.length,
        seeds: file.config.seeds,
        pairs: file.config.pairs,
        cells: file.results.cells.map((c) => ({
          normalWord: c.normalWord,
          anomalyWord: c.anomalyWord,
          auroc: brief(c.mean),
          seedsComputed: c.seedsComputed,
          seedsReused: c.seedsReused,
          textsEncoded: c.textsEncoded,
        })),
        cache: cacheSummary(store.path, file.stats),
      };
    });
  });

  const tsneCmd = group
    .command('tsne')
    .description('t-SNE map of the generated normal / anomalous prompt embeddings, optionally with a dataset\'s image embeddings')
    .option('--pairs <n>', `prompt pairs (default ${DEFAULT_TSNE_PAIRS}: ${2 * DEFAULT_TSNE_PAIRS} points)`, intOption('--pairs', 1), DEFAULT_TSNE_PAIRS)
    .option('--seed <n>', 'seed of the random words and of the t-SNE start (default 0)', intOption('--seed', 0, 0xffffffff), 0)
    .option('--with-images', 'add the image embeddings (standard view) of the dataset the dataset flags name')
    .option('--perplexity <x>', 't-SNE perplexity (default 30)', numberOption('--perplexity'))
    .option('--iterations <n>', 't-SNE iterations, ≥ 250 (default 1000)', intOption('--iterations', 250, 100_000))
    .option('--tsne-method <m>', 'barnes_hut (default, as sklearn) | exact (O(n²), at most 5,000 points)')
    .requiredOption('--out <dir>', 'directory for tsne.json, tsne.svg and tsne.html');
  addModelOptions(addImageBatchOption(addDatasetOptions(tsneCmd, false, ' (with --with-images)'))).action(
    async (o: ModelCliOptions & ImageCliOptions & { pairs: number; seed: number; withImages?: boolean; perplexity?: number; iterations?: number; tsneMethod?: string; out: string }) => {
      if (o.tsneMethod !== undefined && o.tsneMethod !== 'exact' && o.tsneMethod !== 'barnes_hut') {
        throw new RwdaError(`--tsne-method must be exact or barnes_hut, got '${o.tsneMethod}'`);
      }
      if (o.withImages && o.dataset === undefined) throw new RwdaError('--with-images needs --dataset and its flags (as for rwda eval)');
      if (!o.withImages && o.dataset !== undefined) throw new RwdaError('--dataset given without --with-images: add --with-images to map the images too');
      const dataset = o.withImages ? datasetSpecFromCli(o) : undefined;
      ensureOutDir('--out', o.out);
      await withModel(o, reporter, async (model, name, store, onEvent) => {
        const { file, paths } = await runTsneExperiment({
          backbone: model,
          backboneName: name ?? basename(model.dir),
          pretrained: name,
          store,
          pairs: o.pairs,
          seed: o.seed,
          images: dataset ? { dataset, imageBatch: o.imageBatch } : undefined,
          perplexity: o.perplexity,
          iterations: o.iterations,
          method: o.tsneMethod as 'exact' | 'barnes_hut' | undefined,
          out: o.out,
          onEvent,
        });
        const r = file.results;
        return {
          experiment: 'tsne',
          ...paths,
          points: r.n,
          counts: r.counts,
          tsne: { method: r.run.method, iterations: r.run.iterations, kl: r.run.kl, reused: r.run.reused },
          cache: cacheSummary(store.path, file.stats),
        };
      });
    },
  );

  const domains = group
    .command('domains')
    .description('Figure 5: t-SNE of prompts and natural sentences at the FNN input and after each hidden layer, with 1-NN class / domain accuracy per panel; resumable');
  addDomainsOptions(domains).action(domainsAction);

}
