// Pillow-resampling and torchvision-geometry building blocks, checked on synthetic images against
// hand-computed values and an independent float64 bicubic written differently from the port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bicubicCoefficients,
  centerCropOffset,
  cropRaw,
  longestSideSize,
  premultiply,
  preprocessToU8,
  resizeBicubic,
  resizeNearest,
  roundHalfEven,
  shortestSideSize,
  unpremultiply,
  type DecodedImage,
  type RawImage,
} from '../../src/clip/preprocess/index.ts';

/** Deterministic pseudo-random bytes (LCG), so failures reproduce. */
function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

function image(width: number, height: number, channels: number, seed: number): RawImage {
  return { width, height, channels, data: noise(width * height * channels, seed) };
}

test('roundHalfEven, centre-crop offsets and resized sizes follow Python/torchvision', () => {
  assert.deepEqual([0.5, 1.5, 2.5, 10.5, 11.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven), [0, 2, 2, 10, 12, 0, -2, 2, 3]);
  // README traps: offset 10.5 → 10 and 0.5 → 0 (Math.round would give 11 and 1).
  assert.equal(centerCropOffset(61, 40), 10);
  assert.equal(centerCropOffset(49, 48), 0);
  assert.equal(centerCropOffset(51, 48), 2);
  assert.equal(centerCropOffset(61, 48), 6);
  assert.equal(centerCropOffset(42, 32), 5);
  // int(S·long/short), truncated, short side first by width <= height.
  assert.deepEqual(shortestSideSize(98, 96, 48), [49, 48]);
  assert.deepEqual(shortestSideSize(17, 23, 32), [32, 43]);
  assert.deepEqual(shortestSideSize(41, 32, 48), [61, 48]);
  assert.deepEqual(shortestSideSize(64, 64, 240), [240, 240]);
  assert.deepEqual(shortestSideSize(1500, 1000, 240), [360, 240]);
  assert.deepEqual(shortestSideSize(1284, 1168, 240), [263, 240]);
  // ResizeKeepRatio(longest=1): round(side / max ratio), half-to-even.
  assert.deepEqual(longestSideSize(300, 200, 48), [48, 32]);
  assert.deepEqual(longestSideSize(31, 97, 48), [15, 48]);
  assert.deepEqual(longestSideSize(10, 4, 5), [5, 2]);
});

test('bicubic coefficients: bounds inside the source, weights sum to 1.0 in 22-bit fixed point', () => {
  for (const [inSize, outSize] of [[1024, 240], [98, 49], [17, 48], [31, 32], [300, 48], [7, 3], [3, 7]] as const) {
    const { ksize, bounds, weights } = bicubicCoefficients(inSize, 0, inSize, outSize);
    const scale = inSize / outSize;
    assert.equal(ksize, Math.ceil(2 * Math.max(1, scale)) * 2 + 1);
    for (let xx = 0; xx < outSize; xx++) {
      const xmin = bounds[2 * xx]!;
      const n = bounds[2 * xx + 1]!;
      assert.ok(xmin >= 0 && n >= 1 && xmin + n <= inSize && n <= ksize, `${inSize}->${outSize} @${xx}`);
      let sum = 0;
      for (let i = 0; i < ksize; i++) sum += weights[xx * ksize + i]!;
      assert.ok(Math.abs(sum - (1 << 22)) <= ksize, `${inSize}->${outSize} @${xx}: sum ${sum}`);
      for (let i = n; i < ksize; i++) assert.equal(weights[xx * ksize + i], 0);
    }
  }
  // A sub-range is the same slice of the full table.
  const full = bicubicCoefficients(300, 0, 300, 48);
  const part = bicubicCoefficients(300, 0, 300, 48, 10, 20);
  assert.equal(part.ksize, full.ksize);
  assert.deepEqual(part.bounds, full.bounds.subarray(20, 60));
  assert.deepEqual(part.weights, full.weights.subarray(10 * full.ksize, 30 * full.ksize));
  // Identity-sized coefficients are exact taps (the kernel is 1 at 0 and 0 at ±1, ±2).
  const id = bicubicCoefficients(5, 0, 5, 5);
  for (let xx = 0; xx < 5; xx++) {
    for (let i = 0; i < id.bounds[2 * xx + 1]!; i++) {
      assert.equal(id.weights[xx * id.ksize + i], id.bounds[2 * xx]! + i === xx ? 1 << 22 : 0);
    }
  }
});

