// Bad input met on the command line (child processes, RWDA_HOME in a temp folder): a
// file where an --out folder should be must give `rwda: <message naming the path>` and exit 1,
// before any model is loaded or any training runs, never a Node stack trace. A t-SNE perplexity
// too large for the points names the flags, not the library's options.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPENCLIP_FIXTURES, REPO_ROOT } from '../helpers/paths.ts';
import { RwdaError } from '../../src/errors.ts';
import { writeFileAtomic } from '../../src/util/atomic.ts';

const TMP = mkdtempSync(join(tmpdir(), 'rwda-bad-input-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

/** The tiny fixture model, laid out as rwda expects (config, weights symlinked, vocab). */
const MODEL = join(TMP, 'tiny-gelu');
mkdirSync(MODEL);
copyFileSync(join(OPENCLIP_FIXTURES, 'tiny-gelu', 'open_clip_config.json'), join(MODEL, 'open_clip_config.json'));
symlinkSync(join(OPENCLIP_FIXTURES, 'tiny-gelu', 'open_clip_model.safetensors'), join(MODEL, 'open_clip_model.safetensors'));
for (const f of ['vocab.json', 'merges.txt']) copyFileSync(join(OPENCLIP_FIXTURES, 'hf-tokenizer', f), join(MODEL, f));

const A_FILE = join(TMP, 'a-file.txt');
writeFileSync(A_FILE, 'not a folder\n');
// A model name that cannot resolve: if --out were checked only after the model is opened, the
// model error would come first and the tests below would fail.
const NO_MODEL = join(TMP, 'no-such-model');
const NORMAL = join(TMP, 'normal');
const ANOMALOUS = join(TMP, 'anomalous');
for (const d of [NORMAL, ANOMALOUS]) {
  mkdirSync(d);
  copyFileSync(join(OPENCLIP_FIXTURES, 'images', 'rgb_64x48.png'), join(d, '1.png'));
}

function rwda(args: string[]): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'rwda.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, RWDA_HOME: join(TMP, 'home'), HF_HUB_OFFLINE: '1' },
    timeout: 60_000,
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

function assertCleanError(r: { status: number | null; stderr: string; stdout: string }, pattern: RegExp): void {
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, pattern);
  assert.match(r.stderr, /^rwda: /m);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  assert.equal(r.stdout, '');
}

const FOLDER_PAIR = ['--dataset', 'folder-pair', '--normal', NORMAL, '--anomalous', ANOMALOUS];

test('eval --out naming a file fails up front, naming --out and the path', () => {
  const r = rwda(['eval', ...FOLDER_PAIR, '--model', NO_MODEL, '--out', A_FILE, '--seeds', '1', '--pairs', '8', '-q', '--no-cache']);
  assertCleanError(r, new RegExp(`--out ${A_FILE}: exists and is not a directory`));
});

test('eval --out below a file fails up front, naming the path', () => {
  const r = rwda(['eval', ...FOLDER_PAIR, '--model', NO_MODEL, '--out', join(A_FILE, 'run'), '--seeds', '1', '-q', '--no-cache']);
  assertCleanError(r, new RegExp(`--out ${join(A_FILE, 'run')}: cannot create the directory`));
});

test('experiment tsne, pairs and words check --out up front', () => {
  const tsne = rwda(['experiment', 'tsne', '--model', NO_MODEL, '--out', A_FILE, '--pairs', '8', '-q', '--no-cache']);
  assertCleanError(tsne, new RegExp(`--out ${A_FILE}: exists and is not a directory`));
  const pairs = rwda(['experiment', 'pairs', '--n', '8', ...FOLDER_PAIR, '--model', NO_MODEL, '--out', A_FILE, '--seeds', '1', '-q', '--no-cache']);
  assertCleanError(pairs, new RegExp(`--out ${A_FILE}: exists and is not a directory`));
  const words = rwda(['experiment', 'words', '--pairs', '8', ...FOLDER_PAIR, '--model', NO_MODEL, '--out', A_FILE, '--seeds', '1', '-q', '--no-cache']);
  assertCleanError(words, new RegExp(`--out ${A_FILE}: exists and is not a directory`));
});

test('train checks --out before opening the model (no training wasted on a bad --out)', () => {
  const file = rwda(['train', '--model', NO_MODEL, '--out', A_FILE, '--pairs', '8', '-q', '--no-cache']);
  assertCleanError(file, new RegExp(`cannot write the detector to ${A_FILE}: it exists and is not a directory`));
  const below = rwda(['train', '--model', NO_MODEL, '--out', join(A_FILE, 'det'), '--pairs', '8', '-q', '--no-cache']);
  assertCleanError(below, new RegExp(`cannot write the detector to ${join(A_FILE, 'det')}: `));
});

test('model random --out below a file names --out', () => {
  const r = rwda(['model', 'random', '--arch', 'ViT-B-32', '--seed', '1', '--vocab', join(OPENCLIP_FIXTURES, 'hf-tokenizer'), '--out', join(A_FILE, 'm'), '--quiet']);
  assertCleanError(r, new RegExp(`--out ${join(A_FILE, 'm')}: cannot create the model directory`));
});

test('writeFileAtomic below a file throws RwdaError naming the path', () => {
  const target = join(A_FILE, 'x.json');
  assert.throws(() => writeFileAtomic(target, '{}'), (err: unknown) => err instanceof RwdaError && err.message.includes(target));
});

test('experiment tsne: perplexity not below the number of points names --perplexity and --pairs', () => {
  const r = rwda(['experiment', 'tsne', '--model', MODEL, '--out', join(TMP, 'tsne'), '--pairs', '8', '-q', '--no-cache']);
  assertCleanError(r, /--perplexity 30 must be > 0 and less than the number of points, 16 \(2 × 8 --pairs \+ 0 images\); raise --pairs or lower --perplexity/);
});
