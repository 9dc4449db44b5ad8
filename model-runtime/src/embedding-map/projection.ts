// 2-D maps of embeddings: PCA (block power iteration) to a few dozen dimensions, then t-SNE initialised from
// the first two principal components (stable layouts from run to run, as openTSNE and scikit-learn advise).
// Exact repulsion (O(n²) per iteration) with sparse attraction over the 3·perplexity nearest neighbours:
// meant for a few thousand points, computed off the UI thread (projection-worker.ts).

/** A seeded generator, so the same run gives the same map. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** Top `p` principal components of the centred rows of X [n, d]; returns the projections [n, p]. */
export function pca(X: Float32Array, n: number, d: number, p: number, seed = 1): Float64Array {
  const { mean, Q, p: q } = pcaBasis(X, n, d, p, seed);
  const C = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) C[i * d + j] = X[i * d + j] - mean[j];
  return matmul(C, Q, n, d, q);
}

/** The mean and the top `p` principal directions Q [d, p] of the rows of X [n, d] (block power iteration). */
export function pcaBasis(X: Float32Array, n: number, d: number, p: number, seed = 1) {
  p = Math.min(p, d, n);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += X[i * d + j] / n;
  const C = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) C[i * d + j] = X[i * d + j] - mean[j];
  const r = rng(seed);
  let Q: Float64Array = Float64Array.from({ length: d * p }, () => r() - 0.5); // [d, p]
  for (let iter = 0; iter < 6; iter++) {
    const Y = matmul(C, Q, n, d, p); // [n, p]
    const Z = matmulT(C, Y, n, d, p); // Cᵀ Y: [d, p]
    Q = orthonormalize(Z, d, p);
  }
  return { mean, Q, p };
}

function matmul(A: Float64Array, B: Float64Array, n: number, d: number, p: number): Float64Array {
  const out = new Float64Array(n * p);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      const a = A[i * d + j];
      if (a === 0) continue;
      for (let k = 0; k < p; k++) out[i * p + k] += a * B[j * p + k];
    }
  return out;
}

function matmulT(A: Float64Array, Y: Float64Array, n: number, d: number, p: number): Float64Array {
  const out = new Float64Array(d * p);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      const a = A[i * d + j];
      for (let k = 0; k < p; k++) out[j * p + k] += a * Y[i * p + k];
    }
  return out;
}

/** Modified Gram-Schmidt on the columns of Z [d, p]. */
function orthonormalize(Z: Float64Array, d: number, p: number): Float64Array {
  for (let k = 0; k < p; k++) {
    for (let m = 0; m < k; m++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += Z[j * p + k] * Z[j * p + m];
      for (let j = 0; j < d; j++) Z[j * p + k] -= dot * Z[j * p + m];
    }
    let norm = 0;
    for (let j = 0; j < d; j++) norm += Z[j * p + k] ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let j = 0; j < d; j++) Z[j * p + k] /= norm;
  }
  return Z;
}

/** Sparse symmetric affinities P over each point's nearest neighbours, at the given perplexity. */
function affinities(Y: Float64Array, n: number, p: number, perplexity: number) {
  const k = Math.min(n - 1, Math.floor(3 * perplexity));
  const nbr = new Int32Array(n * k);
  const w = new Float64Array(n * k);
  const dist = new Float64Array(n);
  const order = new Int32Array(n);
  const target = Math.log(perplexity);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let c = 0; c < p; c++) s += (Y[i * p + c] - Y[j * p + c]) ** 2;
      dist[j] = j === i ? Infinity : s;
      order[j] = j;
    }
    const nn = Array.from(order)
      .sort((a, b) => dist[a] - dist[b])
      .slice(0, k);
    // binary search on the precision beta for the entropy log(perplexity)
    let beta = 1;
    let lo = 0;
    let hi = Infinity;
    const d0 = dist[nn[0]];
    for (let it = 0; it < 64; it++) {
      let sum = 0;
      let h = 0;
      for (const j of nn) {
        const e = Math.exp(-beta * (dist[j] - d0));
        sum += e;
        h += beta * (dist[j] - d0) * e;
      }
      const entropy = Math.log(sum) + h / sum;
      if (Math.abs(entropy - target) < 1e-5) break;
      if (entropy > target) {
        lo = beta;
        beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = (beta + lo) / 2;
      }
    }
    let sum = 0;
    nn.forEach((j, m) => {
      nbr[i * k + m] = j;
      w[i * k + m] = Math.exp(-beta * (dist[j] - d0));
      sum += w[i * k + m];
    });
    for (let m = 0; m < k; m++) w[i * k + m] /= sum;
  }
  // symmetrise: P_ij = (p_j|i + p_i|j) / 2n, as a map from pair to weight
  const P = new Map<number, number>();
  for (let i = 0; i < n; i++)
    for (let m = 0; m < k; m++) {
      const j = nbr[i * k + m];
      const key = i < j ? i * n + j : j * n + i;
      P.set(key, (P.get(key) ?? 0) + w[i * k + m] / (2 * n));
    }
  const rows = new Int32Array(P.size);
  const cols = new Int32Array(P.size);
  const vals = new Float64Array(P.size);
  let e = 0;
  for (const [key, v] of P) {
    rows[e] = Math.floor(key / n);
    cols[e] = key % n;
    vals[e++] = v;
  }
  return { rows, cols, vals };
}

