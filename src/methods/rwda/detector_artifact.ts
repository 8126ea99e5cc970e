/**
 * The detector on disk: a directory holding `detector.json` (everything needed to reproduce and to
 * check the detector) and `fnn.safetensors` (the FNN's torch state_dict, float32).
 *
 * A directory is written as a whole: files go into a temp directory next to the target, which is
 * then renamed into place; an existing detector is moved aside first and deleted only after the
 * new one is in place (and put back if that rename fails). Readers therefore see the old detector,
 * the new one, or (for an instant during a replace) none, never a mix.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { packageVersion } from '../../util/version.ts';
import { RwdaError } from '../../errors.ts';
import { fileSha256 } from '../../clip/fingerprint.ts';
import { SafetensorsFile, writeSafetensors } from '../../clip/safetensors.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { resolveConfig, type FnnConfig } from './fnn/config.ts';
import { Fnn } from './fnn/model.ts';

/** Value of detector.json's `format`. */
export const DETECTOR_FORMAT = 'rwda-detector';
/** Bumped on any incompatible change of the directory's contents. */
export const DETECTOR_FORMAT_VERSION = 1;
export const DETECTOR_JSON = 'detector.json';
export const FNN_FILE = 'fnn.safetensors';

/** Everything detector.json holds. */
export interface DetectorMeta {
  format: typeof DETECTOR_FORMAT;
  formatVersion: number;
  /** rwda's package version that wrote the detector. */
  rwdaVersion: string;
  /** ISO 8601 UTC. */
  createdAt: string;
  backbone: { name: string; fingerprint: string; embedDim: number };
  /** How the training prompts were made (see src/methods/rwda/prompts.ts). */
  prompts: {
    normalWord: string;
    anomalyWord: string;
    /** The object word of the training prompts ("object": the detector is object-agnostic); unused when `objects` is there. */
    object: string;
    /** Known object names cycled over the training pairs instead of `object` (absent: not used). */
    objects?: string[];
    pairs: number;
    seed: number;
    independentWords: boolean;
    alphabet: string;
    minWordLength: number;
    maxWordLength: number;
  };
  /** Every FNN and optimiser hyperparameter (FnnConfig; its seed is the training seed). */
  fnn: FnnConfig;
  training: {
    steps: number;
    /** Training loss of every optimiser step, in order. */
    losses: number[];
    finalLoss: number;
    /** Distinct prompt texts encoded / read from the cache while building the training set. */
    textsEncoded: number;
    textsCached: number;
    seconds: { embed: number; train: number };
  };
  /** sha256 of fnn.safetensors, checked on load. */
  fnnSha256: string;
}

export { packageVersion } from '../../util/version.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a parsed detector.json; `file` names it in messages. Returns it typed, FNN config resolved. */
export function validateMeta(json: unknown, file: string): DetectorMeta {
  const bad = (field: string, why: string): never => {
    throw new RwdaError(`${file}: ${field} ${why}`);
  };
  if (!isObj(json)) bad('top level', 'must be a JSON object');
  const m = json as Obj;
  if (m.format !== DETECTOR_FORMAT) bad('format', `must be "${DETECTOR_FORMAT}", got ${JSON.stringify(m.format)}; not an rwda detector`);
  if (typeof m.formatVersion !== 'number' || !Number.isInteger(m.formatVersion)) bad('formatVersion', 'must be an integer');
  if ((m.formatVersion as number) > DETECTOR_FORMAT_VERSION) {
    bad('formatVersion', `is ${m.formatVersion}, newer than this rwda reads (${DETECTOR_FORMAT_VERSION}); upgrade rwda`);
  }
  if (m.formatVersion !== DETECTOR_FORMAT_VERSION) bad('formatVersion', `${m.formatVersion} is not supported (expected ${DETECTOR_FORMAT_VERSION})`);
  const str = (o: Obj, path: string, key: string, nonEmpty = true): string => {
    const v = o[key];
    if (typeof v !== 'string' || (nonEmpty && v.length === 0)) bad(`${path}${key}`, `must be a${nonEmpty ? ' non-empty' : ''} string, got ${JSON.stringify(v)}`);
    return v as string;
  };
  const int = (o: Obj, path: string, key: string, min: number): number => {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) bad(`${path}${key}`, `must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const obj = (o: Obj, key: string): Obj => {
    if (!isObj(o[key])) bad(key, 'must be an object');
    return o[key] as Obj;
  };
  str(m, '', 'rwdaVersion');
  str(m, '', 'createdAt');
  const b = obj(m, 'backbone');
  str(b, 'backbone.', 'name');
  str(b, 'backbone.', 'fingerprint');
  int(b, 'backbone.', 'embedDim', 1);
  const p = obj(m, 'prompts');
  str(p, 'prompts.', 'normalWord', false);
  str(p, 'prompts.', 'anomalyWord', false);
  str(p, 'prompts.', 'object');
  if (p.objects !== undefined && (!Array.isArray(p.objects) || p.objects.length === 0 || p.objects.some((o) => typeof o !== 'string' || o.length === 0))) {
    bad('prompts.objects', `must be a non-empty array of non-empty strings, got ${JSON.stringify(p.objects)}`);
  }
  int(p, 'prompts.', 'pairs', 1);
  int(p, 'prompts.', 'seed', 0);
  if (typeof p.independentWords !== 'boolean') bad('prompts.independentWords', 'must be true or false');
  str(p, 'prompts.', 'alphabet');
  int(p, 'prompts.', 'minWordLength', 0);
  int(p, 'prompts.', 'maxWordLength', 0);
  const f = obj(m, 'fnn');
  let fnn: FnnConfig;
  try {
    fnn = resolveConfig(f as Partial<FnnConfig>);
  } catch (err) {
    throw new RwdaError(`${file}: fnn: ${(err as Error).message}`, { cause: err });
  }
  for (const key of Object.keys(fnn) as Array<keyof FnnConfig>) if (!(key in f)) bad(`fnn.${key}`, 'is missing');
  const t = obj(m, 'training');
  if (!Array.isArray(t.losses) || t.losses.some((l) => typeof l !== 'number')) bad('training.losses', 'must be an array of numbers');
  str(m, '', 'fnnSha256');
  return { ...(m as unknown as DetectorMeta), fnn };
}

/** Reads and validates `<dir>/detector.json`; clear errors for a missing directory or file and for bad JSON. */
export function readMeta(dir: string): DetectorMeta {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new RwdaError(`detector not found: ${dir} (train one with \`rwda train --out ${dir}\`)`, { code: 'not_found' });
  }
  if (!st.isDirectory()) throw new RwdaError(`detector ${dir} is not a directory (a detector is a folder with ${DETECTOR_JSON} and ${FNN_FILE})`);
  const file = join(dir, DETECTOR_JSON);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RwdaError(
      code === 'ENOENT' ? `${dir} is not a detector: no ${DETECTOR_JSON} in it` : `${file}: cannot read (${code ?? String(err)})`,
      { code: code === 'ENOENT' ? 'bad_input' : 'io', cause: err },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RwdaError(`${file}: not valid JSON (${(err as Error).message}); the detector is corrupt, train it again`, { cause: err });
  }
  return validateMeta(json, file);
}