/** Textbook antialiased bicubic (a = -0.5) in float64, rounded once at the very end. */
function referenceBicubic(src: RawImage, outW: number, outH: number): Float64Array {
  const kernel = (t: number): number => {
    const x = Math.abs(t);
    if (x < 1) return 1.5 * x ** 3 - 2.5 * x ** 2 + 1;
    if (x < 2) return -0.5 * x ** 3 + 2.5 * x ** 2 - 4 * x + 2;
    return 0;
  };
  const taps = (inSize: number, outSize: number): { idx: number[]; w: number[] }[] => {
    const scale = inSize / outSize;
    const fs = Math.max(1, scale);
    return Array.from({ length: outSize }, (_, o) => {
      const c = (o + 0.5) * scale;
      const idx: number[] = [];
      const w: number[] = [];
      for (let i = Math.floor(c - 2 * fs) - 1; i <= Math.ceil(c + 2 * fs) + 1; i++) {
        if (i < 0 || i >= inSize) continue;
        const v = kernel((i + 0.5 - c) / fs);
        if (v !== 0) {
          idx.push(i);
          w.push(v);
        }
      }
      const s = w.reduce((a, b) => a + b, 0);
      return { idx, w: w.map((v) => v / s) };
    });
  };
  const C = src.channels;
  const tx = taps(src.width, outW);
  const ty = taps(src.height, outH);
  const out = new Float64Array(outW * outH * C);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      for (let c = 0; c < C; c++) {
        let acc = 0;
        ty[y]!.idx.forEach((sy, j) => {
          let row = 0;
          tx[x]!.idx.forEach((sx, i) => (row += tx[x]!.w[i]! * src.data[(sy * src.width + sx) * C + c]!));
          acc += ty[y]!.w[j]! * row;
        });
        out[(y * outW + x) * C + c] = acc;
      }
    }
  }
  return out;
}

test('resizeBicubic stays within 2 LSB of an independent float64 bicubic (8-bit rounding between passes)', () => {
  for (const [w, h, C, ow, oh] of [[97, 61, 3, 32, 20], [20, 30, 1, 48, 72], [64, 48, 4, 40, 48], [33, 33, 2, 33, 11], [40, 9, 3, 13, 9]] as const) {
    // Smooth-ish content so the float reference stays inside 0..255 (no clipping differences).
    const src = image(w, h, C, w * 131 + h);
    for (let i = 0; i < src.data.length; i++) src.data[i] = 64 + (src.data[i]! >> 1);
    const ours = resizeBicubic(src, ow, oh);
    assert.equal(ours.data.length, ow * oh * C);
    const ref = referenceBicubic(src, ow, oh);
    let max = 0;
    let sumAbs = 0;
    for (let i = 0; i < ref.length; i++) {
      const d = Math.abs(ours.data[i]! - ref[i]!);
      max = Math.max(max, d);
      sumAbs += d;
    }
    assert.ok(max <= 2, `${w}x${h}x${C} -> ${ow}x${oh}: max |Δ| ${max}`);
    assert.ok(sumAbs / ref.length < 0.6, `${w}x${h}x${C} -> ${ow}x${oh}: mean |Δ| ${sumAbs / ref.length}`);
  }
});

test('resizeBicubic keeps constant images constant and clamps overshoot to 0..255', () => {
  for (const v of [0, 1, 77, 254, 255]) {
    const src: RawImage = { width: 23, height: 17, channels: 3, data: new Uint8Array(23 * 17 * 3).fill(v) };
    for (const [ow, oh] of [[5, 4], [50, 40], [23, 40], [7, 17]] as const) {
      assert.ok(resizeBicubic(src, ow, oh).data.every((x) => x === v), `${v} ${ow}x${oh}`);
    }
  }
  // A hard edge upsampled rings past the range: Pillow clamps (0 and 255 must both appear).
  const edge: RawImage = { width: 4, height: 1, channels: 1, data: Uint8Array.from([0, 0, 255, 255]) };
  const up = resizeBicubic(edge, 16, 1).data;
  assert.equal(Math.min(...up), 0);
  assert.equal(Math.max(...up), 255);
});

