// Two processes on one cache file, and a writer killed with SIGKILL in the middle of its batches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { EmbeddingStore } from '../../src/store/index.ts';
import { REPO_ROOT } from '../helpers/paths.ts';
import { BATCH, rowEmbedding } from './helpers/rows.ts';

const CHILD = join(REPO_ROOT, 'test', 'store', 'helpers', 'store_child.ts');
const FP = 'fp-process-test';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'rwda-store-proc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('two processes see each other’s committed rows', (t) => {
  const path = join(tempDir(t), 'c.sqlite');
  const store = EmbeddingStore.open(path);
  t.after(() => store.close());
  store.putTexts(FP, [
    { text: 'parent_0', embedding: Float32Array.from([1, 2]) },
    { text: 'parent_1', embedding: Float32Array.from([0.25]) },
  ]);
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, 'read-write', path, FP], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [[1, 2], [0.25], null]);
  // The parent's connection stayed open the whole time and sees the child's commit.
  const got = store.getTexts(FP, ['child_0', 'child_1']);
  assert.deepEqual(got.map((v) => Array.from(v!)), [[7, 8, 9], [-1, 0.5]]);
});

test('two processes creating the same fresh cache at once both succeed (migration runs once)', async (t) => {
  const path = join(tempDir(t), 'fresh', 'c.sqlite');
  const run = (): Promise<{ code: number | null; out: string; err: string }> =>
    new Promise((resolve) => {
      const c = spawn(process.execPath, ['--import', 'tsx', CHILD, 'read-write', path, FP], { cwd: REPO_ROOT });
      let out = '';
      let err = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.stderr.on('data', (d: Buffer) => (err += d.toString()));
      c.on('exit', (code) => resolve({ code, out, err }));
    });
  const results = await Promise.all([run(), run()]);
  for (const r of results) {
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), [null, null, null]);
  }
  const store = EmbeddingStore.open(path);
  t.after(() => store.close());
  assert.deepEqual(Array.from(store.getTexts(FP, ['child_0'])[0]!), [7, 8, 9]);
  assertIntegrity(path);
});

/** Resolves with the child's stdout lines once `done(lines)` holds; rejects on early exit or timeout. */
function waitForLines(child: ChildProcess, done: (lines: string[]) => boolean, what: string): Promise<string[]> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    let buf = '';
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(lines);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new Error(`timed out waiting for ${what}; lines ${lines.slice(-3)}; stderr: ${stderr}`));
    }, 15_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      lines.push(...parts);
      if (done(lines)) finish();
    });
    child.on('exit', () => finish(new Error(`child exited before ${what}; lines ${lines.slice(-3)}; stderr: ${stderr}`)));
  });
}

function spawnChild(mode: string, path: string): { child: ChildProcess; exited: Promise<NodeJS.Signals | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, path, FP], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  return { child, exited };
}

/** Rows of batch b present in the store: 0 or BATCH, never in between; checks the values. */
function batchRows(store: EmbeddingStore, b: number): number {
  const got = store.getTexts(FP, Array.from({ length: BATCH }, (_, r) => `b${b}_r${r}`));
  const present = got.filter((v) => v !== undefined).length;
  assert.ok(present === 0 || present === BATCH, `batch ${b} is partial: ${present} of ${BATCH} rows`);
  got.forEach((v, r) => v && assert.deepEqual(v, rowEmbedding(b, r), `batch ${b} row ${r}`));
  return present;
}

function assertIntegrity(path: string): void {
  const raw = new Database(path, { readonly: true });
  try {
    assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
  } finally {
    raw.close();
  }
}

test('a writer killed inside a batch transaction leaves none of that batch', async (t) => {
  const path = join(tempDir(t), 'c.sqlite');
  const { child, exited } = spawnChild('hang-mid-batch', path);
  await waitForLines(child, (l) => l.includes('mid'), '"mid"');
  // While the writer sits in its transaction (half of batch 1 inserted), other connections read
  // the last committed state and are not blocked.
  const reader = EmbeddingStore.open(path);
  assert.equal(batchRows(reader, 0), BATCH);
  assert.equal(batchRows(reader, 1), 0);
  reader.close();
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');

  const store = EmbeddingStore.open(path, { busyTimeoutMs: 2000 });
  t.after(() => store.close());
  assertIntegrity(path);
  assert.equal(batchRows(store, 0), BATCH);
  assert.equal(batchRows(store, 1), 0);
  // The dead writer's lock is gone.
  store.putTexts(FP, [{ text: 'after', embedding: Float32Array.from([1]) }]);
  assert.equal(store.getTexts(FP, ['after'])[0]![0], 1);
});

test('a writer killed with SIGKILL at a random point of its loop leaves only whole batches', async (t) => {
  const path = join(tempDir(t), 'c.sqlite');
  const { child, exited } = spawnChild('write-loop', path);
  const target = 8;
  const lines = await waitForLines(child, (l) => l.length > target, `batch ${target}`);
  // A few milliseconds later the writer is somewhere in the next batches.
  await new Promise((r) => setTimeout(r, 3));
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  const lastReported = Number(lines[lines.length - 1]);

  const store = EmbeddingStore.open(path);
  t.after(() => store.close());
  assertIntegrity(path);
  // The complete batches are 0..m with m ≥ the last one reported; everything after is absent.
  let complete = 0;
  let sawMissing = false;
  for (let b = 0; b <= lastReported + 10; b++) {
    const present = batchRows(store, b);
    if (present === 0) sawMissing = true;
    else {
      assert.ok(!sawMissing, `batch ${b} present after a missing batch`);
      complete++;
    }
  }
  assert.ok(complete >= lastReported + 1, `only ${complete} batches, reported ${lastReported + 1}`);
  assert.ok(sawMissing, 'the writer was still running when killed');
});
