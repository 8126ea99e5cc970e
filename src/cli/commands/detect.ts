/**
 * `rwda detect`: anomaly scores of image files and folders (recursive) with any method of the
 * registry (default rwda: a trained detector, or the backbone's cached default detector, trained on
 * first use, when --detector is omitted). With --reference the method runs its few-shot form;
 * --maps DIR writes each image's anomaly map (.npy, float32, model-input coordinates) and overlay.
 *
 * Exit status: 0 when every image was scored; 2 when some image could not be read or decoded (each
 * is reported on stderr, the others are still scored and printed); 1 on usage errors, a missing
 * or mismatched detector, or when no image was found at all.
 */
import type { Command } from 'commander';
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RwdaError } from '../../errors.ts';
import { displayPath, listImages } from '../../data/images.ts';
import { Detector } from '../../methods/rwda/index.ts';
import { loadOrTrainDefaultDetector } from '../../methods/rwda/index.ts';
import { DEFAULT_METHOD, getMethod, methodIds, type ImagePrediction, type MethodRunner } from '../../methods/index.ts';
import { writeMaps } from '../maps.ts';
import { createProgress } from '../../util/progress.ts';
import { sha256Bytes } from '../../store/hash.ts';
import { addModelOptions, intOption, numberOption, openModel, openStore, trainProgress, type ModelCliOptions } from './train.ts';

type Format = 'table' | 'json' | 'csv';

