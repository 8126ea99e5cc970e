/**
 * The files of an experiment: `<name>.json` (format `rwda-experiment/v1`: config, versions,
 * results, cache counters), `<name>.svg` (the figure) and `<name>.html` (a self-contained page with
 * the figure inlined, the numbers as a table and the configuration, in the eval report's look).
 * Each is written atomically, so a reader never sees half a file and an interrupted experiment
 * leaves the previous (partial) files intact.
 */
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../util/atomic.ts';
import { stringifyResults } from '../report/write.ts';
import { escapeXml as esc } from '../report/svg.ts';
import { REPORT_CSS, htmlPage } from '../report/html.ts';
import type { CropSettings, DatasetKind, SkippedEntry } from '../report/index.ts';
import type { DatasetSpec } from '../../data/index.ts';
import { DATASET_NAMES } from '../../data/index.ts';
import { packageVersion } from '../../methods/rwda/index.ts';
import { runtimeVersions } from '../runner/index.ts';
import type { ExperimentData, ExperimentEvent, SweepStats, TrainingConfig } from './setting.ts';

/** The `format` tag of every experiment JSON file. */
export const EXPERIMENT_FORMAT = 'rwda-experiment/v1' as const;

/** The experiments of the paper's Sections 4.4–4.5. */
export type ExperimentName = 'pairs' | 'words' | 'tsne' | 'domains';

/** The whole `<name>.json`. */
export interface ExperimentFile<Config, Results> {
  format: typeof EXPERIMENT_FORMAT;
  experiment: ExperimentName;
  /** True while the experiment is still running (or was interrupted): some settings are missing. */
  partial: boolean;
  createdAt: string;
  rwdaVersion: string;
  versions: { node: string; onnxruntime: string };
  durationSeconds: number;
  config: Config;
  results: Results;
  /** What was computed and what came from the caches, in this process. */
  stats: ExperimentStats;
  skipped: SkippedEntry[];
  notes: string[];
}

/** Cache use of one experiment process (what was computed, what came from the caches). */
export type ExperimentStats = SweepStats;

/** The dataset side of an experiment's config (what `rwda eval` records in results.json). */
export interface DatasetConfig {
  dataset: DatasetKind;
  /** The loader's input, paths resolved. */
  spec: DatasetSpec;
  /** Categories evaluated (after the loader and any dropped one-class category). */
  categories: string[];
  images: number;
  setup: 'unknown' | 'known';
  crops: CropSettings;
  seeds: number[];
}

/** The backbone as experiment files record it. */
export interface BackboneConfig {
  name: string;
  pretrained?: string;
  fingerprint: string;
}

function resolveSpec(spec: DatasetSpec): DatasetSpec {
  switch (spec.kind) {
    case 'mvtec':
    case 'folder':
      return { ...spec, root: resolve(spec.root) };
    case 'visa':
      return { ...spec, root: resolve(spec.root), csvPath: spec.csvPath === undefined ? undefined : resolve(spec.csvPath) };
    case 'sewerml':
      return { ...spec, csv: resolve(spec.csv), imageDir: resolve(spec.imageDir) };
    case 'folder-pair':
      return { ...spec, normal: resolve(spec.normal), anomalous: resolve(spec.anomalous) };
  }
}

/** The dataset config of prepared experiment data. */
export function datasetConfig(data: ExperimentData, categories: string[]): DatasetConfig {
  return {
    dataset: data.opts.dataset.kind,
    spec: resolveSpec(data.opts.dataset),
    categories,
    images: data.items.length,
    setup: data.plan.setup,
    crops: data.plan.crops,
    seeds: data.plan.seeds,
  };
}

/** The backbone config of prepared experiment data. */
export function backboneConfig(data: Pick<ExperimentData, 'name' | 'opts'>): BackboneConfig {
  return { name: data.name, pretrained: data.opts.pretrained, fingerprint: data.opts.backbone.fingerprint };
}

/** What an experiment computes of its file; writeExperiment stamps the rest. */
export interface ExperimentContent<Config, Results> {
  config: Config;
  results: Results;
  stats: ExperimentStats;
  skipped: SkippedEntry[];
  notes: string[];
}

