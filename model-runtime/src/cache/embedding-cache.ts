// Embeddings cached on disk per model version: one append-only file per (model, namespace) holding
// records [u16 key length][key utf-8][dim float32]. Keys say what was embedded (a file with its size and
// mtime, or a text's hash), so an edited caption or a replaced image is embedded again. A torn last record
// (crash while appending) is ignored and overwritten.
// Opened `indexed`, the cache keeps only where each embedding lies in the file (its key and byte offset) and
// reads embeddings from the file when asked, in runs of neighbouring records (`read`, `readEmbeddings`): what a
// split of millions of captions needs, whose embeddings would not all fit in memory.
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

/** Bytes read at once when reading neighbouring records, or scanning the file for its index. */
const READ_SPAN = 4 * 1024 * 1024;

/**
 * Reads the embeddings at the given byte offsets of a cache file (as `EmbeddingCache.offsetOf` gives them) into
 * `out`, row by row in the order given; neighbouring records are read together.
 */
export function readEmbeddings(
  file: string,
  dim: number,
  offsets: ArrayLike<number>,
  out?: Float32Array,
): Float32Array {
  const rec = dim * 4;
  const dest = out ?? new Float32Array(offsets.length * dim);
  const bytes = new Uint8Array(dest.buffer, dest.byteOffset, offsets.length * rec);
  const fd = fs.openSync(file, 'r');
  try {
    let buf = Buffer.alloc(0);
    for (let n = 0; n < offsets.length;) {
      // a run of increasing offsets within one span is read with one call
      const from = offsets[n];
      let end = n + 1;
      while (end < offsets.length && offsets[end] > offsets[end - 1] && offsets[end] + rec - from <= READ_SPAN) end++;
      const len = offsets[end - 1] + rec - from;
      if (buf.length < len) buf = Buffer.alloc(Math.max(len, Math.min(READ_SPAN, 64 * rec)));
      if (fs.readSync(fd, buf, 0, len, from) !== len) throw new Error(`${file} ends before the embedding at ${from}`);
      for (let j = n; j < end; j++) bytes.set(buf.subarray(offsets[j] - from, offsets[j] - from + rec), j * rec);
      n = end;
    }
  } finally {
    fs.closeSync(fd);
  }
  return dest;
}

export class EmbeddingCache {
  private readonly index = new Map<string, Float32Array>();
  /** Indexed mode: each key's byte offset of its embedding in the file. */
  private readonly offsets = new Map<string, number>();
  private validBytes = 0;

  private constructor(
    readonly file: string,
    readonly dim: number,
    readonly indexed: boolean,
  ) {}

  /**
   * Opens (or creates) the cache of one model version and namespace (e.g. "images", "texts"). `indexed` keeps
   * the embeddings on disk (only keys and offsets in memory); `get` then reads the file.
   */
  static open(
    dir: string,
    modelVersion: string,
    namespace: string,
    dim: number,
    opts: { indexed?: boolean } = {},
  ): EmbeddingCache {
    const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');
    const folder = path.join(dir, safe(modelVersion));
    fs.mkdirSync(folder, { recursive: true });
    const cache = new EmbeddingCache(path.join(folder, `${safe(namespace)}.d${dim}.emb`), dim, opts.indexed === true);
    if (cache.indexed) cache.scan();
    else cache.load();
    return cache;
  }

  /** Indexed mode: reads the file in spans, keeping each key's offset. */
  private scan() {
    if (!fs.existsSync(this.file)) return;
    const rec = this.dim * 4;
    const fd = fs.openSync(this.file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const buf = Buffer.alloc(Math.max(READ_SPAN, 2 + 65535 + rec));
      let p = 0; // file offset of the next record
      while (p + 2 <= size) {
        const got = fs.readSync(fd, buf, 0, Math.min(buf.length, size - p), p);
        let q = 0;
        while (q + 2 <= got) {
          const klen = buf.readUInt16LE(q);
          if (q + 2 + klen + rec > got) break;
          this.offsets.set(buf.toString('utf8', q + 2, q + 2 + klen), p + q + 2 + klen);
          q += 2 + klen + rec;
        }
        if (q === 0) break; // a torn tail (the buffer holds any whole record)
        p += q;
      }
      this.validBytes = p;
    } finally {
      fs.closeSync(fd);
    }
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
    return this.indexed ? this.offsets.size : this.index.size;
  }

  has(key: string): boolean {
    return this.indexed ? this.offsets.has(key) : this.index.has(key);
  }

  get(key: string): Float32Array | undefined {
    if (!this.indexed) return this.index.get(key);
    const at = this.offsets.get(key);
    return at === undefined ? undefined : readEmbeddings(this.file, this.dim, [at]);
  }

  /** Indexed mode: the byte offset of a key's embedding in the file (for readEmbeddings), or undefined. */
  offsetOf(key: string): number | undefined {
    return this.offsets.get(key);
  }

  /** Appends new embeddings and makes them durable before returning. */
  put(entries: [string, Float32Array][]): void {
    const fresh = entries.filter(([k]) => !this.has(k));
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
    let at = this.validBytes;
    this.validBytes += data.length;
    for (const [key, vec] of fresh) {
      at += 2 + Buffer.byteLength(key, 'utf8');
      if (this.indexed) this.offsets.set(key, at);
      else this.index.set(key, Float32Array.from(vec));
      at += this.dim * 4;
    }
  }
}
