/**
 * safetensors reader and F32 writer. Format: 8-byte little-endian header length N, N bytes of JSON
 * header `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {str: str}}`, then the
 * data section; offsets are relative to the start of the data section.
 *
 * The reader keeps a file descriptor and reads one tensor at a time, so an 830 MB checkpoint is
 * never held in memory as a whole.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { endianness } from 'node:os';
import { RwdaError, fsErrorCode } from '../errors.ts';

export type Dtype =
  | 'F64' | 'F32' | 'F16' | 'BF16'
  | 'I64' | 'I32' | 'I16' | 'I8'
  | 'U64' | 'U32' | 'U16' | 'U8'
  | 'BOOL' | 'F8_E4M3' | 'F8_E5M2';

const ITEM_SIZE: Record<Dtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2,
  I64: 8, I32: 4, I16: 2, I8: 1,
  U64: 8, U32: 4, U16: 2, U8: 1,
  BOOL: 1, F8_E4M3: 1, F8_E5M2: 1,
};

/** Dtypes getFloat32 converts; others can be listed but not read as floats. */
export const FLOAT_DTYPES: readonly Dtype[] = ['F32', 'F16', 'BF16'];

export interface TensorInfo {
  dtype: Dtype;
  shape: number[];
  /** Absolute byte offset of the first byte in the file. */
  begin: number;
  /** Absolute byte offset one past the last byte. */
  end: number;
}

/** Upper bound on the JSON header; the reference implementation uses 100 MB too. */
const MAX_HEADER_BYTES = 100_000_000;

if (endianness() !== 'LE') throw new Error('rwda supports little-endian machines only');

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An open safetensors file; read tensors with getFloat32 and close() when done. */
export class SafetensorsFile {
  readonly path: string;
  readonly metadata: Record<string, string>;
  /** Non-fatal findings, e.g. bytes in the data section no tensor covers. */
  readonly warnings: string[];
  private fd: number | undefined;
  private readonly entries: Map<string, TensorInfo>;

  private constructor(path: string, fd: number, entries: Map<string, TensorInfo>, metadata: Record<string, string>, warnings: string[]) {
    this.path = path;
    this.fd = fd;
    this.entries = entries;
    this.metadata = metadata;
    this.warnings = warnings;
  }