/** How an experiment draws its file: the figure, then the page around it. */
export interface ExperimentRenderers<Config, Results> {
  svg: (file: ExperimentFile<Config, Results>) => string;
  html: (file: ExperimentFile<Config, Results>, svg: string) => string;
}

/**
 * Stamps an experiment file (format, time, versions, seconds since `t0`), writes its three files
 * and reports 'written'.
 */
export function writeExperiment<Config, Results>(
  opts: { out: string; onEvent?: (e: ExperimentEvent) => void },
  experiment: ExperimentName,
  run: { t0: number; partial: boolean },
  content: ExperimentContent<Config, Results>,
  render: ExperimentRenderers<Config, Results>,
): { file: ExperimentFile<Config, Results>; paths: ExperimentPaths } {
  const file: ExperimentFile<Config, Results> = {
    format: EXPERIMENT_FORMAT,
    experiment,
    partial: run.partial,
    createdAt: new Date().toISOString(),
    rwdaVersion: packageVersion(),
    versions: runtimeVersions(),
    durationSeconds: secondsSince(run.t0),
    config: content.config,
    results: content.results,
    stats: { ...content.stats },
    skipped: content.skipped,
    notes: content.notes,
  };
  const svg = render.svg(file);
  const paths = writeExperimentFiles(opts.out, experiment, file, svg, render.html(file, svg));
  opts.onEvent?.({ type: 'written', partial: run.partial, json: paths.json });
  return { file, paths };
}

/** Paths of the three files. */
export interface ExperimentPaths {
  json: string;
  svg: string;
  html: string;
}

/** Writes `<name>.json`, `<name>.svg` and `<name>.html` into `outDir`, each atomically. */
export function writeExperimentFiles(outDir: string, name: ExperimentName, file: ExperimentFile<unknown, unknown>, svg: string, html: string): ExperimentPaths {
  const dir = resolve(outDir);
  const paths = { json: join(dir, `${name}.json`), svg: join(dir, `${name}.svg`), html: join(dir, `${name}.html`) };
  // The SVG and HTML first: the JSON is what a resume or a reader checks, so it goes last.
  writeFileAtomic(paths.svg, `<?xml version="1.0" encoding="UTF-8"?>\n${svg}\n`);
  writeFileAtomic(paths.html, html);
  writeFileAtomic(paths.json, stringifyResults(file));
  return paths;
}

// The eval report's look, plus the one rule of the figure section.
const CSS = `${REPORT_CSS}.figure svg { width: 100%; height: auto; display: block; max-width: 900px; margin: 0 auto; }
`;

/** Content of an experiment page. */
export interface ExperimentPage {
  title: string;
  /** Highlighted part of the heading (the dataset). */
  highlight?: string;
  subtitle: string;
  /** The figure (inline SVG). */
  svg: string;
  figureNotes: string[];
  /** Further sections: id, heading, HTML body. */
  sections: Array<{ id: string; title: string; html: string }>;
  config: Array<[string, string]>;
  /** The file the page shows: its skipped images, notes, and the stamp of the footer. */
  file: Pick<ExperimentFile<unknown, unknown>, 'skipped' | 'notes' | 'rwdaVersion' | 'createdAt'>;
}

