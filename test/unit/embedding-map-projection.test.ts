import { describe, expect, it } from 'vitest';
import { clusters } from './helpers/clusters';
import { pca, rng, tsne } from '../../model-runtime/src/embedding-map/projection';
import { projectInWorker } from '../../model-runtime/src/embedding-map/project';

/** Share of points whose nearest cluster centre in the map is their own cluster's. */
function agreement(Y: Float32Array, label: Int32Array, C: number): number {
  const cent = Array.from({ length: C }, () => [0, 0, 0]);
  label.forEach((l, i) => {
    cent[l][0] += Y[2 * i];
    cent[l][1] += Y[2 * i + 1];
    cent[l][2]++;
  });
  for (const c of cent) {
    c[0] /= c[2];
    c[1] /= c[2];
  }
  let ok = 0;
  label.forEach((l, i) => {
    const d = cent.map((c) => (Y[2 * i] - c[0]) ** 2 + (Y[2 * i + 1] - c[1]) ** 2);
    if (d.indexOf(Math.min(...d)) === l) ok++;
  });
  return ok / label.length;
}

describe('embedding map projection', () => {
  it('PCA finds the direction of largest variance', () => {
    // points along (3, 4)/5 with small noise across it
    const r = rng(5);
    const n = 200;
    const X = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const t = (r() - 0.5) * 10;
      const s = (r() - 0.5) * 0.1;
      X[2 * i] = 0.6 * t - 0.8 * s;
      X[2 * i + 1] = 0.8 * t + 0.6 * s;
    }
    const P = pca(X, n, 2, 1);
    // the 1-D projection recovers t up to sign: correlation with 0.6x + 0.8y is ±1
    let xy = 0;
    let xx = 0;
    let yy = 0;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += (0.6 * X[2 * i] + 0.8 * X[2 * i + 1]) / n;
    for (let i = 0; i < n; i++) {
      const t = 0.6 * X[2 * i] + 0.8 * X[2 * i + 1] - mean;
      xy += t * P[i];
      xx += t * t;
      yy += P[i] * P[i];
    }
    expect(Math.abs(xy / Math.sqrt(xx * yy))).toBeGreaterThan(0.999);
  });

  it('t-SNE keeps clusters of embeddings apart, and is the same in a worker thread', async () => {
    const n = 240;
    const d = 48;
    const { X, label } = clusters(n, d, 4, 0.6);
    const Y = tsne(X, n, d, { iterations: 300 });
    expect(agreement(Y, label, 4)).toBeGreaterThan(0.97);
    // a control: random labels, unrelated to the geometry, do not separate
    const r = rng(11);
    expect(
      agreement(
        Y,
        Int32Array.from(label, () => Math.floor(r() * 4)),
        4,
      ),
    ).toBeLessThan(0.6);
    const W = await projectInWorker(X, n, d, { seed: 1 });
    expect(Array.from(W)).toEqual(Array.from(tsne(X, n, d, { seed: 1 })));
  });
});
