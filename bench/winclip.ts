// WinCLIP on the random full-size ViT-B-16-plus-240 (speed does not depend on the weights): the
// prompt-ensemble setup (231 prompts), the reference setup for 4 images, and zero-shot and 4-shot
// ms per image end to end through the registry (decode, preprocess, window pass, scoring), with no
// cache so every image is encoded. `node --import tsx bench/winclip.ts` runs it alone.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ClipModel } from '../src/clip/model.ts';
import { getMethod } from '../src/methods/index.ts';
import { ensembleEmbeddings, WINCLIP_DEFAULTS } from '../src/methods/winclip/index.ts';
import { ensureBenchModel, loadInfo, peakRssMb, round } from './common.ts';

const SHARED = process.env.RWDA_SHARED ?? join(import.meta.dirname, '..', '..', 'shared');

/** Figures of one run; anomalib's torch figures on this machine are quoted for the ratios. */
export async function benchWinclip(opts: { threads?: number; images?: number } = {}): Promise<Record<string, unknown>> {
  const dir = ensureBenchModel();
  const model = await ClipModel.load(dir, { intraOpNumThreads: opts.threads ?? 2 });
  const hz = join(SHARED, 'data', 'ad-samples', 'hazelnut_toy', 'hazelnut');
  const good = readdirSync(join(hz, 'good')).sort().map((f) => join(hz, 'good', f)).slice(0, 4);
  const colour = readdirSync(join(hz, 'colour')).sort().map((f) => join(hz, 'colour', f));
  const queries = colour.slice(0, opts.images ?? 4);
  const t0 = performance.now();
  await ensembleEmbeddings(model, 'hazelnut', WINCLIP_DEFAULTS);
  const ensembleS = (performance.now() - t0) / 1000;
  const winclip = await getMethod('winclip').open({ backbone: model });
  // Warm-up: the first window-pass call builds the session.
  await winclip.predict([queries[0]!], { object: 'hazelnut' });
  let t = performance.now();
  await winclip.predict(queries, { object: 'hazelnut', maps: true });
  const zeroMs = (performance.now() - t) / queries.length;
  t = performance.now();
  await winclip.setReferences(good);
  const refS = (performance.now() - t) / 1000;
  t = performance.now();
  await winclip.predict(queries, { object: 'hazelnut', maps: true });
  const fourMs = (performance.now() - t) / queries.length;
  winclip.dispose();
  await model.dispose();
  const anomalib = { zero_shot_s_per_image: 2.28, four_shot_s_per_image: 2.65, ensemble_setup_s: 12.3, four_references_s: 20.1 };
  const out = {
    images: queries.length,
    ensemble_setup_s: round(ensembleS, 2),
    four_references_s: round(refS, 2),
    zero_shot_ms_per_image: round(zeroMs, 1),
    four_shot_ms_per_image: round(fourMs, 1),
    speedup_vs_anomalib: {
      zero_shot: round((anomalib.zero_shot_s_per_image * 1000) / zeroMs, 2),
      four_shot: round((anomalib.four_shot_s_per_image * 1000) / fourMs, 2),
      ensemble_setup: round(anomalib.ensemble_setup_s / ensembleS, 2),
      four_references: round(anomalib.four_references_s / refS, 2),
    },
    anomalib_torch_reference: anomalib,
    peak_rss_mb: round(peakRssMb(), 0),
    loadavg: loadInfo(),
  };
  process.stdout.write(
    `winclip: ensemble setup ${out.ensemble_setup_s} s, 4 references ${out.four_references_s} s, zero-shot ${out.zero_shot_ms_per_image} ms/image, 4-shot ${out.four_shot_ms_per_image} ms/image; ` +
      `×${out.speedup_vs_anomalib.zero_shot} / ×${out.speedup_vs_anomalib.four_shot} / ×${out.speedup_vs_anomalib.ensemble_setup} / ×${out.speedup_vs_anomalib.four_references} vs anomalib; peak RSS ${out.peak_rss_mb} MB\n`,
  );
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) await benchWinclip();
