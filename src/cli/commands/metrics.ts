/**
 * `rwda metrics FILE.csv`: image-level metrics of a label,score CSV as one JSON object on stdout.
 * `rwda metrics pixel --maps DIR --masks DIR [--pro-limit L]`: pixel-level metrics of anomaly maps against masks.
 * (A CSV literally named `pixel` is reached as `./pixel`.)
 */
import type { Command } from 'commander';
import { RwdaError } from '../../errors.ts';
import { computeMetrics, validateMetricInput } from '../../eval/metrics.ts';
import { DEFAULT_PRO_LIMIT, checkProLimit, evaluatePixelFolders } from '../../eval/pixel/index.ts';
import { readScoreCsv } from '../../eval/score_csv.ts';

function parseProLimit(text: string): number {
  // Number('') is 0 and Number('0x1') is 1: accept plain decimal notation only.
  const v = /^[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(v > 0 && v <= 1)) throw new RwdaError(`--pro-limit ${text}: must be a number in (0, 1]`);
  return v;
}

/** Registers the `metrics` command and its `pixel` subcommand. */
export function register(program: Command): void {
  const metrics = program
    .command('metrics')
    .description(
      'compute AUROC, AP, trapezoidal PR-AUC and F1-max from a CSV with a header and columns label (0 normal, ' +
        '1 anomalous) and score (higher = more anomalous); prints one JSON object. ' +
        '`rwda metrics pixel --help` for pixel-level metrics',
    )
    .argument('<file>', 'CSV file with columns label and score (any order, extra columns ignored)')
    .action((file: string) => {
      const { labels, scores } = readScoreCsv(file);
      validateMetricInput(labels, scores, file);
      const m = computeMetrics(labels, scores);
      const out = {
        auroc: m.auroc,
        ap: m.ap,
        aupr_trapezoid: m.auprTrapezoid,
        f1_max: m.f1Max,
        f1_max_threshold: m.f1MaxThreshold,
        n: m.n,
        n_anomalous: m.nAnomalous,
      };
      process.stdout.write(`${JSON.stringify(out)}\n`);
    });

  metrics
    .command('pixel')
    .description(
      'pixel-level metrics of anomaly maps against ground-truth masks: pixel AUROC, AP, F1-max and MVTec AU-PRO ' +
        '(8-connected regions, FPR up to --pro-limit, normalised). Every <rel>.npy under --maps (2-D float32/float64) ' +
        'pairs with <rel>_mask.png or <rel>.png under --masks (non-zero = anomalous); a map without a mask is all ' +
        'normal. Prints one JSON object',
    )
    .requiredOption('--maps <dir>', 'folder of .npy anomaly maps (searched recursively)')
    .requiredOption('--masks <dir>', 'folder of mask PNGs mirroring --maps')
    .option('--pro-limit <fpr>', 'AU-PRO integration limit in (0, 1]', String(DEFAULT_PRO_LIMIT))
    .action(async (opts: { maps: string; masks: string; proLimit: string }) => {
      const proLimit = parseProLimit(opts.proLimit);
      checkProLimit(proLimit, '--pro-limit');
      const m = await evaluatePixelFolders(opts.maps, opts.masks, { proLimit });
      const out = {
        pixel_auroc: m.pixelAuroc,
        pixel_ap: m.pixelAp,
        pixel_f1_max: m.pixelF1Max,
        aupro: m.aupro,
        pro_limit: m.proLimit,
        n_images: m.nImages,
        n_pixels: m.nPixels,
        n_anomalous_pixels: m.nAnomalousPixels,
      };
      process.stdout.write(`${JSON.stringify(out)}\n`);
    });
}
