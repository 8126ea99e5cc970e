// Decoding: which Pillow mode each file becomes (PNG colour types and bit depths, JPEG gray/CMYK,
// GIF/WebP/TIFF), no EXIF rotation, no ICC, error cases, and the real anomaly-detection samples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { RwdaError } from '../../src/errors.ts';
import { AD_SAMPLES } from '../helpers/paths.ts';
import { decodeImage, preprocessToU8, preprocessImage, pngPillowMode, type PreprocessCfg } from '../../src/clip/preprocess/index.ts';
import { encodePng, type PngSpec } from './preprocess-pngenc.ts';

const W = 3;
const H = 2;

interface PngCase {
  name: string;
  spec: Omit<PngSpec, 'width' | 'height'>;
  mode: string;
  data: number[];
  notes?: RegExp;
}

const PNG_CASES: PngCase[] = [
  // 1-bit gray is Pillow mode "1" (NEAREST resize), samples 0/255.
  { name: 'gray1', spec: { colorType: 0, bitDepth: 1, samples: [0, 1, 1, 0, 1, 0] }, mode: '1', data: [0, 255, 255, 0, 255, 0] },
  // 2/4-bit gray unpack scaled (L;2 ×85, L;4 ×17).
  { name: 'gray2', spec: { colorType: 0, bitDepth: 2, samples: [0, 1, 2, 3, 1, 2] }, mode: 'L', data: [0, 85, 170, 255, 85, 170] },
  { name: 'gray4', spec: { colorType: 0, bitDepth: 4, samples: [0, 5, 15, 7, 1, 2] }, mode: 'L', data: [0, 85, 255, 119, 17, 34] },
  // A tRNS key on gray/RGB does not change Pillow's mode; convert("RGB") ignores it.
  { name: 'gray8+tRNS', spec: { colorType: 0, bitDepth: 8, samples: [0, 50, 100, 150, 200, 250], trns: [50] }, mode: 'L', data: [0, 50, 100, 150, 200, 250] },
  {
    name: 'gray16',
    spec: { colorType: 0, bitDepth: 16, samples: [0, 257, 65535, 32768, 1000, 40000] },
    mode: 'L',
    data: [0, 1, 255, 128, 3, 156],
    notes: /16-bit grayscale PNG: Pillow 9.4 opens it as mode I/,
  },
  {
    name: 'rgb16',
    spec: { colorType: 2, bitDepth: 16, samples: [0, 257, 65535, 32768, 1000, 40000, 1, 2, 3, 65280, 65281, 511, 9, 9, 9, 300, 301, 302] },
    mode: 'RGB',
    data: [0, 1, 255, 128, 3, 156, 0, 0, 0, 255, 255, 1, 0, 0, 0, 1, 1, 1],
  },
  {
    name: 'rgb8+tRNS',
    spec: { colorType: 2, bitDepth: 8, samples: [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 50, 60, 70, 80, 90, 100], trns: [1, 2, 3] },
    mode: 'RGB',
    data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 50, 60, 70, 80, 90, 100],
  },
  { name: 'la8', spec: { colorType: 4, bitDepth: 8, samples: [10, 255, 20, 128, 30, 0, 40, 64, 50, 1, 60, 254] }, mode: 'LA', data: [10, 255, 20, 128, 30, 0, 40, 64, 50, 1, 60, 254] },
  {
    name: 'la16',
    spec: { colorType: 4, bitDepth: 16, samples: [2560, 65535, 5120, 32768, 7680, 0, 10240, 16384, 12800, 256, 15360, 65279] },
    mode: 'LA',
    data: [10, 255, 20, 128, 30, 0, 40, 64, 50, 1, 60, 254],
  },
  {
    name: 'rgba16',
    spec: { colorType: 6, bitDepth: 16, samples: Array.from({ length: 24 }, (_, i) => i * 2700 + 255) },
    mode: 'RGBA',
    data: Array.from({ length: 24 }, (_, i) => (i * 2700 + 255) >> 8),
  },
  {
    name: 'palette4+tRNS',
    spec: { colorType: 3, bitDepth: 4, samples: [0, 1, 2, 3, 0, 1], palette: [[255, 0, 0], [0, 255, 0], [0, 0, 255], [9, 8, 7]], trns: [0, 128] },
    mode: 'P',
    data: [255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 8, 7, 255, 0, 0, 0, 255, 0],
  },
  {
    name: 'palette1',
    spec: { colorType: 3, bitDepth: 1, samples: [0, 1, 1, 0, 1, 0], palette: [[200, 100, 50], [1, 2, 3]] },
    mode: 'P',
    data: [200, 100, 50, 1, 2, 3, 1, 2, 3, 200, 100, 50, 1, 2, 3, 200, 100, 50],
  },
];

