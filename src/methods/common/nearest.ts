/**
 * Nearest-neighbour search by cosine for the few-shot memories: for every query row, the largest
 * dot product with any memory row (rows L2-normalised beforehand). One onnxruntime MatMul +
 * ReduceMax instead of a scalar JS triple loop: a WinCLIP+ 4-shot query on ViT-B-16-plus-240 is
 * ≈ 350 M multiply-adds (225 patches × 900 memory patches × 896, plus both window scales), which
 * takes ≈ 0.5 s in JS and a few ms in the MatMul kernel.
 */
import * as ort from 'onnxruntime-node';
import { GraphBuilder, int, ints } from '../../clip/onnx/graph.ts';
import { createSessionFromBytes } from '../../clip/onnx/session.ts';
import { RwdaError } from '../../errors.ts';

function buildGraph(): Uint8Array {
  const g = new GraphBuilder('max_dot');
  const q = g.input('queries', 'float', ['N', 'D']);
  const m = g.input('memory', 'float', ['M', 'D']);
  const mt = g.node('Transpose', [m], { perm: ints([1, 0]) });
  const dots = g.node('MatMul', [q, mt]);
  const best = g.node('ReduceMax', [dots], { axes: ints([1]), keepdims: int(0) });
  g.output(best, 'max_dot', 'float', ['N'], { renameInPlace: true });
  return g.toBytes(15);
}

/** A reusable max-dot-product searcher (one small onnxruntime session). */
export class MaxDot {
  private constructor(private readonly session: ort.InferenceSession) {}

  /** Builds the session (threads as onnxruntime chooses). */
  static async create(): Promise<MaxDot> {
    return new MaxDot(await createSessionFromBytes(buildGraph(), {}, 'nearest-neighbour'));
  }

  /** max_j queries[i]·memory[j] for every row i of row-major [n, dim] queries and [m, dim] memory. */
  async run(queries: Float32Array, memory: Float32Array, dim: number): Promise<Float32Array> {
    if (queries.length % dim !== 0 || memory.length % dim !== 0 || memory.length === 0) {
      throw new RwdaError(`nearest neighbours: ${queries.length} query / ${memory.length} memory values are not whole ${dim}-d rows`);
    }
    const out = await this.session.run({
      queries: new ort.Tensor('float32', queries, [queries.length / dim, dim]),
      memory: new ort.Tensor('float32', memory, [memory.length / dim, dim]),
    });
    return out.max_dot!.data as Float32Array;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
