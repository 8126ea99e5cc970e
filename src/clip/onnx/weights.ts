/**
 * Binds checkpoint tensors into a graph as initializers. F32 tensors whose layout the graph can use
 * as-is become ONNX external data pointing straight into the safetensors file (ORT reads them
 * itself, so the bytes never pass through JS or the protobuf); everything else is materialised.
 */
import { realpathSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { RwdaError } from '../../errors.ts';
import type { TensorInfo } from '../safetensors.ts';
import type { GraphBuilder } from './graph.ts';

/** The subset of a safetensors reader the binder needs (SafetensorsFile satisfies it). */
export interface TensorSource {
  readonly path: string;
  info(key: string): TensorInfo;
}

export interface WeightBinderOptions {
  /** Reads a whole tensor as float32 (with whatever validation the caller wants). */
  read: (key: string) => Float32Array;
  /** 'external' (default) references F32 tensors in place; 'inline' copies every tensor into the model. */
  mode?: 'external' | 'inline';
}

/** Initializer factory for one graph and one checkpoint file. */
export class WeightBinder {
  private readonly cache = new Map<string, string>();
  private realPath: string | undefined;
  readonly mode: 'external' | 'inline';
  /** Bytes embedded in the model (inline tensors), for diagnostics. */
  inlineBytes = 0;

  constructor(
    private readonly b: GraphBuilder,
    private readonly src: TensorSource,
    private readonly opts: WeightBinderOptions,
  ) {
    this.mode = opts.mode ?? 'external';
  }

  /**
   * The weights file with symlinks resolved. onnxruntime resolves links itself and refuses external
   * data that lands outside the folder it was given, which is exactly what a huggingface_hub snapshot
   * (snapshots/<rev>/file → ../../blobs/<etag>) looks like.
   */
  private weightsPath(): string {
    this.realPath ??= realpathSync(this.src.path);
    return this.realPath;
  }

  /** The folder ORT must resolve external data against (session option). */
  get folder(): string {
    return dirname(this.weightsPath());
  }

  /** The tensor `key`, optionally restricted to rows [rowStart, rowEnd) of its first axis, reshaped to `dims` (default: its own shape). */
  tensor(key: string, opts: { rows?: [number, number]; dims?: number[] } = {}): string {
    const cacheKey = `${key}|${opts.rows?.join(':') ?? ''}|${opts.dims?.join(',') ?? ''}`;
    const hit = this.cache.get(cacheKey);
    if (hit) return hit;
    const info = this.src.info(key);
    const rowLen = info.shape.slice(1).reduce((a, d) => a * d, 1);
    const [r0, r1] = opts.rows ?? [0, info.shape[0] ?? 1];
    if (info.shape.length === 0 && opts.rows) throw new RwdaError(`${this.src.path}: '${key}' is a scalar; cannot take rows`);
    const sliceShape = info.shape.length === 0 ? [] : [r1 - r0, ...info.shape.slice(1)];
    const dims = opts.dims ?? sliceShape;
    const count = (r1 - r0) * rowLen;
    if (dims.reduce((a, d) => a * d, 1) !== count) throw new Error(`${key}: cannot view ${count} values as [${dims}]`);
    const hint = opts.rows ? `${key}[${r0}:${r1}]` : key;
    let name: string;
    if (this.mode === 'external' && info.dtype === 'F32') {
      name = this.b.external(hint, dims, { location: basename(this.weightsPath()), offset: info.begin + r0 * rowLen * 4, length: count * 4 });
    } else {
      const all = this.opts.read(key);
      name = this.materialized(hint, opts.rows ? all.subarray(r0 * rowLen, r1 * rowLen) : all, dims);
    }
    this.cache.set(cacheKey, name);
    return name;
  }

  /** A tensor computed in JS (e.g. a transposed weight), embedded in the model. */
  materialized(hint: string, data: Float32Array, dims: number[]): string {
    this.inlineBytes += data.byteLength;
    return this.b.constant(hint, data, dims);
  }

  /** Reads the whole tensor `key` as float32. */
  read(key: string): Float32Array {
    return this.opts.read(key);
  }

  /** The tensor's shape. */
  shape(key: string): number[] {
    return this.src.info(key).shape;
  }
}

/** Row-major transpose of a [rows, cols] matrix. */
export function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = a[base + c]!;
  }
  return out;
}
