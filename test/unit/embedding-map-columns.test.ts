import { describe, expect, it } from 'vitest';
import { pointColumns } from '../../electron/eval/whole-map';

const whole = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

describe('the whole map’s columns as the API sends them', () => {
  it('splits positions into x and y and encodes every column as one base64 of its bytes, though built in pieces', async () => {
    const n = 300_001; // 1.2 MB a position column: more than one 768 KB piece, and not a multiple of 3 bytes
    const xy = Float32Array.from({ length: 2 * n }, (_, i) => (i % 2 ? -i : i) / 7);
    const kind = Uint8Array.from({ length: n }, (_, i) => i % 2);
    const split = Uint8Array.from({ length: n }, (_, i) => i % 3);
    const rank = Int32Array.from({ length: n }, (_, i) => (i % 50) - 1);
    const label = Uint8Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 2 : 0));
    const c = await pointColumns(xy, { kind, split, rank, label });
    expect(c.x).toBe(whole(Float32Array.from({ length: n }, (_, i) => xy[2 * i])));
    expect(c.y).toBe(whole(Float32Array.from({ length: n }, (_, i) => xy[2 * i + 1])));
    expect(c.rank).toBe(whole(rank));
    expect([c.kind, c.split, c.label]).toEqual([whole(kind), whole(split), whole(label)]);
    const back = new Float32Array(Buffer.from(c.y, 'base64').buffer.slice(0));
    expect(back[n - 1]).toBe(xy[2 * n - 1]);
  });
});
