// The map of every image and caption of a retrieval run: their cached embeddings, laid out in a worker thread
// (UMAP of a landmark sample first, then every point: model-runtime's wholeMapInWorker), kept in a file under
// the home's cache folder per model (its cache keys) and split, so reopening reads it back. Points travel as
// base64 columns of typed arrays (schemas.ts EmbeddingMapPoints).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../api/contract';
import type { EmbeddingMapItem, EmbeddingMapPoints, Job } from '../api/schemas';
import type { JobContext, JobService } from '../jobs/service';
import type { Db } from '../store/db';
import { datasetRoot } from '../datasets/repository';
import { splitImages, type SplitCaption, type SplitImage } from '../datasets/items';
import { judgedPairs, newestValues } from '../labels/history';
import { wholeMapInWorker } from '../../model-runtime/src/index';
import { embeddingKeys, openCaches, runCacheKeys } from './embed';
import { itemRanks } from './items';
import { mappableRun } from './embedding-map';
import { getEvalRun } from './repository';
import { splitCaptions } from './retrieval-eval';

const METHOD =
  'UMAP (umap-js) of a 3K sample of the dual-encoder embeddings (PCA to 16 dimensions) first, refined as UMAP of an 8K landmark sample that contains it; every other point at the membership-weighted mean of its 8 nearest landmarks';
const MAGIC = 'MOMEMAP1';

interface MapState {
  runId: number;
  jobId: number | null;
  stage: EmbeddingMapPoints['stage'];
  datasetId: number;
  root: string;
  total: number;
  seconds: number | null;
  cached: boolean;
  images: SplitImage[];
  captions: SplitCaption[];
  /** Index into `images` by image id. */
  imageIndex: Map<number, number>;
  /** Point i is images[ref[i]] (kind 0) or captions[ref[i]] (kind 1). */
  ref: Int32Array;
  kind: Uint8Array;
  split: Uint8Array;
  splits: string[];
  rank: Int32Array;
  xy: Float32Array;
}

/** The newest maps in memory (a 740K-point map holds ~20 MB of columns beside its items). */
const states = new Map<number, MapState>();
const KEEP = 3;

function remember(s: MapState) {
  states.delete(s.runId);
  states.set(s.runId, s);
  while (states.size > KEEP) states.delete(states.keys().next().value!);
}

/** Longest stretch a loop over the points holds the event loop before it yields (a 740K-point map has many). */
const SLICE_MS = 25;

/** Calls `body(i)` for i in [0, n), yielding to the event loop every SLICE_MS. */
async function sliced(n: number, body: (i: number) => void): Promise<void> {
  let until = performance.now() + SLICE_MS;
  for (let i = 0; i < n; i++) {
    body(i);
    if ((i & 1023) === 1023 && performance.now() > until) {
      await new Promise<void>((r) => setImmediate(r));
      until = performance.now() + SLICE_MS;
    }
  }
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');

/** The file a run's map is kept in: per model (text and image cache keys), dataset and split. */
export function mapFile(cacheDir: string, keys: { texts: string; images: string }, datasetId: number, split: string) {
  const name = `${safe(keys.images)}.${datasetId}.${split === '*' ? 'all' : safe(split)}.map`;
  return path.join(path.dirname(cacheDir), 'maps', safe(keys.texts), name);
}

function readMapFile(file: string, hash: string, n: number): { xy: Float32Array; seconds: number | null } | null {
  if (!fs.existsSync(file)) return null;
  const buf = fs.readFileSync(file);
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC) return null;
  const hlen = buf.readUInt32LE(8);
  let head: { hash?: string; n?: number; seconds?: number };
  try {
    head = JSON.parse(buf.toString('utf8', 12, 12 + hlen));
  } catch {
    return null; // a damaged file is recomputed, never trusted
  }
  const at = 12 + hlen + ((4 - ((12 + hlen) % 4)) % 4);
  if (head.hash !== hash || head.n !== n || buf.length !== at + n * 8) return null;
  const xy = new Float32Array(n * 2);
  Buffer.from(xy.buffer).set(buf.subarray(at));
  return { xy, seconds: head.seconds ?? null };
}

function writeMapFile(file: string, hash: string, xy: Float32Array, seconds: number) {
  const head = Buffer.from(JSON.stringify({ hash, n: xy.length / 2, seconds, method: METHOD }), 'utf8');
  const pre = Buffer.alloc(12);
  pre.write(MAGIC, 0, 'latin1');
  pre.writeUInt32LE(head.length, 8);
  const pad = Buffer.alloc((4 - ((12 + head.length) % 4)) % 4);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, Buffer.concat([pre, head, pad, Buffer.from(xy.buffer, xy.byteOffset, xy.byteLength)]));
  fs.renameSync(tmp, file); // whole or absent: a crash never leaves half a map
}

