/**
 * The paper's FNN anomaly detector: Linear → BatchNorm1d → ReLU → Dropout per hidden block, then
 * Linear(h_last, 1) giving the anomaly logit. Holds a torch-compatible state_dict and scores
 * embeddings in eval mode through onnxruntime.
 */
import { RwdaError } from '../../../errors.ts';
import { Rng } from '../../../util/rng.ts';
import { layoutOf, resolveConfig, type FnnConfig, type Layout } from './config.ts';
import { buildEvalGraph, type Dtype } from './graphs.ts';
import { createSyncSession, Tensor, type SyncSession } from './ort.ts';
import { convertState, initState, stateFromTensors, toNamedTensors, type FnnState, type NamedTensor, type StateInput } from './state.ts';
import { evalLogitsReference, hiddenReference } from './train_reference.ts';

/** Rows per onnxruntime call when scoring, to bound the activations' memory. */
const SCORE_CHUNK_ROWS = 16384;

/** The independent random streams of one seed: initialisation, pair shuffling, dropout masks. */
export function rngStreams(seed: number): { init: Rng; shuffle: Rng; dropout: Rng } {
  const root = new Rng(seed);
  const init = root.fork();
  const shuffle = root.fork();
  const dropout = root.fork();
  return { init, shuffle, dropout };
}

export class Fnn {
  readonly config: FnnConfig;
  /** Input (embedding) width. */
  readonly dim: number;
  readonly layout: Layout;
  /** state_dict in torch key order (Float64Array or Float32Array data). */
  readonly state: FnnState;
  private readonly sessions = new Map<Dtype, SyncSession | null>();
  private hiddenSession: SyncSession | null | undefined;

  /** Wraps an existing state (no copy); use Fnn.init or Fnn.fromState. */
  constructor(config: FnnConfig, layout: Layout, state: FnnState) {
    if (config.hidden.length !== layout.hidden.length || config.hidden.some((h, i) => h !== layout.hidden[i])) {
      throw new RwdaError(`FNN: config hidden widths [${config.hidden.join(',')}] do not match the state's [${layout.hidden.join(',')}]`);
    }
    this.config = config;
    this.dim = layout.dim;
    this.layout = layout;
    this.state = state;
  }

  /** A freshly initialised model (torch's default init, from the seed's init stream). */
  static init(dim: number, config: Partial<FnnConfig> = {}): Fnn {
    const c = resolveConfig(config);
    if (!Number.isInteger(dim) || dim < 1) throw new RwdaError(`FNN: input width must be a positive integer, got ${dim}`);
    const layout = layoutOf(dim, c.hidden);
    return new Fnn(c, layout, initState(layout, rngStreams(c.seed).init));
  }

  /** Rebuilds a model from a state_dict; the architecture is read from the shapes. */
  static fromState(tensors: StateInput, config: Partial<FnnConfig> = {}, source = 'FNN state'): Fnn {
    const { layout, state } = stateFromTensors(tensors, source);
    if (config.hidden && (config.hidden.length !== layout.hidden.length || config.hidden.some((h, i) => h !== layout.hidden[i]))) {
      throw new RwdaError(`${source}: hidden widths [${layout.hidden.join(',')}] differ from the configured [${config.hidden.join(',')}]`);
    }
    return new Fnn(resolveConfig({ ...config, hidden: layout.hidden }), layout, state);
  }

  /** The state_dict as named float32 tensors in torch key order. */
  toState(): NamedTensor[] {
    return toNamedTensors(this.layout, this.state);
  }

  /** A copy of the state in the given precision. */
  stateAs(dtype: Dtype): FnnState {
    return convertState(this.layout, this.state, dtype);
  }

  private checkInput(x: ArrayLike<number>, n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new RwdaError(`FNN scoring: row count must be a non-negative integer, got ${n}`);
    if (x.length !== n * this.dim) {
      throw new RwdaError(`FNN scoring: got ${x.length} values for ${n} rows of width ${this.dim} (expected ${n * this.dim})`);
    }
  }

