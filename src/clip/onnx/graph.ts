/**
 * A small ONNX graph builder over onnx-proto: named values, typed attributes, initializers (inline or
 * external data), and serialisation to model bytes. Op-level helpers live in ./ops.ts.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX TensorProto element types we use. */
export const DType = { float: 1, int32: 6, int64: 7, bool: 9, double: 11 } as const;
export type DTypeName = keyof typeof DType;
/** The floating element types a graph can compute in (float32, float64). */
export type FloatDTypeName = 'float' | 'double';

/** A dimension: a fixed size, or a symbolic name for a dynamic axis. */
export type Dim = number | string;

/** Typed attribute value; plain numbers are ambiguous between INT and FLOAT, so callers say which. */
export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string };

export const int = (value: number): Attr => ({ kind: 'int', value });
export const float = (value: number): Attr => ({ kind: 'float', value });
export const ints = (value: number[]): Attr => ({ kind: 'ints', value });
export const floats = (value: number[]): Attr => ({ kind: 'floats', value });
export const str = (value: string): Attr => ({ kind: 'string', value });

/** Where an external initializer's bytes live: a file (relative to the session's external-data folder) and a byte range. */
export interface ExternalRef {
  location: string;
  offset: number;
  length: number;
}

export const MS_DOMAIN = 'com.microsoft';

export interface NodeOptions {
  domain?: string;
  /** Number of outputs (default 1). */
  outputs?: number;
  /** Explicit output names (overrides `outputs`). */
  outputNames?: string[];
  /** Name hint for generated output names (default: the op type). */
  hint?: string;
}

export interface OutputOptions {
  /**
   * Rename the producing node's output to the graph-output name instead of inserting an Identity
   * (which copies the tensor on every run). Falls back to an Identity when `value` has no producing
   * node (a graph input or initializer) or is already a graph output. The old name must not be used
   * as an input afterwards.
   */
  renameInPlace?: boolean;
}

function toAttributeProto(name: string, a: Attr): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int':
      return { name, type: T.INT, i: a.value };
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'ints':
      return { name, type: T.INTS, ints: a.value };
    case 'floats':
      return { name, type: T.FLOATS, floats: a.value };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
  }
}

