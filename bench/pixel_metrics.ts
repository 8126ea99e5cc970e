// `rwda metrics pixel` on the MVTec-sized workload of ../shared/fixtures/pixel_metrics/README.md ("Speed anchor"):
// 150 float32 maps of 256×256 (9,830,400 pixels), 100 good and 50 defect images with 1–3 regions each (~0.6 %
// anomalous), nearly every score distinct. Timed: the metrics on maps already in memory (what the README's Python
// figures time), and the whole `evaluatePixelFolders` read of .npy + PNG files (what the CLI does, minus start-up).
// `node --import tsx bench/pixel_metrics.ts` runs it alone.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import sharp from 'sharp';
import { writeNpyFloat32 } from '../src/data/npy.ts';
import { PixelMetricsAccumulator, evaluatePixelFolders } from '../src/eval/pixel/index.ts';
import { Rng } from '../src/util/rng.ts';
import { loadInfo, peakRssMb, REPO, round } from './common.ts';

const SIZE = 256;
const N_GOOD = 100;
const N_DEFECT = 50;

/** The reference figures (seconds, 2-core AMD EPYC, one thread) quoted by the fixture README, runs 1 and 2. */
export const PYTHON_REFERENCE_S = {
  aupro_official_compute_pro_trapezoid: [2.42, 2.58],
  pixel_auroc_sklearn: [3.43, 2.78],
  pixel_ap_sklearn: [3.28, 2.89],
  pixel_f1_max_sklearn: [2.9, 2.24],
};

interface Image {
  rel: string;
  map: Float32Array;
  mask: Uint8Array | null;
}

/** The workload: smooth noise maps, defect images with 1–3 elliptic regions scored higher on average. */
export function mvtecLikeWorkload(seed = 7): Image[] {
  const rng = new Rng(seed);
  const out: Image[] = [];
  for (let k = 0; k < N_GOOD + N_DEFECT; k++) {
    const map = new Float32Array(SIZE * SIZE);
    for (let i = 0; i < map.length; i++) map[i] = rng.nextFloat();
    let mask: Uint8Array | null = null;
    if (k >= N_GOOD) {
      mask = new Uint8Array(SIZE * SIZE);
      const regions = rng.int(1, 3); // inclusive
      for (let r = 0; r < regions; r++) {
        const cy = rng.int(20, SIZE - 20);
        const cx = rng.int(20, SIZE - 20);
        const ry = 5 + rng.nextFloat() * 19;
        const rx = 5 + rng.nextFloat() * 19;
        for (let y = Math.floor(cy - ry); y <= cy + ry; y++) {
          for (let x = Math.floor(cx - rx); x <= cx + rx; x++) {
            if (((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1) mask[y * SIZE + x] = 255;
          }
        }
      }
      for (let i = 0; i < map.length; i++) if (mask[i]) map[i] = map[i]! * 0.6 + 0.5 * rng.nextFloat() + 0.1;
    }
    out.push({ rel: k < N_GOOD ? `good/${String(k).padStart(3, '0')}` : `defect/${String(k - N_GOOD).padStart(3, '0')}`, map, mask });
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Runs the benchmark; returns seconds (median of `reps`) beside the Python reference. */
export async function benchPixelMetrics(opts: { reps?: number } = {}): Promise<Record<string, unknown>> {
  const reps = opts.reps ?? 3;
  const images = mvtecLikeWorkload();
  const nAnomalous = images.reduce((s, im) => s + (im.mask ? im.mask.reduce((a, v) => a + (v ? 1 : 0), 0) : 0), 0);
  const load = loadInfo();

  const addS: number[] = [];
  const computeS: number[] = [];
  let metrics: ReturnType<PixelMetricsAccumulator['compute']> | undefined;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const acc = new PixelMetricsAccumulator();
    for (const im of images) acc.add(im.map, im.mask, SIZE, SIZE, im.rel);
    const t1 = performance.now();
    metrics = acc.compute();
    const t2 = performance.now();
    addS.push((t1 - t0) / 1000);
    computeS.push((t2 - t1) / 1000);
  }

  // The same workload as files, through the folder reader the CLI uses.
  const dir = mkdtempSync(join(tmpdir(), 'rwda-bench-pixel-'));
  let filesS: number[] = [];
  let cliS = NaN;
  try {
    for (const im of images) {
      writeNpyFloat32(join(dir, 'maps', `${im.rel}.npy`), im.map, SIZE, SIZE);
      if (im.mask) {
        const png = join(dir, 'masks', `${im.rel}_mask.png`);
        mkdirSync(dirname(png), { recursive: true });
        await sharp(Buffer.from(im.mask), { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toFile(png);
      }
    }
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      const m = await evaluatePixelFolders(join(dir, 'maps'), join(dir, 'masks'));
      filesS.push((performance.now() - t0) / 1000);
      if (m.aupro !== metrics!.aupro || m.pixelAuroc !== metrics!.pixelAuroc) throw new Error('bench: file path disagrees with in-memory metrics');
    }
    const t0 = performance.now();
    execFileSync(process.execPath, [join(REPO, 'bin', 'rwda.js'), 'metrics', 'pixel', '--maps', join(dir, 'maps'), '--masks', join(dir, 'masks')]);
    cliS = (performance.now() - t0) / 1000;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  filesS = filesS.map((s) => round(s, 3));

  const inMemory = median(addS) + median(computeS);
  const result = {
    workload: { images: images.length, size: `${SIZE}x${SIZE}`, pixels: images.length * SIZE * SIZE, anomalous_pixels: nAnomalous, regions: metrics!.nRegions },
    metrics: { pixel_auroc: metrics!.pixelAuroc, pixel_ap: metrics!.pixelAp, pixel_f1_max: metrics!.pixelF1Max, aupro: metrics!.aupro },
    all_four_metrics_in_memory_s_median: round(inMemory, 3),
    add_images_s_median: round(median(addS), 3),
    sort_and_walk_s_median: round(median(computeS), 3),
    from_files_s_median: median(filesS),
    cli_wall_s: round(cliS, 2),
    python_reference_s: PYTHON_REFERENCE_S,
    python_all_four_s: [0, 1].map((run) => round(Object.values(PYTHON_REFERENCE_S).reduce((s, v) => s + v[run]!, 0), 2)),
    // The README's anchor: AU-PRO ≈ 2.5 s alone; the four metrics ≈ 11–12 s.
    speedup_vs_python_aupro_alone: round(2.5 / inMemory, 1),
    speedup_vs_python_all_four: round(11.26 / inMemory, 1),
    peak_rss_mb: round(peakRssMb(), 0),
    reps,
    loadavg_before: load,
    loadavg_after: loadInfo(),
  };
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(await benchPixelMetrics(), null, 2)}\n`);
}
