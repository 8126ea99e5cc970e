// Dropout: mask rate ≈ p (bounds that fail for p off by ~1%), survivors scaled by exactly 1/(1−p)
// in train mode, identity in eval mode; both trainers apply the same masks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layoutOf, resolveConfig } from '../../src/methods/rwda/fnn/config.ts';
import { Fnn } from '../../src/methods/rwda/fnn/model.ts';
import { dropoutMasks } from '../../src/methods/rwda/fnn/schedule.ts';
import { initState } from '../../src/methods/rwda/fnn/state.ts';
import { createTrainer } from '../../src/methods/rwda/fnn/train.ts';
import { Rng } from '../../src/util/rng.ts';

const f32 = (n: number): Float32Array => new Float32Array(n);
const f64 = (n: number): Float64Array => new Float64Array(n);

for (const p of [0.5, 0.3, 0.1, 0.77]) {
  test(`dropout masks: drop rate is p = ${p} within 5σ, per lane too; survivors are exactly 1/(1-p)`, () => {
    const rng = new Rng(42);
    const hidden = [512, 256, 128];
    let dropped = 0;
    let total = 0;
    const laneDropped = new Float64Array(32);
    const laneTotal = new Float64Array(32);
    const keep32 = Math.fround(1 / (1 - p));
    for (let step = 0; step < 8; step++) {
      const masks = dropoutMasks(rng, 128, hidden, p, f32);
      masks.forEach((m, i) => {
        assert.equal(m.length, 128 * hidden[i]!);
        for (let j = 0; j < m.length; j++) {
          const v = m[j]!;
          assert.ok(v === 0 || v === keep32, `mask value ${v}`);
          const isDrop = v === 0 ? 1 : 0;
          dropped += isDrop;
          laneDropped[j % 32] += isDrop;
          laneTotal[j % 32] += 1;
        }
        total += m.length;
      });
    }
    const sigma = Math.sqrt((p * (1 - p)) / total);
    const rate = dropped / total;
    assert.ok(Math.abs(rate - p) < 5 * sigma, `rate ${rate} vs p ${p} (5σ = ${5 * sigma})`);
    // Bit-sliced generation: every lane (bit position) must have the right rate, not just the mean.
    for (let b = 0; b < 32; b++) {
      const r = laneDropped[b]! / laneTotal[b]!;
      const s = Math.sqrt((p * (1 - p)) / laneTotal[b]!);
      assert.ok(Math.abs(r - p) < 5 * s, `lane ${b}: rate ${r} vs ${p} (5σ = ${5 * s})`);
    }
    // Adjacent elements are independent: P(both dropped) ≈ p².
    const m = dropoutMasks(new Rng(7), 1024, [1024], p, f64)[0]!;
    let both = 0;
    for (let j = 0; j + 1 < m.length; j += 2) if (m[j] === 0 && m[j + 1] === 0) both++;
    const pairs = m.length / 2;
    const s2 = Math.sqrt((p * p * (1 - p * p)) / pairs);
    assert.ok(Math.abs(both / pairs - p * p) < 5 * s2, `pair rate ${both / pairs} vs ${p * p}`);
    assert.ok(m.every((v) => v === 0 || v === 1 / (1 - p)), 'float64 survivors are 1/(1-p) exactly');
  });
}

test('dropout masks: p = 0 keeps everything and draws nothing; same seed, same masks', () => {
  const rng = new Rng(3);
  const before = new Rng(3).nextUint32();
  const m = dropoutMasks(rng, 4, [8], 0, f32)[0]!;
  assert.ok(m.every((v) => v === 1));
  assert.equal(rng.nextUint32(), before, 'p = 0 must not consume random numbers');
  const a = dropoutMasks(new Rng(9), 16, [40, 24], 0.5, f64);
  const b = dropoutMasks(new Rng(9), 16, [40, 24], 0.5, f64);
  assert.deepEqual(a, b);
  // The float32 path (bit-pattern writes) drops exactly the elements the float64 path drops.
  const c = dropoutMasks(new Rng(9), 16, [40, 24], 0.5, f32);
  c.forEach((m, i) => assert.deepEqual(Array.from(m), Array.from(a[i]!)));
  // Also with a partial last group of 32 (3×11 = 33 elements).
  const d32 = dropoutMasks(new Rng(10), 3, [11], 0.3, f32)[0]!;
  const d64 = dropoutMasks(new Rng(10), 3, [11], 0.3, f64)[0]!;
  assert.deepEqual(Array.from(d32, (v) => v === 0), Array.from(d64, (v) => v === 0));
});

