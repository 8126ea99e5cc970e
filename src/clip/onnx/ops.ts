/**
 * Op-level helpers over GraphBuilder: each emits the ONNX nodes for one mathematical operation and
 * returns the output value name. Standard-domain variants are the reference; `com.microsoft`
 * variants are ORT contrib kernels used for speed where they are numerically equivalent.
 */
import { float, GraphBuilder, int, ints, MS_DOMAIN } from './graph.ts';

/** LayerNorm epsilon used by open_clip (nn.LayerNorm default). */
export const LN_EPS = 1e-5;
/** QuickGELU's constant: x·σ(1.702x). */
export const QUICK_GELU_ALPHA = 1.702;

/** LayerNorm over the last axis (opset 17 LayerNormalization, biased variance, eps 1e-5). */
export function layerNorm(b: GraphBuilder, x: string, weight: string, bias: string): string {
  return b.node('LayerNormalization', [x, weight, bias], { axis: int(-1), epsilon: float(LN_EPS) });
}

/**
 * `delta + bias + residual` followed by LayerNorm; returns both the sum (the new residual stream) and
 * its normalised value. `fused` uses ORT's SkipLayerNormalization, which computes both in one pass.
 */
export function addAndNorm(
  b: GraphBuilder,
  residual: string,
  delta: string,
  deltaBias: string | undefined,
  weight: string,
  bias: string,
  fused: boolean,
): { sum: string; normed: string } {
  if (fused) {
    const [normed, , , sum] = b.nodeN('SkipLayerNormalization', [delta, residual, weight, bias, deltaBias ?? ''], { epsilon: float(LN_EPS) }, { domain: MS_DOMAIN, outputs: 4 });
    return { sum: sum!, normed: normed! };
  }
  const sum = addResidual(b, residual, delta, deltaBias);
  return { sum, normed: layerNorm(b, sum, weight, bias) };
}

/** `residual + (delta + bias)`, the order torch uses (the Linear adds its bias first). */
export function addResidual(b: GraphBuilder, residual: string, delta: string, deltaBias: string | undefined): string {
  const d = deltaBias ? b.node('Add', [delta, deltaBias]) : delta;
  return b.node('Add', [residual, d]);
}

/** `x Wᵀ (+ bias)` for a 2-D x and a torch-layout [out, in] weight (Gemm with transB, so the weight is used in place). */
export function linear(b: GraphBuilder, x: string, weight: string, bias?: string): string {
  return b.node('Gemm', bias ? [x, weight, bias] : [x, weight], { transB: int(1) });
}

/** Exact (erf) GELU: 0.5·x·(1 + erf(x/√2)); `contrib` uses ORT's Gelu kernel, `bias` is added first. */
export function gelu(b: GraphBuilder, x: string, bias: string | undefined, contrib: boolean): string {
  if (contrib) {
    return bias ? b.node('BiasGelu', [x, bias], {}, { domain: MS_DOMAIN }) : b.node('Gelu', [x], {}, { domain: MS_DOMAIN });
  }
  const xb = bias ? b.node('Add', [x, bias]) : x;
  const erf = b.node('Erf', [b.node('Mul', [xb, b.scalar('inv_sqrt2', Math.SQRT1_2)])]);
  const onePlus = b.node('Add', [erf, b.scalar('one', 1)]);
  return b.node('Mul', [b.node('Mul', [xb, b.scalar('half', 0.5)]), onePlus]);
}

/** QuickGELU: x·σ(1.702x); `contrib` uses ORT's QuickGelu kernel, `bias` is added first. */
export function quickGelu(b: GraphBuilder, x: string, bias: string | undefined, contrib: boolean): string {
  const xb = bias ? b.node('Add', [x, bias]) : x;
  if (contrib) return b.node('QuickGelu', [xb], { alpha: float(QUICK_GELU_ALPHA) }, { domain: MS_DOMAIN });
  return b.node('Mul', [xb, b.node('Sigmoid', [b.node('Mul', [xb, b.scalar('alpha', QUICK_GELU_ALPHA)])])]);
}

/** Shape-tensor helpers: `dims(x, start, end)` is Shape(x)[start:end] as int64. */
export function dims(b: GraphBuilder, x: string, start: number, end: number): string {
  return b.node('Shape', [x], { start: int(start), end: int(end) });
}

/** Concatenates 1-D int64 shape pieces. */
export function shapeOf(b: GraphBuilder, parts: Array<string | number[]>): string {
  const names = parts.map((p) => (typeof p === 'string' ? p : b.i64('shape_part', p)));
  return names.length === 1 ? names[0]! : b.node('Concat', names, { axis: int(0) });
}

export function reshape(b: GraphBuilder, x: string, shape: string): string {
  return b.node('Reshape', [x, shape]);
}

export function transpose(b: GraphBuilder, x: string, perm: number[]): string {
  return b.node('Transpose', [x], { perm: ints(perm) });
}
