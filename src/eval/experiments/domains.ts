/**
 * `rwda experiment domains` (paper Section 4.5, Figure 5): the augmented training prompts and natural
 * sentences (captions with "normal" or "damage") mapped by t-SNE at the FNN's input (CLIP text
 * embeddings) and after each of its hidden blocks, one panel per layer. Each panel also gets the
 * leave-one-out 1-nearest-neighbour accuracy in its 2-D map of normality and of domain (prompt vs
 * sentence), which measures "split by sample type rather than domain".
 *
 * Resumable: text embeddings come through the store, the detector through the detector cache, and
 * every panel's map is stored as a run result keyed by the sha256 of its input matrix and the t-SNE
 * settings as soon as it is computed, so an interrupted run redoes at most one panel.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../clip/fingerprint.ts';
import { loadCaptions, type CaptionMatch, type CaptionMatchOptions } from '../../data/captions.ts';
import { RwdaError } from '../../errors.ts';
import { backboneName, type Backbone } from '../../methods/common/backbone.ts';
import { embedTexts } from '../../methods/common/embed_cache.ts';
import { Rng } from '../../util/rng.ts';
import { loadOrTrainDefaultDetector } from '../../methods/rwda/index.ts';
import { buildTrainingSet, checkPairs } from '../../methods/rwda/index.ts';
import type { EmbeddingStore } from '../../store/index.ts';
import { escapeXml as esc } from '../report/svg.ts';
import { tsne, type TsneMethod } from '../tsne.ts';
import { renderDomainsSvg, DOMAIN_GROUPS, DOMAIN_GROUP_NAMES, type DomainGroup } from './domains_plot.ts';
import { commonConfigLines, renderExperimentHtml, writeExperiment, type BackboneConfig, type ExperimentFile, type ExperimentPaths } from './output.ts';
import { formatCount } from './plots.ts';
import { countersSince, type ExperimentEvent } from './setting.ts';

/** Defaults of the experiment (the paper's N; at most 5,000 sentences). */
export const DOMAINS_DEFAULTS = { pairs: 10_000, maxSentences: 5_000 } as const;

/** Options of runDomainsExperiment. */
export interface DomainsExperimentOptions {
  backbone: Backbone;
  backboneName?: string;
  pretrained?: string;
  store: EmbeddingStore;
  /** Captions file: COCO captions JSON or one sentence per line. */
  captions: string;
  match?: CaptionMatchOptions;
  /** Prompt pairs: the detector's training set, all of them plotted (default 10,000). */
  pairs?: number;
  /** Seed of the random words, the detector, the sentence subset and the t-SNE start (default 0). */
  seed?: number;
  /** At most this many sentences (a seeded random subset, in file order; default 5,000). */
  maxSentences?: number;
  perplexity?: number;
  iterations?: number;
  method?: TsneMethod;
  /** Detector cache root (default rwdaHome()). */
  home?: string;
  out: string;
  onEvent?: (e: DomainsEvent) => void;
}

/** Events of the experiment: the shared ones plus the panels. */
export type DomainsEvent =
  | ExperimentEvent
  | { type: 'panel-start'; panel: string; index: number; total: number; reused: boolean }
  | { type: 'panel-done'; panel: string; index: number; total: number; reused: boolean };

/** One panel of domains.json. */
export interface DomainsPanel {
  /** 'input' or 'hidden<i>' (i from 1). */
  layer: string;
  name: string;
  width: number;
  x: number[];
  y: number[];
  /** Leave-one-out 1-NN accuracy in the 2-D map. */
  nn1: { normality: number; domain: number };
  run: { kl: number; iterations: number; learningRate: number; reused: boolean; key: string };
}

/** config of domains.json. */
export interface DomainsConfig {
  backbone: BackboneConfig;
  pairs: number;
  seed: number;
  detector: { dir: string; fnnSha256: string; hidden: number[] };
  captions: { file: string; format: 'coco' | 'lines'; match: CaptionMatch; maxSentences: number };
  tsne: { perplexity: number; iterations: number; method: TsneMethod; init: 'pca'; learningRate: 'auto'; earlyExaggeration: 12; theta: 0.5 };
}

