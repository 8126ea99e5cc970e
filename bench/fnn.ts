// FNN benchmark: training 10,000 pairs (20,000 rows, D=640, L2-normalised) for the default 2 epochs,
// and eval-mode scoring of 10,000 embeddings. Reference point: torch 1.13 trains this in ~1.5 s.
// Runnable alone: node --import tsx bench/fnn.ts
import { availableParallelism, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { FNN_DEFAULTS } from '../src/methods/rwda/defaults.ts';
import { Fnn } from '../src/methods/rwda/fnn/model.ts';
import { dropoutMasks } from '../src/methods/rwda/fnn/schedule.ts';
import { trainFnn } from '../src/methods/rwda/fnn/train.ts';
import { Rng } from '../src/util/rng.ts';

const TORCH_TRAIN_S = 1.5;

function normalisedRows(rng: Rng, n: number, dim: number): Float32Array {
  const x = new Float32Array(n * dim);
  for (let r = 0; r < n; r++) {
    let ss = 0;
    const row = new Float64Array(dim);
    for (let k = 0; k < dim; k++) {
      row[k] = rng.normal() + (r % 2 === 1 && k < 8 ? 0.5 : 0);
      ss += row[k]! * row[k]!;
    }
    const inv = 1 / Math.sqrt(ss);
    for (let k = 0; k < dim; k++) x[r * dim + k] = row[k]! * inv;
  }
  return x;
}

function median(a: number[]): number {
  const s = [...a].sort((p, q) => p - q);
  return s[Math.floor(s.length / 2)]!;
}

/** Runs the FNN benchmark, prints and returns its figures. */
export async function benchFnn(opts: { trainRuns?: number; scoreRuns?: number } = {}): Promise<Record<string, unknown>> {
  const trainRuns = opts.trainRuns ?? 3;
  const scoreRuns = opts.scoreRuns ?? 10;
  const dim = 640;
  const pairs = 10_000;
  const rng = new Rng(12345);
  const x = normalisedRows(rng, 2 * pairs, dim);
  const labels = Uint8Array.from({ length: 2 * pairs }, (_, i) => i % 2);
  const load1Before = loadavg()[0]!;

  const trainTimes: number[] = [];
  let model: Fnn | undefined;
  let finalLoss = NaN;
  for (let i = 0; i < trainRuns; i++) {
    const t0 = performance.now();
    const res = await trainFnn({ x, dim, labels }, { seed: FNN_DEFAULTS.seed });
    trainTimes.push((performance.now() - t0) / 1000);
    model?.dispose();
    model = res.model;
    finalLoss = res.losses[res.losses.length - 1]!;
  }

  // Share of the dropout masks (made in JavaScript from our Rng) in the training time.
  const maskRng = new Rng(1);
  const steps = FNN_DEFAULTS.epochs * Math.ceil((2 * pairs) / FNN_DEFAULTS.batchSize);
  const tm = performance.now();
  for (let s = 0; s < steps; s++) dropoutMasks(maskRng, FNN_DEFAULTS.batchSize, FNN_DEFAULTS.hidden, FNN_DEFAULTS.dropout, (k) => new Float32Array(k));
  const maskS = (performance.now() - tm) / 1000;

  const xs = x.subarray(0, 10_000 * dim);
  const t1 = performance.now();
  model!.predictLogits(xs, 10_000); // first call builds the eval session
  const firstScoreMs = performance.now() - t1;
  const scoreTimes: number[] = [];
  for (let i = 0; i < scoreRuns; i++) {
    const t = performance.now();
    model!.predictLogits(xs, 10_000);
    scoreTimes.push(performance.now() - t);
  }
  model!.dispose();

  const trainMedian = median(trainTimes);
  const figures = {
    fnn_train_10k_pairs_2_epochs_s_median: Number(trainMedian.toFixed(3)),
    fnn_train_runs_s: trainTimes.map((t) => Number(t.toFixed(3))),
    fnn_train_ratio_to_torch_1_5s: Number((trainMedian / TORCH_TRAIN_S).toFixed(2)),
    fnn_train_steps: steps,
    fnn_train_final_loss: Number(finalLoss.toFixed(4)),
    fnn_dropout_masks_s: Number(maskS.toFixed(3)),
    fnn_score_10k_ms_median: Number(median(scoreTimes).toFixed(2)),
    fnn_score_10k_first_call_ms: Number(firstScoreMs.toFixed(1)),
    ort_threads: process.env.RWDA_ORT_THREADS ?? availableParallelism(),
    ort_spinning: process.env.RWDA_ORT_SPIN !== '0',
    load_avg_1min_before: Number(load1Before.toFixed(2)),
    load_avg_1min_after: Number(loadavg()[0]!.toFixed(2)),
  };
  for (const [k, v] of Object.entries(figures)) console.log(`${k}: ${JSON.stringify(v)}`);
  return figures;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await benchFnn();
}
