// Pair-prefix-sharing text encoding on the tiny fixture models: the packed prefix-tree graph gives the
// plain text tower's features (and open_clip's goldens) for augmented pairs with shared and independent
// words, prefix length 1, identical prompts, truncated prompts, and every batch size; the packing itself
// is checked by hand on a small example.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ClipModel } from '../../src/clip/model.ts';
import { packedLength, packGroups, PairTextTower, sharedPrefixLength, type TextPair } from '../../src/clip/text_pairs.ts';
import { REFERENCE_KERNELS } from '../../src/clip/onnx/transformer.ts';
import { firstArgmax } from '../../src/clip/text_tower.ts';
import { augmentedPairs } from '../../src/methods/rwda/prompts.ts';
import { RwdaError } from '../../src/errors.ts';
import { assertClose, concat, f32, HF_TOKENIZER_DIR, loadGoldens, maxAbsDiff, modelDir, TINY_MODELS, TOL } from './towers_goldens.ts';

/** Pair features vs the plain tower: the graphs compute the same sums in another order. */
const EXACT = 1e-5;

const LONG = Array.from({ length: 90 }, (_, i) => `w${i}`).join(' ');

/** ~50 pairs covering every shape of shared prefix. */
function testPairs(): TextPair[] {
  return [
    ...augmentedPairs({ n: 16, seed: 0 }),
    ...augmentedPairs({ n: 8, seed: 41, normalWord: 'a flawless', anomalyWord: 'a broken' }),
    // Independent words: the prompts usually part right after SOT (or after a shared "a").
    ...augmentedPairs({ n: 14, seed: 7, independent: true }),
    ...augmentedPairs({ n: 4, seed: 5, slots: [false, true, true, true, true] }),
    { normal: 'a photo of a bottle', anomaly: 'a photo of a bottle' },
    { normal: '', anomaly: '' },
    { normal: '', anomaly: 'a photo of a damaged object' },
    { normal: 'cat', anomaly: 'dog' },
    { normal: 'a photo', anomaly: 'a photo of a damaged object' },
    // Truncated at 77 tokens: identical after truncation, parting inside the window, parting at once.
    { normal: `${LONG} a object`, anomaly: `${LONG} a damaged object` },
    { normal: `a photo of a ${LONG}`, anomaly: `a photo of a damaged ${LONG}` },
    { normal: `x ${LONG}`, anomaly: `y ${LONG}` },
  ];
}

function rowsOf(model: ClipModel, texts: string[]): Int32Array[] {
  const t = model.tokenize(texts);
  return Array.from({ length: t.count }, (_, i) => t.ids.subarray(i * t.contextLength, (i + 1) * t.contextLength));
}

for (const name of TINY_MODELS) {
  test(`${name}: pair-shared features equal the plain text tower's (both kernel sets, all batch sizes)`, async () => {
    const model = await ClipModel.load(modelDir(name), { vocab: HF_TOKENIZER_DIR, towers: 'text', intraOpNumThreads: 1 });
    const reference = await PairTextTower.fromCheckpoint(model.config, join(modelDir(name), 'open_clip_model.safetensors'), {
      kernels: REFERENCE_KERNELS,
      session: { intraOpNumThreads: 1 },
    });
    try {
      const pairs = testPairs();
      const normalRows = rowsOf(model, pairs.map((p) => p.normal));
      const anomalyRows = rowsOf(model, pairs.map((p) => p.anomaly));
      // The cases really occur: prefix of SOT only, identical rows, truncation, and real sharing overall.
      const prefixes = pairs.map((_, i) => {
        const rows = [normalRows[i]!, anomalyRows[i]!];
        return sharedPrefixLength(rows, rows.map(firstArgmax));
      });
      assert.ok(prefixes.filter((p) => p === 1).length >= 5, `pairs with prefix length 1: ${prefixes.filter((p) => p === 1).length}`);
      assert.equal(prefixes[pairs.length - 3], 76, 'identical after truncation: all but the EOT is shared');
      assert.ok(normalRows.some((r) => r[76] !== 0 && firstArgmax(r) === 76), 'a truncated row');
      const shared = prefixes.slice(0, 16).reduce((a, b) => a + b, 0);
      const total = normalRows.slice(0, 16).reduce((a, r) => a + firstArgmax(r) + 1, 0);
      assert.ok(shared > 0.6 * total, `augmented pairs share ${shared} of ${total} normal-prompt tokens`);

      const plainN = concat(await model.encodeText(pairs.map((p) => p.normal)));
      const plainA = concat(await model.encodeText(pairs.map((p) => p.anomaly)));
      const report: string[] = [];
      const check = (got: { normal: ArrayLike<number>; anomaly: ArrayLike<number> }, what: string) => {
        const d = Math.max(maxAbsDiff(got.normal, plainN), maxAbsDiff(got.anomaly, plainA));
        report.push(`${what} ${d.toExponential(2)}`);
        assert.ok(d <= EXACT, `${name} ${what}: max |Δ| ${d} > ${EXACT}`);
      };
      const viaModel = await model.encodeTextPairs(pairs);
      check({ normal: concat(viaModel.normal), anomaly: concat(viaModel.anomaly) }, 'mha kernels');
      check(await reference.encodeIdPairs(normalRows, anomalyRows), 'reference kernels');
      for (const batchSize of [1, 2, 5, 64]) {
        const progress: number[] = [];
        check(await reference.encodeIdPairs(normalRows, anomalyRows, { batchSize, onProgress: (d) => progress.push(d) }), `batch ${batchSize}`);
        assert.equal(progress.at(-1), pairs.length);
      }
      // Normalised output as encodeText's.
      const unitN = concat(await model.encodeText(pairs.map((p) => p.normal), { normalize: true }));
      assertClose(concat((await model.encodeTextPairs(pairs, { normalize: true })).normal), unitN, EXACT, 'normalised pair features');
      process.stdout.write(`# ${name}: ${pairs.length} pairs, max |Δ| vs encodeText: ${report.join(', ')}\n`);
    } finally {
      await reference.dispose();
      await model.dispose();
    }
  });

  test(`${name}: golden prompts paired up give open_clip's features`, async () => {
    const g = loadGoldens(name);
    const model = await ClipModel.load(modelDir(name), { vocab: HF_TOKENIZER_DIR, towers: 'text', intraOpNumThreads: 1 });
    try {
      const E = model.config.embedDim;
      const prompts = g.text.prompts;
      const expected = f32(g, g.text.features);
      const pairs = prompts.flatMap((a, i) => prompts.map((b) => ({ normal: a, anomaly: b, i }))).filter((_, k) => k % 3 === 0);
      const r = await model.encodeTextPairs(pairs);
      pairs.forEach((p, k) => {
        const j = prompts.indexOf(p.anomaly);
        assertClose(r.normal[k]!, expected.subarray(p.i * E, (p.i + 1) * E), TOL.features, `pair ${k} normal`);
        assertClose(r.anomaly[k]!, expected.subarray(j * E, (j + 1) * E), TOL.features, `pair ${k} anomaly`);
      });
    } finally {
      await model.dispose();
    }
  });
}

