import type { Command } from 'commander';
import { RwdaError } from '../../errors.ts';
import { writeRandomModel } from '../../clip/random_model.ts';
import { listBuiltinConfigs } from '../../clip/config.ts';
import { modelCommand } from './model_group.ts';

/** `rwda model random`: writes a random-weight model directory for tests and benchmarks. */
export function register(program: Command): void {
  modelCommand(program)
    .command('random')
    .description('Write a model directory with random weights (open_clip hub layout) for tests and benchmarks')
    .requiredOption('--arch <name|path>', `architecture: ${listBuiltinConfigs().join(', ')}, or a path to an open_clip config JSON`)
    .requiredOption('--seed <n>', 'random seed, an integer in [0, 2^32-1]')
    .requiredOption('--vocab <path>', 'bpe_simple_vocab_16e6.txt.gz, or a folder with vocab.json and merges.txt')
    .requiredOption('--out <dir>', 'output model directory (must not exist)')
    .option('--quiet', 'no progress bar')
    .action((opts: { arch: string; seed: string; vocab: string; out: string; quiet?: boolean }) => {
      if (!/^\d+$/.test(opts.seed)) throw new RwdaError(`--seed must be an integer in [0, 4294967295] (got '${opts.seed}')`);
      const t0 = performance.now();
      const r = writeRandomModel({ arch: opts.arch, seed: Number(opts.seed), vocab: opts.vocab, out: opts.out, quiet: opts.quiet });
      process.stdout.write(JSON.stringify({ ...r, seconds: +((performance.now() - t0) / 1000).toFixed(2) }) + '\n');
    });
}
