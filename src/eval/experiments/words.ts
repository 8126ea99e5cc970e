/**
 * `rwda experiment words` (paper Section 4.4): the state words of the prompts. For every normal
 * word × anomaly word, the prompt-guided pair "a photo of {normal} object" / "a photo of {anomaly}
 * object" scores CLIP, and the same words fill the state slot of the FNN's random-word training
 * prompts; each cell reports CLIP → CLIP + Ours (and Ours), the category-mean AUROC, mean ± std
 * over seeds.
 *
 * Cost: a training prompt depends only on the seed and its own state word (the random words are
 * drawn once per pair and shared by its two prompts, then the state word is filled in), so cells
 * share the normal prompts of their row and the anomaly prompts of their column through the text
 * cache: a seed encodes (rows + columns) × N prompts, not 2 × rows × columns × N.
 */
import { RwdaError } from '../../errors.ts';
import { DATASET_NAMES } from '../../data/index.ts';
import { promptPair } from '../../methods/rwda/index.ts';
import { METHOD_LABELS, formatStat } from '../report/index.ts';
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
import { formatCount, wordsGrid } from './plots.ts';
import { runSweep, settingSummary, sweepNotes, trainingConfig, type ExperimentDataOptions, type SettingSummary, type TrainingConfig } from './setting.ts';

/** The paper's normal words. */
export const DEFAULT_NORMAL_WORDS: readonly string[] = ['a', 'a normal', 'a good', 'a flawless'];
/** The paper's anomaly words. */
export const DEFAULT_ANOMALY_WORDS: readonly string[] = ['a damaged', 'a broken', 'a defective', 'an anomalous'];

/** Options of runWordsExperiment. */
export interface WordsExperimentOptions extends ExperimentDataOptions {
  normalWords?: readonly string[];
  anomalyWords?: readonly string[];
  /** Directory of words.json, words.svg, words.html. */
  out: string;
}

/** One cell of the grid. */
export interface WordsCell extends SettingSummary {
  normalWord: string;
  anomalyWord: string;
}

/** config of words.json. */
export interface WordsConfig extends DatasetConfig {
  backbone: BackboneConfig;
  normalWords: string[];
  anomalyWords: string[];
  pairs: number;
  /** Training settings shared by every cell (the words there are the base values, overridden per cell). */
  training: Omit<TrainingConfig, 'pairs' | 'normalWord' | 'anomalyWord'>;
}

/** words.json: cells in row-major order (normal word, then anomaly word). */
export type WordsFile = ExperimentFile<WordsConfig, { cells: WordsCell[] }>;

/** Validated word lists: non-empty, distinct, and every pair gives two different prompts. */
export function checkWords(normal: readonly string[], anomaly: readonly string[]): { normal: string[]; anomaly: string[] } {
  const clean = (list: readonly string[], what: string): string[] => {
    if (list.length === 0) throw new RwdaError(`words experiment: give at least one ${what} word`);
    const out = list.map((w) => w.trim().replace(/\s+/g, ' '));
    out.forEach((w, i) => {
      if (w === '') throw new RwdaError(`words experiment: ${what} word ${i + 1} is empty`);
    });
    const dup = out.find((w, i) => out.indexOf(w) !== i);
    if (dup !== undefined) throw new RwdaError(`words experiment: the ${what} word "${dup}" is listed twice`);
    return out;
  };
  const n = clean(normal, 'normal');
  const a = clean(anomaly, 'anomaly');
  // promptPair refuses a pair whose two prompts are the same text, naming the words.
  for (const nw of n) for (const aw of a) promptPair({ normalWord: nw, anomalyWord: aw });
  return { normal: n, anomaly: a };
}

function table(file: WordsFile): string {
  const h = [
    '<table class="words"><thead><tr><th>Normal word</th><th>Anomaly word</th>',
    ...(['clip', 'ours', 'clipOurs'] as const).map((m) => `<th>${esc(METHOD_LABELS[m])} AUROC</th>`),
    '<th>CLIP + Ours AP</th><th>CLIP + Ours F1-max</th></tr></thead><tbody>',
  ];
  for (const c of file.results.cells) {
    h.push(`<tr data-normal-word="${esc(c.normalWord)}" data-anomaly-word="${esc(c.anomalyWord)}"><td>"${esc(c.normalWord)}"</td><td>"${esc(c.anomalyWord)}"</td>`);
    for (const m of ['clip', 'ours', 'clipOurs'] as const) h.push(`<td>${esc(formatStat(c.mean[m].auroc))}</td>`);
    h.push(`<td>${esc(formatStat(c.mean.clipOurs.ap))}</td><td>${esc(formatStat(c.mean.clipOurs.f1Max))}</td></tr>`);
  }
  h.push('</tbody></table>');
  return h.join('');
}

