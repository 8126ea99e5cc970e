/**
 * From per-image scores to results.json: per-category metrics of every method and seed, the
 * category mean, ROC / PR curves and score histograms of the first seed.
 */
import { RwdaError } from '../../errors.ts';
import { evaluateScores, type Metrics } from '../metrics.ts';
import {
  METHODS,
  METRICS,
  RESULTS_FORMAT,
  curveSetFrom,
  meanOverCategories,
  scoreHistogram,
  summarizeMetrics,
  type CategoryResult,
  type CurveBlock,
  type CurveSet,
  type HistogramBlock,
  type MethodId,
  type MetricId,
  type MetricSummary,
  type RunConfig,
  type RunResults,
  type SkippedEntry,
} from '../report/index.ts';
import type { EmbeddedItem } from './embed_images.ts';

/** The scores of one seed. */
export interface SeedScores {
  seed: number;
  ours: ArrayLike<number>;
  clipOurs: ArrayLike<number>;
}

/** Inputs of assembleResults. */
export interface AssembleInput {
  /** Everything but `seeds` and `categories` (filled in here from the scores and the items). */
  config: Omit<RunConfig, 'seeds' | 'categories'>;
  /** The embedded images, aligned with the score arrays. */
  items: readonly EmbeddedItem[];
  /** Seed-independent CLIP score of each image. */
  clip: ArrayLike<number>;
  /** One entry per seed, in seed order. */
  seeds: readonly SeedScores[];
  skipped: readonly SkippedEntry[];
  notes: readonly string[];
  rwdaVersion: string;
  versions: RunResults['versions'];
  createdAt?: string;
  durationSeconds?: number;
}

function pick(scores: ArrayLike<number>, idx: readonly number[]): number[] {
  return idx.map((i) => scores[i]!);
}

function summary(perSeed: readonly Metrics[]): MetricSummary {
  const values = {} as Record<MetricId, number[]>;
  for (const m of METRICS) values[m] = perSeed.map((r) => r[m]);
  return summarizeMetrics(values);
}

/**
 * Builds results.json. A category left with one class after skipped images is dropped: a note
 * says so and its images are listed in `skipped` (kind `category-dropped`).
 */
export function assembleResults(input: AssembleInput): RunResults {
  if (input.seeds.length === 0) throw new RwdaError('assembleResults: no seed scores; at least one seed is needed');
  const notes = [...input.notes];
  const skipped = [...input.skipped];
  const byCategory = new Map<string, number[]>();
  input.items.forEach((it, i) => {
    let g = byCategory.get(it.category);
    if (g === undefined) byCategory.set(it.category, (g = []));
    g.push(i);
  });
  const categories: CategoryResult[] = [];
  // Curves and histograms show the first seed.
  const curveSeed = input.seeds[0]!.seed;
  const curves: CurveBlock = { seed: curveSeed, perCategory: {} };
  const histograms: HistogramBlock = { seed: curveSeed, method: 'clipOurs', perCategory: {} };
  for (const [name, idx] of byCategory) {
    const labels = idx.map((i) => input.items[i]!.label);
    const nAnomalous = labels.filter((l) => l === 1).length;
    const nNormal = labels.length - nAnomalous;
    if (nAnomalous === 0 || nNormal === 0) {
      notes.push(`category '${name}' was left out: after skipped images it has ${nNormal} normal and ${nAnomalous} anomalous images`);
      for (const i of idx) {
        const it = input.items[i]!;
        skipped.push({ path: it.path, category: name, kind: 'category-dropped', reason: `category '${name}' has only one class left after skipped images` });
      }
      continue;
    }
    const run = (method: MethodId, seed: number | undefined, scores: ArrayLike<number>) =>
      evaluateScores(labels, pick(scores, idx), `category '${name}', ${method}${seed === undefined ? '' : `, seed ${seed}`}`);
    const clip = run('clip', undefined, input.clip);
    const ours = input.seeds.map((s) => run('ours', s.seed, s.ours));
    const clipOurs = input.seeds.map((s) => run('clipOurs', s.seed, s.clipOurs));
    const methods: Record<MethodId, MetricSummary> = {
      clip: summary([clip.metrics]),
      ours: summary(ours.map((r) => r.metrics)),
      clipOurs: summary(clipOurs.map((r) => r.metrics)),
    };
    categories.push({ name, nNormal, nAnomalous, methods });
    const sets: Record<MethodId, CurveSet> = {
      clip: curveSetFrom(clip.roc, clip.pr),
      ours: curveSetFrom(ours[0]!.roc, ours[0]!.pr),
      clipOurs: curveSetFrom(clipOurs[0]!.roc, clipOurs[0]!.pr),
    };
    curves.perCategory[name] = Object.fromEntries(METHODS.map((m) => [m, sets[m]]));
    const s = pick(input.seeds[0]!.clipOurs, idx);
    histograms.perCategory[name] = scoreHistogram(
      s.filter((_, k) => labels[k] === 0),
      s.filter((_, k) => labels[k] === 1),
    );
  }
  if (categories.length === 0) {
    throw new RwdaError(`no category left to evaluate: ${notes.filter((n) => n.startsWith('category ')).join('; ')}`);
  }
  const results: RunResults = {
    format: RESULTS_FORMAT,
    createdAt: input.createdAt ?? new Date().toISOString(),
    rwdaVersion: input.rwdaVersion,
    versions: input.versions,
    config: { ...input.config, categories: categories.map((c) => c.name), seeds: input.seeds.map((s) => s.seed) },
    skipped,
    notes,
    durationSeconds: input.durationSeconds,
    categories,
    mean: meanOverCategories(categories),
    curves,
    histograms,
  };
  return results;
}
