// Shared benchmark plumbing: the random full-size model, onnxruntime's fp32 MatMul peak, timing.
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../src/clip/onnx/graph.ts';
import { writeRandomModel } from '../src/clip/random_model.ts';
import { writeFileAtomic } from '../src/util/atomic.ts';

export const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const BENCH_MODEL_DIR = join(REPO, '.cache', 'bench-model');
export const BENCH_ARCH = 'ViT-B-16-plus-240';
export const OUT_DIR = join(REPO, 'bench', 'out');

/** The random full-size ViT-B-16-plus-240 model directory, generated once (about 20 s) and reused. */
export function ensureBenchModel(): string {
  if (!existsSync(join(BENCH_MODEL_DIR, 'open_clip_model.safetensors'))) {
    const shared = process.env.RWDA_SHARED ?? resolve(REPO, '..', 'shared');
    const vocab = join(shared, 'fixtures', 'openclip', 'bpe_simple_vocab_16e6.txt.gz');
    process.stderr.write(`bench: writing a random ${BENCH_ARCH} to ${BENCH_MODEL_DIR} ...\n`);
    writeRandomModel({ arch: BENCH_ARCH, seed: 1, vocab, out: BENCH_MODEL_DIR, quiet: true });
  }
  return BENCH_MODEL_DIR;
}

/** Best (minimum) wall time in ms of `runs` calls after `warmup` untimed ones. */
export async function bestMs(fn: () => Promise<unknown>, runs: number, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

/** Best wall time in ms of each function over `rounds` rounds that call them in turn (after one warm-up round). */
export async function bestOfInterleaved(fns: Array<() => Promise<unknown>>, rounds: number): Promise<number[]> {
  for (const fn of fns) await fn();
  const best = fns.map(() => Infinity);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < fns.length; i++) {
      const t = performance.now();
      await fns[i]!();
      best[i] = Math.min(best[i]!, performance.now() - t);
    }
  }
  return best;
}

/** onnxruntime's fp32 MatMul throughput in GFLOPS: a one-node 2048³ MatMul graph (constant B), best of `runs`. */
export async function matmulPeakGflops(threads: number | undefined, runs = 12): Promise<number> {
  const peak = await matmulPeakRunner(threads);
  const ms = await bestMs(peak.run, runs, 2);
  await peak.release();
  return peak.gflops(ms);
}

/** The MatMul peak graph as a callable, to time between other work (same load conditions): run, GFLOPS of a time, release. */
export async function matmulPeakRunner(threads: number | undefined): Promise<{ run: () => Promise<unknown>; gflops: (ms: number) => number; release: () => Promise<void> }> {
  const N = 2048;
  const b = new GraphBuilder('matmul_peak');
  const a = b.input('a', 'float', [N, N]);
  const w = new Float32Array(N * N);
  for (let i = 0; i < w.length; i++) w[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  b.output(b.node('MatMul', [a, b.constant('b', w, [N, N])]), 'y', 'float', [N, N]);
  const opts: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', executionMode: 'sequential', interOpNumThreads: 1 };
  if (threads !== undefined) opts.intraOpNumThreads = threads;
  const session = await ort.InferenceSession.create(b.toBytes(), opts);
  const input = new ort.Tensor('float32', w.slice(), [N, N]);
  return { run: () => session.run({ a: input }), gflops: (ms) => (2 * N ** 3) / ms / 1e6, release: () => session.release() };
}

/** A snapshot of machine load, to print beside timings (other processes share the cores). */
export function loadInfo(): { loadavg1: number; loadavg5: number } {
  const [l1, l5] = loadavg();
  return { loadavg1: +l1!.toFixed(2), loadavg5: +l5!.toFixed(2) };
}

/** Peak resident set size of this process so far, in MB. */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Writes a result object as bench/out/<name>.json (atomically). */
export function writeResult(name: string, result: unknown): string {
  const path = join(OUT_DIR, `${name}.json`);
  writeFileAtomic(path, JSON.stringify(result, null, 2) + '\n');
  return path;
}

export const round = (x: number, digits = 2): number => +x.toFixed(digits);
