// Figure 5 (`rwda experiment domains`) cost on the full-size shapes (dim 640, FNN 512-256-128):
// the FNN's hidden activations and the four panels' 1-NN accuracies at n points, measured; the
// t-SNE panels measured at a smaller size and extrapolated by the 20,000-point t-SNE bench's
// scaling (kNN O(n²·dim) + iterations O(n log n)), and the text tower from backbone.text's
// ms/prompt — said so in the output. `node --import tsx bench/domains.ts [n] [tsneN] [textMsPerPrompt]`.
import { fileURLToPath } from 'node:url';
import { nn1Accuracy } from '../src/eval/experiments/domains.ts';
import { tsne } from '../src/eval/tsne.ts';
import { Fnn } from '../src/methods/rwda/fnn/model.ts';
import { clipLikeEmbeddings } from './tsne.ts';
import { round } from './common.ts';

/** Measures and extrapolates Figure 5 with n = 2·pairs + sentences points (default 10,000 pairs + 5,000 sentences). */
export async function benchDomains(opts: { n?: number; tsneN?: number; textMsPerPrompt?: number } = {}): Promise<Record<string, unknown>> {
  const n = opts.n ?? 25_000;
  const tsneN = opts.tsneN ?? 2_500;
  const x = clipLikeEmbeddings(n);
  const fnn = Fnn.init(640, { seed: 0 });
  let t = performance.now();
  const hidden = fnn.hiddenActivations(x, n);
  const hiddenS = (performance.now() - t) / 1000;
  t = performance.now();
  const labels = Uint8Array.from({ length: n }, (_, i) => i & 1);
  nn1Accuracy(Float64Array.from({ length: 2 * n }, (_, i) => Math.sin(i * 12.9898) * 100), labels);
  const nn1S = (performance.now() - t) / 1000;
  // One panel of each width at tsneN points; scale each stage to n.
  const panels: Record<string, number>[] = [];
  for (const [w, data] of [[640, x], [512, hidden[0]!], [256, hidden[1]!], [128, hidden[2]!]] as const) {
    let tAff = 0;
    const t0 = performance.now();
    const r = tsne(data.subarray(0, tsneN * w), tsneN, w, { onProgress: (p) => { if (p.stage === 'affinities' && p.done === p.total) tAff = performance.now(); } });
    const total = (performance.now() - t0) / 1000;
    const aff = (tAff - t0) / 1000;
    const opt = total - aff;
    const k = n / tsneN;
    const estimate = aff * k * k + opt * k * (Math.log(n) / Math.log(tsneN));
    panels.push({ width: w, measured_n: tsneN, measured_s: round(total, 2), affinities_s: round(aff, 2), iterations: r.iterations, extrapolated_s_at_n: round(estimate, 1) });
  }
  fnn.dispose();
  const textMs = opts.textMsPerPrompt ?? 6;
  const textS = (n * textMs) / 1000;
  const tsneS = panels.reduce((s, p) => s + p.extrapolated_s_at_n!, 0);
  return {
    n,
    hidden_activations_s: round(hiddenS, 2),
    nn1_all_panels_s: round(nn1S * 4, 2),
    tsne_panels: panels,
    text_tower_s_estimate: round(textS, 1),
    text_ms_per_prompt_assumed: textMs,
    total_s_estimate: round(textS + hiddenS + 4 * nn1S + tsneS, 0),
    method: 'hidden activations and 1-NN measured at n; t-SNE measured at measured_n and extrapolated (affinities ∝ n², iterations ∝ n log n); text tower = n × ms/prompt from bench backbone.text (first run only; cached after)',
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [n, tsneN, ms] = process.argv.slice(2).map(Number);
  process.stdout.write(JSON.stringify(await benchDomains({ n: n || undefined, tsneN: tsneN || undefined, textMsPerPrompt: ms || undefined })) + '\n');
}
