import { describe, expect, it } from 'vitest';
import type { EmbeddingMapPoints } from '../../electron/api/schemas';
import { toMapData } from '../../renderer/src/features/eval/map/useWholeMap';

const b64 = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

describe('the whole map as the view keeps it', () => {
  it('decodes the base64 columns (in pieces), keeps only placed points and scales them into [-1, 1]', async () => {
    const n = 300_001; // x and y are 1.6 MB of base64 each: decoded in two pieces
    const x = Float32Array.from({ length: n }, (_, i) => 10 + i * 0.5);
    const y = Float32Array.from({ length: n }, (_, i) => -i);
    x[5] = NaN; // not placed yet (a first map)
    const kind = Uint8Array.from({ length: n }, (_, i) => i % 2);
    const split = Uint8Array.from({ length: n }, (_, i) => i % 3);
    const rank = Int32Array.from({ length: n }, (_, i) => i - 3);
    const p: EmbeddingMapPoints = {
      runId: 1,
      stage: 'first',
      method: '',
      total: n,
      n,
      jobId: 3,
      seconds: null,
      cached: false,
      splits: ['a', 'b', 'c'],
      ...{ x: b64(x), y: b64(y), kind: b64(kind), split: b64(split), rank: b64(rank), label: b64(kind) },
    };
    const d = await toMapData(p);
    expect(d.ids).toHaveLength(n - 1);
    expect(Array.from(d.ids.subarray(4, 7))).toEqual([4, 6, 7]);
    for (const j of [0, 5, 200_000, n - 2]) {
      const i = d.ids[j];
      expect([d.kind[j], d.split[j], d.rank[j], d.label[j]]).toEqual([kind[i], split[i], rank[i], kind[i]]);
    }
    let [lo, hi] = [Infinity, -Infinity];
    for (const v of d.pos) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    expect(lo).toBeCloseTo(-0.96, 5); // the longer side spans [-0.96, 0.96]
    expect(hi).toBeCloseTo(0.96, 5);
    // positions keep their order: the last point is the largest x and the lowest y
    expect(d.pos[2 * (n - 2)]).toBeCloseTo(
      d.pos.reduce((a, v, k) => (k % 2 === 0 ? Math.max(a, v) : a), -1),
      5,
    );
  });
});