test("every PNG colour type / bit depth decodes to Pillow 9.4's mode and samples", async () => {
  for (const c of PNG_CASES) {
    const png = encodePng({ width: W, height: H, ...c.spec });
    const img = await decodeImage(png, { name: `${c.name}.png` });
    assert.equal(img.mode, c.mode, c.name);
    assert.equal(img.format, 'png');
    assert.equal(img.channels, c.data.length / (W * H), c.name);
    assert.deepEqual([...img.data], c.data, c.name);
    assert.equal(img.source, `${c.name}.png`);
    if (c.notes) assert.match(img.notes.join('\n'), c.notes, c.name);
    else assert.deepEqual(img.notes, [], c.name);
  }
  assert.equal(pngPillowMode(encodePng({ width: 1, height: 1, colorType: 0, bitDepth: 16, samples: [0] }))?.mode, 'I');
  assert.equal(pngPillowMode(Buffer.from('not a png at all, just some text')), undefined);
});

test('a 16-bit RGB PNG preprocesses like its high bytes as 8-bit', async () => {
  const samples = Array.from({ length: 9 * 7 * 3 }, (_, i) => (i * 7919 * 13) % 65536);
  const p16 = await decodeImage(encodePng({ width: 9, height: 7, colorType: 2, bitDepth: 16, samples }), { name: 'a.png' });
  const p8 = await decodeImage(encodePng({ width: 9, height: 7, colorType: 2, bitDepth: 8, samples: samples.map((v) => v >> 8) }), { name: 'b.png' });
  const cfg: PreprocessCfg = { size: 5, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], resizeMode: 'shortest', fillColor: 0 };
  assert.deepEqual(preprocessImage(p16, cfg), preprocessImage(p8, cfg));
});