  private session(dtype: Dtype): SyncSession | null {
    if (!this.sessions.has(dtype)) {
      this.sessions.set(dtype, createSyncSession(buildEvalGraph(this.layout, this.state, this.config.bnEps, dtype), `FNN eval (${dtype})`));
    }
    return this.sessions.get(dtype)!;
  }

  private score<T extends Float32Array | Float64Array>(x: ArrayLike<number>, n: number, dtype: Dtype, out: T): T {
    this.checkInput(x, n);
    const s = this.session(dtype);
    if (!s) {
      out.set(evalLogitsReference(this.layout, this.state, x, n, this.config.bnEps));
    } else {
      const D = this.dim;
      const Arr = dtype === 'float32' ? Float32Array : Float64Array;
      const xs = x instanceof Arr ? x : Arr.from(x);
      for (let start = 0; start < n; start += SCORE_CHUNK_ROWS) {
        const rows = Math.min(SCORE_CHUNK_ROWS, n - start);
        const feed = new Tensor(dtype, xs.subarray(start * D, (start + rows) * D), [rows, D]);
        const res = s.run({ x: feed }, { logits: null });
        out.set(res.logits!.data as T, start);
      }
    }
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(out[i]!)) throw new RwdaError(`FNN scoring: row ${i} gives a non-finite logit (non-finite input values?)`);
    }
    return out;
  }

  /** Eval-mode anomaly logits of n rows (row-major n×dim), float32 through onnxruntime. */
  predictLogits(x: Float32Array, n: number): Float32Array {
    return this.score(x, n, 'float32', new Float32Array(n));
  }

  /** Eval-mode anomaly probabilities sigmoid(logit). */
  predictProba(x: Float32Array, n: number): Float32Array {
    const z = this.predictLogits(x, n);
    for (let i = 0; i < n; i++) z[i] = 1 / (1 + Math.exp(-z[i]!));
    return z;
  }

  /** Eval-mode logits computed in float64 (for exactness checks against float64 references). */
  predictLogitsFloat64(x: ArrayLike<number>, n: number): Float64Array {
    return this.score(x, n, 'float64', new Float64Array(n));
  }

  /**
   * Eval-mode activations after each hidden block (Linear → BatchNorm with running statistics →
   * ReLU; dropout is the identity) for n rows: one row-major [n, hidden[i]] array per block,
   * float32 through onnxruntime.
   */
  hiddenActivations(x: Float32Array, n: number): Float32Array[] {
    this.checkInput(x, n);
    if (this.hiddenSession === undefined) {
      this.hiddenSession = createSyncSession(buildEvalGraph(this.layout, this.state, this.config.bnEps, 'float32', { hiddenOutputs: true }), 'FNN hidden activations');
    }
    const widths = this.layout.hidden;
    const out = widths.map((h) => new Float32Array(n * h));
    const s = this.hiddenSession;
    if (!s) {
      hiddenReference(this.layout, this.state, x, n, this.config.bnEps).forEach((a, i) => out[i]!.set(a));
      return out;
    }
    const D = this.dim;
    const fetches: Record<string, null> = Object.fromEntries(widths.map((_, i) => [`hidden${i}`, null]));
    for (let start = 0; start < n; start += SCORE_CHUNK_ROWS) {
      const rows = Math.min(SCORE_CHUNK_ROWS, n - start);
      const res = s.run({ x: new Tensor('float32', x.subarray(start * D, (start + rows) * D), [rows, D]) }, fetches);
      widths.forEach((h, i) => out[i]!.set(res[`hidden${i}`]!.data as Float32Array, start * h));
    }
    return out;
  }

  /** Releases the onnxruntime sessions (they are recreated on the next call). */
  dispose(): void {
    for (const s of this.sessions.values()) s?.dispose();
    this.sessions.clear();
    this.hiddenSession?.dispose();
    this.hiddenSession = undefined;
  }
}
