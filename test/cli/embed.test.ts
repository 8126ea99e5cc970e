// `rwda tokenize` and `rwda embed text|image` against the open_clip goldens of tiny-gelu.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, OPENCLIP_FIXTURES } from '../helpers/paths.ts';
import { formatFloat32 } from '../../src/cli/commands/embed.ts';
import { assertClose, concat, f32, loadGoldens, modelDir, TOL, VOCAB_GZ } from '../clip/towers_goldens.ts';

const MODEL = modelDir('tiny-gelu');
const g = loadGoldens('tiny-gelu');

function rwda(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/rwda.js'), ...args], { input, encoding: 'utf8', cwd: REPO_ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, rows: r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('tokenize: arguments (after --, with dashes and newlines) and stdin lines give open_clip ids', () => {
  const args = ['-x', 'two\nlines', ...g.text.prompts];
  const r = rwda(['tokenize', '--model', MODEL, '--vocab', VOCAB_GZ, '--', ...args]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.rows.map((x) => x.text), args);
  assert.deepEqual(r.rows.slice(2).map((x) => x.ids), g.text.ids);
  assert.ok(r.rows.every((x) => (x.ids as number[]).length === 77));

  const lines = ['a photo of a object', '', 'a photo of a damaged object'];
  const s = rwda(['tokenize', '--model', MODEL, '--vocab', VOCAB_GZ], lines.join('\r\n') + '\n');
  assert.equal(s.status, 0, s.stderr);
  assert.deepEqual(s.rows.map((x) => x.text), lines);
  assert.deepEqual(s.rows.map((x) => x.ids), [g.text.ids[0], g.text.ids[5], g.text.ids[1]]);

  const missing = rwda(['tokenize', '--model', MODEL, 'a']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^rwda: no tokenizer vocabulary in /);
});

test('embed text: features in input order, raw and normalised', () => {
  const r = rwda(['embed', 'text', '--model', MODEL, '--vocab', VOCAB_GZ, '--batch-size', '3', '--', ...g.text.prompts]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.rows.map((x) => x.text), g.text.prompts);
  assertClose(concat(r.rows.map((x) => x.embedding as number[])), f32(g, g.text.features), TOL.features, 'CLI text features');

  const stdin = [g.text.prompts[2]!, g.text.prompts[0]!].join('\n') + '\n';
  const n = rwda(['embed', 'text', '--model', MODEL, '--vocab', VOCAB_GZ, '--normalize'], stdin);
  assert.equal(n.status, 0, n.stderr);
  const E = 32;
  const expected = f32(g, g.text.features_normalized);
  assertClose(concat(n.rows.map((x) => x.embedding as number[])), concat([expected.subarray(2 * E, 3 * E), expected.subarray(0, E)]), TOL.normalized, 'CLI normalised');
});

test('embed image: good files in order, bad ones reported on stderr, exit 1', () => {
  const names = ['rgb_64x48.png', 'palette_80x60.png'];
  const files = [join(OPENCLIP_FIXTURES, 'images', names[0]!), join(OPENCLIP_FIXTURES, 'README.md'), join(OPENCLIP_FIXTURES, 'images', names[1]!), '/nonexistent/x.png'];
  const r = rwda(['embed', 'image', '--model', MODEL, '--batch-size', '2', ...files]);
  assert.equal(r.status, 1);
  assert.deepEqual(r.rows.map((x) => x.file), [files[0], files[2]]);
  const expected = concat(names.map((nm) => f32(g, g.images.find((im) => im.name === nm)!.features)));
  assertClose(concat(r.rows.map((x) => x.embedding as number[])), expected, TOL.features, 'CLI image features');
  assert.match(r.stderr, /README\.md/);
  assert.match(r.stderr, /\/nonexistent\/x\.png/);
  assert.match(r.stderr, /2 of 4 image\(s\) could not be embedded/);
});

test('formatFloat32 prints the shortest decimal that reads back to the same float32', () => {
  for (const x of [0, 1, -1.5, 0.1, 1 / 3, 3.4028234663852886e38, 1.401298464324817e-45, -2.2853286266326904, 12345.678]) {
    const f = Math.fround(x);
    const s = formatFloat32(f);
    assert.equal(Math.fround(Number(JSON.parse(s))), f, `${x} → ${s}`);
    assert.ok(s.replace(/^-|e.*$|\./g, '').replace(/^0+/, '').length <= 9, s);
  }
  assert.equal(formatFloat32(Math.fround(0.1)), '0.1');
});
