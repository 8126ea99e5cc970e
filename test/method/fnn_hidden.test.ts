// Fnn.hiddenActivations against a float64 forward written here from torch's formulas (unfused
// BatchNorm with running statistics, ReLU, dropout as the identity), on a state whose BN
// statistics and affine parameters are far from their initial values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RwdaError } from '../../src/errors.ts';
import { Fnn } from '../../src/methods/rwda/fnn/model.ts';
import { Rng } from '../../src/util/rng.ts';

const DIM = 24;
const HIDDEN = [16, 12, 8];

/** A state_dict with random weights and BN parameters (running_var in [0.2, 2.2], means in ±0.5). */
function randomState(seed: number): Record<string, { shape: number[]; data: Float32Array }> {
  const rng = new Rng(seed);
  const u = (n: number, lo: number, hi: number): Float32Array => Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.nextFloat());
  const st: Record<string, { shape: number[]; data: Float32Array }> = {};
  let fanIn = DIM;
  HIDDEN.forEach((h, i) => {
    st[`${4 * i}.weight`] = { shape: [h, fanIn], data: u(h * fanIn, -0.6, 0.6) };
    st[`${4 * i}.bias`] = { shape: [h], data: u(h, -0.3, 0.3) };
    st[`${4 * i + 1}.weight`] = { shape: [h], data: u(h, 0.5, 1.5) };
    st[`${4 * i + 1}.bias`] = { shape: [h], data: u(h, -0.4, 0.4) };
    st[`${4 * i + 1}.running_mean`] = { shape: [h], data: u(h, -0.5, 0.5) };
    st[`${4 * i + 1}.running_var`] = { shape: [h], data: u(h, 0.2, 2.2) };
    st[`${4 * i + 1}.num_batches_tracked`] = { shape: [], data: Float32Array.of(157) };
    fanIn = h;
  });
  st[`${4 * HIDDEN.length}.weight`] = { shape: [1, fanIn], data: u(fanIn, -0.5, 0.5) };
  st[`${4 * HIDDEN.length}.bias`] = { shape: [1], data: u(1, -0.1, 0.1) };
  return st;
}

/** torch eval-mode forward in float64: y = relu(γ·(Wx + b − μ)/√(σ² + eps) + β) per block. */
function forward64(st: ReturnType<typeof randomState>, x: Float32Array, n: number, eps: number): { hidden: Float64Array[]; logits: Float64Array } {
  let a = Float64Array.from(x);
  let fanIn = DIM;
  const hidden: Float64Array[] = [];
  HIDDEN.forEach((h, i) => {
    const W = st[`${4 * i}.weight`]!.data;
    const b = st[`${4 * i}.bias`]!.data;
    const g = st[`${4 * i + 1}.weight`]!.data;
    const be = st[`${4 * i + 1}.bias`]!.data;
    const mu = st[`${4 * i + 1}.running_mean`]!.data;
    const v = st[`${4 * i + 1}.running_var`]!.data;
    const y = new Float64Array(n * h);
    for (let r = 0; r < n; r++) {
      for (let o = 0; o < h; o++) {
        let z = b[o]!;
        for (let k = 0; k < fanIn; k++) z += W[o * fanIn + k]! * a[r * fanIn + k]!;
        const bn = (g[o]! * (z - mu[o]!)) / Math.sqrt(v[o]! + eps) + be[o]!;
        y[r * h + o] = Math.max(0, bn);
      }
    }
    hidden.push(y);
    a = y;
    fanIn = h;
  });
  const hw = st[`${4 * HIDDEN.length}.weight`]!.data;
  const hb = st[`${4 * HIDDEN.length}.bias`]!.data[0]!;
  const logits = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let z = hb;
    for (let k = 0; k < fanIn; k++) z += hw[k]! * a[r * fanIn + k]!;
    logits[r] = z;
  }
  return { hidden, logits };
}

test('hiddenActivations: one [n, h_i] array per hidden block, equal to the float64 forward within 2e-5 (float32 graph)', () => {
  const st = randomState(3);
  const fnn = Fnn.fromState(st, { dropout: 0.5 });
  const n = 37;
  const rng = new Rng(11);
  const x = Float32Array.from({ length: n * DIM }, () => 2 * rng.nextFloat() - 1);
  const got = fnn.hiddenActivations(x, n);
  const ref = forward64(st, x, n, fnn.config.bnEps);
  assert.equal(got.length, HIDDEN.length);
  let zeros = 0;
  let positives = 0;
  got.forEach((a, i) => {
    assert.equal(a.length, n * HIDDEN[i]!, `layer ${i} size`);
    for (let j = 0; j < a.length; j++) {
      const want = ref.hidden[i]![j]!;
      assert.ok(Math.abs(a[j]! - want) <= 2e-5 * Math.max(1, Math.abs(want)), `layer ${i} [${j}]: ${a[j]} vs ${want}`);
      if (want === 0) {
        zeros++;
        assert.equal(a[j], 0, 'ReLU zeros are exact');
      } else positives++;
    }
  });
  // Both sides of the ReLU are exercised, so a missing ReLU or a skipped BN term would fail above.
  assert.ok(zeros > 50 && positives > 50, `zeros ${zeros}, positives ${positives}`);
  // The head on the last block's activations gives the model's own logits.
  const logits = fnn.predictLogits(x, n);
  for (let r = 0; r < n; r++) assert.ok(Math.abs(logits[r]! - ref.logits[r]!) <= 2e-5 * Math.max(1, Math.abs(ref.logits[r]!)), `logit ${r}`);
  fnn.dispose();
});

test('hiddenActivations: zero rows give empty arrays; a wrong input length is an RwdaError', () => {
  const fnn = Fnn.fromState(randomState(4));
  assert.deepEqual(fnn.hiddenActivations(new Float32Array(0), 0).map((a) => a.length), [0, 0, 0]);
  assert.throws(() => fnn.hiddenActivations(new Float32Array(DIM + 1), 1), (e: unknown) => e instanceof RwdaError && /expected 24/.test(e.message));
  fnn.dispose();
});