/** Starts (or joins) the job that makes a run's whole map. */
export function startEmbeddingMap(db: Db, jobs: JobService, cacheDir: string, runId: number): Job {
  const { run, dim } = mappableRun(db, cacheDir, runId);
  const s = states.get(runId);
  if (s?.jobId !== null && s?.jobId !== undefined) {
    const j = jobs.get(s.jobId);
    if (j.state === 'running' || j.state === 'queued') return j;
  }
  const job = jobs.start(
    'embedding-map',
    `Map every image and caption of run ${run.id} (${run.split === '*' ? 'all splits' : run.split})`,
    { runId },
    (ctx) => computeWholeMap(db, cacheDir, runId, dim, ctx),
  );
  const now = states.get(runId);
  if (now) now.jobId = job.id;
  else pendingJob.set(runId, job.id);
  return job;
}

/** Jobs started before their map's state exists (the runner builds it on its first step). */
const pendingJob = new Map<number, number>();

async function computeWholeMap(db: Db, cacheDir: string, runId: number, dim: number, ctx: JobContext) {
  const run = getEvalRun(db, runId);
  ctx.progress(0.01, 'Reading the run’s items');
  const root = datasetRoot(db, run.datasetId);
  const images = splitImages(db, run.datasetId, run.split);
  const captions = splitCaptions(db, run.datasetId, run.split);
  const { imageKeys, textKeys } = await embeddingKeys(root, images, captions);
  ctx.throwIfCancelled();
  ctx.progress(0.03, 'Reading the cached embeddings');
  const keys = runCacheKeys(run);
  const caches = openCaches(cacheDir, keys, dim);
  const ranks = itemRanks(db, run.id);
  const splits = [...new Set(images.map((im) => im.split))].sort();
  const splitIndex = new Map(splits.map((s, i) => [s, i]));
  const imageIndex = new Map(images.map((im, i) => [im.id, i]));
  const rows: Float32Array[] = [];
  const ref: number[] = [];
  const kind: number[] = [];
  const hash = crypto.createHash('sha1');
  await sliced(images.length, (i) => {
    const v = caches.images.get(imageKeys[i]);
    if (!v) return;
    rows.push(v);
    ref.push(i);
    kind.push(0);
    hash.update(`${imageKeys[i]}\n`);
  });
  await sliced(captions.length, (t) => {
    const v = caches.texts.get(textKeys[t]);
    if (!v) return;
    rows.push(v);
    ref.push(t);
    kind.push(1);
    hash.update(`${textKeys[t]}\n`);
  });
  ctx.throwIfCancelled();
  const n = rows.length;
  if (n < 3)
    throw new ApiError('not_found', `Run ${run.id} has ${n} items with cached embeddings: run the evaluation again.`);
  const state: MapState = {
    runId,
    jobId: states.get(runId)?.jobId ?? pendingJob.get(runId) ?? null,
    stage: 'none',
    datasetId: run.datasetId,
    root,
    total: images.length + captions.length,
    seconds: null,
    cached: false,
    images,
    captions,
    imageIndex,
    ref: Int32Array.from(ref),
    kind: Uint8Array.from(kind),
    split: new Uint8Array(n),
    splits,
    rank: new Int32Array(n),
    xy: new Float32Array(n * 2).fill(NaN),
  };
  await sliced(n, (i) => {
    const r = ref[i];
    const im = kind[i] === 0 ? images[r] : images[imageIndex.get(captions[r].image_id)!];
    state.split[i] = splitIndex.get(im.split)!;
    state.rank[i] = ranks.get(kind[i] === 0 ? `image:${im.source_id}` : `caption:${captions[r].sentid}`) ?? -1;
  });
  ctx.throwIfCancelled();
  pendingJob.delete(runId);
  remember(state);
  const digest = hash.update(`${dim}`).digest('hex');
  const file = mapFile(cacheDir, keys, run.datasetId, run.split);
  const kept = readMapFile(file, digest, n);
  if (kept) {
    Object.assign(state, { xy: kept.xy, stage: 'full', cached: true, seconds: kept.seconds });
    return { points: n, cached: true, seconds: kept.seconds };
  }
  const data = new Float32Array(n * dim);
  await sliced(n, (i) => data.set(rows[i], i * dim));
  rows.length = 0;
  ctx.throwIfCancelled();
  const started = performance.now();
  const weights = { umap: [0.05, 0.25], landmarks: [0.25, 0.65], pca: [0.65, 0.75], place: [0.75, 0.99] } as const;
  const names = {
    umap: 'UMAP of a first sample',
    landmarks: 'UMAP of the landmarks',
    pca: 'Reducing the other points (PCA)',
    place: 'Placing every point',
  };
  const xy = await wholeMapInWorker(data, n, dim, {
    seed: 1,
    transfer: true,
    signal: ctx.signal,
    onProgress: (stage, done, total) => {
      const [a, b] = weights[stage];
      ctx.progress(a + ((b - a) * done) / Math.max(1, total), `${names[stage]}: ${done} of ${total}`);
    },
    onFirst: (indices, first) => {
      indices.forEach((i, r) => {
        state.xy[2 * i] = first[2 * r];
        state.xy[2 * i + 1] = first[2 * r + 1];
      });
      state.stage = 'first';
    },
  });
  const seconds = (performance.now() - started) / 1000;
  Object.assign(state, { xy, stage: 'full', seconds });
  writeMapFile(file, digest, xy, seconds);
  return { points: n, cached: false, seconds };
}

