// trainFnn: the public API (validation, schedule, callbacks, shuffling, seeds), the onnx graph
// against the reference with dropout + shuffle + a ragged batch, and learning on separable data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RwdaError } from '../../src/errors.ts';
import { trainFnn, type StepInfo } from '../../src/methods/rwda/fnn/train.ts';
import { Rng } from '../../src/util/rng.ts';
import { goldenData, goldenState, loadGolden, maxAbsDiff } from './fnn_goldens.ts';

function pairData(pairs: number, dim: number, seed: number, signal = 0): { x: Float32Array; dim: number; labels: Uint8Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(2 * pairs * dim);
  for (let r = 0; r < 2 * pairs; r++) {
    let ss = 0;
    for (let k = 0; k < dim; k++) {
      const v = rng.normal() + (r % 2 === 1 && k < 2 ? signal : 0);
      x[r * dim + k] = v;
      ss += v * v;
    }
    for (let k = 0; k < dim; k++) x[r * dim + k] = x[r * dim + k]! / Math.sqrt(ss);
  }
  return { x, dim, labels: Uint8Array.from({ length: 2 * pairs }, (_, i) => i % 2) };
}

const SMALL = { hidden: [24, 12, 6], batchSize: 16 };

test('input validation: RwdaError for odd rows, non-alternating labels, NaN, sizes, bad config', async () => {
  const d = pairData(10, 8, 1);
  const expectErr = async (p: Promise<unknown>, re: RegExp): Promise<void> => {
    await assert.rejects(p, (e: unknown) => e instanceof RwdaError && re.test(e.message));
  };
  await expectErr(trainFnn({ ...d, x: d.x.subarray(0, 19 * 8), labels: d.labels.subarray(0, 19) }, { seed: 0 }), /19 rows is odd/);
  const swapped = d.labels.slice();
  swapped[6] = 1;
  swapped[7] = 0;
  await expectErr(trainFnn({ ...d, labels: swapped }, { seed: 0 }), /labels\[6\] is 1, expected 0/);
  await expectErr(trainFnn({ ...d, labels: Float32Array.from(d.labels, (v) => (v === 1 ? 0.5 : 0)) }, { seed: 0 }), /labels\[1\] is 0\.5/);
  const nan = d.x.slice();
  nan[3 * 8 + 2] = NaN;
  await expectErr(trainFnn({ ...d, x: nan }, { seed: 0 }), /non-finite value at row 3, column 2/);
  await expectErr(trainFnn({ ...d, x: d.x.subarray(0, 20 * 8 - 1) }, { seed: 0 }), /not a multiple of dim 8/);
  await expectErr(trainFnn({ ...d, labels: d.labels.subarray(0, 18) }, { seed: 0 }), /labels has 18 entries for 20 rows/);
  await expectErr(trainFnn({ ...d, x: new Float32Array(0), labels: new Uint8Array(0) }, { seed: 0 }), /no rows/);
  await expectErr(trainFnn(d, { seed: 0, batchSize: 15 }), /batchSize must be an even integer/);
  await expectErr(trainFnn(d, { seed: 0, dropout: 1 }), /dropout must be in \[0, 1\)/);
  await expectErr(trainFnn(d, { seed: -1 }), /seed must be an integer/);
  await expectErr(trainFnn(d, { seed: 0, hidden: [] }), /hidden must list at least one/);
  await expectErr(trainFnn(d, { seed: 0, lr: NaN }), /lr must be a finite number/);
  await expectErr(trainFnn(d, { seed: 0 }, { backend: 'reference', dtype: 'float32' }), /reference backend computes in float64 only/);
  const other = Object.fromEntries(
    (await trainFnn(pairData(4, 6, 1), { seed: 0, ...SMALL, epochs: 1 })).model.toState().map((t) => [t.name, t]),
  );
  await expectErr(trainFnn(d, { seed: 0 }, { initialState: other }), /input width 6 does not match the data's 8/);
});

test('schedule and callbacks: steps per epoch with a ragged batch, StepLR after each epoch, losses returned', async () => {
  const d = pairData(21, 8, 2); // 42 rows, batch 16 → 3 steps per epoch (16, 16, 10)
  const infos: StepInfo[] = [];
  const { model, losses } = await trainFnn(d, { seed: 5, ...SMALL, epochs: 3, lr: 2e-3, lrDecay: 0.5 }, { onStep: (i) => infos.push(i) });
  assert.equal(infos.length, 9);
  assert.deepEqual(infos.map((i) => i.step), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(infos.map((i) => i.epoch), [0, 0, 0, 1, 1, 1, 2, 2, 2]);
  assert.deepEqual(infos.map((i) => i.lr), [2e-3, 2e-3, 2e-3, 1e-3, 1e-3, 1e-3, 5e-4, 5e-4, 5e-4]);
  assert.ok(infos.every((i) => i.steps === 9));
  assert.deepEqual(infos.map((i) => i.loss), losses);
  assert.deepEqual([...model.state.get('1.num_batches_tracked')!.data], [9]);
  assert.ok(model.state.get('0.weight')!.data instanceof Float32Array, 'the fast path trains in float32');
  model.dispose();
});

test('seeded: same seed → identical run; other seed or shuffle off → a different run', async () => {
  const d = pairData(40, 8, 3);
  const cfg = { seed: 11, ...SMALL, epochs: 2 };
  const a = await trainFnn(d, cfg);
  const b = await trainFnn(d, cfg);
  assert.deepEqual(a.losses, b.losses);
  assert.deepEqual(a.model.toState(), b.model.toState());
  const c = await trainFnn(d, { ...cfg, seed: 12 });
  assert.notDeepEqual(c.losses, a.losses);
  // Without dropout the seed only drives init and shuffling: shuffle off must change the run, and
  // two unshuffled runs from the same initial state must agree whatever the seed.
  const shuffled = await trainFnn(d, { ...cfg, dropout: 0 });
  const plain = await trainFnn(d, { ...cfg, dropout: 0 }, { shuffle: false });
  assert.notDeepEqual(plain.losses, shuffled.losses);
  const init = (await trainFnn(d, { ...cfg, epochs: 1 })).model;
  const r1 = await trainFnn(d, { ...cfg, seed: 1, dropout: 0 }, { initialState: init.toState(), shuffle: false });
  const r2 = await trainFnn(d, { ...cfg, seed: 2, dropout: 0 }, { initialState: init.toState(), shuffle: false });
  assert.deepEqual(r1.losses, r2.losses);
  for (const m of [a.model, b.model, c.model, shuffled.model, plain.model, init, r1.model, r2.model]) m.dispose();
});

// The float64 onnx graph and the float64 reference consume the same shuffled order and dropout
// masks, so they must agree to rounding (README float64 tolerances).
test('onnx float64 graph = reference with dropout 0.5, shuffling and a ragged last batch', async () => {
  const d = pairData(27, 10, 4); // 54 rows, batch 16 → 16,16,16,6
  const cfg = { seed: 21, hidden: [20, 12, 6], batchSize: 16, epochs: 2, dropout: 0.5, lr: 5e-3 };
  const ref = await trainFnn(d, cfg, { backend: 'reference' });
  const onnx = await trainFnn(d, cfg, { backend: 'onnx', dtype: 'float64' });
  assert.equal(ref.losses.length, 8);
  assert.ok(maxAbsDiff(ref.losses, onnx.losses) < 1e-12, `losses ${maxAbsDiff(ref.losses, onnx.losses)}`);
  for (const [key, t] of ref.model.state) {
    const tol = /^(0|4|8)\.bias$/.test(key) || key.endsWith('running_mean') ? 1e-7 : 1e-10;
    const dd = maxAbsDiff(t.data, onnx.model.state.get(key)!.data);
    assert.ok(dd <= tol, `${key}: ${dd}`);
  }
  // Dropout changed the run: without it the losses differ.
  const noDrop = await trainFnn(d, { ...cfg, dropout: 0 }, { backend: 'reference' });
  assert.ok(maxAbsDiff(noDrop.losses, ref.losses) > 1e-3);
  for (const m of [ref.model, onnx.model, noDrop.model]) m.dispose();
});

test('public API replays a torch golden from its initial state (float32 fast path, README float32 tolerances)', async () => {
  const g = loadGolden('ragged_n44_bs8', 'float32');
  const c = g.config;
  const { model, losses } = await trainFnn(
    goldenData(g),
    { seed: 0, hidden: [c.h1, c.h2, c.h3], dropout: 0, lr: c.lr, weightDecay: c.weight_decay, batchSize: c.batch_size, epochs: c.epochs, lrDecay: c.scheduler.gamma },
    { initialState: goldenState(g.initial_state), shuffle: false },
  );
  assert.ok(maxAbsDiff(losses, g.steps.map((s) => s.loss)) < 1e-5);
  const held = model.predictProba(Float32Array.from(g.heldout.x.flat()), 10);
  assert.ok(maxAbsDiff(held, g.final_eval_heldout_sigmoid) < 5e-3);
  assert.deepEqual(model.toState().find((t) => t.name === '9.num_batches_tracked')!.data, Float32Array.of(12));
  model.dispose();
});

test('learns: on separable pairs the loss falls and anomalous rows score above their normal partners', async () => {
  const d = pairData(400, 16, 6, 1.5);
  const { model, losses } = await trainFnn(d, { seed: 1, hidden: [32, 16, 8], batchSize: 32, epochs: 2, lr: 1e-2, lrDecay: 0.5 });
  const first = losses.slice(0, 5).reduce((a, b) => a + b, 0) / 5;
  const last = losses.slice(-5).reduce((a, b) => a + b, 0) / 5;
  assert.ok(last < first - 0.1, `loss ${first} → ${last}`);
  const test = pairData(200, 16, 7, 1.5);
  const p = model.predictProba(test.x, 400);
  let wins = 0;
  for (let k = 0; k < 200; k++) if (p[2 * k + 1]! > p[2 * k]!) wins++;
  assert.ok(wins / 200 > 0.9, `pairwise accuracy ${wins / 200}`);
  model.dispose();
});