interface DetectCliOptions extends ModelCliOptions {
  method: string;
  reference?: string[];
  maps?: string;
  winclipPreset?: string;
  temperature?: number;
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

/** Column names of the rows: each method's components in order, then s. */
export function columns(rows: readonly ImagePrediction[]): string[] {
  const names: string[] = [];
  for (const r of rows) for (const k of Object.keys(r.components)) if (!names.includes(k) && k !== 's') names.push(k);
  return [...names, 's'];
}

/** One output line per image (json, csv) or the whole table. */
export function formatRows(rows: readonly ImagePrediction[], format: Format, header: boolean, cols: readonly string[] = columns(rows)): string {
  const value = (r: ImagePrediction, c: string): number | undefined => (c === 's' ? r.s : r.components[c]);
  if (format === 'json') return rows.map((r) => JSON.stringify(Object.fromEntries([['file', r.file], ...cols.map((c) => [c, value(r, c)])])) + '\n').join('');
  if (format === 'csv') {
    const lines = rows.map((r) => [csvField(r.file), ...cols.map((c) => String(value(r, c) ?? ''))].join(',') + '\n').join('');
    return (header ? ['file', ...cols].join(',') + '\n' : '') + lines;
  }
  const cells = rows.map((r) => [r.file, ...cols.map((c) => value(r, c)?.toFixed(6) ?? '')]);
  const head = ['file', ...cols];
  const width = head.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const line = (row: string[]): string => row.map((v, c) => (c === 0 ? v.padEnd(width[c]!) : v.padStart(width[c]!))).join('  ').trimEnd() + '\n';
  return [head, ...cells].map(line).join('');
}

function collectArgs(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

/** Registers `detect`. */
export function register(program: Command): void {
  const cmd = program
    .command('detect')
    .description('anomaly scores (s and its components) of image files and folders; exit 2 if some image could not be scored')
    .option('--method <id>', `${methodIds().join(' | ')}`, DEFAULT_METHOD)
    .option('--reference <path>', 'normal reference image or folder (repeatable): the method runs its few-shot form', collectArgs)
    .option('--maps <dir>', 'write DIR/<name>.npy (float32 anomaly map, model-input coordinates) and DIR/<name>.png (overlay) per image')
    .option('--detector <dir>', 'trained detector folder (rwda; default: the cached default detector of the model, trained on first use)')
    .option('--object <name>', 'object name in the prompts (default "object"; e.g. the category)')
    .option('--crops <mode>', 'none | grid (multi-crop for clip and rwda: standard view + 2×2 and 3×3 grids)', 'none')
    .option('--winclip-preset <name>', 'winclip settings preset: anomalib | corrected')
    .option('--temperature <t>', 'winclip softmax temperature (overrides the preset)', numberOption('--temperature'))
    .option('--format <f>', 'table | json (JSON lines) | csv', 'table')
    .option('--pairs <n>', 'prompt pairs of the default detector (only without --detector)', intOption('--pairs', 1))
    .option('--seed <n>', 'seed of the default detector (only without --detector)', intOption('--seed', 0, 0xffffffff))
    .argument('<path...>', 'image files or folders (searched recursively)');
  addModelOptions(cmd).action(async (paths: string[], opts: DetectCliOptions) => {
    if (!['table', 'json', 'csv'].includes(opts.format)) throw new RwdaError(`--format must be table, json or csv, got '${opts.format}'`);
    if (opts.crops !== 'none' && opts.crops !== 'grid') throw new RwdaError(`--crops must be none or grid, got '${opts.crops}'`);
    const spec = getMethod(opts.method);
    if (opts.detector !== undefined && (opts.pairs !== undefined || opts.seed !== undefined)) {
      throw new RwdaError('--pairs and --seed set up the default detector; they cannot be combined with --detector');
    }
    if (spec.id !== 'rwda' && (opts.detector !== undefined || opts.pairs !== undefined || opts.seed !== undefined)) {
      throw new RwdaError(`--detector, --pairs and --seed belong to --method rwda, not ${spec.id}`);
    }
    if (spec.id !== 'winclip' && (opts.winclipPreset !== undefined || opts.temperature !== undefined)) {
      throw new RwdaError(`--winclip-preset and --temperature belong to --method winclip, not ${spec.id}`);
    }
    if (spec.id === 'winclip' && opts.crops !== 'none') throw new RwdaError('--crops grid is for clip and rwda; winclip has its own windows');
    const format = opts.format as Format;
    const note = (msg: string): void => {
      if (!opts.quiet) process.stderr.write(`rwda: ${msg}\n`);
    };
    const { files, skipped } = collectImages(paths);
    const refs = opts.reference === undefined ? undefined : collectImages(opts.reference);
    for (const s of [...skipped, ...(refs?.skipped ?? [])]) {
      const shown = s.files.slice(0, 3).join(', ') + (s.files.length > 3 ? ', …' : '');
      process.stderr.write(`rwda: warning: ${s.folder}: skipped ${s.files.length} non-image file(s): ${shown}\n`);
    }
    if (files.length === 0) throw new RwdaError(`no images found in ${paths.join(', ')}`);
    if (refs !== undefined && refs.files.length === 0) throw new RwdaError(`no reference images found in ${opts.reference!.join(', ')}`);

    const { model, name } = await openModel(opts, 'both');
    const store = openStore(opts);
    let runner: MethodRunner | undefined;
    try {
      const settings: Record<string, unknown> = {};
      if (opts.winclipPreset !== undefined) settings.preset = opts.winclipPreset;
      if (opts.temperature !== undefined) settings.temperature = opts.temperature;
      runner = await spec.open({
        backbone: model,
        store,
        settings,
        detector: async () => {
          if (opts.detector !== undefined) return Detector.load(opts.detector, model, { store });
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
          if (!r.trained) note(`using the default detector ${r.dir}`);
          return r.detector;
        },
      });
      let refShas = new Set<string>();
      if (refs !== undefined) {
        const info = await runner.setReferences(refs.files);
        refShas = new Set(info.sha256);
        note(`reference memory: ${info.count} image(s), ${info.count - info.cached} encoded, ${info.cached} from cache`);
      }
      const t0 = performance.now();
      let failed = 0;
      let encoded = 0;
      let cached = 0;
      let scored = 0;
      const bar = createProgress({ total: files.length, unit: 'images', label: 'detect', quiet: opts.quiet });
      const all: ImagePrediction[] = [];
      let cols: string[] | undefined;
      // Score in slices so that json and csv lines appear as images finish.
      const slice = 64;
      for (let start = 0; start < files.length; start += slice) {
        const part = files.slice(start, start + slice);
        const rows = await runner.predict(part, {
          object: opts.object,
          crops: opts.crops as 'none' | 'grid',
          maps: opts.maps !== undefined,
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
        for (const r of rows) r.index += start;
        if (refShas.size > 0) await warnReferenceQueries(rows, refShas);
        if (opts.maps !== undefined) await writeMaps(opts.maps, rows, paths);
        scored += rows.length;
        cols ??= rows.length > 0 ? columns(rows) : undefined;
        if (format === 'table') all.push(...rows);
        else if (rows.length > 0) {
          process.stdout.write(formatRows(rows, format, start === 0 || cols === undefined, cols));
        }
      }
      bar.stop();
      if (format === 'table') process.stdout.write(formatRows(all, format, true));
      const seconds = ((performance.now() - t0) / 1000).toFixed(2);
      const passes = spec.id === 'winclip' ? 'window passes' : 'image views';
      note(`scored ${scored} image(s) in ${seconds} s; ${passes}: ${encoded} encoded, ${cached} from cache${refs !== undefined ? ` (${spec.fewShotLabel}, ${refs.files.length} reference(s))` : ''}`);
      if (opts.maps !== undefined) note(`maps written to ${opts.maps}`);
      if (failed > 0) {
        process.stderr.write(`rwda: ${failed} of ${files.length} image(s) could not be scored\n`);
        process.exitCode = 2;
      }
    } finally {
      runner?.dispose();
      store?.close();
      await model.dispose();
    }
  });
}

async function warnReferenceQueries(rows: readonly ImagePrediction[], refShas: ReadonlySet<string>): Promise<void> {
  for (const r of rows) {
    try {
      if (refShas.has(sha256Bytes(await readFile(r.file)))) process.stderr.write(`rwda: warning: ${r.file} is also a reference image; its few-shot score is near 0 by construction\n`);
    } catch {
      // Unreadable now: it was scored, so it was read; nothing to warn about.
    }
  }
}