test('packGroups: tokens, positions, attention bias and pool rows of a small batch', () => {
  const SOT = 9;
  const EOT = 10;
  // Pair 0: [SOT 1 2 | 3 EOT] vs [SOT 1 2 | 4 5 EOT]; pair 1: [SOT | EOT] vs [SOT | 7 EOT].
  const g0 = { rows: [[SOT, 1, 2, 3, EOT, 0], [SOT, 1, 2, 4, 5, EOT]], eots: [4, 5], prefix: 3 };
  const g1 = { rows: [[SOT, EOT, 0], [SOT, 7, EOT]], eots: [1, 2], prefix: 1 };
  assert.equal(packedLength(g0), 3 + 2 + 3);
  assert.equal(packedLength(g1), 1 + 1 + 2);
  const p = packGroups([g0, g1]);
  assert.deepEqual([p.B, p.L, p.K], [2, 8, 2]);
  assert.deepEqual(Array.from(p.ids), [SOT, 1, 2, 3, EOT, 4, 5, EOT, SOT, EOT, 7, EOT, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(p.positions, Number), [0, 1, 2, 3, 4, 3, 4, 5, 0, 1, 1, 2, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(p.pool, Number), [4, 7, 1, 3]);
  const seen = (b: number, q: number) => Array.from({ length: p.L }, (_, j) => (p.bias[(b * p.L + q) * p.L + j] === 0 ? 1 : 0)).join('');
  for (const v of p.bias) assert.ok(v === 0 || v === -Infinity);
  // Sequence 0: causal prefix, then each suffix sees the prefix and itself so far.
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((q) => seen(0, q)), ['10000000', '11000000', '11100000', '11110000', '11111000', '11100100', '11100110', '11100111']);
  // Sequence 1: padding rows see only themselves.
  assert.deepEqual([0, 1, 2, 3, 4, 7].map((q) => seen(1, q)), ['10000000', '11000000', '10100000', '10110000', '00001000', '00000001']);
});

test('sharedPrefixLength: stops at the first difference and leaves every row its EOT', () => {
  assert.equal(sharedPrefixLength([[1, 2, 3, 9], [1, 2, 4, 9]], [3, 3]), 2);
  assert.equal(sharedPrefixLength([[1, 2, 9, 0], [1, 2, 9, 0]], [2, 2]), 2);
  assert.equal(sharedPrefixLength([[1, 9], [1, 5, 9]], [1, 2]), 1);
  assert.equal(sharedPrefixLength([[2, 9], [1, 9]], [1, 1]), 0);
});

test('pair encoding rejects mismatched and invalid rows with RwdaError', async () => {
  const model = await ClipModel.load(modelDir('tiny-gelu'), { vocab: HF_TOKENIZER_DIR, towers: 'text', intraOpNumThreads: 1 });
  const tower = await PairTextTower.fromCheckpoint(model.config, join(modelDir('tiny-gelu'), 'open_clip_model.safetensors'));
  try {
    await assert.rejects(tower.encodeIdPairs([[49406, 49407]], []), (e: unknown) => e instanceof RwdaError && /1 normal rows but 0 anomaly/.test(e.message));
    await assert.rejects(tower.encodeIdPairs([[49406, 49407]], [[49406, 49408]]), /anomaly row 0 holds id 49408 at position 1/);
    await assert.rejects(tower.encodeIdPairs([new Array(78).fill(1)], [[1]]), /normal row 0 has 78 ids/);
    await assert.rejects(tower.encodeIdPairs([[1]], [[1]], { batchSize: 0 }), /batch size/);
    assert.deepEqual(await model.encodeTextPairs([]), { normal: [], anomaly: [] });
  } finally {
    await tower.dispose();
    await model.dispose();
  }
  await assert.rejects(model.encodeTextPairs([{ normal: 'a', anomaly: 'b' }]), /not loaded/);
  await assert.rejects(tower.encodeIdPairs([[1]], [[1]]), /disposed/);
});