test('JPEG: EXIF orientation is not applied, grayscale JPEG is L, CMYK JPEG keeps its inks', async () => {
  const rgb = Buffer.alloc(16 * 8 * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37) % 256;
  const rotated = await sharp(rgb, { raw: { width: 16, height: 8, channels: 3 } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
  assert.equal((await sharp(rotated).metadata()).orientation, 6);
  const img = await decodeImage(rotated, { name: 'rot.jpg' });
  // Pillow's Image.open ignores the tag (open_clip never calls exif_transpose): stored 16x8 is kept.
  assert.deepEqual([img.width, img.height, img.mode], [16, 8, 'RGB']);

  const gray = await sharp(rgb, { raw: { width: 16, height: 8, channels: 3 } }).toColourspace('b-w').jpeg().toBuffer();
  const g = await decodeImage(gray, { name: 'gray.jpg' });
  assert.deepEqual([g.mode, g.channels], ['L', 1]);

  const cmykJpeg = await sharp(rgb, { raw: { width: 16, height: 8, channels: 3 } }).toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer();
  const cmyk = await decodeImage(cmykJpeg, { name: 'cmyk.jpg' });
  assert.deepEqual([cmyk.mode, cmyk.channels, cmyk.notes], ['CMYK', 4, []]);
  // With no resize (S = short side, crop 4..12) the RGB is Pillow's cmyk2rgb of the inks.
  const { u8 } = preprocessToU8(cmyk, { size: 8, mean: [0, 0, 0], std: [1, 1, 1], resizeMode: 'shortest', fillColor: 0 });
  for (const [x, y] of [[0, 0], [3, 5], [7, 7]] as const) {
    const p = (y * 16 + x + 4) * 4;
    const nk = 255 - cmyk.data[p + 3]!;
    for (let c = 0; c < 3; c++) {
      const t = cmyk.data[p + c]! * nk + 128;
      assert.equal(u8[(y * 8 + x) * 3 + c], Math.max(0, nk - (((t >> 8) + t) >> 8)));
    }
  }
  // And it is still roughly the picture that went in (inks are not inverted).
  let err = 0;
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) for (let c = 0; c < 3; c++) err += Math.abs(u8[(y * 8 + x) * 3 + c]! - rgb[(y * 16 + x + 4) * 3 + c]!);
  assert.ok(err / (8 * 8 * 3) < 40, `mean |Δ| vs the RGB source ${err / 192}`);
});

test('embedded ICC profiles are ignored, as Pillow does', async () => {
  const rgb = Buffer.alloc(10 * 6 * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 41) % 256;
  const png = await sharp(rgb, { raw: { width: 10, height: 6, channels: 3 } }).withIccProfile('p3').png().toBuffer();
  assert.equal((await sharp(png).metadata()).hasProfile, true);
  const managed = await sharp(png).raw().toBuffer();
  const stored = await sharp(png, { ignoreIcc: true }).raw().toBuffer();
  assert.notDeepEqual(managed, stored, 'the profile must matter for this check to mean anything');
  const img = await decodeImage(png, { name: 'p3.png' });
  assert.deepEqual(img.data, new Uint8Array(stored));
});

test('GIF is a palette image, WebP/TIFF keep RGB(A), each noted as not Pillow-verified', async () => {
  const rgb = Buffer.alloc(12 * 10 * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 53) % 256;
  const gif = await decodeImage(await sharp(rgb, { raw: { width: 12, height: 10, channels: 3 } }).gif().toBuffer(), { name: 'x.gif' });
  assert.deepEqual([gif.mode, gif.channels, gif.format], ['P', 3, 'gif']);
  assert.match(gif.notes.join('\n'), /GIF/);
  const rgba = Buffer.alloc(12 * 10 * 4);
  for (let i = 0; i < rgba.length; i++) rgba[i] = (i * 29) % 256;
  const webp = await decodeImage(await sharp(rgba, { raw: { width: 12, height: 10, channels: 4 } }).webp({ lossless: true, exact: true }).toBuffer());
  assert.deepEqual([webp.mode, webp.format], ['RGBA', 'webp']);
  assert.deepEqual(webp.data, new Uint8Array(rgba));
  assert.match(webp.notes.join('\n'), /inferred from sharp metadata/);
  const tiff = await decodeImage(await sharp(rgb, { raw: { width: 12, height: 10, channels: 3 } }).tiff({ compression: 'lzw' }).toBuffer());
  assert.deepEqual([tiff.mode, tiff.format], ['RGB', 'tiff']);
  assert.deepEqual(tiff.data, new Uint8Array(rgb));
});

test('bad input gives an RwdaError naming the file: empty, truncated, not an image, missing, too many pixels', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rwda-preprocess-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const good = encodePng({ width: 40, height: 30, colorType: 2, bitDepth: 8, samples: Array.from({ length: 3600 }, (_, i) => i % 251) });
  const files: [string, Uint8Array, RegExp][] = [
    ['empty.png', new Uint8Array(0), /image .*empty\.png is empty \(0 bytes\)/],
    ['truncated.png', good.subarray(0, good.length - 40), /image .*truncated\.png could not be decoded/],
    ['text.png', Buffer.from('this is a text file, not a PNG\n'), /image .*text\.png is not a readable image/],
    ['header-only.jpg', Buffer.from([0xff, 0xd8, 0xff]), /image .*header-only\.jpg is not a readable image/],
  ];
  for (const [name, bytes, re] of files) {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    await assert.rejects(decodeImage(p), (e: unknown) => e instanceof RwdaError && re.test(e.message), name);
  }
  await assert.rejects(decodeImage(join(dir, 'missing.png')), (e: unknown) => e instanceof RwdaError && /cannot read image .*missing\.png/.test(e.message));
  mkdirSync(join(dir, 'sub.png'));
  await assert.rejects(decodeImage(join(dir, 'sub.png')), (e: unknown) => e instanceof RwdaError && /cannot read image .*sub\.png/.test(e.message));

  // Over the limit: refused from the header alone. This PNG claims 60000x50000 but holds 1 pixel of
  // data, so reaching the decoder would fail differently.
  const huge = Buffer.from(encodePng({ width: 1, height: 1, colorType: 0, bitDepth: 8, samples: [0] }));
  huge.writeUInt32BE(60000, 16);
  huge.writeUInt32BE(50000, 20);
  const hugePath = join(dir, 'huge.png');
  writeFileSync(hugePath, huge);
  await assert.rejects(
    decodeImage(hugePath),
    (e: unknown) => e instanceof RwdaError && /huge\.png is 60000x50000 = 3000000000 pixels, over the limit of 100000000/.test(e.message),
  );
  await assert.rejects(decodeImage(good, { name: 'small.png', maxPixels: 1000 }), /small\.png is 40x30 = 1200 pixels, over the limit of 1000/);
  assert.equal((await decodeImage(good, { maxPixels: 1200 })).source, '<buffer>');
  assert.equal((await decodeImage(good, { maxPixels: Infinity })).width, 40);
  await assert.rejects(decodeImage(good, { name: 'n.png', maxPixels: 0 }), /maxPixels must be a positive number, got 0 \(decoding n\.png\)/);
});

