import { describe, expect, it } from 'vitest';
import { clusters } from './helpers/clusters';
import { sampleIndices, wholeMap } from '../../model-runtime/src/embedding-map/whole-map';
import { wholeMapInWorker } from '../../model-runtime/src/embedding-map/project';

describe('the map of every point (UMAP of landmarks, the rest placed by them)', () => {
  it('lays out the landmarks first, then places every other point beside its own cluster', () => {
    const n = 3000;
    const { X, label } = clusters(n, 48, 5, 0.25);
    let firstAt: Uint32Array | null = null;
    let firstXy: Float32Array | null = null;
    const stages = new Set<string>();
    const Y = wholeMap(X, n, 48, {
      landmarks: 400,
      epochs: 100,
      onFirst: (i, xy) => {
        firstAt = i;
        firstXy = xy;
      },
      onProgress: (s) => stages.add(s),
    });
    expect([...stages]).toEqual(['umap', 'place']); // PCA reports in steps of 16,384 points: none here
    expect(firstAt!.length).toBe(400);
    firstAt!.forEach((i, r) => {
      expect(Y[2 * i]).toBe(firstXy![2 * r]);
      expect(Y[2 * i + 1]).toBe(firstXy![2 * r + 1]);
    });
    expect(Y.every(Number.isFinite)).toBe(true);
    // each placed point's nearest landmark in the map is of its own cluster
    const isLandmark = new Set(firstAt!);
    let ok = 0;
    let placed = 0;
    for (let i = 0; i < n; i++) {
      if (isLandmark.has(i)) continue;
      placed++;
      let best = -1;
      let bd = Infinity;
      for (const j of firstAt!) {
        const dd = (Y[2 * i] - Y[2 * j]) ** 2 + (Y[2 * i + 1] - Y[2 * j + 1]) ** 2;
        if (dd < bd) [bd, best] = [dd, j];
      }
      if (label[best] === label[i]) ok++;
    }
    expect(ok / placed).toBeGreaterThan(0.97);
  });

  it('is seeded: the same seed gives the same map', () => {
    const { X } = clusters(600, 16, 3, 0.3);
    const a = wholeMap(X, 600, 16, { landmarks: 150, epochs: 50, seed: 4 });
    expect(Array.from(wholeMap(X, 600, 16, { landmarks: 150, epochs: 50, seed: 4 }))).toEqual(Array.from(a));
  });

  it('samples distinct indices in increasing order', () => {
    const s = sampleIndices(1000, 100, 2);
    expect(new Set(s).size).toBe(100);
    expect(Array.from(s)).toEqual(Array.from(s).sort((a, b) => a - b));
    expect(sampleIndices(5, 100, 2)).toHaveLength(5);
  });

  it('runs in a worker: the first map arrives before every point, and a cancel stops it', async () => {
    const { X } = clusters(1500, 32, 4, 0.3);
    const events: string[] = [];
    const Y = await wholeMapInWorker(X, 1500, 32, {
      landmarks: 300,
      epochs: 60,
      onFirst: (i) => events.push(`first:${i.length}`),
      onProgress: (s) => events.at(-1) !== s && events.push(s),
    });
    expect(Y).toHaveLength(3000);
    expect(events.indexOf('first:300')).toBeGreaterThan(events.indexOf('umap'));
    expect(events.indexOf('first:300')).toBeLessThan(events.lastIndexOf('place'));
    const ac = new AbortController();
    const p = wholeMapInWorker(X, 1500, 32, { landmarks: 1000, signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    await expect(p).rejects.toThrow('Cancelled');
  });
});
