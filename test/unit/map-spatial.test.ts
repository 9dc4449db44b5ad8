import { describe, expect, it } from 'vitest';
import { rng } from '../../model-runtime/src/embedding-map/projection';
import { GridIndex, inPolygon, lassoSelect } from '../../renderer/src/features/eval/map/spatial';

function points(n: number, seed = 5): Float32Array {
  const r = rng(seed);
  // clumped, as a map's points are: a third in a tight blob, the rest spread
  return Float32Array.from({ length: 2 * n }, (_, i) => (i % 6 < 2 ? 0.3 + (r() - 0.5) * 0.1 : r() * 2 - 1));
}

describe('finding points on the map', () => {
  it('finds the nearest point within the radius, as a scan of every point does', () => {
    const pos = points(20_000);
    const index = new GridIndex(pos);
    const r = rng(9);
    for (let q = 0; q < 300; q++) {
      const [x, y, rad] = [r() * 2 - 1, r() * 2 - 1, 0.01 + r() * 0.05];
      let best = -1;
      let bd = rad * rad;
      for (let i = 0; i < 20_000; i++) {
        const d = (pos[2 * i] - x) ** 2 + (pos[2 * i + 1] - y) ** 2;
        if (d <= bd) [bd, best] = [d, i];
      }
      const got = index.nearest(x, y, rad);
      if (best < 0) expect(got).toBe(-1);
      else expect((pos[2 * got] - x) ** 2 + (pos[2 * got + 1] - y) ** 2).toBe(bd);
    }
  });

  it('selects exactly the points inside a lasso, in slices', async () => {
    const pos = points(50_000);
    const index = new GridIndex(pos);
    // a concave lasso: a "C" around the blob
    const poly = Float64Array.from([
      0.1, 0.1, 0.6, 0.1, 0.6, 0.2, 0.2, 0.2, 0.2, 0.45, 0.6, 0.45, 0.6, 0.55, 0.1, 0.55,
    ]);
    const expected: number[] = [];
    for (let i = 0; i < 50_000; i++) if (inPolygon(poly, pos[2 * i], pos[2 * i + 1])) expected.push(i);
    expect(expected.length).toBeGreaterThan(500);
    const { indices } = await lassoSelect(index, poly, 1000);
    expect(Array.from(indices)).toEqual(expected);
  });

  it('keeps points on the edges of the grid (positions at exactly ±1)', async () => {
    const pos = Float32Array.from([-1, -1, 1, 1, 1, -1, -1, 1, 0, 0]);
    const index = new GridIndex(pos, 1);
    expect(index.nearest(1, 1, 0.01)).toBe(1);
    const all = await lassoSelect(index, Float64Array.from([-2, -2, 2, -2, 2, 2, -2, 2]));
    expect(Array.from(all.indices)).toEqual([0, 1, 2, 3, 4]);
  });
});
