/**
 * A minimal ONNX graph builder (onnx-proto), just enough for the FNN's train-step and eval graphs.
 * Opset 15 (the newest schema set onnx-proto 8 knows); every value is named by the builder so
 * that graphs stay readable in a debugger.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export type ElemType = 'float32' | 'float64' | 'int64';

const ELEM: Record<ElemType, number> = { float32: 1, float64: 11, int64: 7 };

/** Attribute values the builder understands: int, float, ints. */
export type Attr = number | number[] | { f: number };

export class GraphBuilder {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private counter = 0;
  /** Element type of every float value in this graph. */
  readonly dtype: 'float32' | 'float64';

  constructor(dtype: 'float32' | 'float64') {
    this.dtype = dtype;
  }

  /** Declares a graph input; dims are numbers or symbolic names. */
  input(name: string, dims: Array<number | string>, elem: ElemType = this.dtype): string {
    this.inputs.push(valueInfo(name, elem, dims));
    return name;
  }

  /**
   * Marks a value as a graph output under the given name. A value computed by a node is renamed in
   * place (an Identity would copy the tensor on every run); a graph input or one that is already
   * an output gets an Identity.
   */
  output(value: string, name: string, dims: Array<number | string>, elem: ElemType = this.dtype): string {
    if (value !== name) {
      const producer = this.nodes.find((n) => n.output[0] === value);
      const taken = this.outputs.some((o) => o.name === value);
      if (producer && !taken) {
        producer.output[0] = name;
        for (const n of this.nodes) n.input = n.input.map((i) => (i === value ? name : i));
      } else {
        this.nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: [value], output: [name], name: `out_${name}` }));
      }
    }
    this.outputs.push(valueInfo(name, elem, dims));
    return name;
  }

  /** A constant float scalar (rank 0) in the graph's dtype. */
  scalar(value: number, hint = 'c'): string {
    const name = `${hint}_${this.counter++}`;
    const t = onnx.TensorProto.create({ name, dataType: ELEM[this.dtype], dims: [] });
    if (this.dtype === 'float64') t.doubleData = [value];
    else t.floatData = [value];
    this.initializers.push(t);
    return name;
  }

  /** A constant float tensor in the graph's dtype, stored as raw little-endian bytes. */
  constant(dims: number[], data: ArrayLike<number>, hint = 'w'): string {
    const name = `${hint}_${this.counter++}`;
    const typed = this.dtype === 'float64' ? Float64Array.from(data) : Float32Array.from(data);
    const rawData = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
    this.initializers.push(onnx.TensorProto.create({ name, dataType: ELEM[this.dtype], dims, rawData }));
    return name;
  }

  /** A constant int64 vector (for Reshape shapes, axes). */
  int64s(values: number[], hint = 'i'): string {
    const name = `${hint}_${this.counter++}`;
    this.initializers.push(onnx.TensorProto.create({ name, dataType: ELEM.int64, dims: [values.length], int64Data: values }));
    return name;
  }

  /** Adds a node with one output and returns the output's name. */
  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, hint?: string): string {
    const out = `${hint ?? opType.toLowerCase()}_${this.counter++}`;
    this.nodes.push(
      onnx.NodeProto.create({
        opType,
        input: inputs,
        output: [out],
        name: `n${this.counter}_${opType}`,
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      }),
    );
    return out;
  }

  /** Serialises the model (IR 8, opset 15). */
  build(graphName: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'rwda',
      opsetImport: [{ domain: '', version: 15 }],
      graph: onnx.GraphProto.create({
        name: graphName,
        node: this.nodes,
        input: this.inputs,
        output: this.outputs,
        initializer: this.initializers,
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, elem: ElemType, dims: Array<number | string>): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: ELEM[elem],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

function attribute(name: string, v: Attr): InstanceType<typeof onnx.AttributeProto> {
  const T = onnx.AttributeProto.AttributeType;
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: v });
  if (typeof v === 'object') return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v.f });
  return onnx.AttributeProto.create({ name, type: T.INT, i: v });
}
