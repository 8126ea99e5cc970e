/**
 * A minimal PNG encoder for tests: writes exactly the colour type, bit depth, palette and tRNS chunk
 * asked for, so decoder behaviour (and which Pillow mode a file maps to) can be checked on every PNG
 * variant without binary fixtures. Filter type 0 on every row; no interlacing.
 */
import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export interface PngSpec {
  width: number;
  height: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA. */
  colorType: 0 | 2 | 3 | 4 | 6;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  /** Samples row-major, one number per channel (palette: indices); 16-bit values up to 65535. */
  samples: ArrayLike<number>;
  /** Palette entries [r, g, b] (colour type 3). */
  palette?: [number, number, number][];
  /** Raw tRNS payload: palette alphas (type 3), or one gray / one RGB key sample (types 0 / 2). */
  trns?: number[];
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Encodes `spec` as a PNG file. */
export function encodePng(spec: PngSpec): Buffer {
  const { width, height, colorType, bitDepth } = spec;
  const ch = CHANNELS[colorType]!;
  const rowBits = width * ch * bitDepth;
  const rowBytes = Math.ceil(rowBits / 8);
  const raw = Buffer.alloc(height * (rowBytes + 1));
  for (let y = 0; y < height; y++) {
    const rowStart = y * (rowBytes + 1) + 1;
    for (let i = 0; i < width * ch; i++) {
      const v = spec.samples[y * width * ch + i]!;
      if (bitDepth === 16) raw.writeUInt16BE(v, rowStart + 2 * i);
      else if (bitDepth === 8) raw[rowStart + i] = v;
      else {
        const bit = i * bitDepth;
        const shift = 8 - bitDepth - (bit % 8);
        raw[rowStart + (bit >> 3)]! |= v << shift;
      }
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colorType;
  const parts = [Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr)];
  if (spec.palette) parts.push(chunk('PLTE', Uint8Array.from(spec.palette.flat())));
  if (spec.trns) {
    if (colorType === 3) parts.push(chunk('tRNS', Uint8Array.from(spec.trns)));
    else {
      const b = Buffer.alloc(spec.trns.length * 2);
      spec.trns.forEach((v, i) => b.writeUInt16BE(v, 2 * i));
      parts.push(chunk('tRNS', b));
    }
  }
  parts.push(chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}