/** results of domains.json: points are the 2·pairs prompts (normal, anomalous alternating), then the sentences. */
export interface DomainsResults {
  n: number;
  label: Array<0 | 1>;
  domain: Array<'prompt' | 'sentence'>;
  texts: string[];
  counts: Record<DomainGroup, number>;
  /** What the captions file held (before the --max-sentences subset). */
  captions: { read: number; normal: number; anomalous: number; both: number; duplicates: number; used: number };
  panels: DomainsPanel[];
}

/** domains.json. */
export type DomainsFile = ExperimentFile<DomainsConfig, DomainsResults>;

const MAP_FORMAT = 'rwda-domains-map/1';

/** Leave-one-out accuracy of the 1-nearest-neighbour classifier on 2-D points (ties: lowest index). */
export function nn1Accuracy(xy: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = labels.length;
  if (n < 2) throw new RwdaError(`1-NN accuracy needs at least 2 points, got ${n}`);
  let right = 0;
  for (let i = 0; i < n; i++) {
    const xi = xy[2 * i]!;
    const yi = xy[2 * i + 1]!;
    let best = Infinity;
    let at = -1;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const dx = xy[2 * j]! - xi;
      const dy = xy[2 * j + 1]! - yi;
      const d = dx * dx + dy * dy;
      if (d < best) [best, at] = [d, j];
    }
    if (labels[at] === labels[i]) right++;
  }
  return right / n;
}

/** `max` of the indices 0..n-1 chosen by a seeded partial Fisher–Yates shuffle, sorted (all of them when n ≤ max). */
export function sampleIndices(n: number, max: number, seed: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  if (n <= max) return idx;
  const rng = new Rng(seed);
  for (let i = 0; i < max; i++) {
    const j = rng.int(i, n - 1);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, max).sort((a, b) => a - b);
}

function readMap(value: unknown, n: number): { y: number[]; kl: number; iterations: number; learningRate: number } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.format !== MAP_FORMAT || v.n !== n || !Array.isArray(v.y) || v.y.length !== 2 * n) return undefined;
  if (!v.y.every((t) => typeof t === 'number' && Number.isFinite(t))) return undefined;
  if (typeof v.kl !== 'number' || typeof v.iterations !== 'number' || typeof v.learningRate !== 'number') return undefined;
  return { y: v.y as number[], kl: v.kl, iterations: v.iterations, learningRate: v.learningRate };
}

/** The HTML page of a domains file. */
export function renderDomainsHtml(file: DomainsFile, svg: string): string {
  const c = file.config;
  const r = file.results;
  const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
  const rows = r.panels
    .map((p) => `<tr data-layer="${esc(p.layer)}"><td>${esc(p.name)}</td><td>${p.width}</td><td>${pct(p.nn1.normality)}</td><td>${pct(p.nn1.domain)}</td><td>${p.run.kl.toFixed(3)}</td></tr>`)
    .join('');
  const groups = DOMAIN_GROUPS.map((g) => `<tr data-group="${g}"><td>${esc(DOMAIN_GROUP_NAMES[g])}</td><td>${formatCount(r.counts[g])}</td></tr>`).join('');
  const m = c.captions.match;
  const config: Array<[string, string]> = [
    ['prompt pairs', `${formatCount(c.pairs)} (seed ${c.seed}), the detector's training set`],
    ['detector', `${c.detector.dir} (FNN hidden ${c.detector.hidden.join(', ')}; fnn sha256 ${c.detector.fnnSha256.slice(0, 16)}…)`],
    ['captions', `${c.captions.file} (${c.captions.format}), at most ${formatCount(c.captions.maxSentences)} sentences`],
    [
      'sentence words',
      `normal ${m.normalWords.map((w) => `"${w}"`).join(', ')}; anomalous ${m.anomalyWords.map((w) => `"${w}"`).join(', ')}; ` +
        `${m.inflections ? `inflections -${m.suffixes.join(', -')}` : 'whole words only'}; ${m.caseSensitive ? 'case-sensitive' : 'any case'}`,
    ],
    ['captions read', `${formatCount(r.captions.read)} sentences: ${r.captions.normal} normal, ${r.captions.anomalous} anomalous, ${r.captions.both} with both (left out), ${r.captions.duplicates} repeats; ${r.captions.used} used`],
    ['t-SNE', `perplexity ${c.tsne.perplexity}, ${c.tsne.iterations} iterations, ${c.tsne.method}, learning rate auto, early exaggeration 12, PCA init, seed ${c.seed}, one run per panel`],
    ...commonConfigLines(file, c.backbone),
  ];
  return renderExperimentHtml({
    title: 'rwda experiment: prompts and natural sentences through the FNN',
    subtitle: `${formatCount(c.pairs)} prompt pairs · ${formatCount(r.captions.used)} sentences · ${c.backbone.name}`,
    svg,
    figureNotes: [
      'Paper Figure 5: colour is the class (normal / anomalous), the marker the domain (augmented prompt / natural sentence). Each panel is its own t-SNE run of the same points.',
      'The paper gives no numbers for this figure (it is a picture), so there is no reference to compare with; the 1-NN accuracies below measure what the paper describes: low domain and high normality accuracy means the points are split by class rather than by domain.',
    ],
    sections: [
      {
        id: 'panels',
        title: 'Panels: leave-one-out 1-NN accuracy in the 2-D map',
        html: `<table class="panels"><thead><tr><th>Layer</th><th>Width</th><th>Normality</th><th>Domain</th><th>KL</th></tr></thead><tbody>${rows}</tbody></table>`,
      },
      { id: 'points', title: 'Points', html: `<table class="groups"><thead><tr><th>Group</th><th>Points</th></tr></thead><tbody>${groups}</tbody></table>` },
    ],
    config,
    file,
  });
}

