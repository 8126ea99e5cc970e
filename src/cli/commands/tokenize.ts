/** `rwda tokenize [--model NAME|DIR] [TEXT...]`: open_clip token ids as JSON lines `{"text","ids"}`. */
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { DEFAULT_MODEL, resolveModel } from '../../clip/hub/index.ts';
import { RwdaError } from '../../errors.ts';
import { loadModelDirConfig } from '../../clip/config.ts';
import { ClipTokenizer } from '../../clip/tokenizer/index.ts';

/** The texts of a command: its arguments, or else stdin split into lines (LF or CRLF; a final newline ends the last line). */
export async function readTexts(args: string[]): Promise<string[]> {
  if (args.length > 0) return args;
  if (process.stdin.isTTY) throw new RwdaError('no TEXT given: pass texts as arguments or pipe them on stdin, one per line');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const all = Buffer.concat(chunks).toString('utf8');
  if (all.length === 0) return [];
  const lines = all.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** The local directory of `--model` (a pretrained name, pulled on demand, or a directory); default the default model. */
export async function modelDirOf(nameOrDir: string | undefined): Promise<string> {
  return (await resolveModel(nameOrDir ?? DEFAULT_MODEL)).dir;
}

/** The tokenizer for a model directory, or from `--vocab` (a .gz file or a directory with vocab.json + merges.txt). */
export function tokenizerFor(modelDir: string, vocab: string | undefined): ClipTokenizer {
  if (vocab === undefined) return ClipTokenizer.fromModelDir(modelDir);
  let isDir: boolean;
  try {
    isDir = statSync(vocab).isDirectory();
  } catch {
    throw new RwdaError(`vocabulary not found: ${vocab}`, { code: 'not_found' });
  }
  return isDir ? ClipTokenizer.fromModelDir(vocab) : ClipTokenizer.fromBpeGz(vocab);
}

/** Writes lines to stdout in large chunks (stdout is synchronous for files and pipes on POSIX). */
export function writeLines(lines: Iterable<string>): void {
  let buf = '';
  for (const line of lines) {
    buf += line + '\n';
    if (buf.length > 1 << 20) {
      process.stdout.write(buf);
      buf = '';
    }
  }
  if (buf) process.stdout.write(buf);
}

/** Registers the `tokenize` command. */
export function register(program: Command): void {
  program
    .command('tokenize')
    .description('print open_clip token ids (context length, SOT/EOT, zero padding) as JSON lines {"text","ids"}; texts from arguments or stdin lines')
    .option('--model <name|dir>', `model name or directory (default ${DEFAULT_MODEL}; downloaded when missing)`)
    .option('--vocab <path>', 'vocabulary: bpe_simple_vocab_16e6.txt.gz or a directory with vocab.json + merges.txt (default: the model directory)')
    .argument('[text...]', 'texts to tokenize (use -- before texts that start with a dash)')
    .action(async (texts: string[], opts: { model?: string; vocab?: string }) => {
      const dir = await modelDirOf(opts.model);
      const cfg = loadModelDirConfig(dir);
      const tokenizer = tokenizerFor(dir, opts.vocab);
      const input = await readTexts(texts);
      const C = cfg.text.contextLength;
      const batch = tokenizer.tokenize(input, C);
      writeLines(input.map((text, i) => JSON.stringify({ text, ids: Array.from(batch.ids.subarray(i * C, (i + 1) * C)) })));
    });
}
