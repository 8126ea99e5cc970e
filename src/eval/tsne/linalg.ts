/**
 * Dense linear algebra for t-SNE: blocked Gram products (pairwise squared distances, covariance) and the PCA
 * initialisation. Everything is float64 and single-threaded, so results are identical on every run.
 */
import { Rng } from '../../util/rng.ts';

/** Rows per Gram block: 64 × 64 doubles = 32 KiB, small enough for the block and its input rows to stay in cache. */
export const GRAM_BLOCK = 64;

/**
 * Visits the upper block triangle of G = A·Aᵀ for a row-major `rows × cols` matrix A. `visit(i0, i1, j0, j1, g)`
 * receives block rows [i0, i1) × columns [j0, j1) with j0 ≥ i0, `g` row-major with stride j1 − j0; in diagonal
 * blocks the entries below the diagonal are filled too. `g` is reused between calls.
 */
export function gramBlocks(
  a: Float64Array,
  rows: number,
  cols: number,
  visit: (i0: number, i1: number, j0: number, j1: number, g: Float64Array) => void,
): void {
  const g = new Float64Array(GRAM_BLOCK * GRAM_BLOCK);
  for (let i0 = 0; i0 < rows; i0 += GRAM_BLOCK) {
    const i1 = Math.min(rows, i0 + GRAM_BLOCK);
    for (let j0 = i0; j0 < rows; j0 += GRAM_BLOCK) {
      const j1 = Math.min(rows, j0 + GRAM_BLOCK);
      gramBlock(a, cols, i0, i1, j0, j1, g);
      visit(i0, i1, j0, j1, g);
    }
  }
}

/** One block of A·Aᵀ; a 4×2 register tile keeps six loads per eight multiply-adds. */
function gramBlock(a: Float64Array, cols: number, i0: number, i1: number, j0: number, j1: number, g: Float64Array): void {
  const w = j1 - j0;
  for (let i = i0; i < i1; i += 4) {
    const ni = Math.min(4, i1 - i);
    for (let j = j0; j < j1; j += 2) {
      const nj = Math.min(2, j1 - j);
      const o = (i - i0) * w + (j - j0);
      if (ni === 4 && nj === 2) {
        const a0 = i * cols;
        const a1 = a0 + cols;
        const a2 = a1 + cols;
        const a3 = a2 + cols;
        const b0 = j * cols;
        const b1 = b0 + cols;
        let c00 = 0, c01 = 0, c10 = 0, c11 = 0, c20 = 0, c21 = 0, c30 = 0, c31 = 0;
        for (let k = 0; k < cols; k++) {
          const p = a[b0 + k]!;
          const q = a[b1 + k]!;
          const u0 = a[a0 + k]!;
          const u1 = a[a1 + k]!;
          const u2 = a[a2 + k]!;
          const u3 = a[a3 + k]!;
          c00 += u0 * p;
          c01 += u0 * q;
          c10 += u1 * p;
          c11 += u1 * q;
          c20 += u2 * p;
          c21 += u2 * q;
          c30 += u3 * p;
          c31 += u3 * q;
        }
        g[o] = c00;
        g[o + 1] = c01;
        g[o + w] = c10;
        g[o + w + 1] = c11;
        g[o + 2 * w] = c20;
        g[o + 2 * w + 1] = c21;
        g[o + 3 * w] = c30;
        g[o + 3 * w + 1] = c31;
      } else {
        for (let ii = 0; ii < ni; ii++) {
          const ar = (i + ii) * cols;
          for (let jj = 0; jj < nj; jj++) {
            const br = (j + jj) * cols;
            let s = 0;
            for (let k = 0; k < cols; k++) s += a[ar + k]! * a[br + k]!;
            g[o + ii * w + jj] = s;
          }
        }
      }
    }
  }
}

/** Squared row norms of a row-major `rows × cols` matrix. */
export function rowSquaredNorms(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    const r = i * cols;
    for (let k = 0; k < cols; k++) s += a[r + k]! * a[r + k]!;
    out[i] = s;
  }
  return out;
}

/**
 * Visits blocks of squared Euclidean distances ‖x_i − x_j‖², computed as sklearn's `euclidean_distances` does:
 * ‖x_i‖² + ‖x_j‖² − 2 x_i·x_j, clipped at 0. `visit(i0, i1, j0, j1, d)` gets rows [i0, i1) × columns [j0, j1),
 * j0 ≥ i0, row-major with stride j1 − j0; only entries with j > i are meaningful. `onBlockRow(rowsDone)` follows
 * each band of rows.
 */
