// FNN model: torch default init, state_dict layout and (de)serialisation, eval-mode scoring.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RwdaError } from '../../src/errors.ts';
import { FNN_DEFAULTS } from '../../src/methods/rwda/defaults.ts';
import { Fnn } from '../../src/methods/rwda/fnn/model.ts';
import { evalLogitsReference } from '../../src/methods/rwda/fnn/train_reference.ts';
import { Rng } from '../../src/util/rng.ts';
import { goldenState, loadGolden, maxAbsDiff, sigmoid } from './fnn_goldens.ts';

const TORCH_KEYS_3 = [
  '0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked',
  '4.weight', '4.bias', '5.weight', '5.bias', '5.running_mean', '5.running_var', '5.num_batches_tracked',
  '8.weight', '8.bias', '9.weight', '9.bias', '9.running_mean', '9.running_var', '9.num_batches_tracked',
  '12.weight', '12.bias',
];

test('init: torch key names and shapes, default widths from FNN_DEFAULTS', () => {
  const m = Fnn.init(640, { seed: 1 });
  assert.deepEqual(m.config.hidden, [...FNN_DEFAULTS.hidden]);
  const st = m.toState();
  assert.deepEqual(st.map((t) => t.name), TORCH_KEYS_3);
  const shape = Object.fromEntries(st.map((t) => [t.name, t.shape]));
  assert.deepEqual(shape['0.weight'], [512, 640]);
  assert.deepEqual(shape['4.weight'], [256, 512]);
  assert.deepEqual(shape['8.weight'], [128, 256]);
  assert.deepEqual(shape['12.weight'], [1, 128]);
  assert.deepEqual(shape['12.bias'], [1]);
  assert.deepEqual(shape['9.running_var'], [128]);
  assert.deepEqual(shape['1.num_batches_tracked'], []);
  for (const t of st) assert.equal(t.data.length, t.shape.reduce((a, b) => a * b, 1), t.name);
  m.dispose();
});

test('init: Linear weight/bias ~ U(±1/√fan_in) (range, mean, variance), BN 1/0, stats 0/1, deterministic per seed', () => {
  const m = Fnn.init(640, { seed: 7 });
  const st = new Map(m.toState().map((t) => [t.name, t]));
  for (const [key, fanIn] of [['0.weight', 640], ['4.weight', 512], ['8.weight', 256], ['12.weight', 128], ['0.bias', 640], ['4.bias', 512]] as const) {
    const d = st.get(key)!.data;
    const bound = 1 / Math.sqrt(fanIn);
    let s = 0;
    let s2 = 0;
    let max = 0;
    for (const v of d) {
      s += v;
      s2 += v * v;
      max = Math.max(max, Math.abs(v));
    }
    assert.ok(max <= bound, `${key} within bound`);
    if (d.length >= 1000) {
      const mean = s / d.length;
      const variance = s2 / d.length - mean * mean;
      // U(−a, a): mean 0 (sd a/√(3n)), variance a²/3 (relative sd ≈ √(4/(5n))).
      assert.ok(Math.abs(mean) < (5 * bound) / Math.sqrt(3 * d.length), `${key} mean ${mean}`);
      assert.ok(Math.abs(variance / (bound * bound / 3) - 1) < 5 * Math.sqrt(0.8 / d.length), `${key} variance ${variance}`);
      assert.ok(max > 0.99 * bound, `${key} reaches the bound`);
    }
  }
  for (const b of [1, 5, 9]) {
    assert.ok(st.get(`${b}.weight`)!.data.every((v) => v === 1));
    assert.ok(st.get(`${b}.bias`)!.data.every((v) => v === 0));
    assert.ok(st.get(`${b}.running_mean`)!.data.every((v) => v === 0));
    assert.ok(st.get(`${b}.running_var`)!.data.every((v) => v === 1));
    assert.deepEqual([...st.get(`${b}.num_batches_tracked`)!.data], [0]);
  }
  const again = Fnn.init(640, { seed: 7 }).toState();
  const other = Fnn.init(640, { seed: 8 }).toState();
  assert.deepEqual(again, m.toState());
  assert.notDeepEqual(other[0]!.data, again[0]!.data);
  // The float64 state holds float32-representable values (the model is a float32 model).
  const w = m.state.get('0.weight')!.data;
  assert.ok(w.every((v) => Math.fround(v) === v));
  m.dispose();
});

