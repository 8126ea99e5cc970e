/**
 * `rwda experiment tsne` (paper Section 4.5): a t-SNE map of the generated training prompts (the N
 * random-word pairs of a seed, normal and anomalous, embedded and L2-normalised exactly as the FNN
 * sees them), optionally together with the image embeddings of a dataset (standard view), all in
 * one t-SNE so that prompts and images share the map.
 *
 * Resumable where it is cheap: text and image embeddings come from the store's caches, and the 2-D
 * map itself is stored as a run result keyed by everything that determines it (backbone, prompts,
 * images, t-SNE settings), so a rerun only redraws.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../clip/fingerprint.ts';
import { RwdaError } from '../../errors.ts';
import { DATASET_NAMES, formatLoadSummary, loadDataset, type DatasetSpec } from '../../data/index.ts';
import { backboneName, type Backbone } from '../../methods/common/backbone.ts';
import { PROMPT_DEFAULTS } from '../../methods/rwda/index.ts';
import { buildTrainingSet, checkPairs } from '../../methods/rwda/index.ts';
import type { EmbeddingStore } from '../../store/index.ts';
import type { SkippedEntry } from '../report/index.ts';
import { escapeXml as esc } from '../report/svg.ts';
import { dataKey, embedItems, readViewRows, type EmbeddedItem } from '../runner/index.ts';
import { tsne, type TsneMethod } from '../tsne.ts';
import {
  commonConfigLines,
  renderExperimentHtml,
  writeExperiment,
  type BackboneConfig,
  type ExperimentFile,
  type ExperimentPaths,
} from './output.ts';
import { TSNE_STYLE, formatCount, scatterPlot, type ScatterGroup } from './plots.ts';
import { countersSince, type ExperimentEvent } from './setting.ts';

/** Default number of prompt pairs (2,000 points). */
export const DEFAULT_TSNE_PAIRS = 1_000;

/** The point groups, in drawing order. */
export const TSNE_GROUPS = ['text-normal', 'text-anomalous', 'image-normal', 'image-anomalous'] as const;
export type TsneGroup = (typeof TSNE_GROUPS)[number];

const GROUP_NAMES: Record<TsneGroup, string> = {
  'text-normal': 'normal prompts',
  'text-anomalous': 'anomalous prompts',
  'image-normal': 'normal images',
  'image-anomalous': 'anomalous images',
};

/** Options of runTsneExperiment. */
export interface TsneExperimentOptions {
  backbone: Backbone;
  backboneName?: string;
  pretrained?: string;
  store: EmbeddingStore;
  /** Prompt pairs (default 1,000). */
  pairs?: number;
  /** Seed of the random words and of the t-SNE start (default 0). */
  seed?: number;
  normalWord?: string;
  anomalyWord?: string;
  /** Images to embed along with the prompts. */
  images?: { dataset: DatasetSpec; imageBatch?: number; maxPixels?: number };
  perplexity?: number;
  iterations?: number;
  /** Default 'barnes_hut', sklearn's default (the paper's maps are most likely sklearn's); 'exact' is O(n²). */
  method?: TsneMethod;
  out: string;
  onEvent?: (e: ExperimentEvent) => void;
}

/** config of tsne.json. */
export interface TsneConfig {
  backbone: BackboneConfig;
  pairs: number;
  seed: number;
  prompts: { normalWord: string; anomalyWord: string; object: string; alphabet: string; minWordLength: number; maxWordLength: number; independentWords: boolean };
  images?: { dataset: DatasetSpec['kind']; spec: DatasetSpec; categories: string[]; images: number };
  tsne: { perplexity: number; iterations: number; method: TsneMethod; init: 'pca'; learningRate: 'auto'; earlyExaggeration: 12; theta: 0.5 };
}

