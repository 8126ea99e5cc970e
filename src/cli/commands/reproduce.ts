/**
 * `rwda reproduce fig3 | fig4 | fig5`: the paper's figures, one command each, with the paper's
 * settings (Sections 3.2, 4.2, 4.4, 4.5): N = 10,000 prompt pairs with "a" / "a damaged", the
 * unknown-object setup, multi-crop at test time and 10 seeds. The experiments behind them are
 * `rwda experiment tsne | pairs | domains`, so a preset resumes from (and feeds) the same store.
 * The paper prints no values for these figures; the pages say so instead of showing a reference.
 */
import type { Command } from 'commander';
import { basename } from 'node:path';
import { DEFAULT_PAIR_COUNTS, runPairsExperiment, runTsneExperiment } from '../../eval/experiments/index.ts';
import { PROMPT_DEFAULTS } from '../../methods/rwda/index.ts';
import { ensureOutDir } from '../../util/outdir.ts';
import { addImageBatchOption, withModel } from './eval.ts';
import { addDomainsOptions, brief, cacheSummary, domainsAction, reporter, type DomainsCliOptions } from './experiment.ts';
import { addModelOptions, intOption, type ModelCliOptions } from './train.ts';

/** The paper's number of seeds (Section 4.1). */
const PAPER_SEEDS = 10;

/** Registers `reproduce` with fig3, fig4 and fig5. */
export function register(program: Command): void {
  const group = program.command('reproduce').description("the paper's figures with its settings: fig3 (t-SNE of prompts), fig4 (AUROC vs N on MVTec-AD), fig5 (prompts and sentences through the FNN)");

  const fig3 = group
    .command('fig3')
    .description(`Figure 3: t-SNE of ${PROMPT_DEFAULTS.pairs.toLocaleString('en-US')} generated normal / anomalous prompt pairs (= rwda experiment tsne --pairs ${PROMPT_DEFAULTS.pairs})`)
    .option('--pairs <n>', `prompt pairs (default ${PROMPT_DEFAULTS.pairs}, the paper's N)`, intOption('--pairs', 1), PROMPT_DEFAULTS.pairs)
    .option('--seed <n>', 'seed of the random words and of the t-SNE (default 0)', intOption('--seed', 0, 0xffffffff), 0)
    .requiredOption('--out <dir>', 'directory for tsne.json, tsne.svg and tsne.html');
  addModelOptions(fig3).action(async (o: ModelCliOptions & { pairs: number; seed: number; out: string }) => {
    ensureOutDir('--out', o.out);
    await withModel(o, reporter, async (model, name, store, onEvent) => {
      const { file, paths } = await runTsneExperiment({ backbone: model, backboneName: name ?? basename(model.dir), pretrained: name, store, pairs: o.pairs, seed: o.seed, out: o.out, onEvent });
      return { figure: 'fig3', experiment: 'tsne', ...paths, points: file.results.n, counts: file.results.counts, cache: cacheSummary(store.path, file.stats) };
    });
  });

  const fig4 = group
    .command('fig4')
    .description(`Figure 4: MVTec-AD AUROC of Ours and CLIP + Ours vs N = ${DEFAULT_PAIR_COUNTS.join(', ')} (unknown object, multi-crop, ${PAPER_SEEDS} seeds); resumable`)
    .requiredOption('--mvtec <root>', 'MVTec-AD root (the folder with bottle/, cable/, …)')
    .option('--seeds <n>', `seeds 0..n-1 (default ${PAPER_SEEDS}, as the paper)`, intOption('--seeds', 1, 1000), PAPER_SEEDS)
    .requiredOption('--out <dir>', 'directory for pairs.json, pairs.svg and pairs.html');
  addModelOptions(addImageBatchOption(fig4)).action(async (o: ModelCliOptions & { mvtec: string; seeds: number; imageBatch: number; out: string }) => {
    ensureOutDir('--out', o.out);
    await withModel(o, reporter, async (model, name, store, onEvent) => {
      const { file, paths } = await runPairsExperiment({
        backbone: model,
        backboneName: name ?? basename(model.dir),
        pretrained: name,
        dataset: { kind: 'mvtec', root: o.mvtec },
        store,
        seeds: o.seeds,
        setup: 'unknown',
        crops: 'grid',
        imageBatch: o.imageBatch,
        counts: DEFAULT_PAIR_COUNTS,
        out: o.out,
        onEvent,
      });
      return {
        figure: 'fig4',
        experiment: 'pairs',
        ...paths,
        points: file.results.points.map((p) => ({ pairs: p.pairs, auroc: brief(p.mean) })),
        cache: cacheSummary(store.path, file.stats),
      };
    });
  });

  const fig5 = group
    .command('fig5')
    .description('Figure 5: COCO captions with "normal" / "damage" and 10,000 prompt pairs, t-SNE at the FNN input and after each hidden layer (= rwda experiment domains)');
  addDomainsOptions(fig5).action((o: DomainsCliOptions) => domainsAction(o));
}
