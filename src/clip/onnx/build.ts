/** Shared plumbing for the tower graph builders: options, weight binding, and the built artefact. */
import { GraphBuilder } from './graph.ts';
import { DEFAULT_KERNELS, type KernelOptions } from './transformer.ts';
import { WeightBinder, type TensorSource } from './weights.ts';

export interface TowerGraphOptions {
  /** Where the checkpoint tensors come from (a SafetensorsFile satisfies it). */
  source: TensorSource;
  /** Reads a whole tensor as float32, for tensors that must be materialised. */
  read: (key: string) => Float32Array;
  /** 'external' (default): F32 weights are ONNX external data into the checkpoint; 'inline': copied into the model. */
  weightMode?: 'external' | 'inline';
  kernels?: KernelOptions;
  /** Also output every intermediate activation listed in the fixtures' debug_activations (tests only). */
  debug?: boolean;
}

/** A serialised tower graph plus what a session needs to load it. */
export interface BuiltGraph {
  bytes: Uint8Array;
  /** Folder that external-data locations are relative to (session option), or undefined when all inline. */
  externalFolder: string | undefined;
  /** Bytes of weights embedded in the model. */
  inlineBytes: number;
  inputNames: string[];
  outputNames: string[];
}

export function startGraph(name: string, opts: TowerGraphOptions): { b: GraphBuilder; w: WeightBinder; k: KernelOptions } {
  const b = new GraphBuilder(name);
  const w = new WeightBinder(b, opts.source, { read: opts.read, mode: opts.weightMode ?? 'external' });
  return { b, w, k: opts.kernels ?? DEFAULT_KERNELS };
}

export function finishGraph(b: GraphBuilder, w: WeightBinder, inputNames: string[], outputNames: string[]): BuiltGraph {
  return {
    bytes: b.toBytes(),
    externalFolder: w.mode === 'external' ? w.folder : undefined,
    inlineBytes: w.inlineBytes,
    inputNames,
    outputNames,
  };
}
