// Shared inputs for the t-SNE tests.
import { Rng } from '../../src/util/rng.ts';

/** n × dim standard normal draws times `scale`. */
export function gaussian(rng: Rng, n: number, dim: number, scale = 1): Float64Array {
  const x = new Float64Array(n * dim);
  for (let t = 0; t < x.length; t++) x[t] = scale * rng.normal();
  return x;
}

/** n points in `dim`-D around three centres 10·e_0, 10·e_1, 10·e_2 (unit noise); point i is in cluster i % 3. */
export function threeClusters(n: number, dim: number, seed: number): { x: Float32Array; labels: number[] } {
  const rng = new Rng(seed);
  const x = new Float32Array(n * dim);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    labels.push(i % 3);
    for (let d = 0; d < dim; d++) x[i * dim + d] = rng.normal() + (d === i % 3 ? 10 : 0);
  }
  return { x, labels };
}

/** Dense n × n squared Euclidean distances by the direct sum. */
export function squaredDistances(x: Float64Array, n: number, dim: number): Float64Array {
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let c = 0; c < dim; c++) s += (x[i * dim + c]! - x[j * dim + c]!) ** 2;
      d[i * n + j] = s;
    }
  }
  return d;
}

/** ‖a − b‖ / ‖b‖. */
export function relErr(a: Float64Array, b: Float64Array): number {
  let num = 0;
  let den = 0;
  for (let t = 0; t < a.length; t++) {
    num += (a[t]! - b[t]!) ** 2;
    den += b[t]! ** 2;
  }
  return Math.sqrt(num / den);
}
