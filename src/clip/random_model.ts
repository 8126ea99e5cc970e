/**
 * Random-weight open_clip model directories in the Hugging Face hub layout
 * (open_clip_config.json, open_clip_model.safetensors, vocab.json, merges.txt).
 * Used to exercise the full pipeline at real model sizes without downloading weights.
 * Scales follow the shared fixtures' recipe, so activations stay non-trivial through every layer.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { RwdaError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import { createProgress } from '../util/progress.ts';
import { type ClipConfig, builtinConfigPath, listBuiltinConfigs, loadConfigFile, MODEL_DIR_CONFIG } from './config.ts';
import { expectedClipKeys } from './checkpoint.ts';
import { MODEL_DIR_WEIGHTS } from './fingerprint.ts';
import { writeSafetensors, type TensorToWrite } from './safetensors.ts';

/** LOG_SCALE_INIT = ln(1/0.07), CLIP's initial temperature. */
const LOGIT_SCALE_INIT = Math.log(1 / 0.07);

type Init = { kind: 'normal'; mean: number; std: number } | { kind: 'const'; value: number };

/** The fixture recipe for one state_dict key (see shared/fixtures/openclip/README.md). */
export function initFor(key: string, shape: number[]): Init {
  const leaf = key.slice(key.lastIndexOf('.') + 1);
  if (key === 'logit_scale') return { kind: 'const', value: LOGIT_SCALE_INIT };
  if (/(^|\.)ln_[a-z0-9]+\.weight$/.test(key)) return { kind: 'normal', mean: 1, std: 0.1 };
  if (leaf === 'bias' || leaf === 'in_proj_bias') return { kind: 'normal', mean: 0, std: 0.1 };
  if (leaf === 'positional_embedding') return { kind: 'normal', mean: 0, std: 0.5 };
  if (key === 'token_embedding.weight' || key === 'visual.class_embedding') return { kind: 'normal', mean: 0, std: 1 };
  if (leaf === 'in_proj_weight') return { kind: 'normal', mean: 0, std: 1.5 / Math.sqrt(shape[1]!) };
  // Projections used as x @ P have fan_in = rows; nn.Linear [out, in] and conv [out, c, p, p] have fan_in = the rest.
  if (key === 'visual.proj' || key === 'text_projection') return { kind: 'normal', mean: 0, std: 1 / Math.sqrt(shape[0]!) };
  if (leaf === 'weight' && shape.length >= 2) {
    const fanIn = shape.slice(1).reduce((a, d) => a * d, 1);
    return { kind: 'normal', mean: 0, std: 1 / Math.sqrt(fanIn) };
  }
  throw new Error(`no random init rule for '${key}' ${JSON.stringify(shape)}`);
}

function fill(init: Init, n: number, rng: Rng): Float32Array {
  const out = new Float32Array(n);
  if (init.kind === 'const') {
    out.fill(init.value);
    return out;
  }
  const { mean, std } = init;
  // Box–Muller on 32-bit uniforms straight from the generator: half the uint32 draws of
  // Rng.normal() (which spends 53 bits per uniform), so a 208M-parameter model takes seconds, not tens.
  // u is in (0, 1), never 0, so log(u) is finite.
  for (let i = 0; i < n; i += 2) {
    const u = (rng.nextUint32() + 0.5) / TWO_32;
    const v = rng.nextUint32() / TWO_32;
    const rad = std * Math.sqrt(-2 * Math.log(u));
    out[i] = mean + rad * Math.cos(TWO_PI * v);
    if (i + 1 < n) out[i + 1] = mean + rad * Math.sin(TWO_PI * v);
  }
  return out;
}

const TWO_32 = 4294967296;
const TWO_PI = 2 * Math.PI;

/** The raw open_clip JSON of an architecture: a builtin name, or a path to a config JSON (hub shape or bare model_cfg). */
export function resolveArch(arch: string): { cfg: ClipConfig; modelCfg: unknown; sourcePath: string } {
  const isBuiltin = listBuiltinConfigs().includes(arch);
  const path = isBuiltin ? builtinConfigPath(arch) : resolve(arch);
  if (!isBuiltin && !existsSync(path)) {
    throw new RwdaError(`--arch '${arch}' is neither a known architecture (${listBuiltinConfigs().join(', ')}) nor an existing config file`);
  }
  const cfg = loadConfigFile(path, isBuiltin ? arch : undefined);
  const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  return { cfg, modelCfg: 'model_cfg' in json ? json.model_cfg : json, sourcePath: path };
}

/** preprocess_cfg in open_clip's hub JSON form, from a resolved config. */
export function preprocessCfgJson(cfg: ClipConfig): Record<string, unknown> {
  const p = cfg.preprocess;
  return {
    size: [p.size, p.size],
    mode: 'RGB',
    mean: p.mean,
    std: p.std,
    interpolation: p.interpolation,
    resize_mode: p.resizeMode,
    fill_color: p.fillColor,
  };
}

/** GPT-2's byte→unicode table, in the order CLIP's vocabulary lists the 256 byte tokens. */
function byteTokens(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  return cs.map((c) => String.fromCodePoint(c));
}

/** Number of merges CLIP uses from bpe_simple_vocab_16e6 (49152 - 256 - 2). */
const CLIP_MERGES = 49152 - 256 - 2;