function listImages(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'ground_truth') out.push(...listImages(p));
    } else if (/\.(png|jpe?g)$/i.test(name)) out.push(p);
  }
  return out;
}

test('real AD samples (MVTec grid, hazelnut, VisA) decode and preprocess at S=240', async () => {
  const files = listImages(AD_SAMPLES);
  assert.ok(files.length >= 15, `found ${files.length} images`);
  const cfg: PreprocessCfg = {
    size: 240,
    mean: [0.48145466, 0.4578275, 0.40821073],
    std: [0.26862954, 0.26130258, 0.27577711],
    resizeMode: 'shortest',
    fillColor: 0,
  };
  const f32 = Math.fround;
  const lo = cfg.mean.map((m, c) => f32(f32(0 - f32(m)) / f32(cfg.std[c]!)));
  const hi = cfg.mean.map((m, c) => f32(f32(1 - f32(m)) / f32(cfg.std[c]!)));
  for (const f of files) {
    const img = await decodeImage(f);
    const isGrid = f.includes('mvtec_ad');
    assert.equal(img.mode, isGrid ? 'L' : 'RGB', f);
    if (isGrid) assert.deepEqual([img.width, img.height], [1024, 1024]);
    const r = preprocessToU8(img, cfg);
    assert.equal(r.u8.length, 240 * 240 * 3);
    assert.equal(Math.min(r.resizedSize[0], r.resizedSize[1]), 240, f);
    let distinct = new Set<number>();
    for (let i = 0; i < r.u8.length; i += 3) {
      if (isGrid) assert.ok(r.u8[i] === r.u8[i + 1] && r.u8[i] === r.u8[i + 2], `${f}: gray replicated`);
      distinct.add(r.u8[i]!);
    }
    assert.ok(distinct.size > 20, `${f}: ${distinct.size} distinct values`);
    const x = preprocessImage(img, cfg);
    assert.equal(x.length, 3 * 240 * 240);
    for (let c = 0; c < 3; c++) {
      for (let i = c * 57600; i < (c + 1) * 57600; i++) {
        if (!(x[i]! >= lo[c]! && x[i]! <= hi[c]!)) assert.fail(`${f}: value ${x[i]} outside [${lo[c]}, ${hi[c]}]`);
      }
    }
  }
});
