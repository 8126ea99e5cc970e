/**
 * The FNN's state_dict: torch key names, torch shapes, row-major data.
 *
 * In memory a state holds Float64Array data (training in float64, and float32 values widened
 * exactly) or Float32Array data (float32 training). On disk (toNamedTensors) everything is
 * float32; `num_batches_tracked` (an int64 in torch) is stored as a one-element float32 with
 * shape [], exact up to 2^24 batches.
 */
import { RwdaError } from '../../../errors.ts';
import type { Rng } from '../../../util/rng.ts';
import { layoutOf, numel, type Layout } from './config.ts';

export type FloatArray = Float32Array | Float64Array;

/** One state tensor. */
export interface StateTensor {
  shape: number[];
  data: FloatArray;
}

/** state_dict: key → tensor, in torch key order. */
export type FnnState = Map<string, StateTensor>;

/** A named float32 tensor, the serialisation unit (safetensors-ready). */
export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/**
 * torch's default initialisation from our Rng, in module order: Linear weight then bias, both
 * U(−1/√fan_in, 1/√fan_in) (kaiming_uniform(a=√5) has exactly that bound); BatchNorm weight 1,
 * bias 0, running_mean 0, running_var 1, num_batches_tracked 0. Values are rounded to float32
 * (the model is a float32 model) and held as Float64Array.
 */
export function initState(layout: Layout, rng: Rng): FnnState {
  const state: FnnState = new Map();
  const uniform = (n: number, bound: number): Float64Array => {
    const f = new Float32Array(n);
    for (let i = 0; i < n; i++) f[i] = (2 * rng.nextFloat() - 1) * bound;
    return Float64Array.from(f);
  };
  for (const b of layout.blocks) {
    const bound = 1 / Math.sqrt(b.fanIn);
    state.set(b.weight, { shape: [b.width, b.fanIn], data: uniform(b.width * b.fanIn, bound) });
    state.set(b.bias, { shape: [b.width], data: uniform(b.width, bound) });
    state.set(b.bnWeight, { shape: [b.width], data: new Float64Array(b.width).fill(1) });
    state.set(b.bnBias, { shape: [b.width], data: new Float64Array(b.width) });
    state.set(b.runningMean, { shape: [b.width], data: new Float64Array(b.width) });
    state.set(b.runningVar, { shape: [b.width], data: new Float64Array(b.width).fill(1) });
    state.set(b.numBatchesTracked, { shape: [], data: new Float64Array(1) });
  }
  const last = layout.hidden[layout.hidden.length - 1]!;
  const bound = 1 / Math.sqrt(last);
  state.set(layout.headWeight, { shape: [1, last], data: uniform(last, bound) });
  state.set(layout.headBias, { shape: [1], data: uniform(1, bound) });
  return state;
}

/** Copies a state into fresh arrays of the given element type, in layout key order. */
export function convertState(layout: Layout, state: FnnState, dtype: 'float32' | 'float64'): FnnState {
  const out: FnnState = new Map();
  for (const key of layout.stateKeys) {
    const t = state.get(key)!;
    out.set(key, { shape: [...t.shape], data: dtype === 'float32' ? Float32Array.from(t.data) : Float64Array.from(t.data) });
  }
  return out;
}

/** Serialises to named float32 tensors in torch key order. */
export function toNamedTensors(layout: Layout, state: FnnState): NamedTensor[] {
  return layout.stateKeys.map((name) => {
    const t = state.get(name)!;
    return { name, shape: [...t.shape], data: Float32Array.from(t.data) };
  });
}

/** Input accepted by stateFromTensors: named tensors (any float array) or a key → tensor record/map. */
export type StateInput =
  | ReadonlyArray<{ name: string; shape: readonly number[]; data: ArrayLike<number> }>
  | ReadonlyMap<string, { shape: readonly number[]; data: ArrayLike<number> }>
  | Readonly<Record<string, { shape: readonly number[]; data: ArrayLike<number> }>>;

function entriesOf(input: StateInput): Array<[string, { shape: readonly number[]; data: ArrayLike<number> }]> {
  if (Array.isArray(input)) return (input as ReadonlyArray<{ name: string; shape: readonly number[]; data: ArrayLike<number> }>).map((t) => [t.name, t]);
  if (input instanceof Map) return [...input.entries()];
  return Object.entries(input as Record<string, { shape: readonly number[]; data: ArrayLike<number> }>);
}

/**
 * Validates a state_dict and infers the architecture from its shapes: blocks 0,4,8,… while a
 * BatchNorm key follows the Linear, then the head. `source` names the origin in error messages.
 * Data is widened exactly into Float64Array.
 */
export function stateFromTensors(input: StateInput, source = 'FNN state'): { layout: Layout; state: FnnState } {
  const raw = new Map(entriesOf(input));
  const shapeOf = (key: string): readonly number[] => {
    const t = raw.get(key);
    if (!t) throw new RwdaError(`${source}: missing tensor "${key}"`);
    return t.shape;
  };
  const w0 = shapeOf('0.weight');
  if (w0.length !== 2) throw new RwdaError(`${source}: "0.weight" must be 2-D [out][in], got shape [${w0.join(',')}]`);
  const dim = w0[1]!;
  const hidden: number[] = [];
  for (let i = 0; raw.has(`${4 * i + 1}.running_mean`); i++) {
    const s = shapeOf(`${4 * i}.weight`);
    if (s.length !== 2) throw new RwdaError(`${source}: "${4 * i}.weight" must be 2-D, got shape [${s.join(',')}]`);
    hidden.push(s[0]!);
  }
  if (hidden.length === 0) throw new RwdaError(`${source}: no BatchNorm tensor "1.running_mean"; not an FNN state_dict`);
  const layout = layoutOf(dim, hidden);
  const state: FnnState = new Map();
  for (const key of layout.stateKeys) {
    const t = raw.get(key);
    if (!t) throw new RwdaError(`${source}: missing tensor "${key}"`);
    const want = layout.shapes.get(key)!;
    // A scalar may arrive as shape [] or [1] (some writers cannot express rank 0).
    const shapeOk =
      (t.shape.length === want.length && t.shape.every((d, i) => d === want[i])) ||
      (want.length === 0 && t.shape.length === 1 && t.shape[0] === 1);
    if (!shapeOk) throw new RwdaError(`${source}: tensor "${key}" has shape [${t.shape.join(',')}], expected [${want.join(',')}]`);
    if (t.data.length !== numel(want)) {
      throw new RwdaError(`${source}: tensor "${key}" holds ${t.data.length} values, shape [${want.join(',')}] needs ${numel(want)}`);
    }
    const data = Float64Array.from(t.data);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) throw new RwdaError(`${source}: tensor "${key}" has a non-finite value at index ${i}`);
    }
    if (key.endsWith('.num_batches_tracked') && (!Number.isInteger(data[0]!) || data[0]! < 0)) {
      throw new RwdaError(`${source}: "${key}" must be a non-negative integer, got ${data[0]}`);
    }
    if (key.endsWith('.running_var') && data.some((v) => v < 0)) throw new RwdaError(`${source}: "${key}" has a negative variance`);
    state.set(key, { shape: [...want], data });
  }
  for (const key of raw.keys()) {
    if (!layout.shapes.has(key)) throw new RwdaError(`${source}: unexpected tensor "${key}" (not part of an FNN with hidden widths [${hidden.join(',')}])`);
  }
  return { layout, state };
}