/** Trains (or loads) the detector, embeds prompts and sentences, maps every layer, writes domains.json/.svg/.html. */
export async function runDomainsExperiment(opts: DomainsExperimentOptions): Promise<{ file: DomainsFile; paths: ExperimentPaths }> {
  const t0 = performance.now();
  const emit = (e: DomainsEvent): void => opts.onEvent?.(e);
  const { backbone, store } = opts;
  const start = store.counters;
  const pairs = checkPairs(opts.pairs ?? DOMAINS_DEFAULTS.pairs);
  const seed = opts.seed ?? 0;
  const maxSentences = opts.maxSentences ?? DOMAINS_DEFAULTS.maxSentences;
  if (!Number.isInteger(maxSentences) || maxSentences < 1) throw new RwdaError(`--max-sentences must be a positive integer, got ${maxSentences}`);
  const name = opts.backboneName ?? backboneName(backbone);
  const tsneConfig: DomainsConfig['tsne'] = {
    perplexity: opts.perplexity ?? 30,
    iterations: opts.iterations ?? 1000,
    method: opts.method ?? 'barnes_hut',
    init: 'pca',
    learningRate: 'auto',
    earlyExaggeration: 12,
    theta: 0.5,
  };
  // The captions first: a bad file should fail before any training.
  const caps = loadCaptions(opts.captions, opts.match);
  const chosen = sampleIndices(caps.sentences.length, maxSentences, seed).map((i) => caps.sentences[i]!);

  const { detector, dir, trained } = await loadOrTrainDefaultDetector(backbone, {
    pairs,
    seed,
    store,
    home: opts.home,
    backboneName: name,
    onProgress: (p) => emit({ type: 'train', label: 'detector', seed, progress: p }),
  });
  emit({ type: 'seed-done', label: 'detector', seed, reused: false, trained, textsEncoded: trained ? detector.meta.training.textsEncoded : 0 });
  try {
    const set = await buildTrainingSet(backbone, { pairs, seed, store });
    const sent = await embedTexts(backbone, chosen.map((c) => c.text), { store });
    const dim = set.dim;
    const nText = set.labels.length;
    const n = nText + chosen.length;
    if (!(tsneConfig.perplexity > 0 && tsneConfig.perplexity < n)) {
      throw new RwdaError(`--perplexity ${tsneConfig.perplexity} must be > 0 and less than the number of points, ${n} (2 × ${pairs} --pairs + ${chosen.length} sentences)`);
    }
    const x = new Float32Array(n * dim);
    x.set(set.x, 0);
    x.set(sent.data, nText * dim);
    const label: Array<0 | 1> = [...Array.from(set.labels, (l) => (l === 1 ? 1 : 0) as 0 | 1), ...chosen.map((c) => c.label)];
    const domain: Array<'prompt' | 'sentence'> = [...Array.from({ length: nText }, () => 'prompt' as const), ...chosen.map(() => 'sentence' as const)];
    const hidden = detector.fnn.hiddenActivations(x, n);
    const layers = [
      { layer: 'input', name: `CLIP text embeddings (${dim}-d)`, width: dim, data: x },
      ...hidden.map((a, i) => ({ layer: `hidden${i + 1}`, name: `FNN layer ${i + 1} (${detector.fnn.layout.hidden[i]}-d, after ReLU)`, width: detector.fnn.layout.hidden[i]!, data: a })),
    ];
    const panels: DomainsPanel[] = [];
    for (const [index, L] of layers.entries()) {
      const digest = createHash('sha256').update(new Uint8Array(L.data.buffer, L.data.byteOffset, L.data.byteLength)).digest('hex');
      const key = 'experiment/domains/' + createHash('sha256').update(canonicalJson({ format: MAP_FORMAT, n, width: L.width, data: digest, seed, tsne: tsneConfig })).digest('hex').slice(0, 32);
      let map = readMap(store.getResult(key), n);
      const reused = map !== undefined;
      emit({ type: 'panel-start', panel: L.name, index, total: layers.length, reused });
      if (map === undefined) {
        const r = tsne(L.data, n, L.width, {
          perplexity: tsneConfig.perplexity,
          iterations: tsneConfig.iterations,
          seed,
          method: tsneConfig.method,
          onProgress: (p) => emit({ type: 'tsne', stage: p.stage, done: p.done, total: p.total }),
        });
        map = { y: Array.from(r.y), kl: r.kl, iterations: r.iterations, learningRate: r.learningRate };
        store.putResult(key, { format: MAP_FORMAT, n, ...map });
      }
      const xy = map.y;
      panels.push({
        layer: L.layer,
        name: L.name,
        width: L.width,
        x: Array.from({ length: n }, (_, i) => xy[2 * i]!),
        y: Array.from({ length: n }, (_, i) => xy[2 * i + 1]!),
        nn1: { normality: nn1Accuracy(xy, label), domain: nn1Accuracy(xy, domain.map((d) => (d === 'prompt' ? 0 : 1))) },
        run: { kl: map.kl, iterations: map.iterations, learningRate: map.learningRate, reused, key },
      });
      emit({ type: 'panel-done', panel: L.name, index, total: layers.length, reused });
    }
    const counts = Object.fromEntries(DOMAIN_GROUPS.map((g) => [g, 0])) as Record<DomainGroup, number>;
    for (let i = 0; i < n; i++) counts[`${domain[i]!}-${label[i] === 1 ? 'anomalous' : 'normal'}` as DomainGroup]++;
    const notes = [
      `Prompt texts: ${formatCount(set.encoded)} encoded, ${formatCount(set.cached)} from the cache; sentences: ${formatCount(sent.encoded)} encoded, ${formatCount(sent.cached)} from the cache.`,
      `Detector ${trained ? 'trained and saved to' : 'loaded from'} ${dir}.`,
    ];
    if (chosen.length < caps.sentences.length) notes.push(`${formatCount(chosen.length)} of ${formatCount(caps.sentences.length)} matching sentences used (--max-sentences; seeded random subset, in file order).`);
    const backboneCfg: BackboneConfig = { name, pretrained: opts.pretrained, fingerprint: backbone.fingerprint };
    return writeExperiment<DomainsConfig, DomainsResults>(
      { out: opts.out, onEvent: emit },
      'domains',
      { t0, partial: false },
      {
        config: {
          backbone: backboneCfg,
          pairs,
          seed,
          detector: { dir, fnnSha256: detector.meta.fnnSha256, hidden: [...detector.fnn.layout.hidden] },
          captions: { file: caps.file, format: caps.format, match: caps.match, maxSentences },
          tsne: tsneConfig,
        },
        results: {
          n,
          label,
          domain,
          texts: [...set.pairs.flatMap((p) => [p.normal, p.anomaly]), ...chosen.map((c) => c.text)],
          counts,
          captions: { ...caps.counts, used: chosen.length },
          panels,
        },
        stats: {
          viewsEncoded: 0,
          viewsCached: 0,
          detectorsTrained: trained ? 1 : 0,
          detectorsLoaded: trained ? 0 : 1,
          textsEncoded: set.encoded + sent.encoded,
          seedsComputed: 0,
          seedsReused: 0,
          store: countersSince(store, start),
        },
        skipped: [],
        notes,
      },
      { svg: renderDomainsSvg, html: renderDomainsHtml },
    );
  } finally {
    detector.dispose();
  }
}
