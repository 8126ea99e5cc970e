// Shared by the runner tests: the tiny-gelu model folder, a small MVTec-layout tree built from the
// AD samples (two categories, a corrupt PNG among the anomalies), and `rwda` child-process helpers.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { AD_SAMPLES, OPENCLIP_FIXTURES, REPO_ROOT } from '../helpers/paths.ts';

/** tiny-gelu as a model folder: config + weights (copied: onnxruntime refuses weights behind a symlink) + vocab. */
export function tinyModelDir(tmp: string): string {
  const dir = join(tmp, 'tiny-gelu');
  mkdirSync(dir, { recursive: true });
  for (const f of ['open_clip_config.json', 'open_clip_model.safetensors']) copyFileSync(join(OPENCLIP_FIXTURES, 'tiny-gelu', f), join(dir, f));
  for (const f of ['vocab.json', 'merges.txt']) copyFileSync(join(OPENCLIP_FIXTURES, 'hf-tokenizer', f), join(dir, f));
  return dir;
}

/** The generated MVTec tree and what it holds. */
export interface MvtecTree {
  root: string;
  /** Every image file the loader finds, corrupt one included. */
  files: number;
  corrupt: string;
  /** Images that decode, per category and class. */
  good: Record<'grid' | 'hazelnut', { normal: string[]; anomalous: string[] }>;
}

/**
 * `<root>/grid/test/{good,bent,broken}` from the MVTec grid samples (1024×1024 grey PNGs) and
 * `<root>/hazelnut/test/{good,colour}` from the hazelnut toy set (JPEGs); broken/001.png is a
 * truncated PNG.
 */
export function mvtecTree(tmp: string): MvtecTree {
  const root = join(tmp, 'mvtec');
  const grid = join(AD_SAMPLES, 'mvtec_ad', 'grid');
  const hz = join(AD_SAMPLES, 'hazelnut_toy', 'hazelnut');
  const put = (src: string, dst: string): string => {
    mkdirSync(join(dst, '..'), { recursive: true });
    copyFileSync(src, dst);
    return dst;
  };
  const gridNormal = readdirSync(join(grid, 'good')).filter((f) => f.endsWith('.png')).map((f) => put(join(grid, 'good', f), join(root, 'grid/test/good', f)));
  const gridAnomalous = [
    put(join(grid, 'bent/000.png'), join(root, 'grid/test/bent/000.png')),
    put(join(grid, 'glue/000.png'), join(root, 'grid/test/bent/001.png')),
    put(join(grid, 'broken/000.png'), join(root, 'grid/test/broken/000.png')),
  ];
  const corrupt = join(root, 'grid/test/broken/001.png');
  writeFileSync(corrupt, Buffer.from('\x89PNG\r\n\x1a\ntruncated'));
  const hzNormal = readdirSync(join(hz, 'good')).map((f) => put(join(hz, 'good', f), join(root, 'hazelnut/test/good', f)));
  const hzAnomalous = readdirSync(join(hz, 'colour')).map((f) => put(join(hz, 'colour', f), join(root, 'hazelnut/test/colour', f)));
  const good = { grid: { normal: gridNormal, anomalous: gridAnomalous }, hazelnut: { normal: hzNormal, anomalous: hzAnomalous } };
  const files = gridNormal.length + gridAnomalous.length + 1 + hzNormal.length + hzAnomalous.length;
  return { root, files, corrupt, good };
}

/** What a CLI test file works in: a temp folder (removed after its tests) holding the model and the tree. */
export interface CliFixture {
  tmp: string;
  /** RWDA_HOME of the child processes (detector cache). */
  home: string;
  /** The embedding cache file. */
  cache: string;
  model: string;
  tree: MvtecTree;
  /** Images of the tree that decode (all but the corrupt one). */
  ok: number;
}

/** Builds a CliFixture under os.tmpdir() and registers its removal after the file's tests. */
export function cliFixture(prefix: string): CliFixture {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const model = tinyModelDir(tmp);
  const tree = mvtecTree(tmp);
  return { tmp, home: join(tmp, 'home'), cache: join(tmp, 'cache.sqlite'), model, tree, ok: tree.files - 1 };
}

/** The one JSON summary line a command prints on stdout (fails when there is not exactly one line). */
export function summaryOf(stdout: string): Record<string, any> {
  const lines = stdout.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, stdout);
  return JSON.parse(lines[0]!) as Record<string, any>;
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `rwda` to completion with RWDA_HOME = `home`. */
export function rwda(args: string[], home: string, env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/rwda.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, RWDA_HOME: home, HF_HUB_OFFLINE: '1', ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Starts `rwda` and SIGKILLs it as soon as a stderr line satisfies `killWhen`; resolves with the
 * stderr seen and whether the kill happened before the process ended by itself.
 */
export function rwdaKilled(args: string[], home: string, env: Record<string, string>, killWhen: (line: string) => boolean): Promise<{ killed: boolean; stderr: string; status: number | null }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/rwda.js'), ...args], {
      env: { ...process.env, RWDA_HOME: home, HF_HUB_OFFLINE: '1', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let pending = '';
    let killed = false;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      if (!killed && lines.some(killWhen)) {
        killed = child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (status) => resolvePromise({ killed, stderr, status }));
  });
}

/** The runner events a traced run printed (RWDA_TEST_TRACE=1). */
export function traceEvents(stderr: string): Array<Record<string, any>> {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('rwda-trace: {'))
    .map((l) => JSON.parse(l.slice('rwda-trace: '.length)) as Record<string, any>);
}

/** results.json without the fields that differ between two runs of the same thing. */
export function comparable(results: Record<string, any>): Record<string, any> {
  const { createdAt: _c, durationSeconds: _d, ...rest } = results;
  return rest;
}
