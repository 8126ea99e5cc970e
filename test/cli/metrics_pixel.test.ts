import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FIXTURES, REPO_ROOT } from '../helpers/paths.ts';

const run = promisify(execFile);
const DIR = join(FIXTURES, 'pixel_metrics'); // cases/<name>/{maps,masks} are already in the CLI's layout
const golden = JSON.parse(readFileSync(join(DIR, 'cases.json'), 'utf8')) as {
  tolerance: Record<string, number>;
  cases: Array<{
    name: string;
    valid: boolean;
    maps: string;
    masks: string;
    runs?: Array<{ args: string[]; expected: Record<string, number> }>;
    args?: string[];
    mentions_any?: string[];
  }>;
};
const KEYS = ['pixel_auroc', 'pixel_ap', 'pixel_f1_max', 'aupro', 'pro_limit', 'n_images', 'n_pixels', 'n_anomalous_pixels'];
const tmp = mkdtempSync(join(tmpdir(), 'rwda-metrics-pixel-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function rwda(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [join(REPO_ROOT, 'bin', 'rwda.js'), ...args], { cwd: tmp });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Runs `jobs` two at a time (the CLI start-up dominates; more would only fight for the cores). */
async function pool<T>(jobs: Array<() => Promise<T>>): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const k = next++;
      out[k] = await jobs[k]!();
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}

// Every run goes through the library in test/eval/pixel_metrics.test.ts; through the CLI (≈1 s of start-up each) we
// take each valid case's first run plus every run of the cases whose extra runs exercise --pro-limit parsing.
const ALL_RUNS = new Set(['mvtec_like_64x64_f32', 'mostly_anomalous', 'limit_on_a_curve_point']);

test('rwda metrics pixel: every valid fixture case prints the expected JSON object', async () => {
  const runs = golden.cases
    .filter((c) => c.valid)
    .flatMap((c) => (ALL_RUNS.has(c.name) ? c.runs! : c.runs!.slice(0, 1)).map((r) => ({ c, r })));
  assert.equal(runs.length, 34);
  const results = await pool(
    runs.map(({ c, r }) => () => rwda(['metrics', 'pixel', '--maps', join(DIR, c.maps), '--masks', join(DIR, c.masks), ...r.args])),
  );
  runs.forEach(({ c, r }, k) => {
    const res = results[k]!;
    const what = `${c.name} ${r.args.join(' ')}`;
    assert.equal(res.code, 0, `${what}: ${res.stderr}`);
    const lines = res.stdout.trim().split('\n');
    assert.equal(lines.length, 1, `${what}: one JSON line`);
    const out = JSON.parse(lines[0]!) as Record<string, number>;
    assert.deepEqual(Object.keys(out), KEYS);
    for (const key of KEYS) {
      const tol = golden.tolerance[key];
      if (tol === undefined) assert.equal(out[key], r.expected[key], `${what} ${key}`);
      else assert.ok(Math.abs(out[key]! - r.expected[key]!) <= tol, `${what} ${key}: ${out[key]} vs ${r.expected[key]}`);
    }
  });
});

test('rwda metrics pixel: every invalid fixture case exits non-zero with one line naming the file', async () => {
  const cases = golden.cases.filter((c) => !c.valid);
  assert.equal(cases.length, 10);
  const results = await pool(
    cases.map((c) => () => rwda(['metrics', 'pixel', '--maps', join(DIR, c.maps), '--masks', join(DIR, c.masks), ...c.args!])),
  );
  cases.forEach((c, k) => {
    const res = results[k]!;
    assert.notEqual(res.code, 0, c.name);
    assert.equal(res.stdout, '', c.name);
    const lines = res.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${c.name}: ${res.stderr}`);
    assert.match(lines[0]!, /^rwda: /);
    if (c.mentions_any!.length > 0) assert.ok(c.mentions_any!.some((s) => lines[0]!.includes(s)), `${c.name}: ${lines[0]}`);
  });
});

test('rwda metrics pixel: bad --pro-limit values, a missing folder, a map nested deeper than its mask', async () => {
  const c = golden.cases.find((x) => x.name === 'mvtec_like_64x64_f32')!;
  const base = ['metrics', 'pixel', '--maps', join(DIR, c.maps), '--masks', join(DIR, c.masks)];
  for (const bad of ['1.5', '-0.1', 'abc', '', '0x1']) {
    const r = await rwda([...base, '--pro-limit', bad]);
    assert.equal(r.code, 1, bad);
    assert.match(r.stderr, /--pro-limit .*must be a number in \(0, 1\]/);
  }
  const missing = await rwda(['metrics', 'pixel', '--maps', join(tmp, 'nope'), '--masks', join(DIR, c.masks)]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /--maps .*nope: no such folder/);
  // A mask whose map sits elsewhere is a mask without a map, even when a map of that base name exists.
  const maps = join(tmp, 'maps');
  const masks = join(tmp, 'masks');
  mkdirSync(join(maps, 'good'), { recursive: true });
  mkdirSync(join(masks, 'crack'), { recursive: true });
  copyFileSync(join(DIR, c.maps, 'crack', '000.npy'), join(maps, 'good', '000.npy'));
  copyFileSync(join(DIR, c.masks, 'crack', '000_mask.png'), join(masks, 'crack', '000_mask.png'));
  const r = await rwda(['metrics', 'pixel', '--maps', maps, '--masks', masks]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /crack[/\\]000_mask\.png: mask without a map/);
});

test('rwda metrics FILE.csv still works beside the pixel subcommand', async () => {
  const csv = join(tmp, 'scores.csv');
  writeFileSync(csv, 'label,score\n0,0.1\n0,0.4\n1,0.35\n1,0.8\n');
  const r = await rwda(['metrics', csv]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, number>;
  assert.equal(out.auroc, 0.75);
  assert.equal(out.n, 4);
});