// A one-block net with identity-like BN parameters; the expected train-mode logits are computed
// here independently: z = xWᵀ + b, ẑ = (z − μ)/√(σ²_b + eps), logit = Σ_o w_o · mask·max(ẑ,0) + c.
test('train mode applies the mask with survivors scaled by exactly 1/(1-p) (both trainers)', async () => {
  const p = 0.5;
  const dim = 6;
  const h = 40;
  const B = 8;
  const config = resolveConfig({ hidden: [h], dropout: p, batchSize: B, epochs: 1, seed: 1 });
  const layout = layoutOf(dim, [h]);
  const state = initState(layout, new Rng(11));
  const rng = new Rng(5);
  const x = Float32Array.from({ length: B * dim }, () => rng.normal());
  const labels = Uint8Array.from({ length: B }, (_, i) => i % 2);
  const rows = Int32Array.from({ length: B }, (_, i) => i);
  const W = state.get('0.weight')!.data;
  const bias = state.get('0.bias')!.data;
  const hw = state.get('4.weight')!.data;
  const hb = state.get('4.bias')!.data[0]!;
  const relu = new Float64Array(B * h);
  for (let o = 0; o < h; o++) {
    const z = Array.from({ length: B }, (_, r) => {
      let s = bias[o]!;
      for (let k = 0; k < dim; k++) s += x[r * dim + k]! * W[o * dim + k]!;
      return s;
    });
    const mu = z.reduce((a, b) => a + b, 0) / B;
    const varB = z.reduce((a, b) => a + (b - mu) ** 2, 0) / B;
    for (let r = 0; r < B; r++) relu[r * h + o] = Math.max((z[r]! - mu) / Math.sqrt(varB + 1e-5), 0);
  }
  for (const backend of ['reference', 'onnx'] as const) {
    const masks = dropoutMasks(new Rng(77), B, [h], p, f64);
    const trainer = await createTrainer(layout, config, state, backend, 'float64', true);
    const res = await trainer.step(x, labels, rows, 1e-3, masks);
    trainer.dispose();
    let survivors = 0;
    for (let r = 0; r < B; r++) {
      let want = hb;
      for (let o = 0; o < h; o++) {
        const mk = masks[0]![r * h + o]!;
        if (mk !== 0) {
          assert.equal(mk, 2, 'survivor scale 1/(1-p) = 2 exactly');
          survivors++;
        }
        want += hw[o]! * relu[r * h + o]! * mk;
      }
      assert.ok(Math.abs(res.logits[r]! - want) < 1e-12, `${backend} row ${r}: ${res.logits[r]} vs ${want}`);
    }
    assert.ok(survivors > 0 && survivors < B * h);
  }
});

test('eval mode is the identity for dropout: p = 0.5 and p = 0 models score identically, twice', () => {
  const dim = 12;
  const a = Fnn.init(dim, { hidden: [16, 8], dropout: 0.5, seed: 4 });
  const b = Fnn.fromState(a.toState(), { dropout: 0 });
  const rng = new Rng(8);
  const x = Float32Array.from({ length: 30 * dim }, () => rng.normal());
  const la = a.predictLogits(x, 30);
  assert.deepEqual(la, a.predictLogits(x, 30));
  assert.deepEqual(la, b.predictLogits(x, 30));
  assert.deepEqual(a.predictLogitsFloat64(x, 30), b.predictLogitsFloat64(x, 30));
  a.dispose();
  b.dispose();
});