export interface TsneOptions {
  perplexity?: number;
  iterations?: number;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
}

/** t-SNE of rows X [n, d] to 2-D (PCA to ≤ 50 dimensions first); returns [n, 2]. */
export function tsne(X: Float32Array, n: number, d: number, opts: TsneOptions = {}): Float32Array {
  if (n < 3) return new Float32Array(n * 2);
  const p = Math.min(50, d);
  const Y50 = pca(X, n, d, p, opts.seed ?? 1);
  const perplexity = Math.min(opts.perplexity ?? 30, (n - 1) / 3);
  const { rows, cols, vals } = affinities(Y50, n, p, perplexity);
  // initial layout: the first two principal components, scaled to a small spread (std 1e-4)
  const Y = new Float64Array(n * 2);
  let sd = 0;
  for (let i = 0; i < n; i++) sd += Y50[i * p] ** 2 / n;
  sd = Math.sqrt(sd) || 1;
  for (let i = 0; i < n; i++) {
    Y[2 * i] = (Y50[i * p] / sd) * 1e-4;
    Y[2 * i + 1] = (Y50[i * p + 1] / sd) * 1e-4;
  }
  optimize(Y, n, rows, cols, vals, opts);
  return Float32Array.from(Y);
}

function optimize(
  Y: Float64Array,
  n: number,
  rows: Int32Array,
  cols: Int32Array,
  vals: Float64Array,
  opts: TsneOptions,
): void {
  const total = opts.iterations ?? 500;
  const exaggerated = Math.min(250, Math.floor(total / 4));
  const lr = Math.max(n / 12 / 4, 50); // scikit-learn's 'auto' learning rate
  const grad = new Float64Array(n * 2);
  const update = new Float64Array(n * 2);
  const gains = new Float64Array(n * 2).fill(1);
  for (let it = 0; it < total; it++) {
    const exag = it < exaggerated ? 12 : 1;
    const momentum = it < exaggerated ? 0.5 : 0.8;
    grad.fill(0);
    // repulsion: every pair, q_ij ∝ 1 / (1 + |yi − yj|²)
    let Z = 0;
    for (let i = 0; i < n; i++) {
      const xi = Y[2 * i];
      const yi = Y[2 * i + 1];
      for (let j = i + 1; j < n; j++) {
        const dx = xi - Y[2 * j];
        const dy = yi - Y[2 * j + 1];
        const q = 1 / (1 + dx * dx + dy * dy);
        Z += 2 * q;
        const q2 = q * q;
        grad[2 * i] -= q2 * dx;
        grad[2 * i + 1] -= q2 * dy;
        grad[2 * j] += q2 * dx;
        grad[2 * j + 1] += q2 * dy;
      }
    }
    for (let g = 0; g < grad.length; g++) grad[g] /= Z;
    // attraction: the sparse P
    for (let e = 0; e < vals.length; e++) {
      const i = rows[e];
      const j = cols[e];
      const dx = Y[2 * i] - Y[2 * j];
      const dy = Y[2 * i + 1] - Y[2 * j + 1];
      const f = (exag * vals[e]) / (1 + dx * dx + dy * dy);
      grad[2 * i] += f * dx;
      grad[2 * i + 1] += f * dy;
      grad[2 * j] -= f * dx;
      grad[2 * j + 1] -= f * dy;
    }
    for (let g = 0; g < grad.length; g++) {
      const gr = 4 * grad[g];
      gains[g] = gr * update[g] < 0 ? gains[g] + 0.2 : Math.max(0.01, gains[g] * 0.8);
      update[g] = momentum * update[g] - lr * gains[g] * gr;
      Y[g] += update[g];
    }
    if (it % 25 === 0) opts.onProgress?.(it, total);
  }
}
