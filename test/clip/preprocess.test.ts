// open_clip preprocessing against the Pillow 9.4 / torchvision 0.14 goldens: decode, resize + crop
// (u8, exact), ToTensor + Normalize (float32, bit-exact), geometry, and the crop-resize API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPENCLIP_FIXTURES } from '../helpers/paths.ts';
import {
  cropResizeImage,
  cropResizeToU8,
  decodeImage,
  preprocessImage,
  preprocessToU8,
  toTensor,
  type DecodedImage,
  type PreprocessCfg,
} from '../../src/clip/preprocess/index.ts';

const IMAGES = join(OPENCLIP_FIXTURES, 'images');

interface TensorRef {
  file: string;
  dtype: string;
  shape: number[];
}
interface ImageGolden {
  name: string;
  mode: string;
  size: [number, number];
  resized_size: [number, number];
  crop_left_top: [number, number];
  preprocessed_u8: TensorRef;
  preprocessed: TensorRef;
}
interface ImageInfo {
  file: string;
  format: string;
  mode: string;
  width: number;
  height: number;
  decoded_rgba: TensorRef;
}

const imagesJson: ImageInfo[] = JSON.parse(readFileSync(join(IMAGES, 'images.json'), 'utf8'));

function loadModel(dir: string): { cfg: PreprocessCfg; images: ImageGolden[]; root: string } {
  const root = join(OPENCLIP_FIXTURES, dir);
  const pc = JSON.parse(readFileSync(join(root, 'open_clip_config.json'), 'utf8')).preprocess_cfg;
  assert.equal(pc.size[0], pc.size[1]);
  assert.equal(pc.resize_mode, 'shortest');
  const cfg: PreprocessCfg = {
    size: pc.size[0],
    mean: pc.mean,
    std: pc.std,
    interpolation: pc.interpolation,
    resizeMode: pc.resize_mode,
    fillColor: pc.fill_color,
  };
  const goldens = JSON.parse(readFileSync(join(root, 'goldens.json'), 'utf8'));
  return { cfg, images: goldens.images, root };
}

function readU8(root: string, ref: TensorRef): Uint8Array {
  assert.equal(ref.dtype, 'uint8');
  return new Uint8Array(readFileSync(join(root, ref.file)));
}

