/**
 * The t-SNE objective KL(P ‖ Q) with a 2-D Student-t kernel (one degree of freedom) and its gradient
 * ∂C/∂y_i = 4 Σ_j (p_ij − q_ij)(y_i − y_j)(1 + ‖y_i − y_j‖²)⁻¹: exactly over all pairs (sklearn's `_kl_divergence`)
 * or with the Barnes–Hut quadtree approximation of the repulsive part (sklearn's `_kl_divergence_bh`).
 * `exaggeration` multiplies P (early exaggeration) without touching the caller's array.
 */
import { MACHINE_EPSILON, type SparseP } from './affinities.ts';

/** float32's smallest normal number, the floor sklearn's Barnes–Hut code puts under p and q inside the log. */
const FLOAT32_TINY = 2 ** -126;

/**
 * Exact KL divergence (when `computeError`, else NaN) and gradient into `grad` (n × 2) for the condensed joint `p`.
 * `w` is scratch space of the same length as `p`. Q is floored at MACHINE_EPSILON as in sklearn.
 */
export function klGradientExact(
  p: Float64Array,
  y: Float64Array,
  n: number,
  exaggeration: number,
  grad: Float64Array,
  computeError: boolean,
  w: Float64Array = new Float64Array(p.length),
): number {
  let sum = 0;
  let idx = 0;
  for (let i = 0; i < n; i++) {
    const yi0 = y[2 * i]!;
    const yi1 = y[2 * i + 1]!;
    for (let j = i + 1; j < n; j++) {
      const d0 = yi0 - y[2 * j]!;
      const d1 = yi1 - y[2 * j + 1]!;
      const v = 1 / (1 + d0 * d0 + d1 * d1);
      w[idx++] = v;
      sum += v;
    }
  }
  const invZ = 1 / (2 * sum); // Z sums over ordered pairs, the condensed array holds each pair once
  grad.fill(0);
  let kl = 0;
  idx = 0;
  for (let i = 0; i < n; i++) {
    const yi0 = y[2 * i]!;
    const yi1 = y[2 * i + 1]!;
    let g0 = 0;
    let g1 = 0;
    for (let j = i + 1; j < n; j++, idx++) {
      const v = w[idx]!;
      const q = Math.max(v * invZ, MACHINE_EPSILON);
      const pe = exaggeration * p[idx]!;
      const f = (pe - q) * v;
      const d0 = yi0 - y[2 * j]!;
      const d1 = yi1 - y[2 * j + 1]!;
      g0 += f * d0;
      g1 += f * d1;
      grad[2 * j] -= f * d0;
      grad[2 * j + 1] -= f * d1;
      if (computeError) kl += pe * Math.log(Math.max(pe, MACHINE_EPSILON) / q);
    }
    grad[2 * i] += g0;
    grad[2 * i + 1] += g1;
  }
  for (let t = 0; t < 2 * n; t++) grad[t] *= 4;
  return computeError ? 2 * kl : NaN;
}

/** Deeper cells than this are leaves even with distinct points (they are then 2⁻⁴⁸ of the root's width apart). */
const MAX_DEPTH = 48;

/**
 * A region quadtree over 2-D points, rebuilt in place each iteration. Cell geometry follows sklearn's `_QuadTree`:
 * the root is the points' bounding box with the upper bounds pushed out (max·(1 + 1e-3·sign), at least max + 1e-3),
 * children split at the centre, a point on a centre line goes to the upper child; empty children are not stored.
 * Leaves hold one point, or several identical ones.
 */
export class QuadTree {
  n = 0;
  nodeCount = 0;
  private capacity = 0;
  comX = new Float64Array(0);
  comY = new Float64Array(0);
  count = new Float64Array(0);
  /** Square of the cell's larger side, the Barnes–Hut size measure. */
  maxWidth2 = new Float64Array(0);
  minX = new Float64Array(0);
  maxX = new Float64Array(0);
  minY = new Float64Array(0);
  maxY = new Float64Array(0);
  /** First child's node id, or −1 for a leaf; children are consecutive. */
  firstChild = new Int32Array(0);
  childCount = new Int32Array(0);
  /** Leaf node holding each point. */
  leafOf = new Int32Array(0);
  private start = new Int32Array(0);
  private end = new Int32Array(0);
  private depth = new Int32Array(0);
  private perm = new Int32Array(0);
  private tmp = new Int32Array(0);

