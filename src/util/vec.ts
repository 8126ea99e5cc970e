/** Dense vectors: dot products, norms and torch-style L2 normalisation (float64 accumulation). */
import { RwdaError } from '../errors.ts';

/** A dense vector of numbers. */
export type Vec = ArrayLike<number>;

/** torch.nn.functional.normalize's eps: a vector with a smaller norm is divided by eps instead. */
export const L2_EPS = 1e-12;

/** Dot product accumulated in float64. */
export function dot(a: Vec, b: Vec): number {
  if (a.length !== b.length) throw new RwdaError(`dot: length mismatch (${a.length} vs ${b.length})`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Euclidean norm accumulated in float64. */
export function l2norm(v: Vec, offset = 0, length = v.length - offset): number {
  let s = 0;
  for (let i = offset; i < offset + length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/** Scales v to unit length in place (torch semantics: divides by max(‖v‖, 1e-12)) and returns it. */
export function l2normalizeInPlace<T extends Float32Array | Float64Array | number[]>(v: T): T {
  const d = Math.max(l2norm(v), L2_EPS);
  for (let i = 0; i < v.length; i++) v[i] = v[i]! / d;
  return v;
}

/** A unit-length float32 copy of v (torch semantics: divides by max(‖v‖, 1e-12)). */
export function l2normalize(v: Vec): Float32Array {
  return l2normalizeInPlace(Float32Array.from(v));
}

/** Normalises each row of a row-major [rows, dim] matrix in place and returns it. */
export function l2normalizeRows<T extends Float32Array | Float64Array>(data: T, dim: number): T {
  checkMatrix(data, dim, 'l2normalizeRows');
  for (let off = 0; off < data.length; off += dim) {
    const d = Math.max(l2norm(data, off, dim), L2_EPS);
    for (let i = off; i < off + dim; i++) data[i] = data[i]! / d;
  }
  return data;
}

export function checkMatrix(data: Vec, dim: number, what: string): void {
  if (!Number.isInteger(dim) || dim <= 0) throw new RwdaError(`${what}: dim must be a positive integer, got ${dim}`);
  if (data.length % dim !== 0) {
    throw new RwdaError(`${what}: matrix length ${data.length} is not a multiple of dim ${dim}`);
  }
}

