// Replays the six torch FNN goldens: the float64 reference trainer and the float64 onnx graph
// against the _float64 files (tight), the float32 onnx graph against the _float32 files (the
// README's float32 column). Tolerances are the README's suggested ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FnnState, FloatArray } from '../../src/methods/rwda/fnn/state.ts';
import { evalLogitsReference } from '../../src/methods/rwda/fnn/train_reference.ts';
import { evalOf, flat, loadGolden, maxAbsDiff, replay, sigmoid, VARIANTS, type EvalRecord, type Golden } from './fnn_goldens.ts';

interface Tol {
  loss: number;
  grads: number;
  logits: number;
  params: number;
  preBnBias: number | 'skip';
  runningMean: number | 'skip';
  evalTrained: number;
  evalInit: number;
  expAvg: number;
  expAvgSq: number;
}

const TOL64: Tol = {
  loss: 1e-12, grads: 1e-12, logits: 1e-12, params: 1e-10, preBnBias: 1e-7, runningMean: 1e-7,
  evalTrained: 1e-8, evalInit: 1e-12, expAvg: 1e-12, expAvgSq: 1e-12,
};

// float32: pre-BN biases and running_mean are driven by rounding noise (README), so they get the
// "≈ 2·Σ lr_t" bound of the README, computed per variant.
function tol32(g: Golden): Tol {
  const sumLr = g.steps.reduce((s, st) => s + st.lr, 0);
  return {
    loss: 1e-5, grads: 1e-5, logits: 1e-5, params: 1e-4, preBnBias: 2 * sumLr, runningMean: 2 * sumLr,
    evalTrained: 5e-3, evalInit: 1e-6, expAvg: 1e-5, expAvgSq: 1e-6,
  };
}

type Devs = Record<string, number>;

function bump(devs: Devs, k: string, v: number): void {
  devs[k] = Math.max(devs[k] ?? 0, v);
}

function checkState(label: string, g: Golden, ours: FnnState, want: Record<string, unknown>, tol: Tol, devs: Devs): void {
  for (const key of g.state_keys) {
    const a = ours.get(key)!.data;
    const b = flat(want[key] as number[]);
    const d = maxAbsDiff(a, b);
    if (key.endsWith('num_batches_tracked')) {
      assert.equal(a[0], b[0], `${label} ${key}`);
      continue;
    }
    const isPreBnBias = /^(\d+)\.bias$/.test(key) && g.state_keys.includes(`${Number(key.split('.')[0]) + 1}.running_mean`);
    const cat = isPreBnBias ? 'preBnBias' : key.endsWith('running_mean') ? 'runningMean' : key.endsWith('running_var') ? 'runningVar' : 'params';
    bump(devs, cat, d);
    const t = cat === 'preBnBias' ? tol.preBnBias : cat === 'runningMean' ? tol.runningMean : tol.params;
    if (t !== 'skip') assert.ok(d <= t, `${label} ${key}: max |diff| ${d} > ${t}`);
  }
}

function checkOptimizer(label: string, g: Golden, ours: { step: number; expAvg: Map<string, FloatArray>; expAvgSq: Map<string, FloatArray> }, want: { step: number; exp_avg: Record<string, unknown>; exp_avg_sq: Record<string, unknown> }, tol: Tol, devs: Devs): void {
  assert.equal(ours.step, want.step, `${label} optimizer step`);
  for (const key of g.parameter_keys) {
    const isPreBnBias = /^(\d+)\.bias$/.test(key) && g.state_keys.includes(`${Number(key.split('.')[0]) + 1}.running_mean`);
    const dm = maxAbsDiff(ours.expAvg.get(key)!, flat(want.exp_avg[key] as number[]));
    const dv = maxAbsDiff(ours.expAvgSq.get(key)!, flat(want.exp_avg_sq[key] as number[]));
    // The pre-BN biases' moments are moments of rounding noise; in float32 they are not comparable.
    if (isPreBnBias && tol.preBnBias !== 1e-7) continue;
    bump(devs, 'expAvg', dm);
    bump(devs, 'expAvgSq', dv);
    assert.ok(dm <= tol.expAvg, `${label} exp_avg ${key}: ${dm} > ${tol.expAvg}`);
    assert.ok(dv <= tol.expAvgSq, `${label} exp_avg_sq ${key}: ${dv} > ${tol.expAvgSq}`);
  }
}

