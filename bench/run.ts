// `npm run bench [-- NAME...]`: runs each benchmark module (all by default), prints its summary and
// writes bench/out/<name>.json plus bench/out/all.json. Modules are added to MODULES below; a module
// file that is absent from this checkout is skipped with a note.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { loadInfo, matmulPeakGflops, round, writeResult } from './common.ts';

interface BenchModule {
  name: string;
  file: string;
  /** The module's exported async function. */
  fn: string;
  /** Whether it takes { threads, peakGflops }. */
  sharesPeak?: boolean;
  /** Fixed options for the module (e.g. sizes that keep the whole run short). */
  opts?: Record<string, unknown>;
}

const MODULES: BenchModule[] = [
  { name: 'backbone', file: './backbone.ts', fn: 'benchBackbone', sharesPeak: true },
  { name: 'windows', file: './windows.ts', fn: 'benchWindows', sharesPeak: true },
  { name: 'fnn', file: './fnn.ts', fn: 'benchFnn' },
  { name: 'winclip', file: './winclip.ts', fn: 'benchWinclip', sharesPeak: true },
  // 2,000 points only: the 20,000-point map takes minutes (`node --import tsx bench/tsne.ts 20000`).
  { name: 'tsne', file: './tsne.ts', fn: 'benchTsne', opts: { sizes: [2000] } },
  // `rwda metrics pixel` on the fixture README's MVTec-sized workload (150 maps of 256×256).
  { name: 'pixel_metrics', file: './pixel_metrics.ts', fn: 'benchPixelMetrics' },
  // Figure 5 at 10,000 pairs + 5,000 sentences: measured parts plus extrapolated t-SNE panels (about a minute).
  { name: 'domains', file: './domains.ts', fn: 'benchDomains' },
];

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !MODULES.some((m) => m.name === w));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown benchmark(s) ${unknown.join(', ')} (known: ${MODULES.map((m) => m.name).join(', ')})\n`);
  process.exit(2);
}
const threads = 2;
const selected = MODULES.filter((m) => wanted.length === 0 || wanted.includes(m.name));
const peak = await matmulPeakGflops(threads);
process.stdout.write(`onnxruntime fp32 MatMul peak (2048³, ${threads} threads, best of 12): ${round(peak, 1)} GFLOPS; ${cpus().length} CPUs; loadavg ${loadInfo().loadavg1}\n`);

const all: Record<string, unknown> = { date: new Date().toISOString(), matmul_peak_gflops: round(peak, 1), threads };
for (const m of selected) {
  const url = new URL(m.file, import.meta.url);
  if (!existsSync(fileURLToPath(url))) {
    process.stdout.write(`${m.name}: skipped (${m.file} not present)\n`);
    continue;
  }
  const mod = (await import(url.href)) as Record<string, (opts?: Record<string, unknown>) => Promise<Record<string, unknown>>>;
  const run = mod[m.fn];
  if (typeof run !== 'function') throw new Error(`${m.file} does not export ${m.fn}()`);
  const result = await run({ ...(m.sharesPeak ? { threads, peakGflops: peak } : {}), ...m.opts });
  all[m.name] = result;
  process.stdout.write(`${m.name}: wrote ${writeResult(m.name, result)}\n`);
}
const firstRun = firstRunEstimate(all);
if (firstRun) {
  all.first_run = firstRun;
  process.stdout.write(`first run (default detector, after the download): ≈ ${firstRun.seconds} s = ${firstRun.pairs * 2} prompts × ${firstRun.text_ms_per_prompt} ms + FNN ${firstRun.fnn_train_s} s\n`);
}
writeResult('all', all);

/** The default detector's training time from this run's figures: 2 × 10,000 prompts through the text tower, then the FNN. */
function firstRunEstimate(results: Record<string, unknown>): { pairs: number; text_ms_per_prompt: number; fnn_train_s: number; seconds: number } | undefined {
  const text = (results.backbone as { text?: Record<string, number> } | undefined)?.text;
  const fnn = results.fnn as Record<string, number> | undefined;
  const ms = text?.pairs_shared_ms_per_prompt ?? text?.dynamic_ms_per_prompt;
  const fnnS = fnn?.fnn_train_10k_pairs_2_epochs_s_median;
  if (ms === undefined || fnnS === undefined) return undefined;
  const pairs = 10_000;
  return { pairs, text_ms_per_prompt: ms, fnn_train_s: fnnS, seconds: round((2 * pairs * ms) / 1000 + fnnS, 0) };
}
