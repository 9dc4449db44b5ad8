// Embeddings cached on disk per model version: one append-only file per (model, namespace) holding
// records [u16 key length][key utf-8][dim float32]. Keys say what was embedded (a file with its size and
// mtime, or a text's hash), so an edited caption or a replaced image is embedded again. A torn last record
// (crash while appending) is ignored and overwritten.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export function textKey(text: string): string {
  return `t:${crypto.createHash('sha1').update(text).digest('hex')}`;
}

export async function fileKey(file: string): Promise<string> {
  const st = await fs.promises.stat(file);
  return `f:${file}:${st.size}:${Math.round(st.mtimeMs)}`;
}

export class EmbeddingCache {
  private readonly index = new Map<string, Float32Array>();
  private validBytes = 0;

  private constructor(
    readonly file: string,
    readonly dim: number,
  ) {}

  /** Opens (or creates) the cache of one model version and namespace (e.g. "images", "texts"). */
  static open(dir: string, modelVersion: string, namespace: string, dim: number): EmbeddingCache {
    const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');
    const folder = path.join(dir, safe(modelVersion));
    fs.mkdirSync(folder, { recursive: true });
    const cache = new EmbeddingCache(path.join(folder, `${safe(namespace)}.d${dim}.emb`), dim);
    cache.load();
    return cache;
  }

  private load() {
    if (!fs.existsSync(this.file)) return;
    const buf = fs.readFileSync(this.file);
    let p = 0;
    const rec = this.dim * 4;
    while (p + 2 <= buf.length) {
      const klen = buf.readUInt16LE(p);
      if (p + 2 + klen + rec > buf.length) break; // torn tail
      const key = buf.toString('utf8', p + 2, p + 2 + klen);
      const vec = new Float32Array(this.dim);
      Buffer.from(vec.buffer).set(buf.subarray(p + 2 + klen, p + 2 + klen + rec));
      this.index.set(key, vec);
      p += 2 + klen + rec;
    }
    this.validBytes = p;
  }

  get size(): number {
    return this.index.size;
  }

  get(key: string): Float32Array | undefined {
    return this.index.get(key);
  }

  /** Appends new embeddings and makes them durable before returning. */
  put(entries: [string, Float32Array][]): void {
    const fresh = entries.filter(([k]) => !this.index.has(k));
    if (fresh.length === 0) return;
    const parts: Buffer[] = [];
    for (const [key, vec] of fresh) {
      if (vec.length !== this.dim)
        throw new Error(`embedding for ${key} has ${vec.length} values, the cache holds ${this.dim}`);
      const k = Buffer.from(key, 'utf8');
      const head = Buffer.alloc(2);
      head.writeUInt16LE(k.length);
      parts.push(head, k, Buffer.from(vec.buffer, vec.byteOffset, vec.byteLength));
    }
    const data = Buffer.concat(parts);
    const fd = fs.openSync(this.file, fs.existsSync(this.file) ? 'r+' : 'w');
    try {
      fs.writeSync(fd, data, 0, data.length, this.validBytes);
      fs.ftruncateSync(fd, this.validBytes + data.length);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    this.validBytes += data.length;
    for (const [key, vec] of fresh) this.index.set(key, Float32Array.from(vec));
  }
}