function checkEval(label: string, r: Awaited<ReturnType<typeof replay>>, g: Golden, state: FnnState, want: EvalRecord, t: number, devs: Devs, cat: string): void {
  for (const [part, x] of [['heldout', g.heldout.x], ['train', g.train.x]] as const) {
    const { logits, model } = evalOf(r.layout, r.config, state, x);
    const ref = evalLogitsReference(r.layout, state, x.flat(), x.length, r.config.bnEps);
    const dOnnx = maxAbsDiff(sigmoid(logits), want[`${part}_sigmoid`]);
    const dRef = maxAbsDiff(sigmoid(ref), want[`${part}_sigmoid`]);
    model.dispose();
    bump(devs, cat, Math.max(dOnnx, dRef));
    assert.ok(dOnnx <= t, `${label} ${part} eval sigmoid (onnx float64 eval graph): ${dOnnx} > ${t}`);
    assert.ok(dRef <= t, `${label} ${part} eval sigmoid (reference eval): ${dRef} > ${t}`);
  }
}

async function runCase(variant: string, backend: 'onnx' | 'reference', dtype: 'float32' | 'float64'): Promise<Devs> {
  const g = loadGolden(variant, dtype);
  const tol = dtype === 'float64' ? TOL64 : tol32(g);
  const label = `${variant}/${backend}/${dtype}`;
  const r = await replay(g, backend, dtype);
  const devs: Devs = {};

  // Schedule: same steps, rows, learning rates (exact) and losses.
  assert.equal(r.steps.length, g.steps.length, `${label} step count`);
  r.steps.forEach((s, i) => {
    const w = g.steps[i]!;
    assert.equal(s.epoch, w.epoch);
    assert.equal(s.step, w.global_step);
    assert.equal(s.lr, w.lr, `${label} lr at step ${s.step}`);
    assert.deepEqual(s.rows, w.batch_rows);
    const d = Math.abs(s.loss - w.loss);
    bump(devs, 'loss', d);
    assert.ok(d <= tol.loss, `${label} loss at step ${s.step}: ${s.loss} vs ${w.loss} (|diff| ${d})`);
  });
  g.after_epoch.forEach((e, i) => {
    assert.equal(e.lr_used, g.steps.filter((s) => s.epoch === i)[0]!.lr);
  });

  const dl = maxAbsDiff(r.firstLogits, g.first_step.train_mode_logits);
  bump(devs, 'logits', dl);
  assert.ok(dl <= tol.logits, `${label} first-step train-mode logits ${dl}`);
  for (const key of g.parameter_keys) {
    const d = maxAbsDiff(r.firstGrads.get(key)!, flat(g.first_step.grads[key]!));
    bump(devs, 'grads', d);
    assert.ok(d <= tol.grads, `${label} first-step grad ${key}: ${d} > ${tol.grads}`);
  }
  checkState(`${label} after step 1`, g, r.firstState, g.first_step.state_after_step, tol, devs);
  checkOptimizer(`${label} after step 1`, g, r.firstOptimizer, g.first_step.optimizer_after_step, tol, devs);

  assert.equal(r.epochs.length, g.after_epoch.length);
  g.after_epoch.forEach((e, i) => {
    checkState(`${label} after epoch ${i + 1}`, g, r.epochs[i]!.state, e.state, tol, devs);
    checkOptimizer(`${label} after epoch ${i + 1}`, g, r.epochs[i]!.optimizer, e.optimizer, tol, devs);
    checkEval(`${label} after epoch ${i + 1}`, r, g, r.epochs[i]!.state, e.eval, tol.evalTrained, devs, 'evalTrained');
  });
  checkEval(`${label} at init`, r, g, r.initial, g.eval_at_init, tol.evalInit, devs, 'evalInit');
  assert.deepEqual(g.final_eval_heldout_sigmoid, g.after_epoch[1]!.eval.heldout_sigmoid);
  return devs;
}

const summary: Record<string, Devs> = {};
for (const variant of VARIANTS) {
  for (const [backend, dtype] of [['reference', 'float64'], ['onnx', 'float64'], ['onnx', 'float32']] as const) {
    test(`FNN golden ${variant}: ${backend} ${dtype} replays torch`, async (t) => {
      const devs = await runCase(variant, backend, dtype);
      summary[`${variant}/${backend}/${dtype}`] = devs;
      t.diagnostic(JSON.stringify(Object.fromEntries(Object.entries(devs).map(([k, v]) => [k, Number(v.toExponential(2))]))));
    });
  }
}

test('FNN golden summary', () => {
  if (process.env.FNN_GOLDEN_SUMMARY) console.log(JSON.stringify(summary, null, 1));
  assert.equal(Object.keys(summary).length, VARIANTS.length * 3);
});
