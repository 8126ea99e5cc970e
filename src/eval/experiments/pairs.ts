/**
 * `rwda experiment pairs` (paper Section 4.4): detection performance vs the number N of augmented
 * prompt pairs the FNN is trained on; Ours and CLIP + Ours as mean ± std over seeds of the
 * dataset's category-mean AUROC (AP and F1-max in the JSON), CLIP as the flat reference.
 *
 * Cost: augmentedPairs is prefix-stable (pair i of a seed depends only on pairs 0..i−1), so the
 * training prompts of a smaller N are the first prompts of a larger N for the same seed. The sweep
 * runs N in increasing order and the store's text cache holds every prompt embedded so far, so
 * each N encodes only its 2·(N − previous N) new prompts per seed: the whole sweep costs the
 * largest N's text encoding once per seed, plus one FNN training per (N, seed).
 */
import { RwdaError } from '../../errors.ts';
import { DATASET_NAMES } from '../../data/index.ts';
import { checkPairs } from '../../methods/rwda/index.ts';
import { METHOD_LABELS, METHODS, formatStat } from '../report/index.ts';
import { escapeXml as esc } from '../report/svg.ts';
import {
  backboneConfig,
  commonConfigLines,
  datasetConfig,
  renderExperimentHtml,
  writeExperiment,
  type BackboneConfig,
  type DatasetConfig,
  type ExperimentFile,
  type ExperimentPaths,
} from './output.ts';
import { formatCount, pairsChart } from './plots.ts';
import { runSweep, settingSummary, sweepNotes, trainingConfig, type ExperimentDataOptions, type SettingSummary, type TrainingConfig } from './setting.ts';

/** The paper's pair counts. */
export const DEFAULT_PAIR_COUNTS: readonly number[] = [1_000, 3_000, 10_000, 30_000, 100_000];

/** Options of runPairsExperiment. */
export interface PairsExperimentOptions extends ExperimentDataOptions {
  /** Pair counts to evaluate (default DEFAULT_PAIR_COUNTS); run in increasing order. */
  counts?: readonly number[];
  /** Directory of pairs.json, pairs.svg, pairs.html. */
  out: string;
}

/** One N of the sweep (textsCached: the prompts of the smaller N's prefix found in the text cache). */
export interface PairsPoint extends SettingSummary {
  pairs: number;
}

/** config of pairs.json. */
export interface PairsConfig extends DatasetConfig {
  backbone: BackboneConfig;
  counts: number[];
  /** Training settings shared by every N (`pairs` there is the base value, overridden per N). */
  training: Omit<TrainingConfig, 'pairs'>;
}

/** pairs.json. */
export type PairsFile = ExperimentFile<PairsConfig, { points: PairsPoint[] }>;

/** Sorted distinct pair counts (RwdaError on a bad one). */
export function checkCounts(counts: readonly number[]): number[] {
  if (counts.length === 0) throw new RwdaError('pairs experiment: give at least one pair count');
  for (const c of counts) checkPairs(c);
  return [...new Set(counts)].sort((a, b) => a - b);
}

function table(points: readonly PairsPoint[]): string {
  const metrics = [
    ['auroc', 'AUROC'],
    ['ap', 'AP'],
    ['f1Max', 'F1-max'],
  ] as const;
  const h = ['<table class="pairs"><thead><tr><th rowspan="2">Pairs N</th>'];
  for (const [, label] of metrics) h.push(`<th class="group" colspan="3">${label}</th>`);
  h.push('</tr><tr>');
  for (const _ of metrics) METHODS.forEach((m, i) => h.push(`<th${i === 0 ? ' class="first-of-group"' : ''}>${esc(METHOD_LABELS[m])}</th>`));
  h.push('</tr></thead><tbody>');
  for (const p of points) {
    h.push(`<tr data-pairs="${p.pairs}"><td>${formatCount(p.pairs)}</td>`);
    for (const [k] of metrics) {
      METHODS.forEach((m, i) => h.push(`<td${i === 0 ? ' class="first-of-group"' : ''}>${esc(formatStat(p.mean[m][k]))}</td>`));
    }
    h.push('</tr>');
  }
  h.push('</tbody></table>');
  return h.join('');
}

