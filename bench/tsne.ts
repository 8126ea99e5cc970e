// t-SNE wall time on CLIP-like embeddings (unit vectors, dim 640, 40 loose clusters): stage times for the
// affinities (distances + perplexity search), the init, and the 1000 optimisation iterations.
// `node --import tsx bench/tsne.ts [n ...]` runs the given sizes (default 2000 and 20000).
import { fileURLToPath } from 'node:url';
import { tsne, type TsneMethod } from '../src/eval/tsne.ts';
import { Rng } from '../src/util/rng.ts';
import { loadavg } from 'node:os';
import { round } from './common.ts';

const DIM = 640;

/** Unit-length rows around 40 random centres, like normalised CLIP text embeddings of prompt families. */
export function clipLikeEmbeddings(n: number, dim = DIM, seed = 1): Float32Array {
  const rng = new Rng(seed);
  const centres = Array.from({ length: 40 }, () => Float64Array.from({ length: dim }, () => rng.normal()));
  const x = new Float32Array(n * dim);
  const row = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    const c = centres[i % centres.length]!;
    let s = 0;
    for (let d = 0; d < dim; d++) {
      row[d] = c[d]! + 0.7 * rng.normal();
      s += row[d]! ** 2;
    }
    const inv = 1 / Math.sqrt(s);
    for (let d = 0; d < dim; d++) x[i * dim + d] = row[d]! * inv;
  }
  return x;
}

/** Times one run; stage boundaries come from the progress callback. */
export function timeTsne(n: number, method: TsneMethod): Record<string, number | string> {
  const x = clipLikeEmbeddings(n);
  const t0 = performance.now();
  let tAff = NaN;
  let tOpt0 = NaN;
  let tExag = NaN;
  const r = tsne(x, n, DIM, {
    method,
    onProgress: (p) => {
      const now = performance.now();
      if (p.stage === 'affinities' && p.done === p.total) tAff = now;
      if (p.stage === 'optimize' && p.done === 1) tOpt0 = now;
      if (p.stage === 'optimize' && p.done === 250) tExag = now;
    },
  });
  const total = performance.now() - t0;
  return {
    n,
    dim: DIM,
    method,
    affinities_s: round((tAff - t0) / 1000, 2),
    init_and_first_iteration_s: round((tOpt0 - tAff) / 1000, 2),
    ms_per_iteration: round((t0 + total - tOpt0) / Math.max(1, r.iterations - 1), 2),
    exaggeration_phase_s: round((tExag - tOpt0) / 1000, 2),
    total_s: round(total / 1000, 2),
    iterations: r.iterations,
    kl: round(r.kl, 4),
  };
}

/** The `npm run bench` entry: n = 2000 (exact and Barnes–Hut) and n = 20000 (Barnes–Hut). */
export async function benchTsne(opts: { sizes?: number[] } = {}): Promise<Record<string, unknown>> {
  const runs: Record<string, number | string>[] = [];
  for (const n of opts.sizes ?? [2000, 20000]) {
    const methods: TsneMethod[] = n <= 5000 ? ['exact', 'barnes_hut'] : ['barnes_hut'];
    for (const m of methods) {
      const r = timeTsne(n, m);
      process.stdout.write(`tsne ${JSON.stringify(r)}\n`);
      runs.push(r);
    }
  }
  return { runs, peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 0), loadavg1: round(loadavg()[0]!) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = process.argv.slice(2).map(Number).filter((v) => v > 0);
  const out = await benchTsne(sizes.length > 0 ? { sizes } : {});
  process.stdout.write(JSON.stringify(out) + '\n');
}
