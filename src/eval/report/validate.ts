/**
 * Checks that a parsed results.json has the `rwda-eval/v1` shape before the reports read it, so a hand-edited or
 * truncated file fails with a message naming the field instead of a TypeError deep inside a renderer.
 */
import { readFileSync } from 'node:fs';
import { RwdaError, fsErrorCode } from '../../errors.ts';
import { METHODS, METRICS, RESULTS_FORMAT, summarize, type RunResults } from './schema.ts';

type Obj = Record<string, unknown>;

class Checker {
  constructor(private readonly source: string) {}

  fail(path: string, msg: string): never {
    throw new RwdaError(`${this.source}: ${path} ${msg}`);
  }

  obj(v: unknown, path: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `must be an object, got ${describe(v)}`);
    return v as Obj;
  }

  arr(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `must be an array, got ${describe(v)}`);
    return v;
  }

  str(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, `must be a string, got ${describe(v)}`);
    return v;
  }

  num(v: unknown, path: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, `must be a finite number, got ${describe(v)}`);
    return v;
  }

  count(v: unknown, path: string): number {
    const n = this.num(v, path);
    if (!Number.isInteger(n) || n < 0) this.fail(path, `must be a non-negative integer, got ${n}`);
    return n;
  }

  fraction(v: unknown, path: string): number {
    const n = this.num(v, path);
    if (n < 0 || n > 1) this.fail(path, `must lie in [0, 1], got ${n}`);
    return n;
  }

  numbers(v: unknown, path: string, check: (x: unknown, p: string) => number = (x, p) => this.num(x, p)): number[] {
    const a = this.arr(v, path);
    a.forEach((x, i) => check(x, `${path}[${i}]`));
    return a as number[];
  }

  oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[]): T {
    if (typeof v !== 'string' || !allowed.includes(v as T)) {
      this.fail(path, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(v)}`);
    }
    return v as T;
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'number') return String(v);
  return typeof v;
}

function checkSummary(c: Checker, v: unknown, path: string, nSeeds: number): void {
  const s = c.obj(v, path);
  for (const metric of METRICS) {
    const p = `${path}.${metric}`;
    const stat = c.obj(s[metric], p);
    c.fraction(stat.mean, `${p}.mean`);
    const std = c.num(stat.std, `${p}.std`);
    if (std < 0) c.fail(`${p}.std`, `must be >= 0, got ${std}`);
    const values = c.numbers(stat.values, `${p}.values`, (x, q) => c.fraction(x, q));
    if (values.length !== 1 && values.length !== nSeeds) {
      c.fail(`${p}.values`, `has ${values.length} values; expected one per seed (${nSeeds}) or a single value`);
    }
    // mean and std must be the summary of values (a runner bug or a hand edit would otherwise go unnoticed).
    const expected = summarize(values);
    if (Math.abs(expected.mean - (stat.mean as number)) > 1e-9 || Math.abs(expected.std - std) > 1e-9) {
      c.fail(p, `has mean ${stat.mean as number} and std ${std}, but its values give mean ${expected.mean} and sample std ${expected.std}`);
    }
  }
}

function checkCurvePair(c: Checker, v: unknown, path: string, xKey: string, yKey: string): void {
  const o = c.obj(v, path);
  const xs = c.numbers(o[xKey], `${path}.${xKey}`);
  const ys = c.numbers(o[yKey], `${path}.${yKey}`);
  if (xs.length !== ys.length) c.fail(path, `has ${xs.length} ${xKey} but ${ys.length} ${yKey} values`);
}

/** Returns `value` typed as RunResults after checking its shape; throws RwdaError naming the first bad field. */
export function validateRunResults(value: unknown, source = 'results.json'): RunResults {
  const c = new Checker(source);
  const r = c.obj(value, 'the top level');
  if (r.format !== RESULTS_FORMAT) {
    c.fail('format', `is ${describe(r.format)}; this rwda reads '${RESULTS_FORMAT}'`);
  }
  c.str(r.createdAt, 'createdAt');
  c.str(r.rwdaVersion, 'rwdaVersion');
  const versions = c.obj(r.versions, 'versions');
  for (const [k, v] of Object.entries(versions)) c.str(v, `versions.${k}`);
  c.str(versions.node, 'versions.node');
  c.str(versions.onnxruntime, 'versions.onnxruntime');

  const cfg = c.obj(r.config, 'config');
  c.oneOf(cfg.dataset, 'config.dataset', ['mvtec', 'visa', 'sewerml', 'folder', 'folder-pair'] as const);
  c.str(cfg.root, 'config.root');
  const categoryNames = c.arr(cfg.categories, 'config.categories').map((x, i) => c.str(x, `config.categories[${i}]`));
  c.oneOf(cfg.setup, 'config.setup', ['unknown', 'known'] as const);
  const seeds = c.numbers(cfg.seeds, 'config.seeds');
  if (seeds.length === 0) c.fail('config.seeds', 'is empty; a run has at least one seed');
  const crops = c.obj(cfg.crops, 'config.crops');
  if (typeof crops.enabled !== 'boolean') c.fail('config.crops.enabled', `must be true or false, got ${describe(crops.enabled)}`);
  c.numbers(crops.scales, 'config.crops.scales');
  c.oneOf(crops.aggregation, 'config.crops.aggregation', ['max', 'mean'] as const);
  c.count(cfg.pairs, 'config.pairs');
  const backbone = c.obj(cfg.backbone, 'config.backbone');
  c.str(backbone.name, 'config.backbone.name');
  c.str(backbone.fingerprint, 'config.backbone.fingerprint');
  const fnn = c.obj(cfg.fnn, 'config.fnn');
  c.numbers(fnn.hidden, 'config.fnn.hidden');
  for (const k of ['dropout', 'lr', 'weightDecay', 'eps', 'epochs', 'batchSize', 'lrDecay']) c.num(fnn[k], `config.fnn.${k}`);
  c.oneOf(cfg.aupr, 'config.aupr', ['ap', 'trapezoid'] as const);
  // The reports join these names; anything else would fail there without naming the field.
  const prompts = cfg.prompts === undefined ? undefined : c.obj(cfg.prompts, 'config.prompts');
  if (prompts?.trainObjects !== undefined) c.arr(prompts.trainObjects, 'config.prompts.trainObjects').forEach((x, i) => c.str(x, `config.prompts.trainObjects[${i}]`));

  c.arr(r.skipped, 'skipped').forEach((s, i) => {
    const o = c.obj(s, `skipped[${i}]`);
    c.str(o.reason, `skipped[${i}].reason`);
  });

  const cats = c.arr(r.categories, 'categories');
  if (cats.length === 0) c.fail('categories', 'is empty; a run evaluates at least one category');
  const seen = new Set<string>();
  cats.forEach((x, i) => {
    const p = `categories[${i}]`;
    const cat = c.obj(x, p);
    const name = c.str(cat.name, `${p}.name`);
    if (seen.has(name)) c.fail(`${p}.name`, `repeats category '${name}'`);
    seen.add(name);
    c.count(cat.nNormal, `${p}.nNormal`);
    c.count(cat.nAnomalous, `${p}.nAnomalous`);
    const methods = c.obj(cat.methods, `${p}.methods`);
    for (const m of METHODS) checkSummary(c, methods[m], `${p}.methods.${m}`, seeds.length);
  });
  for (const name of categoryNames) {
    if (!seen.has(name)) c.fail('config.categories', `names '${name}' but categories[] has no entry for it`);
  }
  const mean = c.obj(r.mean, 'mean');
  for (const m of METHODS) checkSummary(c, mean[m], `mean.${m}`, seeds.length);

  if (r.curves !== undefined) {
    const cb = c.obj(r.curves, 'curves');
    c.num(cb.seed, 'curves.seed');
    const per = c.obj(cb.perCategory, 'curves.perCategory');
    for (const [cat, byMethod] of Object.entries(per)) {
      const bm = c.obj(byMethod, `curves.perCategory.${cat}`);
      for (const [m, set] of Object.entries(bm)) {
        const p = `curves.perCategory.${cat}.${m}`;
        c.oneOf(m, p, METHODS);
        const cs = c.obj(set, p);
        checkCurvePair(c, cs.roc, `${p}.roc`, 'fpr', 'tpr');
        checkCurvePair(c, cs.pr, `${p}.pr`, 'recall', 'precision');
      }
    }
  }
  if (r.histograms !== undefined) {
    const hb = c.obj(r.histograms, 'histograms');
    c.num(hb.seed, 'histograms.seed');
    c.oneOf(hb.method, 'histograms.method', METHODS);
    const per = c.obj(hb.perCategory, 'histograms.perCategory');
    for (const [cat, h] of Object.entries(per)) {
      const p = `histograms.perCategory.${cat}`;
      const o = c.obj(h, p);
      const edges = c.numbers(o.edges, `${p}.edges`);
      if (edges.length < 2) c.fail(`${p}.edges`, `has ${edges.length} edges; need at least 2`);
      for (let i = 1; i < edges.length; i++) {
        if (!(edges[i]! > edges[i - 1]!)) c.fail(`${p}.edges`, `must increase strictly (index ${i})`);
      }
      for (const k of ['normal', 'anomalous']) {
        const counts = c.numbers(o[k], `${p}.${k}`, (x, q) => c.count(x, q));
        if (counts.length !== edges.length - 1) c.fail(`${p}.${k}`, `has ${counts.length} bins but ${edges.length} edges`);
      }
    }
  }
  return value as RunResults;
}

/** Reads and validates a results.json file. */
export function readRunResults(path: string): RunResults {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RwdaError(`cannot read ${path}: ${(err as Error).message}`, { code: fsErrorCode(err), cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new RwdaError(`${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return validateRunResults(parsed, path);
}