export function squaredDistanceBlocks(
  x: Float64Array,
  n: number,
  dim: number,
  visit: (i0: number, i1: number, j0: number, j1: number, d: Float64Array) => void,
  onBlockRow?: (rowsDone: number) => void,
): void {
  const norms = rowSquaredNorms(x, n, dim);
  let lastI0 = -1;
  gramBlocks(x, n, dim, (i0, i1, j0, j1, g) => {
    if (i0 !== lastI0 && lastI0 >= 0) onBlockRow?.(i0);
    lastI0 = i0;
    const w = j1 - j0;
    for (let i = i0; i < i1; i++) {
      const ni = norms[i]!;
      const o = (i - i0) * w - j0;
      for (let j = Math.max(j0, i + 1); j < j1; j++) {
        const d = ni + norms[j]! - 2 * g[o + j]!;
        g[o + j] = d > 0 ? d : 0;
      }
    }
    visit(i0, i1, j0, j1, g);
  });
  onBlockRow?.(n);
}

/**
 * Eigenvectors of the `k` largest eigenvalues of a symmetric `m × m` matrix `s` (row-major), by orthogonal
 * iteration with Rayleigh–Ritz on a block of k + 8 vectors started from `rng`. Returns eigenvalues (descending) and
 * eigenvectors as the columns of an `m × k` row-major matrix.
 */
export function topEigen(
  s: Float64Array,
  m: number,
  k: number,
  rng: Rng,
  maxIter = 300,
  tol = 1e-10,
): { values: Float64Array; vectors: Float64Array } {
  const b = Math.min(m, k + 8);
  let v: Float64Array = new Float64Array(m * b);
  for (let i = 0; i < v.length; i++) v[i] = rng.normal();
  orthonormalizeColumns(v, m, b);
  let w: Float64Array = new Float64Array(m * b);
  const h = new Float64Array(b * b);
  let theta: Float64Array = new Float64Array(b);
  for (let iter = 0; ; iter++) {
    symMatMul(s, m, v, b, w);
    // H = Vᵀ S V, then rotate V and W = S·V onto the Ritz vectors.
    h.fill(0);
    for (let r = 0; r < m; r++) {
      const o = r * b;
      for (let p = 0; p < b; p++) {
        const vp = v[o + p]!;
        for (let q = 0; q < b; q++) h[p * b + q] += vp * w[o + q]!;
      }
    }
    const eig = jacobiEigen(h, b);
    theta = eig.values;
    v = rotateColumns(v, m, b, eig.vectors);
    w = rotateColumns(w, m, b, eig.vectors);
    let worst = 0;
    for (let p = 0; p < k; p++) {
      let r2 = 0;
      for (let r = 0; r < m; r++) {
        const e = w[r * b + p]! - theta[p]! * v[r * b + p]!;
        r2 += e * e;
      }
      worst = Math.max(worst, Math.sqrt(r2));
    }
    if (worst <= tol * Math.max(Math.abs(theta[0]!), Number.MIN_VALUE) || iter + 1 >= maxIter) break;
    v.set(w);
    orthonormalizeColumns(v, m, b);
  }
  const vectors = new Float64Array(m * k);
  for (let r = 0; r < m; r++) for (let p = 0; p < k; p++) vectors[r * k + p] = v[r * b + p]!;
  return { values: theta.slice(0, k), vectors };
}

/** out (m × b) = S (m × m, symmetric) · V (m × b). */
function symMatMul(s: Float64Array, m: number, v: Float64Array, b: number, out: Float64Array): void {
  out.fill(0);
  for (let r = 0; r < m; r++) {
    const ro = r * b;
    const so = r * m;
    for (let c = 0; c < m; c++) {
      const src = s[so + c]!;
      if (src === 0) continue;
      const co = c * b;
      for (let p = 0; p < b; p++) out[ro + p] += src * v[co + p]!;
    }
  }
}

/** V (m × b) · Z (b × b). */
function rotateColumns(v: Float64Array, m: number, b: number, z: Float64Array): Float64Array {
  const out = new Float64Array(m * b);
  for (let r = 0; r < m; r++) {
    const o = r * b;
    for (let p = 0; p < b; p++) {
      const vp = v[o + p]!;
      for (let q = 0; q < b; q++) out[o + q] += vp * z[p * b + q]!;
    }
  }
  return out;
}

/** Modified Gram–Schmidt on the columns (twice, for orthogonality to rounding); a dependent column becomes zero. */
function orthonormalizeColumns(v: Float64Array, m: number, b: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let p = 0; p < b; p++) {
      for (let q = 0; q < p; q++) {
        let dot = 0;
        for (let r = 0; r < m; r++) dot += v[r * b + p]! * v[r * b + q]!;
        for (let r = 0; r < m; r++) v[r * b + p] -= dot * v[r * b + q]!;
      }
      let nrm = 0;
      for (let r = 0; r < m; r++) nrm += v[r * b + p]! ** 2;
      nrm = Math.sqrt(nrm);
      const inv = nrm > 1e-300 ? 1 / nrm : 0;
      for (let r = 0; r < m; r++) v[r * b + p] *= inv;
    }
  }
}

