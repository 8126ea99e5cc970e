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
import { RwdaError } from '../../errors.ts';

export type OrtTensor = InstanceType<typeof ort.Tensor>;
export const Tensor = ort.Tensor;

/**
 * Session options shared by every FNN session: CPU, all cores, full graph optimisation, and no
 * spin-waiting threads (spinning pool threads collapse when the CPU is shared with other work).
 */
export function sessionOptions(): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads: Number(process.env.RWDA_ORT_THREADS ?? availableParallelism()),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: process.env.RWDA_ORT_SPIN ?? '0' } } },
    // RWDA_ORT_PROFILE=<path prefix> writes onnxruntime's per-node profile (for benchmarking).
    ...(process.env.RWDA_ORT_PROFILE ? { enableProfiling: true, profileFilePrefix: process.env.RWDA_ORT_PROFILE } : {}),
  };
}

/** An async session over an in-memory model. */
export async function createSession(model: Uint8Array, what: string): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(model, sessionOptions());
  } catch (err) {
    throw new RwdaError(`onnxruntime could not load the ${what} graph: ${(err as Error).message}`, { cause: err });
  }
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
    throw new RwdaError(`onnxruntime could not load the ${what} graph: ${(err as Error).message}`, { cause: err });
  }
  return {
    run: (feeds, fetches) => s.run(feeds, fetches, {}),
    dispose: () => s.dispose(),
  };
}