test('windowed resize equals the same crop of the full resize (both passes, either pass alone)', () => {
  const cases = [
    [50, 37, 3, 20, 15, { x: 3, y: 2, width: 12, height: 11 }],
    [50, 37, 1, 50, 15, { x: 5, y: 0, width: 40, height: 15 }],
    [50, 37, 4, 20, 37, { x: 0, y: 7, width: 20, height: 20 }],
    [12, 9, 2, 40, 30, { x: 10, y: 5, width: 30, height: 25 }],
    [12, 9, 3, 12, 9, { x: 1, y: 1, width: 10, height: 7 }],
  ] as const;
  for (const [w, h, C, ow, oh, win] of cases) {
    const src = image(w, h, C, 7 * w + C);
    const full = resizeBicubic(src, ow, oh);
    assert.deepEqual(resizeBicubic(src, ow, oh, win).data, cropRaw(full, win).data, JSON.stringify([w, h, C, ow, oh]));
    const fullN = resizeNearest(src, ow, oh);
    assert.deepEqual(resizeNearest(src, ow, oh, win).data, cropRaw(fullN, win).data);
  }
  assert.throws(() => resizeBicubic(image(4, 4, 1, 1), 8, 8, { x: 4, y: 0, width: 5, height: 1 }), /outside the 8x8/);
});

test("resizeNearest picks Pillow's source pixels (accumulated (x + 0.5)·scale, truncated)", () => {
  const row = (vals: number[]): RawImage => ({ width: vals.length, height: 1, channels: 1, data: Uint8Array.from(vals) });
  // 5 → 3: positions 0.83, 2.5, 4.17 → 0, 2, 4.
  assert.deepEqual([...resizeNearest(row([10, 11, 12, 13, 14]), 3, 1).data], [10, 12, 14]);
  // 2 → 5: positions 0.2, 0.6, 1.0, 1.4, 1.8 → 0, 0, 1, 1, 1.
  assert.deepEqual([...resizeNearest(row([10, 11]), 5, 1).data], [10, 10, 11, 11, 11]);
  // 4 → 6: step 2/3 from 1/3. Accumulated in double the 5th position is 2.9999999999999996 → 2, where
  // (4 + 0.5)·(2/3) would give exactly 3.0: Pillow accumulates, so [0, 1, 1, 2, 2, 3].
  assert.deepEqual([...resizeNearest(row([10, 11, 12, 13]), 6, 1).data], [10, 11, 11, 12, 12, 13]);
  // Pixels are copied whole (all channels), vertical too.
  const col: RawImage = { width: 1, height: 3, channels: 2, data: Uint8Array.from([1, 2, 3, 4, 5, 6]) };
  assert.deepEqual([...resizeNearest(col, 2, 2).data], [1, 2, 1, 2, 5, 6, 5, 6]);
});

test("premultiply / unpremultiply use Pillow's MULDIV255 and truncating division", () => {
  const px: RawImage = {
    width: 5,
    height: 1,
    channels: 4,
    data: Uint8Array.from([200, 100, 7, 128, 255, 255, 255, 0, 9, 8, 7, 255, 255, 1, 128, 1, 30, 60, 90, 254]),
  };
  const pre = premultiply(px);
  // 200·128/255 = 100.39 → 100; 100·128/255 = 50.2 → 50; 7·128/255 = 3.5 → 4 (MULDIV255 rounds).
  assert.deepEqual([...pre.data], [100, 50, 4, 128, 0, 0, 0, 0, 9, 8, 7, 255, 1, 0, 1, 1, 30, 60, 90, 254]);
  const back = unpremultiply(pre);
  // 255·100/128 = 199.2 → 199; 255·4/128 = 7.97 → 7 (truncated); alpha 0 keeps the (black) colour.
  assert.deepEqual([...back.data], [199, 99, 7, 128, 0, 0, 0, 0, 9, 8, 7, 255, 255, 0, 255, 1, 30, 60, 90, 254]);
  // Two channels (LA) premultiply the gray only.
  const la: RawImage = { width: 1, height: 1, channels: 2, data: Uint8Array.from([200, 128]) };
  assert.deepEqual([...premultiply(la).data], [100, 128]);
  assert.deepEqual([...unpremultiply({ ...la, data: Uint8Array.from([100, 128]) }).data], [199, 128]);
});

function decoded(raw: RawImage, mode: DecodedImage['mode']): DecodedImage {
  return { ...raw, mode, source: 'synthetic', format: 'raw', notes: [] };
}