/**
 * Converts open_clip's `bpe_simple_vocab_16e6.txt.gz` into the hub's `vocab.json` + `merges.txt`,
 * byte-identical to what Hugging Face CLIP repos ship (Python json.dumps with ensure_ascii=False).
 */
export function convertBpeGzToHf(gzPath: string): { vocabJson: string; mergesTxt: string } {
  let text: string;
  try {
    text = gunzipSync(readFileSync(gzPath)).toString('utf8');
  } catch (err) {
    throw new RwdaError(`${gzPath}: cannot read gzip BPE vocabulary (${(err as Error).message})`, { cause: err });
  }
  const lines = text.split('\n');
  const merges = lines.slice(1, 1 + CLIP_MERGES);
  if (merges.length !== CLIP_MERGES || merges.some((m) => m.split(' ').length !== 2)) {
    throw new RwdaError(`${gzPath}: not a CLIP BPE merges file (need ${CLIP_MERGES} 'a b' merge lines after the header, found ${merges.length})`);
  }
  const bytes = byteTokens();
  const vocab = [...bytes, ...bytes.map((b) => `${b}</w>`), ...merges.map((m) => m.replace(' ', '')), '<|startoftext|>', '<|endoftext|>'];
  const vocabJson = `{${vocab.map((tok, i) => `${JSON.stringify(tok)}: ${i}`).join(', ')}}`;
  const mergesTxt = `#version: 0.2\n${merges.map((m) => `${m}\n`).join('')}`;
  return { vocabJson, mergesTxt };
}

/** Writes vocab.json + merges.txt into `dir` from a .txt.gz BPE file or a folder holding both. */
export function writeVocabulary(vocab: string, dir: string): void {
  if (!existsSync(vocab)) throw new RwdaError(`--vocab ${vocab}: no such file or folder`, { code: 'not_found' });
  if (statSync(vocab).isDirectory()) {
    for (const f of ['vocab.json', 'merges.txt']) {
      const src = join(vocab, f);
      if (!existsSync(src)) throw new RwdaError(`--vocab ${vocab}: folder has no ${f} (need vocab.json and merges.txt)`, { code: 'not_found' });
      copyFileSync(src, join(dir, f));
    }
    return;
  }
  if (!vocab.endsWith('.gz')) {
    throw new RwdaError(`--vocab ${vocab}: expected a BPE .txt.gz file or a folder with vocab.json and merges.txt`);
  }
  const { vocabJson, mergesTxt } = convertBpeGzToHf(vocab);
  writeFileSync(join(dir, 'vocab.json'), vocabJson);
  writeFileSync(join(dir, 'merges.txt'), mergesTxt);
}

export interface RandomModelOptions {
  /** Builtin architecture name or path to a config JSON. */
  arch: string;
  seed: number;
  /** BPE .txt.gz or a folder with vocab.json + merges.txt. */
  vocab: string;
  out: string;
  quiet?: boolean;
}

export interface RandomModelResult {
  out: string;
  arch: string;
  seed: number;
  parameters: number;
  weightsBytes: number;
}

/**
 * Writes a random-weight model directory. Each tensor gets its own generator forked, in sorted key
 * order, from Rng(seed), so the bytes depend only on (arch, seed). The directory appears atomically.
 */
export function writeRandomModel(opts: RandomModelOptions): RandomModelResult {
  if (!Number.isInteger(opts.seed) || opts.seed < 0 || opts.seed > 0xffffffff) {
    throw new RwdaError(`--seed must be an integer in [0, 4294967295] (got ${opts.seed})`);
  }
  const out = resolve(opts.out);
  if (existsSync(out)) throw new RwdaError(`--out ${out}: already exists (remove it first)`, { code: 'conflict' });
  const { cfg, modelCfg } = resolveArch(opts.arch);

  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.${Date.now()}.tmp`);
  try {
    mkdirSync(tmp, { recursive: true });
  } catch (err) {
    throw new RwdaError(`--out ${out}: cannot create the model directory (${(err as Error).message})`, { code: 'io', cause: err });
  }
  try {
    writeVocabulary(opts.vocab, tmp);
    writeFileSync(join(tmp, MODEL_DIR_CONFIG), JSON.stringify({ model_cfg: modelCfg, preprocess_cfg: preprocessCfgJson(cfg) }, null, 2) + '\n');

    const shapes = [...expectedClipKeys(cfg).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const total = shapes.reduce((acc, [, s]) => acc + s.reduce((a, d) => a * d, 1), 0);
    const master = new Rng(opts.seed);
    const progress = createProgress({ total, unit: 'params', label: 'random weights', quiet: opts.quiet });
    const tensors: TensorToWrite[] = shapes.map(([name, shape]) => {
      const rng = master.fork();
      const n = shape.reduce((a, d) => a * d, 1);
      return {
        name,
        shape,
        data: () => {
          const d = fill(initFor(name, shape), n, rng);
          progress.tick(n);
          return d;
        },
      };
    });
    const metadata = { format: 'pt', generator: 'rwda model random', arch: cfg.name ?? basename(opts.arch), seed: String(opts.seed) };
    try {
      writeSafetensors(join(tmp, MODEL_DIR_WEIGHTS), tensors, metadata);
    } finally {
      progress.stop();
    }
    const weightsBytes = statSync(join(tmp, MODEL_DIR_WEIGHTS)).size;
    renameSync(tmp, out);
    return { out, arch: cfg.name ?? opts.arch, seed: opts.seed, parameters: total, weightsBytes };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
