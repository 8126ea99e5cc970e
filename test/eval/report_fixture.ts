// Synthetic RunResults for the report tests: two categories, three seeds, scores drawn from seeded normals and
// every number (metrics, curves, histograms) computed by the real metrics module, as `rwda eval` will.
import { evaluateScores } from '../../src/eval/metrics.ts';
import { curveSetFrom, scoreHistogram } from '../../src/eval/report/curves.ts';
import {
  METHODS,
  RESULTS_FORMAT,
  meanOverCategories,
  summarizeMetrics,
  type CategoryResult,
  type CurveSet,
  type MethodId,
  type MetricId,
  type RunResults,
  type ScoreHistogram,
} from '../../src/eval/report/schema.ts';
import { Rng } from '../../src/util/rng.ts';

export const SEEDS = [0, 1, 2];

interface CategorySpec {
  name: string;
  nNormal: number;
  nAnomalous: number;
  /** Separation of the class means for CLIP and for Ours. */
  clipGap: number;
  oursGap: number;
}

export const CATEGORY_SPECS: CategorySpec[] = [
  { name: 'bottle', nNormal: 40, nAnomalous: 63, clipGap: 0.9, oursGap: 1.6 },
  { name: 'metal_nut', nNormal: 22, nAnomalous: 93, clipGap: 0.4, oursGap: 1.1 },
];

function draw(rng: Rng, n: number, mean: number): number[] {
  return Array.from({ length: n }, () => mean + rng.normal());
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Labels and per-method scores of one category and seed (CLIP's scores do not depend on the seed). */
export function categoryScores(spec: CategorySpec, seed: number): { labels: number[]; scores: Record<MethodId, number[]> } {
  const labels = [...new Array<number>(spec.nNormal).fill(0), ...new Array<number>(spec.nAnomalous).fill(1)];
  const clipRng = new Rng(1000 + spec.nNormal);
  const clip = [...draw(clipRng, spec.nNormal, 0), ...draw(clipRng, spec.nAnomalous, spec.clipGap)].map(sigmoid);
  const oursRng = new Rng(2000 + 17 * seed + spec.nAnomalous);
  const ours = [...draw(oursRng, spec.nNormal, 0), ...draw(oursRng, spec.nAnomalous, spec.oursGap)].map(sigmoid);
  const clipOurs = clip.map((c, i) => (c + ours[i]!) / 2);
  return { labels, scores: { clip, ours, clipOurs } };
}

/** A complete, valid RunResults; `categoryNames` renames the categories (for escaping tests). */
export function makeResults(opts: { categoryNames?: string[]; dataset?: RunResults['config']['dataset'] } = {}): RunResults {
  const curves: Record<string, Partial<Record<MethodId, CurveSet>>> = {};
  const histograms: Record<string, ScoreHistogram> = {};
  const categories: CategoryResult[] = CATEGORY_SPECS.map((spec, ci) => {
    const name = opts.categoryNames?.[ci] ?? spec.name;
    const perSeed = {} as Record<MethodId, Record<MetricId, number[]>>;
    for (const m of METHODS) perSeed[m] = { auroc: [], ap: [], auprTrapezoid: [], f1Max: [] };
    for (const seed of SEEDS) {
      const { labels, scores } = categoryScores(spec, seed);
      for (const m of METHODS) {
        if (m === 'clip' && seed !== SEEDS[0]) continue; // seed-independent: one value
        const { metrics, roc, pr } = evaluateScores(labels, scores[m]);
        for (const k of ['auroc', 'ap', 'auprTrapezoid', 'f1Max'] as const) perSeed[m][k].push(metrics[k]);
        if (seed === 0) (curves[name] ??= {})[m] = curveSetFrom(roc, pr);
      }
      if (seed === 0) {
        const s = scores.clipOurs;
        histograms[name] = scoreHistogram(
          s.filter((_, i) => labels[i] === 0),
          s.filter((_, i) => labels[i] === 1),
          20,
        );
      }
    }
    return {
      name,
      nNormal: spec.nNormal,
      nAnomalous: spec.nAnomalous,
      methods: {
        clip: summarizeMetrics(perSeed.clip),
        ours: summarizeMetrics(perSeed.ours),
        clipOurs: summarizeMetrics(perSeed.clipOurs),
      },
    };
  });
  return {
    format: RESULTS_FORMAT,
    createdAt: '2024-05-01T12:00:00.000Z',
    rwdaVersion: '0.1.0',
    versions: { node: 'v20.0.0', onnxruntime: '1.30.0' },
    config: {
      dataset: opts.dataset ?? 'mvtec',
      root: '/data/mvtec_anomaly_detection',
      categories: categories.map((c) => c.name),
      setup: 'unknown',
      seeds: SEEDS,
      crops: { enabled: true, scales: [2, 3], aggregation: 'max' },
      pairs: 10000,
      backbone: { name: 'ViT-B-16-plus-240', pretrained: 'laion400m_e32', fingerprint: 'sha256:0123abcd' },
      prompts: {
        normalWord: 'a',
        anomalyWord: 'a damaged',
        unknownObject: 'object',
        alphabet: 'abcdefghijklmnopqrstuvwxyz0123456789',
        minWordLength: 5,
        maxWordLength: 10,
        independentWords: false,
        temperature: 0.01,
      },
      fnn: {
        hidden: [512, 256, 128],
        dropout: 0.5,
        lr: 1e-3,
        weightDecay: 1e-2,
        betas: [0.9, 0.999],
        eps: 1e-8,
        epochs: 2,
        batchSize: 128,
        lrDecay: 0.1,
      },
      aupr: 'ap',
    },
    skipped: [
      { path: '/data/mvtec_anomaly_detection/bottle/test/good/.DS_Store', category: 'bottle', kind: 'non-image', reason: 'not an image file' },
    ],
    categories,
    mean: meanOverCategories(categories),
    curves: { seed: 0, perCategory: curves },
    histograms: { seed: 0, method: 'clipOurs', perCategory: histograms },
  };
}
