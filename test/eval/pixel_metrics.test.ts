import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RwdaError } from '../../src/errors.ts';
import { evaluatePixelFolders, labelComponents, PixelMetricsAccumulator } from '../../src/eval/pixel/index.ts';
import { FIXTURES } from '../helpers/paths.ts';

const DIR = join(FIXTURES, 'pixel_metrics');
interface Run {
  args: string[];
  expected: Record<string, number>;
  diagnostics: Record<string, number>;
}
interface Case {
  name: string;
  valid: boolean;
  maps: string;
  masks: string;
  runs?: Run[];
  args?: string[];
  mentions_any?: string[];
  official_curve?: { fprs: number[]; pros: number[] } | [number[], number[]];
}
const golden = JSON.parse(readFileSync(join(DIR, 'cases.json'), 'utf8')) as {
  tolerance: Record<string, number>;
  cases: Case[];
};
const TOL = golden.tolerance; // 1e-9 for AUROC/AP/F1, 1e-6 for AU-PRO (README "Tolerance")

function limitOf(args: string[]): number | undefined {
  const k = args.indexOf('--pro-limit');
  return k < 0 ? undefined : Number(args[k + 1]);
}

const valid = golden.cases.filter((c) => c.valid);
const invalid = golden.cases.filter((c) => !c.valid);
assert.equal(valid.length, 27);
assert.equal(invalid.length, 10);

for (const c of valid) {
  test(`pixel metrics: ${c.name}`, async () => {
    for (const run of c.runs!) {
      const m = await evaluatePixelFolders(join(DIR, c.maps), join(DIR, c.masks), { proLimit: limitOf(run.args) });
      const e = run.expected;
      const got: Record<string, number> = {
        pixel_auroc: m.pixelAuroc,
        pixel_ap: m.pixelAp,
        pixel_f1_max: m.pixelF1Max,
        aupro: m.aupro,
      };
      for (const key of Object.keys(got)) {
        assert.ok(Math.abs(got[key]! - e[key]!) <= TOL[key]!, `${c.name} ${run.args.join(' ')} ${key}: ${got[key]} vs ${e[key]}`);
      }
      assert.equal(m.proLimit, e.pro_limit);
      assert.equal(m.nImages, e.n_images);
      assert.equal(m.nPixels, e.n_pixels);
      assert.equal(m.nAnomalousPixels, e.n_anomalous_pixels);
      // The mistakes the fixture was designed to catch must be told apart from the right answer here.
      for (const bug of ['aupro_4_connected', 'aupro_no_interpolation', 'aupro_pro_averaged_per_image']) {
        const wrong = run.diagnostics[bug];
        if (wrong !== undefined && Math.abs(wrong - e.aupro!) > 1e-5) {
          assert.ok(Math.abs(m.aupro - wrong) > 1e-6, `${c.name}: matches the ${bug} value`);
        }
      }
    }
  });
}

for (const c of invalid) {
  test(`pixel metrics rejects ${c.name}`, async () => {
    await assert.rejects(
      evaluatePixelFolders(join(DIR, c.maps), join(DIR, c.masks), { proLimit: limitOf(c.args ?? []) }),
      (err: unknown) => {
        assert.ok(err instanceof RwdaError, `not an RwdaError: ${String(err)}`);
        assert.equal(err.message.split('\n').length, 1);
        if (c.mentions_any!.length > 0) {
          assert.ok(c.mentions_any!.some((s) => err.message.includes(s)), `${err.message} names none of ${c.mentions_any}`);
        }
        return true;
      },
    );
  });
}

test('PRO curve equals the official (fprs, pros) where the fixture lists it', async () => {
  let compared = 0;
  for (const c of valid) {
    if (!c.official_curve) continue;
    const oc = c.official_curve as unknown as Record<string, number[]> | number[][];
    const fprs = Array.isArray(oc) ? oc[0]! : (oc.fprs ?? oc.fpr)!;
    const pros = Array.isArray(oc) ? oc[1]! : (oc.pros ?? oc.pro)!;
    const acc = new PixelMetricsAccumulator();
    // Through the folder reader once more, but keep the curve.
    const { pairMapsWithMasks } = await import('../../src/eval/pixel/index.ts');
    const { readNpy } = await import('../../src/data/npy.ts');
    const { readMask } = await import('../../src/data/mask.ts');
    for (const p of pairMapsWithMasks(join(DIR, c.maps), join(DIR, c.masks))) {
      const map = readNpy(p.mapPath);
      const mask = p.maskPath ? (await readMask(p.maskPath)).data : null;
      acc.add(map.data, mask, map.height, map.width, p.mapPath);
    }
    const curve = acc.compute({ curve: true }).curve!;
    assert.equal(curve.fpr.length, fprs.length, c.name);
    for (let i = 0; i < fprs.length; i++) {
      assert.equal(curve.fpr[i], fprs[i], `${c.name} fpr[${i}]`); // float32 FPR: bit-exact
      assert.ok(Math.abs(curve.pro[i]! - pros[i]!) <= 1e-12, `${c.name} pro[${i}]: ${curve.pro[i]} vs ${pros[i]}`);
    }
    compared++;
  }
  assert.ok(compared > 0, 'no case carries official_curve');
});

test('labelComponents: 8- vs 4-connectivity, no wrap across rows', () => {
  // (0,3) and (1,2) touch at a corner; (1,0) follows (0,3) in flat order but is not its neighbour.
  const m = Uint8Array.from([0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0]);
  const eight = labelComponents(m, 3, 4, 8);
  assert.deepEqual(eight.sizes, [2, 1]);
  assert.deepEqual(Array.from(eight.labels), [0, 0, 0, 1, 2, 0, 1, 0, 0, 0, 0, 0]);
  assert.equal(labelComponents(m, 3, 4, 4).count, 3);
});

test('accumulator rejects bad input with the image named', () => {
  const acc = new PixelMetricsAccumulator();
  assert.throws(() => acc.add([0, 1, NaN, 2], null, 2, 2, 'x.npy'), /x\.npy: score at row 1, column 0 is NaN/);
  assert.throws(() => acc.add([0, 1, 2, 3], [0, 1], 2, 2, 'x.npy', 'x_mask.png'), /x_mask\.png/);
  acc.add([0, 1, 2, 3], [0, 0, 0, 1], 2, 2, 'x.npy');
  assert.throws(() => acc.compute({ proLimit: 1.5 }), /1\.5: must be a number in \(0, 1\]/);
  assert.throws(() => acc.compute({ proLimit: Number.NaN }), RwdaError);
  assert.equal(acc.compute({ proLimit: 1 }).aupro, 1);
});