test('any number of hidden layers: keys follow 4·i / 4·i+1, head at 4·L', () => {
  const one = Fnn.init(5, { hidden: [7], seed: 0 }).toState().map((t) => t.name);
  assert.deepEqual(one, ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked', '4.weight', '4.bias']);
  const four = Fnn.init(5, { hidden: [6, 5, 4, 3], seed: 0 });
  assert.equal(four.toState().at(-1)!.name, '16.bias');
  const back = Fnn.fromState(four.toState());
  assert.deepEqual(back.config.hidden, [6, 5, 4, 3]);
  const x = Float32Array.from({ length: 3 * 5 }, (_, i) => Math.sin(i));
  assert.deepEqual(back.predictLogits(x, 3), four.predictLogits(x, 3));
  four.dispose();
  back.dispose();
});

test('toState / fromState round trip (also from a key → tensor record)', () => {
  const m = Fnn.init(16, { hidden: [32, 16, 8], seed: 3 });
  const st = m.toState();
  const back = Fnn.fromState(st);
  assert.deepEqual(back.toState(), st);
  const rec = Object.fromEntries(st.map((t) => [t.name, { shape: t.shape, data: t.data }]));
  assert.deepEqual(Fnn.fromState(rec).toState(), st);
  assert.equal(back.dim, 16);
  m.dispose();
});

test('fromState rejects bad state_dicts with RwdaError naming the tensor', () => {
  const st = Fnn.init(16, { hidden: [32, 16, 8], seed: 3 }).toState();
  const without = (k: string) => st.filter((t) => t.name !== k);
  const replace = (k: string, f: (t: (typeof st)[number]) => (typeof st)[number]) => st.map((t) => (t.name === k ? f(t) : t));
  const cases: Array<[string, Parameters<typeof Fnn.fromState>[0], RegExp]> = [
    ['missing', without('5.running_var'), /missing tensor "5\.running_var"/],
    ['shape', replace('4.weight', (t) => ({ ...t, shape: [16, 33], data: new Float32Array(16 * 33) })), /"4\.weight" has shape \[16,33\], expected \[16,32\]/],
    ['length', replace('1.bias', (t) => ({ ...t, data: new Float32Array(31) })), /"1\.bias" holds 31 values/],
    ['nan', replace('8.weight', (t) => ({ ...t, data: t.data.map((v, i) => (i === 5 ? NaN : v)) })), /"8\.weight" has a non-finite value at index 5/],
    ['neg var', replace('9.running_var', (t) => ({ ...t, data: t.data.map((v, i) => (i === 0 ? -1 : v)) })), /"9\.running_var" has a negative variance/],
    ['extra', [...st, { name: '13.weight', shape: [1], data: new Float32Array(1) }], /unexpected tensor "13\.weight"/],
    ['nbt', replace('1.num_batches_tracked', (t) => ({ ...t, data: Float32Array.of(1.5) })), /num_batches_tracked" must be a non-negative integer/],
    ['empty', [], /missing tensor "0\.weight"/],
  ];
  for (const [what, input, re] of cases) {
    assert.throws(() => Fnn.fromState(input, {}, 'fnn.safetensors'), (e: unknown) => e instanceof RwdaError && /^fnn\.safetensors: /.test(e.message) && re.test(e.message), what);
  }
  assert.throws(() => Fnn.fromState(st, { hidden: [32, 16] }), RwdaError);
});

test('predictLogits (float32 onnx) matches the float64 reference eval; chunking; predictProba is the sigmoid', () => {
  const g = loadGolden('lr1e-3_wd1e-2', 'float64');
  const m = Fnn.fromState(goldenState(g.after_epoch[1]!.state));
  // 40,000 rows cross the 16,384-row chunk boundary twice.
  const rng = new Rng(2);
  const n = 40_000;
  const x = Float32Array.from({ length: n * 16 }, () => rng.normal() * 0.25);
  const ref = evalLogitsReference(m.layout, m.state, x, n, m.config.bnEps);
  const got = m.predictLogits(x, n);
  assert.equal(got.length, n);
  const scale = Math.max(...Array.from(ref, Math.abs));
  assert.ok(maxAbsDiff(got, ref) < 1e-5 * Math.max(1, scale), `float32 eval vs reference: ${maxAbsDiff(got, ref)}`);
  const got64 = m.predictLogitsFloat64(x, n);
  assert.ok(maxAbsDiff(got64, ref) < 1e-12, `float64 eval vs reference: ${maxAbsDiff(got64, ref)}`);
  const pr = m.predictProba(x.subarray(0, 100 * 16), 100);
  assert.ok(maxAbsDiff(pr, sigmoid(got.subarray(0, 100))) < 1e-7);
  // Matches torch's own eval on the golden's held-out rows (float32 tolerance).
  const held = m.predictProba(Float32Array.from(g.heldout.x.flat()), 10);
  assert.ok(maxAbsDiff(held, g.after_epoch[1]!.eval.heldout_sigmoid) < 1e-6);
  assert.equal(m.predictLogits(new Float32Array(0), 0).length, 0);
  m.dispose();
});

test('scoring rejects wrong sizes and non-finite inputs with RwdaError', () => {
  const m = Fnn.init(4, { hidden: [3], seed: 0 });
  assert.throws(() => m.predictLogits(new Float32Array(7), 2), /got 7 values for 2 rows of width 4/);
  assert.throws(() => m.predictLogits(new Float32Array(8), 2.5), RwdaError);
  const x = new Float32Array(8);
  x[5] = NaN;
  assert.throws(() => m.predictLogits(x, 2), /row 1 gives a non-finite logit/);
  m.dispose();
});