function readF32(root: string, ref: TensorRef): Float32Array {
  assert.equal(ref.dtype, 'float32');
  const b = readFileSync(join(root, ref.file));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

const decoded = new Map<string, DecodedImage>();
async function decodeFixture(name: string): Promise<DecodedImage> {
  let img = decoded.get(name);
  if (!img) {
    img = await decodeImage(join(IMAGES, name));
    decoded.set(name, img);
  }
  return img;
}

/** Expands our decode to RGBA the way Pillow's convert("RGBA") would for these fixtures. */
function toRgba(img: DecodedImage): Uint8Array {
  const out = new Uint8Array(img.width * img.height * 4);
  for (let p = 0; p < img.width * img.height; p++) {
    const s = p * img.channels;
    const d = img.data;
    const [r, g, b, a] =
      img.channels === 1 ? [d[s]!, d[s]!, d[s]!, 255]
      : img.channels === 2 ? [d[s]!, d[s]!, d[s]!, d[s + 1]!]
      : img.channels === 3 ? [d[s]!, d[s + 1]!, d[s + 2]!, 255]
      : [d[s]!, d[s + 1]!, d[s + 2]!, d[s + 3]!];
    out.set([r, g, b, a], p * 4);
  }
  return out;
}

test('sharp decode of every fixture image equals Pillow decoded_rgba, PNG and JPEG alike', async () => {
  assert.equal(imagesJson.length, 8);
  for (const info of imagesJson) {
    const img = await decodeFixture(info.file);
    assert.equal(img.width, info.width, info.file);
    assert.equal(img.height, info.height, info.file);
    assert.equal(img.mode, info.mode, `${info.file}: Pillow mode`);
    assert.deepEqual(img.notes, [], info.file);
    assert.deepEqual(info.decoded_rgba.shape, [info.height, info.width, 4]);
    const ref = readU8(IMAGES, info.decoded_rgba);
    const ours = toRgba(img);
    let differing = 0;
    let maxDiff = 0;
    for (let p = 0; p < info.width * info.height; p++) {
      let d = 0;
      for (let c = 0; c < 4; c++) d = Math.max(d, Math.abs(ours[p * 4 + c]! - ref[p * 4 + c]!));
      if (d > 0) differing++;
      maxDiff = Math.max(maxDiff, d);
    }
    // The JPEG (4:2:0, fancy upsampling) decodes identically too: sharp's mozjpeg and Pillow's
    // libjpeg-turbo share the ISLOW IDCT and the upsampler. Measured: 0 pixels differ, max 0.
    assert.equal(differing, 0, `${info.file}: ${differing} pixels differ, max |Δ| ${maxDiff}`);
  }
});

for (const dir of ['tiny-gelu', 'tiny-quickgelu']) {
  test(`${dir}: preprocessed_u8 identical, preprocessed float32 bit-identical, geometry equal`, async () => {
    const { cfg, images, root } = loadModel(dir);
    assert.equal(images.length, imagesJson.length);
    for (const g of images) {
      const img = await decodeFixture(g.name);
      assert.equal(img.mode, g.mode, g.name);
      assert.deepEqual([img.width, img.height], g.size, g.name);
      const r = preprocessToU8(img, cfg);
      assert.deepEqual(r.resizedSize, g.resized_size, `${g.name}: resized_size`);
      assert.deepEqual(r.cropLeftTop, g.crop_left_top, `${g.name}: crop_left_top`);
      assert.deepEqual(g.preprocessed_u8.shape, [cfg.size, cfg.size, 3]);
      const want = readU8(root, g.preprocessed_u8);
      let diff = 0;
      for (let i = 0; i < want.length; i++) if (want[i] !== r.u8[i]) diff++;
      assert.equal(diff, 0, `${g.name}: ${diff} of ${want.length} u8 samples differ`);

      const ref = readF32(root, g.preprocessed);
      assert.deepEqual(g.preprocessed.shape, [3, cfg.size, cfg.size]);
      const ours = preprocessImage(img, cfg);
      assert.equal(ours.length, ref.length);
      let fdiff = 0;
      for (let i = 0; i < ref.length; i++) if (!Object.is(ours[i], ref[i])) fdiff++;
      assert.equal(fdiff, 0, `${g.name}: ${fdiff} float32 values not bit-identical`);
    }
  });
}

test('toTensor writes CHW at an offset into a shared batch buffer', async () => {
  const { cfg, images, root } = loadModel('tiny-gelu');
  const S = cfg.size;
  const per = 3 * S * S;
  const batch = new Float32Array(per * 2 + 5).fill(7);
  const [a, b] = [images[0]!, images[1]!];
  toTensor(readU8(root, a.preprocessed_u8), S, cfg.mean, cfg.std, batch, 5);
  toTensor(readU8(root, b.preprocessed_u8), S, cfg.mean, cfg.std, batch, 5 + per);
  assert.deepEqual([...batch.subarray(0, 5)], [7, 7, 7, 7, 7]);
  assert.deepEqual(batch.subarray(5, 5 + per), readF32(root, a.preprocessed));
  assert.deepEqual(batch.subarray(5 + per), readF32(root, b.preprocessed));
  assert.throws(() => toTensor(new Uint8Array(10), S, cfg.mean, cfg.std), /expected 3072 u8 samples/);
  assert.throws(() => toTensor(readU8(root, a.preprocessed_u8), S, cfg.mean, cfg.std, batch, per * 2), /too small/);
});

test('cropResizeToU8 reproduces goldens where open_clip is a plain crop or a full-image resize', async () => {
  const gelu = loadModel('tiny-gelu');
  const quick = loadModel('tiny-quickgelu');
  const find = (m: ReturnType<typeof loadModel>, n: string) => m.images.find((g) => g.name === n)!;
  // gray_41x32 at S=32: no resize, crop at x=4 → crop(4, 0, 36, 32) with no resampling.
  const gray = await decodeFixture('gray_41x32.png');
  assert.deepEqual(cropResizeToU8(gray, [4, 0, 36, 32], 32), readU8(gelu.root, find(gelu, 'gray_41x32.png').preprocessed_u8));
  assert.deepEqual(cropResizeImage(gray, [4, 0, 36, 32], gelu.cfg), readF32(gelu.root, find(gelu, 'gray_41x32.png').preprocessed));
  // rgb_98x96 at S=32: resized to exactly 32x32, no crop → the whole image resized (BICUBIC, antialiased).
  const sq = await decodeFixture('rgb_98x96.png');
  assert.deepEqual(cropResizeToU8(sq, [0, 0, 98, 96], 32), readU8(gelu.root, find(gelu, 'rgb_98x96.png').preprocessed_u8));
  // rgb_64x48 at S=48: 64x48 is kept, crop x=8.
  const rgb = await decodeFixture('rgb_64x48.png');
  assert.deepEqual(cropResizeToU8(rgb, [8, 0, 56, 48], 48), readU8(quick.root, find(quick, 'rgb_64x48.png').preprocessed_u8));
  // squash on a square image is the same full resize.
  const sqU8 = preprocessToU8(sq, { ...gelu.cfg, resizeMode: 'squash' });
  assert.deepEqual(sqU8.u8, readU8(gelu.root, find(gelu, 'rgb_98x96.png').preprocessed_u8));
});

test('cropResizeToU8 rejects boxes outside the image or not integral, naming the file', async () => {
  const img = await decodeFixture('rgb_17x23.png');
  assert.throws(() => cropResizeToU8(img, [0, 0, 18, 23], 8), /crop box \[0, 0, 18, 23\] .*rgb_17x23\.png \(17x23\)/);
  assert.throws(() => cropResizeToU8(img, [5, 5, 5, 9], 8), /not a non-empty integer box/);
  assert.throws(() => cropResizeToU8(img, [0.5, 0, 4, 4], 8), /not a non-empty integer box/);
});

test('unsupported preprocess settings are rejected by name', async () => {
  const img = await decodeFixture('rgb_17x23.png');
  const base: PreprocessCfg = { size: 8, mean: [0, 0, 0], std: [1, 1, 1], resizeMode: 'shortest', fillColor: 0 };
  assert.throws(() => preprocessToU8(img, { ...base, resizeMode: 'fit' as never }), /resize_mode 'fit' is not supported/);
  assert.throws(() => preprocessToU8(img, { ...base, interpolation: 'bilinear' as never }), /interpolation 'bilinear'/);
  assert.throws(() => preprocessToU8(img, { ...base, size: 0 }), /size must be a positive integer/);
});
