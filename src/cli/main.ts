import { Command } from 'commander';
import { RwdaError } from '../errors.ts';
import { readFileSync } from 'node:fs';
import { register as registerModelRandom } from './commands/model_random.ts';
import { register as registerMetrics } from './commands/metrics.ts';
import { register as registerTokenize } from './commands/tokenize.ts';
import { register as registerEmbed } from './commands/embed.ts';
import { register as registerModelHub } from './commands/model_hub.ts';
import { register as registerTrain } from './commands/train.ts';
import { register as registerDetect } from './commands/detect.ts';
import { register as registerEval } from './commands/eval.ts';
import { register as registerExperiment } from './commands/experiment.ts';
import { register as registerReproduce } from './commands/reproduce.ts';

// Each command lives in its own module under ./commands and registers itself on the program.
const registrations: Array<(program: Command) => void> = [registerModelRandom, registerMetrics, registerTokenize, registerEmbed, registerModelHub, registerTrain, registerDetect, registerEval, registerExperiment, registerReproduce];

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command();
program
  .name('rwda')
  .description('Zero-shot image anomaly detection with CLIP and random word data augmentation')
  .version(pkg.version);
for (const register of registrations) register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof RwdaError) {
    process.stderr.write(`rwda: ${err.message}\n`);
    process.exit(1);
  }
  // A Node system error (EACCES, ENOSPC, EISDIR ...) is about the user's files or machine, not a bug:
  // its message names the syscall and path, so print that instead of a stack trace.
  const sys = err as { code?: unknown; syscall?: unknown; message?: unknown };
  if (typeof sys.code === 'string' && typeof sys.syscall === 'string' && typeof sys.message === 'string') {
    process.stderr.write(`rwda: ${sys.message}\n`);
    process.exit(1);
  }
  throw err;
}
