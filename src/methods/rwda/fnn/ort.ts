/**
 * onnxruntime sessions for the FNN graphs.
 *
 * Training uses the public async API. Scoring wants a synchronous call (`Fnn.predictLogits`
 * returns an array), and onnxruntime-node's public `run` only wraps a synchronous native `run`
 * in a promise; `createSyncSession` reaches that native session through the package's
 * `dist/binding.js` (present in 1.30). If a future version moves it, `createSyncSession` returns
 * null and callers fall back to plain JavaScript.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import ort from 'onnxruntime-node';
import { createSessionFromBytes, ortSessionOptions, sessionError, type SessionOptions } from '../../../clip/onnx/session.ts';
import { RwdaError } from '../../../errors.ts';

export type OrtTensor = InstanceType<typeof ort.Tensor>;
export const Tensor = ort.Tensor;

/**
 * Session options shared by every FNN session: CPU, full graph optimisation, one intra-op thread
 * per core with spin-waiting (measured on the 2-core dev box, idle: training 10k pairs 1.0 s with
 * 2 spinning threads, 1.35 s with 1 thread, 1.6 s with 2 sleeping threads). On a CPU shared with
 * other heavy work, spinning threads collapse; RWDA_ORT_THREADS=1 (or RWDA_ORT_SPIN=0) helps there.
 * Results are deterministic for a given thread count; some matmul shapes are split differently
 * across threads, so a different count changes the last bits.
 */
export function fnnSessionOptions(): SessionOptions {
  return {
    intraOpNumThreads: threadCount(),
    config: { 'intra_op.allow_spinning': process.env.RWDA_ORT_SPIN === '0' ? '0' : '1' },
    // RWDA_ORT_PROFILE=<path prefix> writes onnxruntime's per-node profile (for benchmarking).
    ...(process.env.RWDA_ORT_PROFILE ? { profileFilePrefix: process.env.RWDA_ORT_PROFILE } : {}),
  };
}

/** The onnxruntime options of every FNN session (the shared clip/onnx ones with the FNN's threads and spinning). */
export function sessionOptions(): ort.InferenceSession.SessionOptions {
  return ortSessionOptions(fnnSessionOptions());
}

function threadCount(): number {
  const env = process.env.RWDA_ORT_THREADS;
  if (env === undefined || env === '') return availableParallelism();
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1) throw new RwdaError(`RWDA_ORT_THREADS must be a positive integer, got "${env}"`);
  return n;
}

/** An async session over an in-memory model. */
export async function createSession(model: Uint8Array, what: string): Promise<ort.InferenceSession> {
  return createSessionFromBytes(model, fnnSessionOptions(), `${what} graph`);
}

interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, OrtTensor>, fetches: Record<string, OrtTensor | null>, options: object): Record<string, OrtTensor>;
  dispose(): void;
}

let nativeCtor: (new () => NativeSession) | null | undefined;

function nativeSessionClass(): (new () => NativeSession) | null {
  if (nativeCtor !== undefined) return nativeCtor;
  nativeCtor = null;
  try {
    const require = createRequire(import.meta.url);
    const mod = require('onnxruntime-node/dist/binding.js') as {
      initOrt?: () => void;
      binding?: { InferenceSession?: new () => NativeSession };
    };
    if (typeof mod.initOrt === 'function' && typeof mod.binding?.InferenceSession === 'function') {
      mod.initOrt();
      nativeCtor = mod.binding.InferenceSession;
    }
  } catch {
    nativeCtor = null;
  }
  return nativeCtor;
}

/** A session whose run() is synchronous. */
export interface SyncSession {
  run(feeds: Record<string, OrtTensor>, fetches: Record<string, OrtTensor | null>): Record<string, OrtTensor>;
  dispose(): void;
}

/** A synchronous session, or null when this onnxruntime-node build does not expose one. */
export function createSyncSession(model: Uint8Array, what: string): SyncSession | null {
  const Ctor = nativeSessionClass();
  if (!Ctor) return null;
  const s = new Ctor();
  try {
    // The native loader reads the bytes in place; give it a buffer it owns exclusively.
    const copy = model.slice();
    s.loadModel(copy.buffer, copy.byteOffset, copy.byteLength, sessionOptions());
  } catch (err) {
    throw sessionError(`${what} graph`, err);
  }
  return {
    run: (feeds, fetches) => s.run(feeds, fetches, {}),
    dispose: () => s.dispose(),
  };
}