  /** Builds the tree over `n` points (x, y interleaved). */
  build(y: Float64Array, n: number): void {
    if (this.perm.length < n) {
      this.perm = new Int32Array(n);
      this.tmp = new Int32Array(n);
      this.leafOf = new Int32Array(n);
    }
    this.n = n;
    if (this.capacity < 2 * n + 16) this.grow(2 * n + 16);
    let lo0 = Infinity, lo1 = Infinity, hi0 = -Infinity, hi1 = -Infinity;
    for (let i = 0; i < n; i++) {
      this.perm[i] = i;
      const a = y[2 * i]!;
      const b = y[2 * i + 1]!;
      if (a < lo0) lo0 = a;
      if (a > hi0) hi0 = a;
      if (b < lo1) lo1 = b;
      if (b > hi1) hi1 = b;
    }
    hi0 = Math.max(hi0 * (1 + 1e-3 * Math.sign(hi0)), hi0 + 1e-3);
    hi1 = Math.max(hi1 * (1 + 1e-3 * Math.sign(hi1)), hi1 + 1e-3);
    this.nodeCount = 1;
    this.setCell(0, lo0, hi0, lo1, hi1, 0, n, 0);
    const stack: number[] = [0];
    const perm = this.perm;
    const tmp = this.tmp;
    while (stack.length > 0) {
      const k = stack.pop()!;
      const s = this.start[k]!;
      const e = this.end[k]!;
      let sx = 0, sy = 0, px0 = Infinity, px1 = -Infinity, py0 = Infinity, py1 = -Infinity;
      for (let t = s; t < e; t++) {
        const i = perm[t]!;
        const a = y[2 * i]!;
        const b = y[2 * i + 1]!;
        sx += a;
        sy += b;
        if (a < px0) px0 = a;
        if (a > px1) px1 = a;
        if (b < py0) py0 = b;
        if (b > py1) py1 = b;
      }
      const c = e - s;
      this.count[k] = c;
      this.comX[k] = sx / c;
      this.comY[k] = sy / c;
      if (c === 1 || (px0 === px1 && py0 === py1) || this.depth[k]! >= MAX_DEPTH) {
        this.firstChild[k] = -1;
        this.childCount[k] = 0;
        for (let t = s; t < e; t++) this.leafOf[perm[t]!] = k;
        continue;
      }
      const x0 = this.minX[k]!, x1 = this.maxX[k]!, y0 = this.minY[k]!, y1 = this.maxY[k]!;
      const cx = (x0 + x1) / 2;
      const cy = (y0 + y1) / 2;
      // Counting sort of the range by quadrant 2·[x ≥ cx] + [y ≥ cy] (sklearn's child order).
      const qc = [0, 0, 0, 0];
      for (let t = s; t < e; t++) {
        const i = perm[t]!;
        qc[(y[2 * i]! >= cx ? 2 : 0) + (y[2 * i + 1]! >= cy ? 1 : 0)]++;
      }
      const qs = [s, s + qc[0]!, s + qc[0]! + qc[1]!, s + qc[0]! + qc[1]! + qc[2]!];
      const cur = qs.slice();
      for (let t = s; t < e; t++) {
        const i = perm[t]!;
        tmp[cur[(y[2 * i]! >= cx ? 2 : 0) + (y[2 * i + 1]! >= cy ? 1 : 0)]!++] = i;
      }
      perm.set(tmp.subarray(s, e), s);
      let nonEmpty = 0;
      for (let q = 0; q < 4; q++) if (qc[q]! > 0) nonEmpty++;
      if (this.nodeCount + nonEmpty > this.capacity) this.grow(2 * this.capacity);
      this.firstChild[k] = this.nodeCount;
      this.childCount[k] = nonEmpty;
      for (let q = 0; q < 4; q++) {
        if (qc[q] === 0) continue;
        const id = this.nodeCount++;
        this.setCell(
          id,
          q & 2 ? cx : x0,
          q & 2 ? x1 : cx,
          q & 1 ? cy : y0,
          q & 1 ? y1 : cy,
          qs[q]!,
          qs[q]! + qc[q]!,
          this.depth[k]! + 1,
        );
        stack.push(id);
      }
    }
  }

  private setCell(id: number, x0: number, x1: number, y0: number, y1: number, s: number, e: number, depth: number): void {
    this.minX[id] = x0;
    this.maxX[id] = x1;
    this.minY[id] = y0;
    this.maxY[id] = y1;
    this.maxWidth2[id] = Math.max((x1 - x0) ** 2, (y1 - y0) ** 2);
    this.start[id] = s;
    this.end[id] = e;
    this.depth[id] = depth;
  }

