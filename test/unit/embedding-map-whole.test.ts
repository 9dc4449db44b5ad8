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

describe('the progressive map (a first sample, refined by the landmarks)', () => {
  it('shows a part of the landmarks first, and the full map keeps its layout', () => {
    const n = 2400;
    const C = 6;
    const { X, label } = clusters(n, 32, C, 0.3);
    let first: Uint32Array | null = null;
    let firstXy: Float32Array | null = null;
    const stages: string[] = [];
    const Y = wholeMap(X, n, 32, {
      landmarks: 600,
      firstLandmarks: 200,
      firstEpochs: 100,
      epochs: 60,
      onFirst: (i, xy) => {
        first = i;
        firstXy = xy;
      },
      onProgress: (s) => stages.at(-1) !== s && stages.push(s),
    });
    expect(stages).toEqual(['umap', 'landmarks', 'place']);
    expect(first!.length).toBe(200);
    // the first sample is a part of the landmark sample (its first part: the same seeded shuffle)
    const landmarks = new Set(sampleIndices(n, 600, 1));
    expect([...first!].every((i) => landmarks.has(i))).toBe(true);
    expect(Y.every(Number.isFinite)).toBe(true);
    // the clusters' centres in the full map sit where the first map put them: their pairwise distances agree
    const centres = (pos: (r: number) => [number, number], rows: ArrayLike<number>) => {
      const c = Array.from({ length: C }, () => [0, 0, 0]);
      for (let r = 0; r < rows.length; r++) {
        const [x, y] = pos(r);
        const l = label[rows[r]];
        c[l][0] += x;
        c[l][1] += y;
        c[l][2]++;
      }
      return c.map(([x, y, k]) => [x / k, y / k]);
    };
    const a = centres((r) => [firstXy![2 * r], firstXy![2 * r + 1]], first!);
    const b = centres((r) => [Y[2 * first![r]], Y[2 * first![r] + 1]], first!);
    const pairs = (c: number[][]) =>
      c.flatMap((p, i) => c.slice(i + 1).map((q) => Math.hypot(p[0] - q[0], p[1] - q[1])));
    const [da, db] = [pairs(a), pairs(b)];
    const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    const [ma, mb] = [mean(da), mean(db)];
    let [sab, saa, sbb] = [0, 0, 0];
    da.forEach((x, i) => {
      sab += (x - ma) * (db[i] - mb);
      saa += (x - ma) ** 2;
      sbb += (db[i] - mb) ** 2;
    });
    expect(sab / Math.sqrt(saa * sbb)).toBeGreaterThan(0.8);
    // and every point still lands beside its own cluster
    let ok = 0;
    for (let i = 0; i < n; i++) {
      let best = -1;
      let bd = Infinity;
      for (const j of landmarks) {
        if (j === i) continue;
        const dd = (Y[2 * i] - Y[2 * j]) ** 2 + (Y[2 * i + 1] - Y[2 * j + 1]) ** 2;
        if (dd < bd) [bd, best] = [dd, j];
      }
      if (label[best] === label[i]) ok++;
    }
    expect(ok / n).toBeGreaterThan(0.97);
  });
});
