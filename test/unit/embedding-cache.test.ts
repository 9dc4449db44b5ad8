import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddingCache, readEmbeddings, textKey } from '../../model-runtime/src/cache/embedding-cache';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mome-cache-'));

describe('embedding cache', () => {
  it('persists embeddings per model version and reloads them', () => {
    const dir = tmp();
    const c = EmbeddingCache.open(dir, 'model-v1', 'texts', 4);
    c.put([
      [textKey('a dog'), Float32Array.from([1, 2, 3, 4])],
      [textKey('a cat'), Float32Array.from([5, 6, 7, 8])],
    ]);
    const again = EmbeddingCache.open(dir, 'model-v1', 'texts', 4);
    expect(again.size).toBe(2);
    expect(Array.from(again.get(textKey('a cat'))!)).toEqual([5, 6, 7, 8]);
    expect(EmbeddingCache.open(dir, 'model-v2', 'texts', 4).size).toBe(0); // another version: nothing shared
  });

  it('ignores a torn last record and keeps appending after it', () => {
    const dir = tmp();
    const c = EmbeddingCache.open(dir, 'm', 'images', 3);
    c.put([['k1', Float32Array.from([1, 1, 1])]]);
    fs.appendFileSync(c.file, Buffer.from([9, 0, 1, 2, 3])); // half a record, as after a crash
    const again = EmbeddingCache.open(dir, 'm', 'images', 3);
    expect(again.size).toBe(1);
    again.put([['k2', Float32Array.from([2, 2, 2])]]);
    const third = EmbeddingCache.open(dir, 'm', 'images', 3);
    expect(third.size).toBe(2);
    expect(Array.from(third.get('k2')!)).toEqual([2, 2, 2]);
  });

  it('refuses an embedding of the wrong size', () => {
    const c = EmbeddingCache.open(tmp(), 'm', 'x', 3);
    expect(() => c.put([['k', Float32Array.from([1, 2])]])).toThrow(/has 2 values, the cache holds 3/);
  });

  it('indexed: keeps offsets only, reads embeddings from the file in the order asked, as the in-memory cache has them', () => {
    const dir = tmp();
    const D = 5;
    const mem = EmbeddingCache.open(dir, 'm', 'texts', D);
    const keys = Array.from({ length: 3000 }, (_, n) =>
      n % 7 === 0 ? `a much longer key ${n} ${'x'.repeat(n % 50)}` : textKey(`c${n}`),
    );
    for (let s = 0; s < keys.length; s += 700)
      mem.put(keys.slice(s, s + 700).map((k, j) => [k, Float32Array.from({ length: D }, (_, d) => (s + j) * 10 + d)]));
    fs.appendFileSync(mem.file, Buffer.from([9, 0, 1, 2])); // a torn tail
    const ix = EmbeddingCache.open(dir, 'm', 'texts', D, { indexed: true });
    const again = EmbeddingCache.open(dir, 'm', 'texts', D);
    expect(ix.size).toBe(3000);
    expect(Array.from(ix.get(keys[1234])!)).toEqual(Array.from(again.get(keys[1234])!));
    expect(ix.get('absent')).toBeUndefined();
    // an order with runs of neighbours, jumps back and a repeat
    const order = [
      ...Array.from({ length: 900 }, (_, n) => n + 100),
      5,
      2999,
      5,
      ...Array.from({ length: 40 }, (_, n) => 2000 - n),
    ];
    const got = readEmbeddings(
      ix.file,
      D,
      order.map((n) => ix.offsetOf(keys[n])!),
    );
    order.forEach((n, r) =>
      expect(Array.from(got.subarray(r * D, (r + 1) * D))).toEqual(Array.from(again.get(keys[n])!)),
    );
    // appending in indexed mode, over the torn tail, then reading back both ways
    ix.put([
      ['new', Float32Array.from([1, 2, 3, 4, 5])],
      [keys[0], Float32Array.from([9, 9, 9, 9, 9])],
    ]);
    expect(Array.from(ix.get('new')!)).toEqual([1, 2, 3, 4, 5]);
    expect(Array.from(ix.get(keys[0])!)).toEqual([0, 1, 2, 3, 4]); // a cached key is not written again
    expect(Array.from(EmbeddingCache.open(dir, 'm', 'texts', D).get('new')!)).toEqual([1, 2, 3, 4, 5]);
    expect(EmbeddingCache.open(dir, 'm', 'texts', D, { indexed: true }).size).toBe(3001);
  });
});