/** The figure of a words file. */
export function renderWordsSvg(file: WordsFile): string {
  const cells = file.results.cells.map((c) => ({
    normalWord: c.normalWord,
    anomalyWord: c.anomalyWord,
    auroc: { clip: c.mean.clip.auroc, ours: c.mean.ours.auroc, clipOurs: c.mean.clipOurs.auroc },
  }));
  return wordsGrid(file.config.normalWords, file.config.anomalyWords, cells, { seeds: file.config.seeds.length });
}

/** The HTML page of a words file, around its figure. */
export function renderWordsHtml(file: WordsFile, svg: string): string {
  const c = file.config;
  const total = c.normalWords.length * c.anomalyWords.length;
  return renderExperimentHtml({
    title: 'rwda experiment: state words',
    highlight: DATASET_NAMES[c.dataset],
    subtitle:
      `${c.normalWords.length} normal × ${c.anomalyWords.length} anomaly words${file.partial ? ` (${file.results.cells.length} of ${total} cells done so far)` : ''} · ` +
      `${formatCount(c.pairs)} prompt pairs · ${c.setup} object · ${c.seeds.length} seed${c.seeds.length === 1 ? '' : 's'} · ${c.backbone.name}`,
    svg,
    figureNotes: [
      'Each cell: CLIP AUROC → CLIP + Ours AUROC, Ours below; the words are used both in the prompt-guided pair of CLIP and in the FNN\'s training prompts.',
    ],
    sections: [{ id: 'numbers', title: 'Numbers (percent, mean ± std over seeds)', html: table(file) }],
    config: [['prompt pairs', formatCount(c.pairs)], ...commonConfigLines(file, c.backbone, c, c.training)],
    file,
  });
}

/** The text-encoding note: what the detectors trained in this run encoded, and why cells share prompts. */
function encodingNote(cells: readonly WordsCell[]): string | undefined {
  const trained = cells.filter((c) => c.detectorsTrained > 0);
  if (trained.length === 0) return undefined;
  const enc = trained.reduce((a, c) => a + c.textsEncoded, 0);
  const cached = trained.reduce((a, c) => a + c.textsCached, 0);
  return (
    `Prompt texts of the detectors trained in this run: ${formatCount(enc)} encoded, ${formatCount(cached)} from the cache ` +
    '(a prompt depends only on the seed and its state word, so the cells of a row share its normal prompts and the cells of a column its anomaly prompts).'
  );
}

/** Runs (or resumes) the word grid and writes words.json, words.svg and words.html after every cell. */
export async function runWordsExperiment(opts: WordsExperimentOptions): Promise<{ file: WordsFile; paths: ExperimentPaths }> {
  const t0 = performance.now();
  const words = checkWords(opts.normalWords ?? DEFAULT_NORMAL_WORDS, opts.anomalyWords ?? DEFAULT_ANOMALY_WORDS);
  const cells = words.normal.flatMap((normal) => words.anomaly.map((anomaly) => ({ normal, anomaly })));
  let last: { file: WordsFile; paths: ExperimentPaths } | undefined;
  await runSweep(
    opts,
    cells,
    (c) => ({ label: `"${c.normal}" / "${c.anomaly}"`, train: { words: { normal: c.normal, anomaly: c.anomaly } } }),
    (data, steps, stats, final) => {
      const done: WordsCell[] = steps.map((s) => ({ normalWord: s.setting.normal, anomalyWord: s.setting.anomaly, ...settingSummary(s.result) }));
      const { pairs, normalWord: _n, anomalyWord: _a, ...training } = trainingConfig(data.plan);
      const notes = sweepNotes(data, steps, encodingNote(done), { final, total: cells.length, unit: 'cells' });
      last = writeExperiment(
        opts,
        'words',
        { t0, partial: !final },
        {
          config: {
            ...datasetConfig(data, done[0]!.categories.map((c) => c.name)),
            backbone: backboneConfig(data),
            normalWords: words.normal,
            anomalyWords: words.anomaly,
            pairs,
            training,
          },
          results: { cells: done },
          stats,
          skipped: data.skipped,
          notes,
        },
        { svg: renderWordsSvg, html: renderWordsHtml },
      );
    },
  );
  return last!;
}