/** A self-contained HTML page (inline CSS and SVG, no scripts). */
export function renderExperimentHtml(p: ExperimentPage): string {
  const { skipped } = p.file;
  const notes = p.file.notes.map((n) => `<li>${esc(n)}</li>`).join('');
  const config = p.config.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('');
  const shown = skipped.slice(0, 50).map((s) => `<li>${esc(s.path ? `${s.path}: ${s.reason}` : s.reason)}</li>`);
  if (skipped.length > 50) shown.push(`<li>... and ${skipped.length - 50} more (all of them are in the JSON file)</li>`);
  const heading = p.highlight === undefined ? esc(p.title) : `${esc(p.title)}: <span class="dataset">${esc(p.highlight)}</span>`;
  return htmlPage(p.highlight === undefined ? p.title : `${p.title}: ${p.highlight}`, CSS, [
    `<header><h1>${heading}</h1><p class="subtitle">${esc(p.subtitle)}</p></header>`,
    `<section id="figure" class="figure">${p.svg}${p.figureNotes.map((t) => `<p class="note">${esc(t)}</p>`).join('')}</section>`,
    ...p.sections.map((s) => `<section id="${esc(s.id)}"><h2>${esc(s.title)}</h2>${s.html}</section>`),
    `<section id="config"><h2>Configuration</h2><table class="config"><tbody>${config}</tbody></table></section>`,
    skipped.length > 0 ? `<section id="skipped"><h2>Skipped (${skipped.length})</h2><ul class="skipped">${shown.join('')}</ul></section>` : '',
    notes ? `<section id="notes"><h2>Notes</h2><ul>${notes}</ul></section>` : '',
    `<footer>${esc(`Generated by rwda ${p.file.rwdaVersion} at ${p.file.createdAt}.`)}</footer>`,
  ]);
}

/** Configuration rows of the HTML page shared by every experiment. */
export function commonConfigLines(file: { createdAt: string; rwdaVersion: string; versions: Record<string, string>; durationSeconds: number }, backbone: BackboneConfig, data?: DatasetConfig, training?: Omit<TrainingConfig, 'pairs' | 'normalWord' | 'anomalyWord'> & { normalWord?: string; anomalyWord?: string }): Array<[string, string]> {
  const lines: Array<[string, string]> = [];
  if (data) {
    lines.push(['dataset', `${DATASET_NAMES[data.dataset]} (${data.dataset})`]);
    for (const [k, v] of Object.entries(data.spec)) if (k !== 'kind' && v !== undefined) lines.push([k, Array.isArray(v) ? v.join(', ') : String(v)]);
    lines.push(
      ['categories', `${data.categories.length}: ${data.categories.join(', ')}`],
      ['images evaluated', String(data.images)],
      ['setup', data.setup === 'known' ? 'known object (prompts name the category)' : 'unknown object (prompts say "object")'],
      ['multi-crop', data.crops.enabled ? `grids ${data.crops.scales.map((k) => `${k}×${k}`).join(', ')}, ${data.crops.aggregation} over crops` : 'off'],
      ['seeds', `${data.seeds.length}: ${data.seeds.join(', ')}`],
    );
  }
  lines.push(['backbone', backbone.pretrained ? `${backbone.name} (${backbone.pretrained})` : backbone.name], ['backbone fingerprint', backbone.fingerprint]);
  if (training) {
    const t = training;
    lines.push(
      [
        'prompt words',
        t.normalWord === undefined || t.anomalyWord === undefined
          ? `object "${t.object}" (state words: see each cell)`
          : `normal "${t.normalWord}", anomaly "${t.anomalyWord}", object "${t.object}"`,
      ],
      ['random words', `length ${t.minWordLength}–${t.maxWordLength} from "${t.alphabet}", ${t.independentWords ? 'independent' : 'shared'} within a pair`],
      ['softmax temperature', String(t.temperature)],
      ['FNN hidden widths', t.fnn.hidden.join(', ')],
      [
        'FNN training',
        `dropout ${t.fnn.dropout}, AdamW lr ${t.fnn.lr}, weight decay ${t.fnn.weightDecay}, betas ${t.fnn.betas.join('/')}, eps ${t.fnn.eps}, ` +
          `${t.fnn.epochs} epochs, batch ${t.fnn.batchSize}, lr decay ${t.fnn.lrDecay}`,
      ],
    );
  }
  lines.push(
    ['created', file.createdAt],
    ['rwda', file.rwdaVersion],
    ['versions', Object.entries(file.versions).map(([k, v]) => `${k} ${v}`).join(', ')],
    ['duration', `${file.durationSeconds.toFixed(1)} s`],
  );
  return lines;
}

/** Seconds since `t0` (performance.now()), to 0.01 s. */
export function secondsSince(t0: number): number {
  return Math.round((performance.now() - t0) / 10) / 100;
}
