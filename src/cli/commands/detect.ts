/**
 * `rwda detect`: anomaly scores of image files and folders (recursive) with a trained detector, or
 * with the backbone's cached default detector (trained on first use) when --detector is omitted.
 *
 * Exit status: 0 when every image was scored; 2 when some image could not be read or decoded (each
 * is reported on stderr, the others are still scored and printed); 1 on usage errors, a missing
 * or mismatched detector, or when no image was found at all.
 */
import type { Command } from 'commander';
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RwdaError } from '../../errors.ts';
import { displayPath, listImages } from '../../data/images.ts';
import { Detector, type ImageScores } from '../../method/detector.ts';
import { loadOrTrainDefaultDetector } from '../../method/train_detector.ts';
import { createProgress } from '../../util/progress.ts';
import { addModelOptions, intOption, openModel, openStore, trainProgress, type ModelCliOptions } from './train.ts';

type Format = 'table' | 'json' | 'csv';

interface DetectCliOptions extends ModelCliOptions {
  detector?: string;
  object?: string;
  crops: string;
  format: string;
  pairs?: number;
  seed?: number;
}

/** The images named by the arguments: files as given, folders listed recursively (non-images counted). */
export function collectImages(args: readonly string[]): { files: string[]; skipped: Array<{ folder: string; files: string[] }> } {
  const files: string[] = [];
  const skipped: Array<{ folder: string; files: string[] }> = [];
  for (const arg of args) {
    let st;
    try {
      st = statSync(arg);
    } catch {
      throw new RwdaError(`no such file or folder: ${arg}`, { code: 'not_found' });
    }
    if (!st.isDirectory()) {
      // A file named explicitly is tried whatever its extension; the decoder decides.
      files.push(arg);
      continue;
    }
    const root = resolve(arg);
    const listing = listImages(root);
    // Keep the user's spelling of the folder in the printed paths.
    for (const f of listing.images) files.push(join(arg, displayPath(root, f)));
    if (listing.nonImages.length > 0) skipped.push({ folder: arg, files: listing.nonImages.map((f) => join(arg, displayPath(root, f))) });
  }
  return { files, skipped };
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One output line per image (json, csv) or the whole table. */
export function formatRows(rows: readonly ImageScores[], format: Format, header: boolean): string {
  if (format === 'json') return rows.map((r) => JSON.stringify({ file: r.file, s_clip: r.sClip, s_fnn: r.sFnn, s: r.s }) + '\n').join('');
  if (format === 'csv') {
    const lines = rows.map((r) => `${csvField(r.file)},${r.sClip},${r.sFnn},${r.s}\n`).join('');
    return (header ? 'file,s_clip,s_fnn,s\n' : '') + lines;
  }
  const cells = rows.map((r) => [r.file, r.sClip.toFixed(6), r.sFnn.toFixed(6), r.s.toFixed(6)]);
  const head = ['file', 's_clip', 's_fnn', 's'];
  const width = head.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const line = (row: string[]): string => row.map((v, c) => (c === 0 ? v.padEnd(width[c]!) : v.padStart(width[c]!))).join('  ').trimEnd() + '\n';
  return [head, ...cells].map(line).join('');
}

/** Registers `detect`. */
export function register(program: Command): void {
  const cmd = program
    .command('detect')
    .description('anomaly scores (s_clip, s_fnn, s) of image files and folders; exit 2 if some image could not be scored')
    .option('--detector <dir>', 'trained detector folder (default: the cached default detector of the model, trained on first use)')
    .option('--object <name>', 'object name in the CLIP prompts (default "object"; e.g. the category)')
    .option('--crops <mode>', 'none | grid (multi-crop: standard view + 2×2 and 3×3 grids)', 'none')
    .option('--format <f>', 'table | json (JSON lines) | csv', 'table')
    .option('--pairs <n>', 'prompt pairs of the default detector (only without --detector)', intOption('--pairs', 1))
    .option('--seed <n>', 'seed of the default detector (only without --detector)', intOption('--seed', 0, 0xffffffff))
    .argument('<path...>', 'image files or folders (searched recursively)');
  addModelOptions(cmd).action(async (paths: string[], opts: DetectCliOptions) => {
    if (!['table', 'json', 'csv'].includes(opts.format)) throw new RwdaError(`--format must be table, json or csv, got '${opts.format}'`);
    if (opts.crops !== 'none' && opts.crops !== 'grid') throw new RwdaError(`--crops must be none or grid, got '${opts.crops}'`);
    if (opts.detector !== undefined && (opts.pairs !== undefined || opts.seed !== undefined)) {
      throw new RwdaError('--pairs and --seed set up the default detector; they cannot be combined with --detector');
    }
    const format = opts.format as Format;
    const note = (msg: string): void => {
      if (!opts.quiet) process.stderr.write(`rwda: ${msg}\n`);
    };
    const { files, skipped } = collectImages(paths);
    for (const s of skipped) {
      const shown = s.files.slice(0, 3).join(', ') + (s.files.length > 3 ? ', …' : '');
      process.stderr.write(`rwda: warning: ${s.folder}: skipped ${s.files.length} non-image file(s): ${shown}\n`);
    }
    if (files.length === 0) throw new RwdaError(`no images found in ${paths.join(', ')}`);

    const { model, name } = await openModel(opts, 'both');
    const store = openStore(opts);
    let detector: Detector | undefined;
    try {
      if (opts.detector !== undefined) {
        detector = await Detector.load(opts.detector, model, { store });
      } else {
        const progress = trainProgress(opts.quiet);
        const r = await loadOrTrainDefaultDetector(model, {
          pairs: opts.pairs,
          seed: opts.seed,
          store,
          backboneName: name,
          onProgress: progress.onProgress,
          onTrain: (dir, reason) =>
            note(`${reason === 'missing' ? 'no default detector yet' : `default detector unusable (${reason})`}; training it into ${dir}`),
        });
        progress.stop();
        detector = r.detector;
        if (!r.trained) note(`using the default detector ${r.dir}`);
      }
      const t0 = performance.now();
      let failed = 0;
      let encoded = 0;
      let cached = 0;
      let scored = 0;
      const bar = createProgress({ total: files.length, unit: 'images', label: 'detect', quiet: opts.quiet });
      const all: ImageScores[] = [];
      let header = true;
      // Score in slices so that json and csv lines appear as images finish.
      const slice = 64;
      for (let start = 0; start < files.length; start += slice) {
        const rows = await detector.score(files.slice(start, start + slice), {
          object: opts.object,
          crops: opts.crops as 'none' | 'grid',
          onError: (file, err) => {
            failed++;
            const msg = err.message;
            process.stderr.write(`rwda: ${msg.includes(file) ? msg : `${file}: ${msg}`}\n`);
          },
          onViews: (c) => {
            encoded += c.encoded;
            cached += c.cached;
          },
          onProgress: (done) => bar.update(start + done),
        });
        scored += rows.length;
        if (format === 'table') all.push(...rows);
        else {
          process.stdout.write(formatRows(rows, format, header));
          header = false;
        }
      }
      bar.stop();
      if (format === 'table') process.stdout.write(formatRows(all, format, true));
      const seconds = ((performance.now() - t0) / 1000).toFixed(2);
      note(`scored ${scored} image(s) in ${seconds} s; image views: ${encoded} encoded, ${cached} from cache`);
      if (failed > 0) {
        process.stderr.write(`rwda: ${failed} of ${files.length} image(s) could not be scored\n`);
        process.exitCode = 2;
      }
    } finally {
      detector?.dispose();
      store?.close();
      await model.dispose();
    }
  });
}