test('LA resizes like RGBA with R=G=B (same premultiplied arithmetic), alpha dropped without compositing', () => {
  const la = decoded(image(19, 29, 2, 99), 'LA');
  for (let p = 0; p < 19 * 29; p += 7) la.data[p * 2 + 1] = 0; // some fully transparent pixels
  const rgba = decoded({ width: 19, height: 29, channels: 4, data: new Uint8Array(19 * 29 * 4) }, 'RGBA');
  for (let p = 0; p < 19 * 29; p++) rgba.data.set([la.data[2 * p]!, la.data[2 * p]!, la.data[2 * p]!, la.data[2 * p + 1]!], p * 4);
  const cfg = { size: 12, mean: [0, 0, 0] as [number, number, number], std: [1, 1, 1] as [number, number, number], resizeMode: 'shortest' as const, fillColor: 0 };
  const a = preprocessToU8(la, cfg);
  const b = preprocessToU8(rgba, cfg);
  assert.deepEqual(a.u8, b.u8);
  assert.deepEqual(a.resizedSize, [12, 18]);
  // Without resampling (size already matches) no premultiplication happens: colour under alpha 0 survives.
  const same = preprocessToU8(la, { ...cfg, size: 19 });
  assert.equal(same.u8[0], la.data[(5 * 19 + 0) * 2]); // crop y = round(5.0) = 5
});

test("'1' and 'P' images resize with NEAREST: no new values appear", () => {
  const bw = decoded(image(33, 21, 1, 5), '1');
  for (let i = 0; i < bw.data.length; i++) bw.data[i] = bw.data[i]! & 1 ? 255 : 0;
  const cfg = { size: 10, mean: [0, 0, 0] as [number, number, number], std: [1, 1, 1] as [number, number, number], resizeMode: 'shortest' as const, fillColor: 0 };
  const out = preprocessToU8(bw, cfg).u8;
  assert.ok(out.every((v) => v === 0 || v === 255));
  assert.ok(out.some((v) => v === 0) && out.some((v) => v === 255));
  const asL = preprocessToU8({ ...bw, mode: 'L' }, cfg).u8;
  assert.ok(asL.some((v) => v !== 0 && v !== 255), 'the same pixels as L go through BICUBIC');
});

test('extreme aspect ratios only compute the kept window (2x3000 at S=64 resizes to 64x96000)', () => {
  const thin = decoded(image(2, 3000, 1, 11), 'L');
  const r = preprocessToU8(thin, { size: 64, mean: [0, 0, 0], std: [1, 1, 1], resizeMode: 'shortest', fillColor: 0 });
  assert.deepEqual(r.resizedSize, [64, 96000]);
  assert.deepEqual(r.cropLeftTop, [0, 47968]);
  // The output is the centre window of that resize, computed without materialising 64x96000.
  const win = { x: 0, y: 47968, width: 64, height: 64 };
  const direct = resizeBicubic(thin, 64, 96000, win);
  for (let p = 0; p < 64 * 64; p++) assert.equal(r.u8[p * 3], direct.data[p]);
});

test("'longest' pads with fill_color around the resized image; 'squash' stretches to S×S", () => {
  const src = decoded(image(30, 20, 3, 3), 'RGB');
  const cfg = { size: 15, mean: [0, 0, 0] as [number, number, number], std: [1, 1, 1] as [number, number, number], resizeMode: 'longest' as const, fillColor: 128 };
  const r = preprocessToU8(src, cfg);
  assert.deepEqual(r.resizedSize, [15, 10]);
  // Pad top (15-10)//2 = 2, bottom 3; crop offset then 0 → image placed at y = 2.
  assert.deepEqual(r.cropLeftTop, [0, -2]);
  const resized = resizeBicubic(src, 15, 10).data;
  for (let y = 0; y < 15; y++) {
    const row = r.u8.subarray(y * 45, (y + 1) * 45);
    if (y < 2 || y >= 12) assert.ok(row.every((v) => v === 128), `row ${y} is padding`);
    else assert.deepEqual(row, resized.subarray((y - 2) * 45, (y - 1) * 45), `row ${y}`);
  }
  const sq = preprocessToU8(src, { ...cfg, resizeMode: 'squash' });
  assert.deepEqual(sq.resizedSize, [15, 15]);
  assert.deepEqual(sq.u8, resizeBicubic(src, 15, 15).data);
});