function valueInfo(name: string, dtype: DTypeName, dims: Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DType[dtype],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function bytesOf(data: Float32Array | Float64Array | Int32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Accumulates nodes, initializers and graph inputs/outputs; every helper returns the name of the value it produced. */
export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private readonly domains = new Set<string>();
  private counter = 0;
  /** Prefix for generated value names (set while building a block, so graphs stay readable in profiles). */
  scope = '';

  constructor(readonly graphName: string) {}

  /** A fresh unique value name. */
  fresh(hint: string): string {
    const base = this.scope ? `${this.scope}/${hint}` : hint;
    let name = base;
    while (this.names.has(name)) name = `${base}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  /** Runs `fn` with generated names prefixed by `scope`. */
  within<T>(scope: string, fn: () => T): T {
    const saved = this.scope;
    this.scope = saved ? `${saved}/${scope}` : scope;
    try {
      return fn();
    } finally {
      this.scope = saved;
    }
  }

  /** Declares a graph input. */
  input(name: string, dtype: DTypeName, dims: Dim[]): string {
    if (this.names.has(name)) throw new Error(`duplicate value name ${name}`);
    this.names.add(name);
    this.inputs.push(valueInfo(name, dtype, dims));
    return name;
  }

  /** Declares `value` as a graph output under `name` (an Identity is inserted when the names differ). */
  output(value: string, name: string, dtype: DTypeName, dims: Dim[], opts: OutputOptions = {}): string {
    if (value !== name) {
      if (this.names.has(name)) throw new Error(`duplicate value name ${name}`);
      this.names.add(name);
      const producer = opts.renameInPlace && !this.outputs.some((o) => o.name === value) ? this.nodes.find((n) => n.output?.includes(value)) : undefined;
      if (producer) {
        producer.output = producer.output!.map((o) => (o === value ? name : o));
        for (const n of this.nodes) n.input = n.input?.map((i) => (i === value ? name : i));
      } else {
        this.nodes.push({ opType: 'Identity', input: [value], output: [name], name: `out/${name}` });
      }
    }
    this.outputs.push(valueInfo(name, dtype, dims));
    return name;
  }

  /** An initializer whose bytes are embedded in the model (element type from the array: float, double, int32, int64). */
  constant(hint: string, data: Float32Array | Float64Array | Int32Array | BigInt64Array, dims: number[]): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== data.length) throw new Error(`constant ${hint}: ${data.length} values for dims [${dims}]`);
    const name = this.fresh(hint);
    const dataType =
      data instanceof Float32Array ? DType.float : data instanceof Float64Array ? DType.double : data instanceof Int32Array ? DType.int32 : DType.int64;
    this.initializers.push({ name, dataType, dims, rawData: bytesOf(data) });
    return name;
  }

  /** A float32 initializer that ORT reads from an external file (no copy through the model bytes). */
  external(hint: string, dims: number[], ref: ExternalRef): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (count * 4 !== ref.length) throw new Error(`external ${hint}: ${ref.length} bytes for dims [${dims}]`);
    const name = this.fresh(hint);
    this.initializers.push({
      name,
      dataType: DType.float,
      dims,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: ref.location },
        { key: 'offset', value: String(ref.offset) },
        { key: 'length', value: String(ref.length) },
      ],
    });
    return name;
  }

  /** int64 constant (shapes, axes, indices). */
  i64(hint: string, values: number[], dims: number[] = [values.length]): string {
    return this.constant(hint, BigInt64Array.from(values, (v) => BigInt(v)), dims);
  }

  /** Scalar constant, float32 unless `dtype` says 'double'. */
  scalar(hint: string, value: number, dtype: FloatDTypeName = 'float'): string {
    return this.constant(hint, dtype === 'double' ? Float64Array.of(value) : Float32Array.of(value), []);
  }

  /** A float constant in `dtype` from any numbers (rounded to float32 for 'float'). */
  floatConstant(hint: string, data: ArrayLike<number>, dims: number[], dtype: FloatDTypeName): string {
    return this.constant(hint, dtype === 'double' ? Float64Array.from(data) : Float32Array.from(data), dims);
  }

  /** Adds a node; returns its output names (one per output). Empty-string inputs mark omitted optional inputs. */
  nodeN(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, opts: NodeOptions = {}): string[] {
    const outs = opts.outputNames ?? Array.from({ length: opts.outputs ?? 1 }, (_, i) => this.fresh(i === 0 ? (opts.hint ?? opType) : `${opts.hint ?? opType}_${i}`));
    if (opts.outputNames) for (const n of outs) this.names.add(n);
    const domain = opts.domain ?? '';
    if (domain) this.domains.add(domain);
    this.nodes.push({
      opType,
      domain,
      input: inputs,
      output: outs,
      name: outs[0],
      attribute: Object.entries(attrs).map(([k, v]) => toAttributeProto(k, v)),
    });
    return outs;
  }

  /** Adds a single-output node and returns its output name. */
  node(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, opts: NodeOptions = {}): string {
    return this.nodeN(opType, inputs, attrs, opts)[0]!;
  }

  /** Serialises to ONNX model bytes (IR v8, default opset `opset`, com.microsoft v1 when used). */
  toBytes(opset = 17): Uint8Array {
    const opsetImport = [{ domain: '', version: opset }];
    for (const d of this.domains) opsetImport.push({ domain: d, version: 1 });
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'rwda',
      opsetImport,
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  /** Number of nodes so far (for tests and diagnostics). */
  get nodeCount(): number {
    return this.nodes.length;
  }
}
