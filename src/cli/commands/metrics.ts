/** `rwda metrics FILE.csv`: image-level metrics of a label,score CSV as one JSON object on stdout. */
import type { Command } from 'commander';
import { computeMetrics, validateMetricInput } from '../../eval/metrics.ts';
import { readScoreCsv } from '../../eval/score_csv.ts';

/** Registers the `metrics` command. */
export function register(program: Command): void {
  program
    .command('metrics')
    .description(
      'compute AUROC, AP, trapezoidal PR-AUC and F1-max from a CSV with a header and columns label (0 normal, ' +
        '1 anomalous) and score (higher = more anomalous); prints one JSON object',
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
}
