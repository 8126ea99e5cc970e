// `rwda eval` killed with SIGKILL and run again with the same arguments: the store passes
// PRAGMA integrity_check, the rerun finishes with results equal to a clean run's, and nothing
// stored before the kill is computed again (image views by the store's counters, seeds by the
// runner's summary). Kill points: after the second embedding batch (the process is held there by
// the RWDA_TEST_PAUSE hook), inside seed 0's detector training (held), and wherever a free-running
// process happens to be when seed 1 starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { readRunResults, type RunResults } from '../../src/eval/report/index.ts';
import { cliFixture, comparable, rwda, rwdaKilled, summaryOf, traceEvents } from '../eval/runner_fixture.ts';

const { tmp: TMP, model: MODEL, tree: TREE, ok: OK } = cliFixture('rwda-eval-resume-');
const VIEWS = 14;

/** Every scenario gets its own cache, detector home and run directory. */
function setup(name: string): { args: string[]; home: string; cache: string; out: string } {
  const dir = join(TMP, name);
  const cache = join(dir, 'cache.sqlite');
  const out = join(dir, 'run');
  const args = ['eval', '--model', MODEL, '--dataset', 'mvtec', '--root', TREE.root, '--seeds', '3', '--pairs', '100', '--crops', 'grid', '--image-batch', '2', '--cache', cache, '--out', out];
  return { args, home: join(dir, 'home'), cache, out };
}

/** integrity_check of the cache file and its number of stored image views; every stored result parses. */
function inspect(cache: string): { integrity: string; imageRows: number; results: number } {
  const db = new Database(cache);
  try {
    const integrity = String(db.pragma('integrity_check', { simple: true }));
    const imageRows = (db.prepare('SELECT COUNT(*) AS n FROM image_embeddings').get() as { n: number }).n;
    const rows = db.prepare('SELECT key, value FROM run_results').all() as Array<{ key: string; value: string }>;
    for (const r of rows) JSON.parse(r.value);
    return { integrity, imageRows, results: rows.length };
  } finally {
    db.close();
  }
}

let clean: RunResults;

test('clean run (reference)', () => {
  const s = setup('clean');
  const r = rwda(s.args, s.home);
  assert.equal(r.status, 0, r.stderr);
  clean = readRunResults(join(s.out, 'results.json'));
  assert.equal(summaryOf(r.stdout).cache.viewsEncoded, OK * VIEWS);
});

test('killed after the second embedding batch: the rerun encodes only the views not stored before the kill', async () => {
  const s = setup('embed');
  const k = await rwdaKilled(s.args, s.home, { RWDA_TEST_TRACE: '1', RWDA_TEST_PAUSE: 'embed-batch:2' }, (l) => l === 'rwda-trace: paused');
  assert.equal(k.killed, true, k.stderr);
  const batches = traceEvents(k.stderr).filter((e) => e.type === 'embed-batch');
  assert.equal(batches.length, 2);
  const stored = batches.reduce((a, b) => a + b.encoded, 0);
  assert.ok(stored > 0 && stored < OK * VIEWS);
  const state = inspect(s.cache);
  assert.equal(state.integrity, 'ok');
  assert.equal(state.imageRows, stored, 'exactly the two finished batches are in the store');
  assert.equal(existsSync(join(s.out, 'results.json')), false);

  const r = rwda(s.args, s.home);
  assert.equal(r.status, 0, r.stderr);
  const sum = summaryOf(r.stdout);
  assert.deepEqual([sum.cache.viewsEncoded, sum.cache.viewsCached, sum.cache.imageWrites], [OK * VIEWS - stored, stored, OK * VIEWS - stored]);
  assert.equal(inspect(s.cache).integrity, 'ok');
  assert.deepEqual(comparable(readRunResults(join(s.out, 'results.json'))), comparable(clean));
});

test('killed inside seed 0 training: the rerun embeds nothing, trains seed 0 again and matches the clean run', async () => {
  const s = setup('train');
  const k = await rwdaKilled(s.args, s.home, { RWDA_TEST_TRACE: '1', RWDA_TEST_PAUSE: 'train:3' }, (l) => l === 'rwda-trace: paused');
  assert.equal(k.killed, true, k.stderr);
  assert.deepEqual(traceEvents(k.stderr).filter((e) => e.type.startsWith('seed')).map((e) => [e.type, e.seed]), [['seed-start', 0]]);
  const state = inspect(s.cache);
  assert.equal(state.integrity, 'ok');
  assert.equal(state.imageRows, OK * VIEWS);

  const r = rwda(s.args, s.home);
  assert.equal(r.status, 0, r.stderr);
  const sum = summaryOf(r.stdout);
  assert.deepEqual([sum.cache.viewsEncoded, sum.cache.clipReused, sum.seedsComputed, sum.seedsReused], [0, true, [0, 1, 2], []]);
  assert.equal(inspect(s.cache).integrity, 'ok');
  assert.deepEqual(comparable(readRunResults(join(s.out, 'results.json'))), comparable(clean));
});

test('killed free-running once seed 1 starts: partial report of the finished seeds, finished seeds reused', async () => {
  const s = setup('seed');
  const k = await rwdaKilled(s.args, s.home, { RWDA_TEST_TRACE: '1' }, (l) => l.startsWith('rwda-trace: {"type":"seed-start","seed":1,'));
  assert.equal(k.killed, true, k.stderr);
  assert.equal(k.status, null, 'ended by the signal');
  assert.equal(inspect(s.cache).integrity, 'ok');
  // The partial report written after seed 0 (or later ones, depending on where the kill landed).
  const partial = readRunResults(join(s.out, 'results.json'));
  assert.ok(partial.config.seeds.length >= 1 && partial.config.seeds.length < 3);
  assert.deepEqual(partial.config.seeds, [0, 1].slice(0, partial.config.seeds.length));
  assert.match(partial.notes!.join('\n'), /partial results: \d of 3 seeds finished/);
  assert.deepEqual(partial.categories[0]!.methods.ours.auroc.values[0], clean.categories[0]!.methods.ours.auroc.values[0]);

  const r = rwda(s.args, s.home);
  assert.equal(r.status, 0, r.stderr);
  const sum = summaryOf(r.stdout);
  assert.equal(sum.cache.viewsEncoded, 0);
  assert.equal(sum.seedsReused[0], 0);
  assert.deepEqual([...sum.seedsReused, ...sum.seedsComputed].sort(), [0, 1, 2]);
  assert.equal(inspect(s.cache).integrity, 'ok');
  const final = readRunResults(join(s.out, 'results.json'));
  assert.deepEqual(comparable(final), comparable(clean));
  assert.equal(final.notes!.some((n) => n.startsWith('partial')), false);
});