  private grow(capacity: number): void {
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(capacity);
      b.set(a.subarray(0, Math.min(a.length, capacity)));
      return b;
    };
    const i32 = (a: Int32Array) => {
      const b = new Int32Array(capacity);
      b.set(a.subarray(0, Math.min(a.length, capacity)));
      return b;
    };
    this.comX = f64(this.comX);
    this.comY = f64(this.comY);
    this.count = f64(this.count);
    this.maxWidth2 = f64(this.maxWidth2);
    this.minX = f64(this.minX);
    this.maxX = f64(this.maxX);
    this.minY = f64(this.minY);
    this.maxY = f64(this.maxY);
    this.firstChild = i32(this.firstChild);
    this.childCount = i32(this.childCount);
    this.start = i32(this.start);
    this.end = i32(this.end);
    this.depth = i32(this.depth);
    this.capacity = capacity;
  }
}

/**
 * Barnes–Hut KL divergence (when `computeError`, else NaN) and gradient into `grad` (n × 2). Attractive forces run
 * over the sparse P; repulsive ones sum cells whose larger side is under θ times their centre-of-mass distance
 * as one mass (θ = 0: every point separately, i.e. exact). A point never repels itself: its own leaf, or a cell
 * containing it that is summarised (only possible for θ > 1/√2), counts the other points only. The KL uses the
 * approximate normaliser, as in sklearn.
 */
export function klGradientBH(
  p: SparseP,
  y: Float64Array,
  theta: number,
  exaggeration: number,
  grad: Float64Array,
  computeError: boolean,
  tree: QuadTree = new QuadTree(),
): number {
  const n = p.n;
  tree.build(y, n);
  const { comX, comY, count, maxWidth2, firstChild, childCount, leafOf, minX, maxX, minY, maxY } = tree;
  const theta2 = theta * theta;
  const selfCheck = theta > Math.SQRT1_2;
  const stack = new Int32Array(4 * MAX_DEPTH + 8);
  let sumQ = 0;
  for (let i = 0; i < n; i++) {
    const xi = y[2 * i]!;
    const yi = y[2 * i + 1]!;
    const own = leafOf[i]!;
    let nx = 0;
    let ny = 0;
    let sp = 0;
    stack[sp++] = 0;
    while (sp > 0) {
      const k = stack[--sp]!;
      let dx = xi - comX[k]!;
      let dy = yi - comY[k]!;
      let d2 = dx * dx + dy * dy;
      const fc = firstChild[k]!;
      let c = count[k]!;
      if (fc >= 0 && !(maxWidth2[k]! < theta2 * d2)) {
        for (let t = childCount[k]! - 1; t >= 0; t--) stack[sp++] = fc + t;
        continue;
      }
      if (fc < 0 ? k === own : selfCheck && xi >= minX[k]! && xi < maxX[k]! && yi >= minY[k]! && yi < maxY[k]!) {
        if (c === 1) continue;
        // Centre of mass of the cell's other c − 1 points.
        dx = xi - (c * comX[k]! - xi) / (c - 1);
        dy = yi - (c * comY[k]! - yi) / (c - 1);
        d2 = dx * dx + dy * dy;
        c -= 1;
      }
      const q = 1 / (1 + d2);
      sumQ += c * q;
      const m = c * q * q;
      nx += m * dx;
      ny += m * dy;
    }
    grad[2 * i] = nx;
    grad[2 * i + 1] = ny;
  }
  sumQ = Math.max(sumQ, MACHINE_EPSILON);
  const { indptr, indices, values } = p;
  let kl = 0;
  for (let i = 0; i < n; i++) {
    const xi = y[2 * i]!;
    const yi = y[2 * i + 1]!;
    let px = 0;
    let py = 0;
    for (let t = indptr[i]!; t < indptr[i + 1]!; t++) {
      const j = indices[t]!;
      const dx = xi - y[2 * j]!;
      const dy = yi - y[2 * j + 1]!;
      const q = 1 / (1 + dx * dx + dy * dy);
      const pij = exaggeration * values[t]!;
      const f = pij * q;
      px += f * dx;
      py += f * dy;
      if (computeError) kl += pij * Math.log(Math.max(pij, FLOAT32_TINY) / Math.max(q / sumQ, FLOAT32_TINY));
    }
    grad[2 * i] = 4 * (px - grad[2 * i]! / sumQ);
    grad[2 * i + 1] = 4 * (py - grad[2 * i + 1]! / sumQ);
  }
  return computeError ? kl : NaN;
}
