/**
 * The pretrained table (pretrained.json): which hub repository, revision and files hold the weights
 * for an open_clip `arch:tag` name. Data, not code, so adding a checkpoint needs no code change.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RwdaError } from '../../errors.ts';

/** The model used when none is named (the paper's backbone). */
export const DEFAULT_MODEL = 'ViT-B-16-plus-240';

/** Files fetched for an `hf-hub:` repository that is not in the table. */
export const DEFAULT_FILES = ['open_clip_config.json', 'open_clip_model.safetensors', 'vocab.json', 'merges.txt'];

export interface PretrainedPreprocess {
  imageSize: number;
  mean: [number, number, number];
  std: [number, number, number];
  interpolation: string;
  resizeMode: string;
}

export interface PretrainedEntry {
  /** Canonical name, `arch:tag` (or `hf-hub:org/name` for repositories outside the table). */
  name: string;
  arch: string;
  tag: string;
  /** The entry a bare `arch` resolves to. */
  isDefault: boolean;
  /** Hub repository id, `org/name`. */
  repo: string;
  /** Branch, tag or commit hash on the hub. */
  revision: string;
  files: string[];
  quickGelu?: boolean;
  preprocess?: PretrainedPreprocess;
  /** True only where the file list was seen on the hub (see `evidence`). */
  confirmed: boolean;
  evidence?: string;
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/;
const JSON_PATH = fileURLToPath(new URL('./pretrained.json', import.meta.url));

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Rejects hub file names that could escape the model directory once joined to it. */
export function checkFileName(file: string, where: string): string {
  const parts = file.split('/');
  if (file.length === 0 || file.includes('\\') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new RwdaError(`${where}: invalid file name ${JSON.stringify(file)} (relative path without '.', '..' or empty parts)`);
  }
  return file;
}

/** Checks an `org/name` hub repository id. */
export function checkRepoId(repo: string, where: string): string {
  if (!REPO_ID.test(repo) || repo.includes('..')) {
    throw new RwdaError(`${where}: invalid hub repository id ${JSON.stringify(repo)} (expected 'org/name')`);
  }
  return repo;
}

/** Checks a branch, tag or commit name (it becomes a path under the huggingface_hub cache's refs/). */
export function checkRevision(rev: string, where: string): string {
  const parts = rev.split('/');
  if (rev.includes('\\') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new RwdaError(`${where}: invalid revision ${JSON.stringify(rev)}`);
  }
  return rev;
}

function str(o: Obj, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) throw new RwdaError(`${where}: '${key}' must be a non-empty string`);
  return v;
}

function triple(v: unknown, where: string): [number, number, number] {
  if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new RwdaError(`${where}: must be an array of three numbers`);
  }
  return [v[0], v[1], v[2]];
}

function parseFiles(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((f) => typeof f === 'string')) {
    throw new RwdaError(`${where}: 'files' must be a non-empty array of file names`);
  }
  return v.map((f) => checkFileName(f as string, where));
}

/** Parses and validates the table's JSON text; `source` names it in errors. */
export function parseRegistry(text: string, source = JSON_PATH): PretrainedEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new RwdaError(`${source}: not valid JSON (${(err as Error).message})`);
  }
  if (!isObj(doc) || !Array.isArray(doc.models)) throw new RwdaError(`${source}: 'models' must be an array`);
  const defaultFiles = parseFiles(doc.files ?? DEFAULT_FILES, `${source}`);
  const seen = new Set<string>();
  const defaults = new Set<string>();
  return doc.models.map((m, i) => {
    const where = `${source}: models[${i}]`;
    if (!isObj(m)) throw new RwdaError(`${where}: must be an object`);
    const arch = str(m, 'arch', where);
    const tag = str(m, 'tag', where);
    const name = `${arch}:${tag}`;
    if (seen.has(name)) throw new RwdaError(`${where}: duplicate entry '${name}'`);
    seen.add(name);
    const isDefault = m.default === true;
    if (isDefault) {
      if (defaults.has(arch)) throw new RwdaError(`${where}: a second default for '${arch}'`);
      defaults.add(arch);
    }
    let preprocess: PretrainedPreprocess | undefined;
    if (m.preprocess !== undefined) {
      const p = m.preprocess;
      const pw = `${where}.preprocess`;
      if (!isObj(p)) throw new RwdaError(`${pw}: must be an object`);
      if (typeof p.image_size !== 'number' || !Number.isInteger(p.image_size) || p.image_size <= 0) {
        throw new RwdaError(`${pw}: 'image_size' must be a positive integer`);
      }
      preprocess = {
        imageSize: p.image_size,
        mean: triple(p.mean, `${pw}.mean`),
        std: triple(p.std, `${pw}.std`),
        interpolation: str(p, 'interpolation', pw),
        resizeMode: str(p, 'resize_mode', pw),
      };
    }
    return {
      name,
      arch,
      tag,
      isDefault,
      repo: checkRepoId(str(m, 'repo', where), where),
      revision: m.revision === undefined ? 'main' : checkRevision(str(m, 'revision', where), where),
      files: m.files === undefined ? defaultFiles : parseFiles(m.files, where),
      quickGelu: m.quick_gelu === true,
      preprocess,
      confirmed: m.confirmed === true,
      evidence: typeof m.evidence === 'string' ? m.evidence : undefined,
    };
  });
}

let cached: PretrainedEntry[] | undefined;

/** Every entry of the bundled table. */
export function listPretrained(): PretrainedEntry[] {
  cached ??= parseRegistry(readFileSync(JSON_PATH, 'utf8'));
  return cached;
}

/** open_clip's tag normalisation: case and '-' vs '_' do not matter. */
const cleanTag = (tag: string) => tag.toLowerCase().replace(/-/g, '_');

/**
 * Looks a name up: `arch` (its default tag), `arch:tag`, or `hf-hub:org/name[@revision]` for a
 * repository outside the table (fetched with the default file list). Undefined when unknown.
 */
export function findPretrained(name: string, entries = listPretrained()): PretrainedEntry | undefined {
  if (name.startsWith('hf-hub:')) {
    const spec = name.slice('hf-hub:'.length).replace(/\/+$/, '');
    const at = spec.indexOf('@');
    const repo = checkRepoId(at >= 0 ? spec.slice(0, at) : spec, `model name '${name}'`);
    const revision = at >= 0 ? spec.slice(at + 1) : 'main';
    checkRevision(revision, `model name '${name}'`);
    return {
      name: at >= 0 ? `hf-hub:${repo}@${revision}` : `hf-hub:${repo}`,
      arch: repo,
      tag: revision,
      isDefault: false,
      repo,
      revision,
      files: DEFAULT_FILES,
      confirmed: false,
    };
  }
  const colon = name.indexOf(':');
  if (colon < 0) return entries.find((e) => e.arch === name && e.isDefault);
  const arch = name.slice(0, colon);
  const tag = cleanTag(name.slice(colon + 1));
  return entries.find((e) => e.arch === arch && cleanTag(e.tag) === tag);
}

/** Like findPretrained, but an unknown name is an RwdaError listing the known ones. */
export function getPretrained(name: string): PretrainedEntry {
  const entry = findPretrained(name);
  if (!entry) {
    const known = listPretrained().flatMap((e) => (e.isDefault ? [e.arch, e.name] : [e.name]));
    throw new RwdaError(
      `unknown model '${name}': not an existing directory and not in the pretrained table ` +
        `(known: ${known.join(', ')}; or hf-hub:org/name)`,
      { code: 'not_found' },
    );
  }
  return entry;
}
