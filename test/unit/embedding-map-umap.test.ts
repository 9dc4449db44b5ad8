import { describe, expect, it } from 'vitest';
import { clusters } from './helpers/clusters';
import { exactNeighbours, umap } from '../../model-runtime/src/embedding-map/umap';
import { projectInWorker } from '../../model-runtime/src/embedding-map/project';

/** Share of points whose nearest neighbour in the map belongs to their own cluster. */
function neighbourAgreement(Y: Float32Array, label: Int32Array): number {
  let ok = 0;
  for (let i = 0; i < label.length; i++) {
    let best = -1;
    let bd = Infinity;
    for (let j = 0; j < label.length; j++) {
      if (j === i) continue;
      const dd = (Y[2 * i] - Y[2 * j]) ** 2 + (Y[2 * i + 1] - Y[2 * j + 1]) ** 2;
      if (dd < bd) [bd, best] = [dd, j];
    }
    if (label[best] === label[i]) ok++;
  }
  return ok / label.length;
}

describe('embedding map by UMAP (umap-js)', () => {
  it('keeps separated clusters apart in the map', () => {
    const { X, label } = clusters(300, 32, 4, 0.2);
    const Y = umap(X, 300, 32, { seed: 1 });
    expect(Y.length).toBe(600);
    expect(Y.every(Number.isFinite)).toBe(true);
    expect(neighbourAgreement(Y, label)).toBeGreaterThan(0.95);
  });

  it('gives the same map for the same seed, another for another seed', () => {
    const { X } = clusters(120, 16, 3, 0.3);
    const a = umap(X, 120, 16, { seed: 7 });
    expect(Array.from(umap(X, 120, 16, { seed: 7 }))).toEqual(Array.from(a));
    expect(Array.from(umap(X, 120, 16, { seed: 8 }))).not.toEqual(Array.from(a));
  });

  it('reports progress up to the total number of epochs', () => {
    const { X } = clusters(100, 8, 2, 0.3);
    const seen: [number, number][] = [];
    umap(X, 100, 8, { seed: 1, onProgress: (done, total) => seen.push([done, total]) });
    expect(seen.length).toBeGreaterThan(2);
    const [done, total] = seen[seen.length - 1];
    expect(done).toBe(total);
    expect(total).toBeGreaterThan(100);
  });

  it('computes the same map in a worker thread, with progress', async () => {
    const { X } = clusters(150, 16, 3, 0.3);
    let progress = 0;
    const W = await projectInWorker(X, 150, 16, { seed: 2, method: 'umap', onProgress: () => progress++ });
    expect(progress).toBeGreaterThan(0);
    expect(Array.from(W)).toEqual(Array.from(umap(X, 150, 16, { seed: 2 })));
  });

  it('a cancelled projection stops the worker and rejects', async () => {
    const { X } = clusters(400, 32, 4, 0.3);
    const ac = new AbortController();
    const p = projectInWorker(X, 400, 32, { seed: 1, method: 'umap', signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toThrow('Cancelled');
  });
});

describe('exact neighbours for umap-js', () => {
  it('finds each row itself first, then its nearest rows in order, as a full sort does', () => {
    const { X } = clusters(257, 5, 3, 0.5);
    X.set(X.subarray(0, 5), 5); // row 1 duplicates row 0: each still lists itself first
    const k = 7;
    const { indices, distances } = exactNeighbours(X, 257, 5, k);
    for (let i = 0; i < 257; i++) {
      const d = (j: number) =>
        Math.sqrt(X.subarray(i * 5, i * 5 + 5).reduce((s, v, c) => s + (v - X[j * 5 + c]) ** 2, 0));
      const sorted = Array.from({ length: 257 }, (_, j) => j)
        .filter((j) => j !== i)
        .sort((a, b) => d(a) - d(b));
      expect(indices[i][0]).toBe(i);
      expect(distances[i][0]).toBe(0);
      expect(distances[i].slice(1)).toEqual(sorted.slice(0, k - 1).map((j) => expect.closeTo(d(j), 5)));
    }
  });
});