  /** Opens and validates the header (dtypes, shapes, offsets in bounds and non-overlapping). */
  static open(path: string): SafetensorsFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      throw new RwdaError(`${path}: cannot open safetensors file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { code: fsErrorCode(err), cause: err });
    }
    try {
      const { entries, metadata, warnings } = parseHeader(path, fd);
      return new SafetensorsFile(path, fd, entries, metadata, warnings);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** Tensor names, sorted. */
  keys(): string[] {
    return [...this.entries.keys()].sort();
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** dtype, shape and absolute byte range of one tensor. */
  info(key: string): TensorInfo {
    const e = this.entries.get(key);
    if (!e) throw new RwdaError(`${this.path}: no tensor named '${key}'`);
    return { dtype: e.dtype, shape: [...e.shape], begin: e.begin, end: e.end };
  }

  /** Reads one tensor's raw bytes. */
  readBytes(key: string): Uint8Array {
    const e = this.info(key);
    const out = new Uint8Array(e.end - e.begin);
    this.readInto(out, e.begin, key);
    return out;
  }

  /** Reads one tensor as float32, converting from F16 or BF16. */
  getFloat32(key: string): Float32Array {
    const e = this.info(key);
    const n = e.shape.reduce((a, b) => a * b, 1);
    switch (e.dtype) {
      case 'F32': {
        const out = new Float32Array(n);
        this.readInto(new Uint8Array(out.buffer), e.begin, key);
        return out;
      }
      case 'F16': {
        const raw = new Uint16Array(n);
        this.readInto(new Uint8Array(raw.buffer), e.begin, key);
        return f16ToF32(raw);
      }
      case 'BF16': {
        const raw = new Uint16Array(n);
        this.readInto(new Uint8Array(raw.buffer), e.begin, key);
        const bits = new Uint32Array(n);
        for (let i = 0; i < n; i++) bits[i] = raw[i]! << 16;
        return new Float32Array(bits.buffer);
      }
      default:
        throw new RwdaError(`${this.path}: tensor '${key}' has dtype ${e.dtype}; only ${FLOAT_DTYPES.join(', ')} can be read as floats`, { code: 'unsupported' });
    }
  }

  close(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private readInto(buf: Uint8Array, pos: number, key: string): void {
    if (this.fd === undefined) throw new RwdaError(`${this.path}: file already closed (reading '${key}')`);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(this.fd, buf, off, buf.length - off, pos + off);
      if (n === 0) throw new RwdaError(`${this.path}: tensor '${key}' is truncated (file shrank while reading?)`);
      off += n;
    }
  }
}

function parseHeader(path: string, fd: number): { entries: Map<string, TensorInfo>; metadata: Record<string, string>; warnings: string[] } {
  const size = fstatSync(fd).size;
  if (size < 8) throw new RwdaError(`${path}: not a safetensors file (only ${size} bytes, need at least 8)`);
  const lenBuf = Buffer.alloc(8);
  readSync(fd, lenBuf, 0, 8, 0);
  const headerLen = lenBuf.readBigUInt64LE(0);
  if (headerLen > BigInt(size - 8)) {
    throw new RwdaError(`${path}: header length ${headerLen} runs past the end of the file (${size} bytes); the file is truncated or not safetensors`);
  }
  if (headerLen > BigInt(MAX_HEADER_BYTES)) throw new RwdaError(`${path}: header length ${headerLen} is larger than the ${MAX_HEADER_BYTES}-byte limit`);
  if (headerLen < 2n) throw new RwdaError(`${path}: header length ${headerLen} is too small for a JSON object`);
  const n = Number(headerLen);
  const hb = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    const r = readSync(fd, hb, got, n - got, 8 + got);
    if (r === 0) break;
    got += r;
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(hb));
  } catch (err) {
    throw new RwdaError(`${path}: header is not valid UTF-8 JSON (${(err as Error).message})`, { cause: err });
  }
  if (!isObj(header)) throw new RwdaError(`${path}: header must be a JSON object`);

  const dataStart = 8 + n;
  const dataSize = size - dataStart;
  const metadata: Record<string, string> = {};
  const entries = new Map<string, TensorInfo>();
  for (const [key, v] of Object.entries(header)) {
    if (key === '__metadata__') {
      if (!isObj(v)) throw new RwdaError(`${path}: __metadata__ must be an object of strings`);
      for (const [mk, mv] of Object.entries(v)) {
        if (typeof mv !== 'string') throw new RwdaError(`${path}: __metadata__.${mk} must be a string (got ${JSON.stringify(mv)})`);
        metadata[mk] = mv;
      }
      continue;
    }
    const bad = (msg: string): never => {
      throw new RwdaError(`${path}: tensor '${key}': ${msg}`);
    };
    if (!isObj(v)) bad('header entry must be an object with dtype, shape and data_offsets');
    const ent = v as Record<string, unknown>;
    const dtype = ent.dtype;
    if (typeof dtype !== 'string') bad('missing dtype');
    if (!Object.hasOwn(ITEM_SIZE, dtype as string)) bad(`unsupported dtype ${JSON.stringify(dtype)}`);
    const shape = ent.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      bad(`shape must be a list of non-negative integers (got ${JSON.stringify(shape)})`);
    }
    const offs = ent.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      bad(`data_offsets must be [begin, end] non-negative integers (got ${JSON.stringify(offs)})`);
    }
    const [b, e] = offs as [number, number];
    if (e < b) bad(`data_offsets [${b}, ${e}] end before begin`);
    if (e > dataSize) bad(`data_offsets [${b}, ${e}] run past the end of the data section (${dataSize} bytes); the file is truncated`);
    const numel = (shape as number[]).reduce((a, d) => a * d, 1);
    const expected = numel * ITEM_SIZE[dtype as Dtype];
    if (e - b !== expected) {
      bad(`data_offsets [${b}, ${e}] hold ${e - b} bytes but ${dtype} ${JSON.stringify(shape)} needs ${expected}`);
    }
    entries.set(key, { dtype: dtype as Dtype, shape: [...(shape as number[])], begin: dataStart + b, end: dataStart + e });
  }

  const warnings: string[] = [];
  const byOffset = [...entries.entries()].filter(([, t]) => t.end > t.begin).sort((x, y) => x[1].begin - y[1].begin);
  let pos = dataStart;
  let prevKey = '';
  let gaps = 0;
  for (const [key, t] of byOffset) {
    if (t.begin < pos) {
      throw new RwdaError(`${path}: tensor '${key}' overlaps tensor '${prevKey}' (bytes ${t.begin - dataStart}..${pos - dataStart} of the data section)`);
    }
    gaps += t.begin - pos;
    pos = t.end;
    prevKey = key;
  }
  gaps += size - pos;
  if (gaps > 0) warnings.push(`${path}: ${gaps} bytes of the data section belong to no tensor`);
  return { entries, metadata, warnings };
}

const F16_EXP = 0x7c00;

/** IEEE half → float32 (subnormals, infinities and NaN included). */
export function f16ToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) {
    const h = src[i]!;
    const sign = (h & 0x8000) << 16;
    const exp = h & F16_EXP;
    const mant = h & 0x03ff;
    if (exp === F16_EXP) {
      bits[i] = sign | 0x7f800000 | (mant << 13);
    } else if (exp !== 0) {
      bits[i] = sign | (((exp >> 10) + 112) << 23) | (mant << 13);
    } else if (mant === 0) {
      bits[i] = sign;
    } else {
      // Subnormal half: value = mant · 2^-24, exact in float32.
      out[i] = (sign ? -1 : 1) * mant * 2 ** -24;
    }
  }
  return out;
}

export interface TensorToWrite {
  name: string;
  shape: number[];
  /** The values, or a producer called once, in file order, so large files can be streamed. */
  data: Float32Array | (() => Float32Array);
}

/**
 * Writes an all-F32 safetensors file atomically (temp file + fsync + rename): names sorted,
 * header padded with spaces to a multiple of 8 bytes, data packed in name order.
 */
export function writeSafetensors(
  path: string,
  tensors: TensorToWrite[] | Record<string, { shape: number[]; data: Float32Array | (() => Float32Array) }>,
  metadata?: Record<string, string>,
): void {
  const list: TensorToWrite[] = Array.isArray(tensors)
    ? [...tensors]
    : Object.entries(tensors).map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
  list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let off = 0;
  const seen = new Set<string>();
  for (const t of list) {
    if (t.name === '__metadata__' || seen.has(t.name)) throw new RwdaError(`${path}: duplicate or reserved tensor name '${t.name}'`);
    seen.add(t.name);
    const numel = t.shape.reduce((a, d) => a * d, 1);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + numel * 4] };
    off += numel * 4;
  }
  let json = JSON.stringify(header);
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (jsonBytes % 8)) % 8);
  const hb = Buffer.from(json, 'utf8');
  const lenBuf = Buffer.alloc(8);
  lenBuf.writeBigUInt64LE(BigInt(hb.length));

  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'w');
  let open = true;
  try {
    writeAll(fd, lenBuf);
    writeAll(fd, hb);
    for (const t of list) {
      const data = typeof t.data === 'function' ? t.data() : t.data;
      const numel = t.shape.reduce((a, d) => a * d, 1);
      if (data.length !== numel) {
        throw new RwdaError(`${path}: tensor '${t.name}' has ${data.length} values but shape ${JSON.stringify(t.shape)} needs ${numel}`);
      }
      writeAll(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
    fsyncSync(fd);
    closeSync(fd);
    open = false;
    renameSync(tmp, path);
  } catch (err) {
    if (open) closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
}

function writeAll(fd: number, buf: Uint8Array): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}
