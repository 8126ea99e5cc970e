/** onnxruntime-node session creation for our built graphs. */
import * as ort from 'onnxruntime-node';
import { RwdaError } from '../../errors.ts';
import type { BuiltGraph } from './build.ts';

export interface SessionOptions {
  /** Threads for one op (default: onnxruntime's choice, i.e. the physical cores). */
  intraOpNumThreads?: number;
  /** Graph optimisation level (default 'all'). */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** CPU memory arena (default true). */
  enableCpuMemArena?: boolean;
  /** Memory pattern planning (default true). */
  enableMemPattern?: boolean;
  /** Extra session config entries (`session.*` keys), passed through. */
  config?: Record<string, string>;
}

/** Creates an onnxruntime session for a built graph; external weights are resolved against the checkpoint's folder. */
export async function createSession(graph: BuiltGraph, opts: SessionOptions = {}, what = 'model'): Promise<ort.InferenceSession> {
  const session: Record<string, string> = { ...(opts.config ?? {}) };
  if (graph.externalFolder !== undefined) session['model_external_initializers_file_folder_path'] = graph.externalFolder;
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: opts.graphOptimizationLevel ?? 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    enableCpuMemArena: opts.enableCpuMemArena ?? true,
    enableMemPattern: opts.enableMemPattern ?? true,
    extra: { session: unflatten(session) },
  };
  if (opts.intraOpNumThreads !== undefined) options.intraOpNumThreads = opts.intraOpNumThreads;
  try {
    return await ort.InferenceSession.create(graph.bytes, options);
  } catch (err) {
    throw new RwdaError(`cannot create the onnxruntime session for the ${what}: ${(err as Error).message}`, { cause: err });
  }
}

// onnxruntime-node flattens nested `extra` objects into dotted config keys; undo our dotted keys into that shape.
function unflatten(flat: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.split('.');
    let node = out;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]!] = value;
  }
  return out;
}
