/**
 * Prompt pairs through the text tower with their shared token prefix run once. The two prompts of a
 * random-word pair agree up to the state word ("… of xyz a [damaged] object …"), and attention is
 * causal, so every hidden state before the first differing token is the same for both. Each pair is
 * packed as one sequence [prefix ; normal suffix ; anomaly suffix] with explicit positions and an
 * attention bias that gives every token exactly its own causal context (./onnx/text_prefix_graph.ts);
 * the features equal the plain tower's (same math, only summation order differs).
 */
import * as ort from 'onnxruntime-node';
import { RwdaError } from '../errors.ts';
import { openClipWeights } from './checkpoint.ts';
import type { ClipConfig } from './config.ts';
import type { TowerGraphOptions } from './onnx/build.ts';
import { createSession, type SessionOptions } from './onnx/session.ts';
import { buildTextPrefixGraph, TREE_BIAS, TREE_IDS, TREE_OUTPUT, TREE_POOL, TREE_POSITIONS } from './onnx/text_prefix_graph.ts';
import type { KernelOptions } from './onnx/transformer.ts';
import { DEFAULT_TEXT_BATCH, firstArgmax } from './text_tower.ts';

/** A normal prompt and its anomaly counterpart (structurally the method's PromptPair). */
export interface TextPair {
  normal: string;
  anomaly: string;
}

/** Raw features of pairs: normal[i] and anomaly[i] belong to pair i. */
export interface PairFeatures<T> {
  normal: T;
  anomaly: T;
}

export interface EncodePairsOptions {
  /** Prompts per onnxruntime call, two per pair (default 32, as the plain tower). */
  batchSize?: number;
  /** Called after each batch with (done, total) pairs. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Tokens shared by the rows of a group before their first difference, capped at the earliest EOT
 * so that every row keeps at least its EOT token as its own suffix (identical rows share all but it).
 */
export function sharedPrefixLength(rows: ReadonlyArray<ArrayLike<number>>, eots: readonly number[]): number {
  const cap = Math.min(...eots);
  let p = 0;
  while (p < cap && rows.every((r) => r[p] === rows[0]![p])) p++;
  return p;
}

/** One group: K token rows (with their EOT indices) that share `prefix` leading tokens. */
export interface PrefixGroup {
  rows: ReadonlyArray<ArrayLike<number>>;
  eots: readonly number[];
  prefix: number;
}

/** The graph inputs for a batch of groups (see text_prefix_graph.ts). */
export interface PackedBatch {
  ids: Int32Array;
  positions: BigInt64Array;
  bias: Float32Array;
  pool: BigInt64Array;
  /** Groups, packed length, suffixes per group. */
  B: number;
  L: number;
  K: number;
}

/** Packed length of a group: its prefix once plus each row's tokens after it up to its EOT. */
export function packedLength(g: PrefixGroup): number {
  return g.eots.reduce((s, e) => s + e + 1 - g.prefix, g.prefix);
}

/**
 * Packs groups (all with the same K) as [prefix ; suffix 1 ; … ; suffix K ; padding] per sequence.
 * A prefix token sees the prefix tokens up to itself; a suffix token sees the whole prefix and its
 * own suffix up to itself; a padding row sees only itself (so no row is fully masked and nothing
 * real ever reads padding).
 */
export function packGroups(groups: readonly PrefixGroup[]): PackedBatch {
  const B = groups.length;
  const K = groups[0]?.rows.length ?? 0;
  const L = Math.max(...groups.map(packedLength));
  const ids = new Int32Array(B * L);
  const positions = new BigInt64Array(B * L);
  const bias = new Float32Array(B * L * L).fill(-Infinity);
  const pool = new BigInt64Array(B * K);
  const seg = new Int32Array(L);
  groups.forEach((g, bi) => {
    if (g.rows.length !== K) throw new Error(`packGroups: group ${bi} has ${g.rows.length} rows, expected ${K}`);
    const o = bi * L;
    const p = g.prefix;
    const row0 = g.rows[0]!;
    for (let j = 0; j < p; j++) {
      ids[o + j] = row0[j]!;
      positions[o + j] = BigInt(j);
      seg[j] = 0;
    }
    let at = p;
    g.rows.forEach((row, s) => {
      for (let j = p; j <= g.eots[s]!; j++, at++) {
        ids[o + at] = row[j]!;
        positions[o + at] = BigInt(j);
        seg[at] = s + 1;
      }
      pool[bi * K + s] = BigInt(at - 1);
    });
    for (let j = at; j < L; j++) seg[j] = -1;
    const m = bi * L * L;
    for (let q = 0; q < L; q++) {
      const r = m + q * L;
      if (seg[q] === -1) {
        bias[r + q] = 0;
        continue;
      }
      for (let j = 0; j <= q; j++) if (seg[j] === 0 || seg[j] === seg[q]) bias[r + j] = 0;
    }
  });
  return { ids, positions, bias, pool, B, L, K };
}

/** A text tower session over packed prefix groups. */
export class PairTextTower {
  private constructor(
    readonly config: ClipConfig,
    private session: ort.InferenceSession | undefined,
  ) {}