/** Loads `<dir>/fnn.safetensors` after checking it against the checksum in detector.json. */
export function readFnn(dir: string, meta: DetectorMeta): Fnn {
  const file = join(dir, FNN_FILE);
  if (!existsSync(file)) throw new RwdaError(`${dir}: ${FNN_FILE} is missing; the detector is incomplete, train it again`);
  const sha = fileSha256(file);
  if (sha !== meta.fnnSha256) {
    throw new RwdaError(`${file} does not match the sha256 recorded in ${DETECTOR_JSON} (${sha} vs ${meta.fnnSha256}); the detector was modified or is corrupt`);
  }
  const st = SafetensorsFile.open(file);
  let fnn: Fnn;
  try {
    const tensors = st.keys().map((name) => ({ name, shape: st.info(name).shape, data: st.getFloat32(name) }));
    fnn = Fnn.fromState(tensors, meta.fnn, file);
  } finally {
    st.close();
  }
  if (fnn.dim !== meta.backbone.embedDim) {
    throw new RwdaError(`${file}: the FNN takes ${fnn.dim}-d inputs but ${DETECTOR_JSON} says the backbone's embed_dim is ${meta.backbone.embedDim}`);
  }
  return fnn;
}

function fsyncDir(dir: string): void {
  // Makes the renames durable; not every platform can open a directory, which is fine to skip.
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // best effort
  }
}

/** Refuses to replace anything but a detector directory or an empty directory. */
function checkReplaceable(target: string): boolean {
  let st;
  try {
    st = statSync(target);
  } catch {
    return false;
  }
  if (!st.isDirectory()) throw new RwdaError(`cannot write the detector to ${target}: it exists and is not a directory`, { code: 'conflict' });
  const entries = readdirSync(target);
  if (entries.length > 0 && !entries.includes(DETECTOR_JSON)) {
    throw new RwdaError(`cannot write the detector to ${target}: the folder exists, is not empty and holds no ${DETECTOR_JSON}; choose another --out`, { code: 'conflict' });
  }
  return true;
}

/** Checks, before any long work, that a detector can be written to `dir` (creates its parent folder). */
export function checkDetectorOut(dir: string): void {
  const target = resolve(dir);
  try {
    mkdirSync(dirname(target), { recursive: true });
  } catch (err) {
    throw new RwdaError(`cannot write the detector to ${target}: ${(err as Error).message}`, { code: 'io', cause: err });
  }
  checkReplaceable(target);
}

/**
 * Writes detector.json and fnn.safetensors into `dir` atomically (see the module comment). The
 * meta's fnnSha256 is filled in here. Returns the absolute path and the meta as written.
 */
export function writeDetectorDir(dir: string, meta: Omit<DetectorMeta, 'fnnSha256'>, fnn: Fnn): { path: string; meta: DetectorMeta } {
  const target = resolve(dir);
  const parent = dirname(target);
  checkDetectorOut(target);
  const tmp = mkdtempSync(join(parent, `.${basename(target)}.tmp-`));
  let full: DetectorMeta;
  try {
    const fnnPath = join(tmp, FNN_FILE);
    // Fixed metadata only: two trainings with the same settings give byte-identical files.
    writeSafetensors(fnnPath, fnn.toState(), { format: 'pt' });
    full = { ...meta, fnnSha256: fileSha256(fnnPath) };
    writeFileAtomic(join(tmp, DETECTOR_JSON), JSON.stringify(full, null, 2) + '\n');
    fsyncDir(tmp);
    if (checkReplaceable(target)) {
      const old = `${tmp}.old`;
      renameSync(target, old);
      try {
        renameSync(tmp, target);
      } catch (err) {
        renameSync(old, target);
        throw err;
      }
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, target);
    }
    fsyncDir(parent);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (err instanceof RwdaError) throw err;
    throw new RwdaError(`cannot write the detector to ${target}: ${(err as Error).message}`, { code: 'io', cause: err });
  }
  return { path: target, meta: full };
}
