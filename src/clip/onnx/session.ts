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
  /** Write onnxruntime's per-node profile to files starting with this prefix (benchmarking). */
  profileFilePrefix?: string;
}

/** Creates an onnxruntime session for a built graph; external weights are resolved against the checkpoint's folder. */
export async function createSession(graph: BuiltGraph, opts: SessionOptions = {}, what = 'model'): Promise<ort.InferenceSession> {
  return createSessionFromBytes(graph.bytes, opts, what, graph.externalFolder);
}

/** Creates an onnxruntime session over serialised model bytes (external data, if any, relative to `externalFolder`). */
export async function createSessionFromBytes(
  bytes: Uint8Array,
  opts: SessionOptions = {},
  what = 'model',
  externalFolder?: string,
): Promise<ort.InferenceSession> {
  const options = ortSessionOptions(opts, externalFolder);
  try {
    return await ort.InferenceSession.create(bytes, options);
  } catch (err) {
    throw sessionError(what, err);
  }
}

/** The RwdaError for a session onnxruntime refused to create. */
export function sessionError(what: string, err: unknown): RwdaError {
  return new RwdaError(`cannot create the onnxruntime session for the ${what}: ${(err as Error).message}`, { cause: err });
}

/** The onnxruntime options our sessions use (also for callers that load models through another entry point). */
export function ortSessionOptions(opts: SessionOptions = {}, externalFolder?: string): ort.InferenceSession.SessionOptions {
  const session: Record<string, string> = { ...(opts.config ?? {}) };
  if (externalFolder !== undefined) session['model_external_initializers_file_folder_path'] = externalFolder;
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: opts.graphOptimizationLevel ?? 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    enableCpuMemArena: opts.enableCpuMemArena ?? true,
    enableMemPattern: opts.enableMemPattern ?? true,
    extra: { session: unflatten(session) },
  };
  if (opts.intraOpNumThreads !== undefined) options.intraOpNumThreads = opts.intraOpNumThreads;
  if (opts.profileFilePrefix !== undefined) {
    options.enableProfiling = true;
    options.profileFilePrefix = opts.profileFilePrefix;
  }
  return options;
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