/** results of tsne.json: point i is (x[i], y[i]) of group[i]; prompts first (normal, anomalous alternating), then images. */
export interface TsneResults {
  n: number;
  x: number[];
  y: number[];
  group: TsneGroup[];
  /** The prompt text of each text point (the first 2·pairs points). */
  texts: string[];
  /** Each image point (the points after the texts). */
  images: Array<{ path: string; category: string; label: 0 | 1; defectType: string }>;
  counts: Record<TsneGroup, number>;
  /** What the t-SNE run reports, and whether the map came from the store. */
  run: { kl: number; iterations: number; method: TsneMethod; learningRate: number; reused: boolean; key: string };
}

/** tsne.json. */
export type TsneFile = ExperimentFile<TsneConfig, TsneResults>;

const MAP_FORMAT = 'rwda-tsne-map/1';

interface StoredMap {
  y: number[];
  kl: number;
  iterations: number;
  method: TsneMethod;
  learningRate: number;
}

function readMap(value: unknown, n: number): StoredMap | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.format !== MAP_FORMAT || v.n !== n) return undefined;
  const y = v.y;
  if (!Array.isArray(y) || y.length !== 2 * n || !y.every((t) => typeof t === 'number' && Number.isFinite(t))) return undefined;
  if (typeof v.kl !== 'number' || typeof v.iterations !== 'number' || typeof v.learningRate !== 'number') return undefined;
  if (v.method !== 'exact' && v.method !== 'barnes_hut') return undefined;
  return { y: y as number[], kl: v.kl, iterations: v.iterations, method: v.method, learningRate: v.learningRate };
}

/** The figure of a t-SNE file. */
export function renderTsneSvg(file: TsneFile): string {
  const r = file.results;
  const xy: Record<TsneGroup, number[]> = { 'text-normal': [], 'text-anomalous': [], 'image-normal': [], 'image-anomalous': [] };
  for (let i = 0; i < r.n; i++) xy[r.group[i]!].push(r.x[i]!, r.y[i]!);
  const groups: ScatterGroup[] = TSNE_GROUPS.filter((g) => g.startsWith('text') || r.counts[g] > 0).map((g) => ({
    key: g,
    name: GROUP_NAMES[g],
    color: TSNE_STYLE[g].color,
    marker: TSNE_STYLE[g].marker,
    xy: xy[g],
  }));
  const what = file.config.images ? `prompt and ${DATASET_NAMES[file.config.images.dataset]} image embeddings` : 'prompt embeddings';
  return scatterPlot(groups, { title: `t-SNE of ${what} (${formatCount(file.config.pairs)} pairs)`, className: 'tsne-scatter' });
}

/** The HTML page of a t-SNE file, around its figure. */
export function renderTsneHtml(file: TsneFile, svg: string): string {
  const c = file.config;
  const r = file.results;
  const rows = TSNE_GROUPS.filter((g) => r.counts[g] > 0)
    .map((g) => `<tr data-group="${g}"><td>${esc(GROUP_NAMES[g])}</td><td>${formatCount(r.counts[g])}</td></tr>`)
    .join('');
  const config: Array<[string, string]> = [
    ['prompt pairs', `${formatCount(c.pairs)} (seed ${c.seed})`],
    ['prompt words', `normal "${c.prompts.normalWord}", anomaly "${c.prompts.anomalyWord}", object "${c.prompts.object}"`],
    ['random words', `length ${c.prompts.minWordLength}–${c.prompts.maxWordLength} from "${c.prompts.alphabet}", ${c.prompts.independentWords ? 'independent' : 'shared'} within a pair`],
  ];
  if (c.images) {
    config.push(['images', `${DATASET_NAMES[c.images.dataset]} (${c.images.dataset}), ${formatCount(c.images.images)} images, standard view`]);
    for (const [k, v] of Object.entries(c.images.spec)) if (k !== 'kind' && v !== undefined) config.push([k, Array.isArray(v) ? v.join(', ') : String(v)]);
    config.push(['categories', `${c.images.categories.length}: ${c.images.categories.join(', ')}`]);
  }
  config.push(
    [
      't-SNE',
      `perplexity ${c.tsne.perplexity}, ${r.run.iterations} of ${c.tsne.iterations} iterations, ${r.run.method}, ` +
        `learning rate ${Math.round(r.run.learningRate * 100) / 100} (auto), early exaggeration 12, PCA init, seed ${c.seed}`,
    ],
    ['final KL divergence', r.run.kl.toFixed(4)],
    ...commonConfigLines(file, c.backbone),
  );
  return renderExperimentHtml({
    title: 'rwda experiment: t-SNE of embeddings',
    highlight: c.images ? DATASET_NAMES[c.images.dataset] : undefined,
    subtitle: `${formatCount(c.pairs)} prompt pairs${c.images ? ` · ${formatCount(c.images.images)} images` : ''} · ${c.backbone.name}`,
    svg,
    figureNotes: [
      'All points are L2-normalised CLIP embeddings mapped by one t-SNE run: prompts as they train the FNN ("[] a [] photo [] of [] {state} object []"), images as the detector scores them (standard view).',
      'Paper Figure 3 is a picture with no values; the paper says normal and anomalous prompts form separate groups, each with some diversity.',
    ],
    sections: [{ id: 'points', title: 'Points', html: `<table class="groups"><thead><tr><th>Group</th><th>Points</th></tr></thead><tbody>${rows}</tbody></table>` }],
    config,
    file,
  });
}

