import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddingCache, textKey } from '../../model-runtime/src/cache/embedding-cache';

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
});
