/**
 * NumPy `.npy` files for 2-D float maps (anomaly maps): a reader for version 1.x/2.x/3.x headers with dtype `<f4`
 * or `<f8` in C or Fortran order, and an atomic float32 C-order writer. Anything else is refused with an RwdaError
 * naming the file, because a silently misread map would corrupt every pixel metric computed from it.
 */
import { readFileSync } from 'node:fs';
import { RwdaError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic.ts';

/** A 2-D map in row-major (C) order; `data[y * width + x]`. Float64 maps stay Float64 (no precision loss). */
export interface NpyMap {
  height: number;
  width: number;
  dtype: 'float32' | 'float64';
  data: Float32Array | Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Parses the bytes of a 2-D float32/float64 `.npy`; `name` is used in error messages. */
export function parseNpy(bytes: Uint8Array, name: string): NpyMap {
  const bad = (why: string): RwdaError => new RwdaError(`${name}: not a readable .npy map (${why})`);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw bad('no \\x93NUMPY magic');
  const major = bytes[6]!;
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = bytes[8]! | (bytes[9]! << 8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw bad('truncated header');
    headerLen = (bytes[8]! | (bytes[9]! << 8) | (bytes[10]! << 16)) + bytes[11]! * 2 ** 24;
    headerStart = 12;
  } else {
    throw bad(`unsupported format version ${major}`);
  }
  if (headerStart + headerLen > bytes.length) throw bad('truncated header');
  const header = Buffer.from(bytes.buffer, bytes.byteOffset + headerStart, headerLen).toString('latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw bad('malformed header');
  let dtype: 'float32' | 'float64';
  if (descr === '<f4') dtype = 'float32';
  else if (descr === '<f8') dtype = 'float64';
  else throw new RwdaError(`${name}: dtype '${descr}' is not supported; anomaly maps must be little-endian float32 (<f4) or float64 (<f8)`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw bad(`bad shape (${shapeText})`);
  if (shape.length !== 2) {
    throw new RwdaError(`${name}: map is ${shape.length}-D with shape (${shape.join(', ')}); expected a 2-D map (height, width)`);
  }
  const [height, width] = shape as [number, number];
  const itemSize = dtype === 'float32' ? 4 : 8;
  const n = height * width;
  const dataStart = headerStart + headerLen;
  const need = n * itemSize;
  if (bytes.length - dataStart < need) {
    throw bad(`truncated: header says ${height}x${width} ${dtype} (${need} bytes), file holds ${bytes.length - dataStart}`);
  }
  // Copy into a fresh, aligned buffer (the file's data offset need not be a multiple of 8).
  const raw = new Uint8Array(need);
  raw.set(bytes.subarray(dataStart, dataStart + need));
  const flat = dtype === 'float32' ? new Float32Array(raw.buffer) : new Float64Array(raw.buffer);
  if (fortran === 'False' || height <= 1 || width <= 1) return { height, width, dtype, data: flat };
  // Fortran order is column-major: element (y, x) sits at x * height + y.
  const data = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let x = 0; x < width; x++) {
    const col = x * height;
    for (let y = 0; y < height; y++) data[y * width + x] = flat[col + y]!;
  }
  return { height, width, dtype, data };
}

/** Reads a 2-D float32/float64 `.npy` map; RwdaError naming `path` when it cannot. */
export function readNpy(path: string): NpyMap {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new RwdaError(`${path}: cannot read (${(err as Error).message})`, { cause: err });
  }
  return parseNpy(bytes, path);
}

/** Encodes a 2-D map as a version-1.0 `.npy`, little-endian float32, C order. */
export function encodeNpyFloat32(data: ArrayLike<number>, height: number, width: number): Uint8Array {
  if (!Number.isSafeInteger(height) || !Number.isSafeInteger(width) || height < 0 || width < 0 || data.length !== height * width) {
    throw new RwdaError(`npy: ${data.length} values do not fill a ${height}x${width} map`);
  }
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${height}, ${width}), }`;
  // Magic (6) + version (2) + length (2) + header + '\n' padded to a multiple of 64, as numpy writes it.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.length * 4);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  out.set(Buffer.from(header, 'latin1'), 10);
  const f = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) f[i] = data[i]!;
  // Typed arrays use the platform's byte order; Node runs on little-endian hosts only in practice, but be explicit.
  const view = new DataView(out.buffer, total);
  for (let i = 0; i < f.length; i++) view.setFloat32(i * 4, f[i]!, true);
  return out;
}

/** Writes a 2-D map as float32 C-order `.npy`, atomically (readers see the old file or the whole new one). */
export function writeNpyFloat32(path: string, data: ArrayLike<number>, height: number, width: number): void {
  writeFileAtomic(path, encodeNpyFloat32(data, height, width));
}