/** Each point's label state: 2 in a judged pair, 1 with an edited field, 0 untouched. */
async function labelStates(db: Db, s: MapState): Promise<Uint8Array> {
  const edited = new Set(
    newestValues(db, s.datasetId)
      .filter((v) => v.kind === 'image' || v.kind === 'caption')
      .map((v) => `${v.kind}:${v.key}`),
  );
  const paired = new Set<string>();
  for (const p of judgedPairs(db, s.datasetId)) paired.add(`caption:${p.sentid}`).add(`image:${p.imgid}`);
  const out = new Uint8Array(s.ref.length);
  if (edited.size === 0 && paired.size === 0) return out;
  await sliced(s.ref.length, (i) => {
    const key = s.kind[i] === 0 ? `image:${s.images[s.ref[i]].source_id}` : `caption:${s.captions[s.ref[i]].sentid}`;
    out[i] = paired.has(key) ? 2 : edited.has(key) ? 1 : 0;
  });
  return out;
}

/**
 * A map's columns as the API sends them (base64 of typed arrays), built in slices that yield to the event loop:
 * at 740K points one pass over the points takes longer than a UI frame.
 */
export async function pointColumns(
  xy: Float32Array,
  cols: { kind: Uint8Array; split: Uint8Array; rank: Int32Array; label: Uint8Array },
) {
  const n = xy.length / 2;
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  await sliced(n, (i) => {
    x[i] = xy[2 * i];
    y[i] = xy[2 * i + 1];
  });
  return {
    x: await b64Sliced(x),
    y: await b64Sliced(y),
    kind: await b64Sliced(cols.kind),
    split: await b64Sliced(cols.split),
    rank: await b64Sliced(cols.rank),
    label: await b64Sliced(cols.label),
  };
}

/** Base64 of a column in pieces of 768 KB (a multiple of 3 bytes, so the pieces join), yielding between them. */
async function b64Sliced(a: ArrayBufferView): Promise<string> {
  const PIECE = 3 * 262_144;
  const bytes = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  if (bytes.length <= PIECE) return bytes.toString('base64');
  const parts: string[] = [];
  for (let at = 0; at < bytes.length; at += PIECE) {
    parts.push(bytes.subarray(at, at + PIECE).toString('base64'));
    await new Promise<void>((r) => setImmediate(r));
  }
  return parts.join('');
}

export async function getEmbeddingMapPoints(db: Db, runId: number): Promise<EmbeddingMapPoints> {
  const s = states.get(runId);
  if (!s) {
    getEvalRun(db, runId); // an unknown run is not_found, a known one has no map yet
    return {
      runId,
      stage: 'none',
      method: METHOD,
      total: 0,
      n: 0,
      jobId: pendingJob.get(runId) ?? null,
      seconds: null,
      cached: false,
      splits: [],
      ...{ x: '', y: '', kind: '', split: '', rank: '', label: '' },
    };
  }
  // read before the slices: the job may finish (and replace the positions) while they run
  const { stage, xy, seconds, cached, jobId } = s;
  const label = await labelStates(db, s);
  const columns = await pointColumns(xy, { kind: s.kind, split: s.split, rank: s.rank, label });
  return {
    runId,
    stage,
    method: METHOD,
    total: s.total,
    n: s.ref.length,
    jobId: stage === 'full' ? null : jobId,
    seconds,
    cached,
    splits: s.splits,
    ...columns,
  };
}

export function getEmbeddingMapItems(runId: number, indices: number[]): EmbeddingMapItem[] {
  const s = states.get(runId);
  if (!s) throw new ApiError('not_found', `Run ${runId} has no map in memory: open its map first.`);
  return indices.map((i) => {
    if (i >= s.ref.length)
      throw new ApiError(
        'invalid_arguments',
        `Point ${i} is outside the map of run ${runId} (${s.ref.length} points).`,
      );
    const rank = s.rank[i] < 0 ? null : s.rank[i];
    const split = s.splits[s.split[i]];
    if (s.kind[i] === 0) {
      const im = s.images[s.ref[i]];
      return {
        index: i,
        kind: 'image',
        key: im.source_id,
        text: im.file,
        split,
        rank,
        path: path.join(s.root, im.file),
      };
    }
    const c = s.captions[s.ref[i]];
    const im = s.images[s.imageIndex.get(c.image_id)!];
    const file = im ? path.join(s.root, im.file) : '';
    return { index: i, kind: 'caption', key: String(c.sentid), text: c.raw, split, rank, path: file };
  });
}
