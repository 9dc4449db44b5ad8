// `npm run bench -- search`: text → image search over 123,287 image embeddings (COCO-Karpathy's full size) with
// the shipped tiny model: p50/p95 latency of a text query (encode the sentence, score every image, top 24), its
// parts, and ITM re-rank of the top 32. The image embeddings are random unit vectors written into the
// evaluation's cache format and read back as search reads them; the images behind them are the COCO sample's
// 500 files, cycled, so the re-rank decodes real images. Then the same text query with a random model of VLMo-Base's
// size (width 768, 12 layers, 40 tokens) exported by the real exporter, over 123,287 embeddings of its width.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddingCache, querySession, rankImages } from '../model-runtime/src/index';
import { openDatabase } from '../electron/store/db';
import { loadSearchModel, makeIndex, searchText } from '../electron/search/engine';
import type { SplitImage } from '../electron/eval/embed';
import { exportRandomModels } from '../test/integration/helpers/models';

const N = 123_287;
const QUERIES = 200;
const RERANK_QUERIES = 10;
const BASE_QUERIES = 50;
const repo = path.resolve(import.meta.dirname, '..');

function randomUnit(n: number, d: number, seed: number): Float32Array {
  let s = seed;
  const out = new Float32Array(n * d);
  for (let i = 0; i < out.length; i++) out[i] = (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5;
  for (let r = 0; r < n; r++) {
    let norm = 0;
    for (let j = 0; j < d; j++) norm += out[r * d + j] ** 2;
    for (let j = 0; j < d; j++) out[r * d + j] /= Math.sqrt(norm);
  }
  return out;
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const ms = (x: number) => +x.toFixed(2);
const summary = (xs: number[]) => ({ p50Ms: ms(pct(xs, 0.5)), p95Ms: ms(pct(xs, 0.95)), maxMs: ms(Math.max(...xs)) });

function sentence(i: number): string {
  const colours = ['red', 'blue', 'green', 'yellow', 'purple', 'orange', 'white', 'black', 'pink', 'brown'];
  const shapes = ['circle', 'square', 'star', 'triangle', 'heart', 'diamond', 'cross', 'hexagon'];
  const grounds = ['grass', 'bricks', 'sand', 'wood', 'sky', 'tiles'];
  const c = (j: number) => colours[(i * 7 + j * 3) % colours.length];
  const s = (j: number) => shapes[(i * 5 + j) % shapes.length];
  return `a ${c(0)} ${s(0)} next to a small ${c(1)} ${s(1)} on ${grounds[i % grounds.length]} number ${i}`;
}

export async function benchSearch(): Promise<Record<string, unknown>> {
  const tiny = path.join(repo, 'assets', 'models', 'mome-tiny');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mome-bench-search-'));
  try {
    const model = await loadSearchModel(tiny, 'cpu', 32);
    const D = model.config.embedDim;
    const fingerprint = 'bench-search';

    // the cache file as the evaluation writes it, then read back as a search opens it
    const vectors = randomUnit(N, D, 7);
    const keys = Array.from({ length: N }, (_, i) => `f:/bench/COCO_${String(i).padStart(12, '0')}.jpg:1000:0`);
    let t = performance.now();
    const writer = EmbeddingCache.open(work, fingerprint, 'images', D);
    for (let s = 0; s < N; s += 10_000)
      writer.put(keys.slice(s, s + 10_000).map((k, j) => [k, vectors.subarray((s + j) * D, (s + j + 1) * D)]));
    const writeS = (performance.now() - t) / 1000;
    t = performance.now();
    const cache = EmbeddingCache.open(work, fingerprint, 'images', D);
    const embeddings = new Float32Array(N * D);
    keys.forEach((k, i) => embeddings.set(cache.get(k)!, i * D));
    const loadS = (performance.now() - t) / 1000;

    const coco = path.join(repo, 'assets', 'datasets', 'coco-sample');
    const files = (
      JSON.parse(fs.readFileSync(path.join(coco, 'dataset_coco.json'), 'utf8')).images as {
        filepath: string;
        filename: string;
      }[]
    ).map((im) => `${im.filepath}/${im.filename}`);
    const images: SplitImage[] = Array.from({ length: N }, (_, i) => ({
      id: i + 1,
      source_id: String(i),
      file: files[i % files.length],
      split: 'test',
    }));
    const index = makeIndex({
      keys: { texts: fingerprint, images: fingerprint },
      datasetId: 1,
      split: 'test',
      root: coco,
      kind: 'coco',
      images,
      dim: D,
      embeddings,
      unreadable: new Set(),
    });
    index.captions = { stamp: 0, byText: new Map() }; // no caption of a dataset is a query here
    const db = openDatabase(path.join(work, 'bench.sqlite'));

    const query = (i: number, rerankK = 0) => searchText(db, model, index, work, { text: sentence(i), k: 24, rerankK });
    for (let i = 0; i < 5; i++) await query(1000 + i); // warm-up: sessions, first allocations

    const total: number[] = [];
    for (let i = 0; i < QUERIES; i++) {
      const t0 = performance.now();
      await query(i);
      total.push(performance.now() - t0);
    }
    // the parts: the sentence through the text encoder, and scoring every image with the top 24
    const encode: number[] = [];
    const rank: number[] = [];
    const session = await querySession();
    for (let i = 0; i < QUERIES; i++) {
      const t0 = performance.now();
      const q = await model.encodeTexts([sentence(i)]);
      const t1 = performance.now();
      await rankImages(q, index.tensor, D, 24, session);
      encode.push(t1 - t0);
      rank.push(performance.now() - t1);
    }
    const rerank: number[] = [];
    for (let i = 0; i < RERANK_QUERIES; i++) {
      const t0 = performance.now();
      await query(i, 32);
      rerank.push(performance.now() - t0);
    }
    await model.release();

    // VLMo-Base size: the text encoder's cost grows with width and depth; the scoring with the embedding width
    t = performance.now();
    const [baseDir] = exportRandomModels([{ out: path.join(work, 'base'), seed: 1 }], {
      embed_dim: 768,
      depth: 12,
      num_heads: 12,
      image_size: 224,
      vl_start: 10,
      max_text_len: 40,
      heads: ['itc', 'itm'],
    });
    const exportS = (performance.now() - t) / 1000;
    const base = await loadSearchModel(baseDir, 'cpu', 32);
    const DB = base.config.embedDim;
    const baseIndex = makeIndex({
      keys: { texts: 'bench-search-base', images: 'bench-search-base' },
      datasetId: 1,
      split: 'test',
      root: coco,
      kind: 'coco',
      images,
      dim: DB,
      embeddings: randomUnit(N, DB, 8),
      unreadable: new Set(),
    });
    baseIndex.captions = { stamp: 0, byText: new Map() };
    const baseQuery = (i: number) => searchText(db, base, baseIndex, work, { text: sentence(i), k: 24, rerankK: 0 });
    for (let i = 0; i < 3; i++) await baseQuery(1000 + i);
    const baseTotal: number[] = [];
    for (let i = 0; i < BASE_QUERIES; i++) {
      const t0 = performance.now();
      await baseQuery(i);
      baseTotal.push(performance.now() - t0);
    }
    await base.release();
    db.close();
    return {
      benchmark: 'search',
      images: N,
      dim: D,
      model: 'mome-tiny',
      provider: model.provider.provider,
      cache: {
        writeSeconds: +writeS.toFixed(2),
        readSeconds: +loadS.toFixed(2),
        fileMB: +(fs.statSync(cache.file).size / 2 ** 20).toFixed(1),
      },
      textQuery: { queries: QUERIES, k: 24, ...summary(total), goalP95Ms: 50 },
      parts: { encodeText: summary(encode), scoreAndTopK: summary(rank) },
      itmRerankTop32: { queries: RERANK_QUERIES, ...summary(rerank), goalMs: 1500 },
      baseSize: {
        model: 'random, VLMo-Base size (width 768, 12 layers), exported by mome.export',
        dim: DB,
        exportSeconds: +exportS.toFixed(1),
        textQuery: { queries: BASE_QUERIES, k: 24, ...summary(baseTotal), goalP95Ms: 250 },
      },
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