/** Embeds the prompts (and images), runs (or reads back) the t-SNE, and writes tsne.json, tsne.svg, tsne.html. */
export async function runTsneExperiment(opts: TsneExperimentOptions): Promise<{ file: TsneFile; paths: ExperimentPaths }> {
  const t0 = performance.now();
  const emit = (e: ExperimentEvent): void => opts.onEvent?.(e);
  const { backbone, store } = opts;
  const start = store.counters;
  const pairs = checkPairs(opts.pairs ?? DEFAULT_TSNE_PAIRS);
  const seed = opts.seed ?? 0;
  const name = opts.backboneName ?? backboneName(backbone);
  const prompts = {
    normalWord: opts.normalWord ?? PROMPT_DEFAULTS.normalWord,
    anomalyWord: opts.anomalyWord ?? PROMPT_DEFAULTS.anomalyWord,
    object: PROMPT_DEFAULTS.unknownObject,
    alphabet: PROMPT_DEFAULTS.alphabet,
    minWordLength: PROMPT_DEFAULTS.minWordLength,
    maxWordLength: PROMPT_DEFAULTS.maxWordLength,
    independentWords: PROMPT_DEFAULTS.independentWords,
  };
  const tsneConfig: TsneConfig['tsne'] = {
    perplexity: opts.perplexity ?? 30,
    iterations: opts.iterations ?? 1000,
    method: opts.method ?? 'barnes_hut',
    init: 'pca',
    learningRate: 'auto',
    earlyExaggeration: 12,
    theta: 0.5,
  };

  const set = await buildTrainingSet(backbone, { pairs, seed, normalWord: prompts.normalWord, anomalyWord: prompts.anomalyWord, store });
  const dim = set.dim;
  const notes: string[] = [];
  const skipped: SkippedEntry[] = [];
  let items: EmbeddedItem[] = [];
  let imageRows: Float32Array = new Float32Array(0);
  let viewsEncoded = 0;
  let viewsCached = 0;
  let imagesConfig: TsneConfig['images'];
  if (opts.images) {
    const spec = opts.images.dataset;
    const loaded = loadDataset(spec);
    emit({ type: 'dataset', summary: formatLoadSummary(DATASET_NAMES[spec.kind], loaded), notes: loaded.notes });
    notes.push(...loaded.notes);
    skipped.push(...loaded.skipped.map((s) => ({ path: s.path, category: s.category, kind: s.kind, reason: s.reason })));
    emit({ type: 'embed-start', images: loaded.items.length, views: 1 });
    const phase = await embedItems(backbone, loaded.items, store, {
      batchSize: opts.images.imageBatch,
      maxPixels: opts.images.maxPixels,
      onBatch: (b) => emit({ type: 'embed-batch', ...b }),
    });
    for (const s of phase.skipped) emit({ type: 'skipped', entry: s });
    skipped.push(...phase.skipped);
    emit({ type: 'embed-done', encoded: phase.viewsEncoded, cached: phase.viewsCached, skipped: phase.skipped.length });
    if (phase.embedded.length === 0) throw new RwdaError(`${DATASET_NAMES[spec.kind]}: no image could be read and decoded; nothing to map`);
    items = phase.embedded;
    viewsEncoded = phase.viewsEncoded;
    viewsCached = phase.viewsCached;
    imageRows = readViewRows(store, backbone, items.map((it) => it.sha256), ['std']);
    imagesConfig = { dataset: spec.kind, spec, categories: [...new Set(items.map((it) => it.category))], images: items.length };
  }

  const nText = set.labels.length;
  const n = nText + items.length;
  const x = new Float32Array(n * dim);
  x.set(set.x, 0);
  x.set(imageRows, nText * dim);
  const group: TsneGroup[] = [
    ...Array.from(set.labels, (l): TsneGroup => (l === 1 ? 'text-anomalous' : 'text-normal')),
    ...items.map((it): TsneGroup => (it.label === 1 ? 'image-anomalous' : 'image-normal')),
  ];

  const key =
    'experiment/tsne/' +
    createHash('sha256')
      .update(canonicalJson({ format: MAP_FORMAT, backbone: backbone.fingerprint, pairs, seed, prompts, images: opts.images ? dataKey(items) : null, tsne: tsneConfig }))
      .digest('hex')
      .slice(0, 32);
  // Checked here, where n is known, so the message can name the flags rather than tsne()'s options.
  if (!(tsneConfig.perplexity > 0 && tsneConfig.perplexity < n)) {
    throw new RwdaError(
      `--perplexity ${tsneConfig.perplexity} must be > 0 and less than the number of points, ${n} (2 × ${pairs} --pairs + ${items.length} images); raise --pairs or lower --perplexity`,
    );
  }
  let map = readMap(store.getResult(key), n);
  const reused = map !== undefined;
  if (map === undefined) {
    const r = tsne(x, n, dim, {
      perplexity: tsneConfig.perplexity,
      iterations: tsneConfig.iterations,
      seed,
      method: tsneConfig.method,
      onProgress: (p) => emit({ type: 'tsne', stage: p.stage, done: p.done, total: p.total }),
    });
    map = { y: Array.from(r.y), kl: r.kl, iterations: r.iterations, method: r.method, learningRate: r.learningRate };
    store.putResult(key, { format: MAP_FORMAT, n, ...map });
  }

  const counts = Object.fromEntries(TSNE_GROUPS.map((g) => [g, 0])) as Record<TsneGroup, number>;
  for (const g of group) counts[g]++;
  const texts = set.pairs.flatMap((p) => [p.normal, p.anomaly]);
  notes.push(`Prompt texts: ${formatCount(set.encoded)} encoded, ${formatCount(set.cached)} from the cache.`);
  if (reused) notes.push('The t-SNE map was read back from the store (same embeddings and settings as an earlier run).');
  const backboneCfg: BackboneConfig = { name, pretrained: opts.pretrained, fingerprint: backbone.fingerprint };
  return writeExperiment(
    opts,
    'tsne',
    { t0, partial: false },
    {
      config: { backbone: backboneCfg, pairs, seed, prompts, images: imagesConfig, tsne: tsneConfig },
      results: {
        n,
        x: Array.from({ length: n }, (_, i) => map!.y[2 * i]!),
        y: Array.from({ length: n }, (_, i) => map!.y[2 * i + 1]!),
        group,
        texts,
        images: items.map((it) => ({ path: it.path, category: it.category, label: it.label, defectType: it.defectType })),
        counts,
        run: { kl: map.kl, iterations: map.iterations, method: map.method, learningRate: map.learningRate, reused, key },
      },
      stats: {
        viewsEncoded,
        viewsCached,
        detectorsTrained: 0,
        detectorsLoaded: 0,
        textsEncoded: set.encoded,
        seedsComputed: 0,
        seedsReused: 0,
        store: countersSince(store, start),
      },
      skipped,
      notes,
    },
    { svg: renderTsneSvg, html: renderTsneHtml },
  );
}
