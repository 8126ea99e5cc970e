/**
 * `rwda embed text|image`: CLIP embeddings as JSON lines, in input order. The whole input is
 * batched internally (texts sorted by length into batches); a bad image is reported on stderr and
 * skipped, and the command then exits non-zero.
 */
import type { Command } from 'commander';
import { RwdaError } from '../../errors.ts';
import { ClipModel } from '../../clip/model.ts';
import { DEFAULT_TEXT_BATCH } from '../../clip/text_tower.ts';
import { createProgress } from '../../util/progress.ts';
import { modelDirOf, readTexts, tokenizerFor, writeLines } from './tokenize.ts';
import { DEFAULT_MODEL } from '../../clip/hub/index.ts';

interface CommonOpts {
  model?: string;
  normalize?: boolean;
  threads?: number;
  batchSize?: number;
}

/** A float32 as the shortest decimal that reads back to the same float32 (at most 9 significant digits). */
export function formatFloat32(x: number): string {
  for (let p = 6; p < 9; p++) {
    const s = Number(x.toPrecision(p));
    if (Math.fround(s) === x) return JSON.stringify(s);
  }
  return JSON.stringify(Number(x.toPrecision(9)));
}

/** `[v0,v1,...]` with float32-exact values. */
export function formatEmbedding(v: Float32Array): string {
  let s = '[';
  for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + formatFloat32(v[i]!);
  return s + ']';
}

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new RwdaError(`${name} must be a positive integer, got '${value}'`);
    return n;
  };
}

function addCommonOptions(cmd: Command, defaultBatch: number): Command {
  return cmd
    .option('--model <name|dir>', `model name or directory (default ${DEFAULT_MODEL}; downloaded when missing)`)
    .option('--normalize', 'L2-normalise each embedding')
    .option('--threads <n>', 'onnxruntime intra-op threads (default: one per core)', positiveInt('--threads'))
    .option('--batch-size <n>', `items per onnxruntime call (default ${defaultBatch})`, positiveInt('--batch-size'));
}

/** Registers `embed text` and `embed image`. */
export function register(program: Command): void {
  const embed = program.command('embed').description('CLIP embeddings as JSON lines, in input order');

  addCommonOptions(embed.command('text'), DEFAULT_TEXT_BATCH)
    .description('embed texts from arguments or stdin lines: {"text","embedding"} per line')
    .option('--vocab <path>', 'vocabulary: bpe_simple_vocab_16e6.txt.gz or a directory with vocab.json + merges.txt (default: the model directory)')
    .argument('[text...]', 'texts (use -- before texts that start with a dash)')
    .action(async (args: string[], opts: CommonOpts & { vocab?: string }) => {
      const dir = await modelDirOf(opts.model);
      const tokenizer = tokenizerFor(dir, opts.vocab);
      const texts = await readTexts(args);
      const model = await ClipModel.load(dir, { towers: 'text', tokenizer, intraOpNumThreads: opts.threads });
      try {
        const progress = createProgress({ total: texts.length, unit: 'texts', label: 'embed' });
        const emb = await model.encodeText(texts, { normalize: opts.normalize, batchSize: opts.batchSize, onProgress: (d) => progress.update(d) });
        progress.stop();
        writeLines(texts.map((text, i) => `{"text":${JSON.stringify(text)},"embedding":${formatEmbedding(emb[i]!)}}`));
      } finally {
        await model.dispose();
      }
    });

  addCommonOptions(embed.command('image'), 8)
    .description('embed image files: {"file","embedding"} per line; unreadable images are reported on stderr and skipped (exit 1)')
    .argument('<file...>', 'image files')
    .action(async (files: string[], opts: CommonOpts) => {
      const model = await ClipModel.load(await modelDirOf(opts.model), { towers: 'vision', intraOpNumThreads: opts.threads });
      let failed = 0;
      try {
        const batchSize = opts.batchSize ?? 8;
        const progress = createProgress({ total: files.length, unit: 'images', label: 'embed' });
        for (let start = 0; start < files.length; start += batchSize) {
          const chunk = files.slice(start, start + batchSize);
          // Decoding runs on libuv's pool, so a chunk's images decode concurrently.
          const pre = await Promise.allSettled(chunk.map((f) => model.preprocess(f)));
          const ok: Array<{ file: string; pixels: Float32Array }> = [];
          pre.forEach((r, i) => {
            const file = chunk[i]!;
            if (r.status === 'fulfilled') ok.push({ file, pixels: r.value });
            else {
              failed++;
              const msg = r.reason instanceof Error ? r.reason.message : String(r.reason);
              process.stderr.write(`rwda: ${msg.includes(file) ? msg : `${file}: ${msg}`}\n`);
            }
          });
          if (ok.length > 0) {
            const emb = await model.encodeImage(ok.map((o) => o.pixels), { normalize: opts.normalize, batchSize });
            writeLines(ok.map((o, i) => `{"file":${JSON.stringify(o.file)},"embedding":${formatEmbedding(emb[i]!)}}`));
          }
          progress.update(start + chunk.length);
        }
        progress.stop();
      } finally {
        await model.dispose();
      }
      if (failed > 0) {
        process.stderr.write(`rwda: ${failed} of ${files.length} image(s) could not be embedded\n`);
        process.exitCode = 1;
      }
    });
}
