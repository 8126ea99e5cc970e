/**
 * The CLIP text tower on onnxruntime: token-id rows → features. Rows are sorted by EOT position and
 * batched, and each batch is cut to its longest EOT + 1 (never padded to the context length); the
 * causal mask makes this exact. Results come back in the caller's order.
 */
import * as ort from 'onnxruntime-node';
import { RwdaError } from '../errors.ts';
import type { ClipConfig } from './config.ts';
import type { TowerGraphOptions } from './onnx/build.ts';
import { createSession, type SessionOptions } from './onnx/session.ts';
import { buildTextGraph, TEXT_INPUT, TEXT_OUTPUT } from './onnx/text_graph.ts';

/** Default prompts per onnxruntime call: measured fastest on 2 cores among 8–128 (short batches keep lengths uniform after sorting; bench/). */
export const DEFAULT_TEXT_BATCH = 32;

export interface EncodeIdsOptions {
  /** Rows per onnxruntime call (default 32). */
  batchSize?: number;
  /** Run every batch at the full context length instead of its longest EOT + 1 (benchmarks and tests). */
  padToContext?: boolean;
  /** Called after each batch with (done, total) rows. */
  onProgress?: (done: number, total: number) => void;
}

/** Index of the first maximum: where open_clip pools (the first EOT, the largest id). */
export function firstArgmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

/** A loaded text tower (one onnxruntime session). */
export class TextTower {
  private constructor(
    readonly config: ClipConfig,
    private session: ort.InferenceSession | undefined,
  ) {}

  /** Builds the graph and creates its session. */
  static async create(cfg: ClipConfig, graph: TowerGraphOptions, session: SessionOptions = {}): Promise<TextTower> {
    const built = buildTextGraph(cfg, graph);
    return new TextTower(cfg, await createSession(built, session, 'text tower'));
  }

  /** Output dimension. */
  get embedDim(): number {
    return this.config.embedDim;
  }

  /**
   * Features for token-id rows (each a full tokenizer row: SOT … EOT, zero padding), as one flat
   * row-major [rows.length, embedDim] array in the order given.
   */
  async encodeIds(rows: ReadonlyArray<ArrayLike<number>>, opts: EncodeIdsOptions = {}): Promise<Float32Array> {
    const session = this.live();
    const C = this.config.text.contextLength;
    const V = this.config.text.vocabSize;
    const E = this.embedDim;
    const batchSize = opts.batchSize ?? DEFAULT_TEXT_BATCH;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RwdaError(`text batch size must be a positive integer, got ${batchSize}`);
    const eot = rows.map((row, i) => {
      if (row.length === 0 || row.length > C) throw new RwdaError(`token row ${i} has ${row.length} ids; expected 1..${C}`);
      for (let j = 0; j < row.length; j++) {
        const id = row[j]!;
        if (!Number.isInteger(id) || id < 0 || id >= V) throw new RwdaError(`token row ${i} holds id ${id} at position ${j}, outside the vocabulary [0, ${V})`);
      }
      return firstArgmax(row);
    });
    // Similar lengths share a batch, so little compute goes to positions past a row's EOT.
    const order = rows.map((_, i) => i).sort((a, b) => eot[a]! - eot[b]! || a - b);
    const out = new Float32Array(rows.length * E);
    for (let start = 0; start < order.length; start += batchSize) {
      const idx = order.slice(start, start + batchSize);
      const L = opts.padToContext ? C : Math.max(...idx.map((i) => eot[i]!)) + 1;
      const ids = new Int32Array(idx.length * L);
      idx.forEach((r, bi) => {
        const row = rows[r]!;
        const n = Math.min(L, row.length);
        for (let j = 0; j < n; j++) ids[bi * L + j] = row[j]!;
      });
      const result = await session.run({ [TEXT_INPUT]: new ort.Tensor('int32', ids, [idx.length, L]) });
      const feats = result[TEXT_OUTPUT]!.data as Float32Array;
      idx.forEach((r, bi) => out.set(feats.subarray(bi * E, (bi + 1) * E), r * E));
      for (const t of Object.values(result)) t.dispose();
      opts.onProgress?.(Math.min(start + batchSize, order.length), order.length);
    }
    return out;
  }

  /** Releases the onnxruntime session. */
  async dispose(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.release();
  }

  private live(): ort.InferenceSession {
    if (!this.session) throw new RwdaError('the text tower was disposed');
    return this.session;
  }
}
