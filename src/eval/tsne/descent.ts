/**
 * sklearn's `_gradient_descent` for t-SNE: momentum descent with per-parameter gains (Jacobs 1988: +0.2 when the
 * gradient's sign flips against the last update, ×0.8 otherwise, floored at `minGain`).
 */

export interface DescentOptions {
  /** First iteration index (the second phase continues the count of the first). */
  it: number;
  /** One past the last iteration index. */
  end: number;
  momentum: number;
  learningRate: number;
  /** Stop when the error has not improved for more than this many iterations (checked on check iterations). */
  iterationsWithoutProgress: number;
  /** Error computed and stopping rules checked when (i + 1) % checkEvery = 0. Default 50 (sklearn's _N_ITER_CHECK). */
  checkEvery?: number;
  /** Default 0.01. */
  minGain?: number;
  /** Stop when the gains-scaled gradient's norm is at most this. Default 1e-7. */
  minGradNorm?: number;
  /** Called after each update with the iteration index and its error (NaN when not computed). */
  onIteration?: (i: number, error: number) => void;
}

/**
 * Runs iterations [it, end) on `p` in place. `objective(p, grad, computeError)` writes the gradient and returns the
 * error when asked (it is asked on check iterations and on the last). Returns the last error, the last iteration
 * index (`it` itself when none ran, like sklearn) and how many ran.
 */
export function gradientDescent(
  p: Float64Array,
  objective: (p: Float64Array, grad: Float64Array, computeError: boolean) => number,
  opts: DescentOptions,
): { error: number; it: number; ran: number } {
  const checkEvery = opts.checkEvery ?? 50;
  const minGain = opts.minGain ?? 0.01;
  const minGradNorm = opts.minGradNorm ?? 1e-7;
  const { momentum, learningRate } = opts;
  const m = p.length;
  const grad = new Float64Array(m);
  const update = new Float64Array(m);
  const gains = new Float64Array(m).fill(1);
  let error = Number.MAX_VALUE;
  let bestError = Number.MAX_VALUE;
  let bestIter = opts.it;
  let it = opts.it;
  let ran = 0;
  for (let i = opts.it; i < opts.end; i++) {
    it = i;
    ran++;
    const check = (i + 1) % checkEvery === 0;
    error = objective(p, grad, check || i === opts.end - 1);
    let norm2 = 0;
    for (let t = 0; t < m; t++) {
      let gain = update[t]! * grad[t]! < 0 ? gains[t]! + 0.2 : gains[t]! * 0.8;
      if (gain < minGain) gain = minGain;
      gains[t] = gain;
      const g = grad[t]! * gain;
      norm2 += g * g;
      const u = momentum * update[t]! - learningRate * g;
      update[t] = u;
      p[t] += u;
    }
    opts.onIteration?.(i, error);
    if (check) {
      if (error < bestError) {
        bestError = error;
        bestIter = i;
      } else if (i - bestIter > opts.iterationsWithoutProgress) break;
      if (Math.sqrt(norm2) <= minGradNorm) break;
    }
  }
  return { error, it, ran };
}