/** Cyclic Jacobi eigen-decomposition of a small symmetric matrix; eigenvalues descending, vectors as columns. */
export function jacobiEigen(h: Float64Array, b: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(h);
  const z = new Float64Array(b * b);
  for (let i = 0; i < b; i++) z[i * b + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let total = 0;
    for (let p = 0; p < b; p++) {
      for (let q = 0; q < b; q++) {
        total += a[p * b + q]! ** 2;
        if (p !== q) off += a[p * b + q]! ** 2;
      }
    }
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < b - 1; p++) {
      for (let q = p + 1; q < b; q++) {
        const apq = a[p * b + q]!;
        if (apq === 0) continue;
        const tau = (a[q * b + q]! - a[p * b + p]!) / (2 * apq);
        const t = Math.sign(tau || 1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        for (let r = 0; r < b; r++) {
          const arp = a[r * b + p]!;
          const arq = a[r * b + q]!;
          a[r * b + p] = c * arp - s * arq;
          a[r * b + q] = s * arp + c * arq;
        }
        for (let r = 0; r < b; r++) {
          const apr = a[p * b + r]!;
          const aqr = a[q * b + r]!;
          a[p * b + r] = c * apr - s * aqr;
          a[q * b + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < b; r++) {
          const zrp = z[r * b + p]!;
          const zrq = z[r * b + q]!;
          z[r * b + p] = c * zrp - s * zrq;
          z[r * b + q] = s * zrp + c * zrq;
        }
      }
    }
  }
  const order = Array.from({ length: b }, (_, i) => i).sort((i, j) => a[j * b + j]! - a[i * b + i]! || i - j);
  const values = new Float64Array(b);
  const vectors = new Float64Array(b * b);
  order.forEach((src, dst) => {
    values[dst] = a[src * b + src]!;
    for (let r = 0; r < b; r++) vectors[r * b + dst] = z[r * b + src]!;
  });
  return { values, vectors };
}

/**
 * Projection of the centred data onto its first `k` principal axes (n × k, row-major), like sklearn's
 * `PCA(k).fit_transform`. Each axis's sign follows sklearn's `svd_flip(u_based_decision=False)`: the component's
 * largest-magnitude loading is positive. Uses the dim × dim covariance, or the n × n Gram matrix when n < dim.
 */
export function pcaProject(x: Float64Array, n: number, dim: number, k: number, rng: Rng): Float64Array {
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let c = 0; c < dim; c++) mean[c] += x[i * dim + c]!;
  for (let c = 0; c < dim; c++) mean[c] /= n;
  const components = new Float64Array(k * dim); // row p = principal axis p (unit length)
  if (n >= dim) {
    const xt = new Float64Array(dim * n); // centred data, transposed so the covariance is a row Gram product
    for (let i = 0; i < n; i++) for (let c = 0; c < dim; c++) xt[c * n + i] = x[i * dim + c]! - mean[c]!;
    const cov = symmetricGram(xt, dim, n);
    const { vectors } = topEigen(cov, dim, k, rng);
    for (let p = 0; p < k; p++) for (let c = 0; c < dim; c++) components[p * dim + c] = vectors[c * k + p]!;
  } else {
    const xc = new Float64Array(n * dim);
    for (let i = 0; i < n; i++) for (let c = 0; c < dim; c++) xc[i * dim + c] = x[i * dim + c]! - mean[c]!;
    const gram = symmetricGram(xc, n, dim);
    const { values, vectors } = topEigen(gram, n, k, rng);
    // v_p = Xcᵀ u_p / σ_p with σ_p = √λ_p; a zero singular value leaves the axis zero (all scores are zero then).
    for (let p = 0; p < k; p++) {
      const sigma = Math.sqrt(Math.max(values[p]!, 0));
      if (sigma === 0) continue;
      for (let i = 0; i < n; i++) {
        const u = vectors[i * k + p]! / sigma;
        for (let c = 0; c < dim; c++) components[p * dim + c] += u * xc[i * dim + c]!;
      }
    }
  }
  for (let p = 0; p < k; p++) {
    let best = 0;
    for (let c = 0; c < dim; c++) if (Math.abs(components[p * dim + c]!) > Math.abs(best)) best = components[p * dim + c]!;
    if (best < 0) for (let c = 0; c < dim; c++) components[p * dim + c] = -components[p * dim + c]!;
  }
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < k; p++) {
      let s = 0;
      for (let c = 0; c < dim; c++) s += (x[i * dim + c]! - mean[c]!) * components[p * dim + c]!;
      out[i * k + p] = s;
    }
  }
  return out;
}

/** The full symmetric `rows × rows` Gram matrix A·Aᵀ (row-major). */
export function symmetricGram(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * rows);
  gramBlocks(a, rows, cols, (i0, i1, j0, j1, g) => {
    const w = j1 - j0;
    for (let i = i0; i < i1; i++) {
      for (let j = Math.max(j0, i); j < j1; j++) {
        const v = g[(i - i0) * w + (j - j0)]!;
        out[i * rows + j] = v;
        out[j * rows + i] = v;
      }
    }
  });
  return out;
}