  /** Builds the prefix-tree graph and creates its session. */
  static async create(cfg: ClipConfig, graph: TowerGraphOptions, session: SessionOptions = {}): Promise<PairTextTower> {
    return new PairTextTower(cfg, await createSession(buildTextPrefixGraph(cfg, graph), session, 'pair text tower'));
  }

  /** Opens a checkpoint just long enough to build the session (ORT reads external weights at creation). */
  static async fromCheckpoint(
    cfg: ClipConfig,
    weightsPath: string,
    opts: { kernels?: KernelOptions; weightMode?: 'external' | 'inline'; session?: SessionOptions } = {},
  ): Promise<PairTextTower> {
    const weights = openClipWeights(weightsPath, cfg);
    try {
      return await PairTextTower.create(cfg, { source: weights.file, read: weights.get, weightMode: opts.weightMode, kernels: opts.kernels }, opts.session);
    } finally {
      weights.close();
    }
  }

  /** Output dimension. */
  get embedDim(): number {
    return this.config.embedDim;
  }

  /**
   * Features of token-row pairs (each row a full tokenizer row: SOT … EOT, zero padding), as flat
   * row-major [n, embedDim] arrays in the order given; equal to TextTower.encodeIds of each row.
   */
  async encodeIdPairs(
    normal: ReadonlyArray<ArrayLike<number>>,
    anomaly: ReadonlyArray<ArrayLike<number>>,
    opts: EncodePairsOptions = {},
  ): Promise<PairFeatures<Float32Array>> {
    const session = this.live();
    if (normal.length !== anomaly.length) throw new RwdaError(`pair encoding: ${normal.length} normal rows but ${anomaly.length} anomaly rows`);
    const batchSize = opts.batchSize ?? DEFAULT_TEXT_BATCH;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RwdaError(`text batch size must be a positive integer, got ${batchSize}`);
    const pairsPerCall = Math.max(1, Math.floor(batchSize / 2));
    const n = normal.length;
    const groups = normal.map((row, i): PrefixGroup => {
      const rows = [row, anomaly[i]!];
      const eots = [this.checkRow(row, `normal row ${i}`), this.checkRow(anomaly[i]!, `anomaly row ${i}`)];
      return { rows, eots, prefix: sharedPrefixLength(rows, eots) };
    });
    // Similar packed lengths share a batch, so little compute goes to padding.
    const lengths = groups.map(packedLength);
    const order = groups.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
    const E = this.embedDim;
    const out = { normal: new Float32Array(n * E), anomaly: new Float32Array(n * E) };
    for (let start = 0; start < n; start += pairsPerCall) {
      const idx = order.slice(start, start + pairsPerCall);
      const p = packGroups(idx.map((i) => groups[i]!));
      const result = await session.run({
        [TREE_IDS]: new ort.Tensor('int32', p.ids, [p.B, p.L]),
        [TREE_POSITIONS]: new ort.Tensor('int64', p.positions, [p.B, p.L]),
        [TREE_BIAS]: new ort.Tensor('float32', p.bias, [p.B, 1, p.L, p.L]),
        [TREE_POOL]: new ort.Tensor('int64', p.pool, [p.B, p.K]),
      });
      const feats = result[TREE_OUTPUT]!.data as Float32Array;
      idx.forEach((r, bi) => {
        out.normal.set(feats.subarray(2 * bi * E, (2 * bi + 1) * E), r * E);
        out.anomaly.set(feats.subarray((2 * bi + 1) * E, (2 * bi + 2) * E), r * E);
      });
      for (const t of Object.values(result)) t.dispose();
      opts.onProgress?.(Math.min(start + pairsPerCall, n), n);
    }
    return out;
  }

  /** Releases the onnxruntime session. */
  async dispose(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.release();
  }

  /** Validates a token row as TextTower.encodeIds does and returns its EOT index. */
  private checkRow(row: ArrayLike<number>, what: string): number {
    const C = this.config.text.contextLength;
    const V = this.config.text.vocabSize;
    if (row.length === 0 || row.length > C) throw new RwdaError(`token ${what} has ${row.length} ids; expected 1..${C}`);
    for (let j = 0; j < row.length; j++) {
      const id = row[j]!;
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new RwdaError(`token ${what} holds id ${id} at position ${j}, outside the vocabulary [0, ${V})`);
    }
    return firstArgmax(row);
  }

  private live(): ort.InferenceSession {
    if (!this.session) throw new RwdaError('the pair text tower was disposed');
    return this.session;
  }
}
