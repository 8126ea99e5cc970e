/**
 * WinCLIP's window geometry on a ViT's patch grid: for scale s, every s×s block of patches at
 * stride 1, ordered row-major by its top-left patch, each listing its patches row-major — the
 * layout of `torch.nn.functional.unfold` on the index grid (kernel s, stride 1), which is what
 * anomalib builds and what the window embeddings and the harmonic aggregation both index by.
 */
import { RwdaError } from '../errors.ts';

/** Row-major patch indices (r·grid + c) of every window of `scale`; (grid − scale + 1)² windows. */
export function windowPatches(grid: number, scale: number): Int32Array[] {
  if (!Number.isInteger(grid) || grid < 1) throw new RwdaError(`window grid must be a positive integer, got ${grid}`);
  if (!Number.isInteger(scale) || scale < 1 || scale > grid) throw new RwdaError(`window scale must be an integer in 1..${grid}, got ${scale}`);
  const perRow = grid - scale + 1;
  const out: Int32Array[] = [];
  for (let r0 = 0; r0 < perRow; r0++) {
    for (let c0 = 0; c0 < perRow; c0++) {
      const w = new Int32Array(scale * scale);
      for (let i = 0; i < scale; i++) for (let j = 0; j < scale; j++) w[i * scale + j] = (r0 + i) * grid + (c0 + j);
      out.push(w);
    }
  }
  return out;
}

/** How many windows of `scale` contain each patch, row-major [grid²]. */
export function windowCoverage(grid: number, scale: number): Int32Array {
  const cov = new Int32Array(grid * grid);
  for (const w of windowPatches(grid, scale)) for (const p of w) cov[p]! += 1;
  return cov;
}