/** The figure of a pairs file. */
export function renderPairsSvg(file: PairsFile): string {
  return pairsChart(
    file.results.points.map((p) => ({ pairs: p.pairs, auroc: { clip: p.mean.clip.auroc, ours: p.mean.ours.auroc, clipOurs: p.mean.clipOurs.auroc } })),
    { seeds: file.config.seeds.length },
  );
}

/** The HTML page of a pairs file, around its figure. */
export function renderPairsHtml(file: PairsFile, svg: string): string {
  const c = file.config;
  const done = file.results.points.length;
  return renderExperimentHtml({
    title: 'rwda experiment: number of prompt pairs',
    highlight: DATASET_NAMES[c.dataset],
    subtitle:
      `N ∈ {${c.counts.map(formatCount).join(', ')}}${file.partial ? ` (${done} of ${c.counts.length} done so far)` : ''} · ` +
      `${c.setup} object · ${c.seeds.length} seed${c.seeds.length === 1 ? '' : 's'} · ${c.backbone.name}`,
    svg,
    figureNotes: [
      'Mean AUROC over the categories; Ours and CLIP + Ours: mean ± sample std over seeds (error bars); CLIP does not depend on N.',
      'Paper Figure 4 is a plot whose values are not in the text; the paper only says N = 10,000 is best on MVTec-AD and fewer or more pairs are worse, so no reference values are shown.',
    ],
    sections: [{ id: 'numbers', title: 'Numbers (percent, mean ± std over seeds)', html: table(file.results.points) }],
    config: commonConfigLines(file, c.backbone, c, c.training),
    file,
  });
}

/** The text-encoding note: what each N encoded and what the prefix property predicts on a cold cache. */
function encodingNote(points: readonly PairsPoint[]): string | undefined {
  const trained = points.filter((p) => p.detectorsTrained > 0);
  if (trained.length === 0) return undefined;
  const parts = trained.map((p) => `N = ${formatCount(p.pairs)}: ${formatCount(p.textsEncoded)} encoded, ${formatCount(p.textsCached)} from the cache`);
  return (
    `Prompt texts of the detectors trained in this run (all seeds): ${parts.join('; ')}. The prompts of a smaller N are a prefix of ` +
    "a larger N's for the same seed, so on a cold cache each N encodes only 2·(N − previous N) new prompts per seed."
  );
}

/** Runs (or resumes) the pair-count sweep and writes pairs.json, pairs.svg and pairs.html after every N. */
export async function runPairsExperiment(opts: PairsExperimentOptions): Promise<{ file: PairsFile; paths: ExperimentPaths }> {
  const t0 = performance.now();
  const counts = checkCounts(opts.counts ?? DEFAULT_PAIR_COUNTS);
  let last: { file: PairsFile; paths: ExperimentPaths } | undefined;
  await runSweep(
    opts,
    counts,
    (n) => ({ label: `N = ${formatCount(n)}`, train: { pairs: n } }),
    (data, steps, stats, final) => {
      const points: PairsPoint[] = steps.map((s) => ({ pairs: s.setting, ...settingSummary(s.result) }));
      const { pairs: _p, ...training } = trainingConfig(data.plan);
      const categories = points[0]!.categories.map((c) => c.name);
      const notes = sweepNotes(data, steps, encodingNote(points), { final, total: counts.length, unit: 'pair counts' });
      last = writeExperiment(
        opts,
        'pairs',
        { t0, partial: !final },
        {
          config: { ...datasetConfig(data, categories), backbone: backboneConfig(data), counts, training },
          results: { points },
          stats,
          skipped: data.skipped,
          notes,
        },
        { svg: renderPairsSvg, html: renderPairsHtml },
      );
    },
  );
  return last!;
}
