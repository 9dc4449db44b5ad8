// An evaluation run: embeds a split's images and captions with the dual encoder (reusing cached embeddings),
// scores every caption × image pair to the official protocol, or predicts NLVR2; stores the run and its
// per-query results in SQLite in one transaction, and returns the metrics and the likely label errors.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../api/contract';
import { now, type Db } from '../store/db';
import type { JobContext } from '../jobs/service';
import { EmbeddingCache, fileKey, textKey } from '../../model-runtime/src/cache/embedding-cache';
import { MomeModel } from '../../model-runtime/src/model/model';
import { scoreRetrieval, type RetrievalMetrics } from '../../model-runtime/src/retrieval/score';
import { captionMistakenness, nlvr2Mistakenness, rankMistakes } from './mistakes';

export interface EvalOptions {
  task: 'retrieval' | 'nlvr2';
  modelDir: string;
  datasetId: number;
  split: string;
  k?: number;
  device?: 'auto' | 'cpu' | 'cuda';
  cacheDir: string;
}

export interface Mistake {
  kind: 'caption' | 'nlvr2';
  id: string;
  score: number;
}

export interface EvalResult {
  runId: number;
  task: EvalOptions['task'];
  metrics: RetrievalMetrics | { accuracy: number };
  provider: string;
  providerReason: string;
  seconds: number;
  counts: Record<string, number>;
  cache: { imageHits: number; textHits: number };
  mistakes: Mistake[];
}

/** A model version: the hash of its description and graphs' sizes and times (immutable once registered). */
export function modelVersion(dir: string): string {
  const h = crypto.createHash('sha256');
  for (const f of fs.readdirSync(dir).sort()) {
    const st = fs.statSync(path.join(dir, f));
    if (!st.isFile()) continue;
    h.update(f === 'mome.json' ? fs.readFileSync(path.join(dir, f)) : `${f}:${st.size}:${st.mtimeMs}`);
  }
  return h.digest('hex').slice(0, 16);
}

function datasetRoot(db: Db, id: number): string {
  const row = db.prepare('SELECT root FROM datasets WHERE id = ?').get(id) as { root: string } | undefined;
  if (!row) throw new ApiError('not_found', `There is no dataset ${id}.`);
  return row.root;
}

export async function runEvaluation(db: Db, o: EvalOptions, ctx: JobContext): Promise<EvalResult> {
  const started = Date.now();
  const root = datasetRoot(db, o.datasetId);
  ctx.progress(0.01, 'Loading the model');
  const model = await MomeModel.load(o.modelDir, { device: o.device ?? 'auto' });
  const version = modelVersion(o.modelDir);
  try {
    return o.task === 'retrieval'
      ? await retrieval(db, model, version, root, o, ctx, started)
      : await nlvr2(db, model, version, root, o, ctx, started);
  } finally {
    await model.release();
  }
}

function storeRun(
  db: Db,
  model: MomeModel,
  version: string,
  o: EvalOptions,
  metrics: object,
  seconds: number,
  items: [string, string, number | null, number | null, number, string | null][],
): number {
  return db.transaction(() => {
    const runId = Number(
      db
        .prepare(
          `INSERT INTO eval_runs (task, model_name, model_dir, model_version, dataset_id, split, options, metrics, provider, seconds, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          o.task,
          model.config.name,
          o.modelDir,
          version,
          o.datasetId,
          o.split,
          JSON.stringify({ k: o.k ?? 10, device: o.device ?? 'auto' }),
          JSON.stringify(metrics),
          model.provider.provider,
          seconds,
          now(),
        ).lastInsertRowid,
    );
    const ins = db.prepare(
      'INSERT INTO eval_items (run_id, kind, item_key, rank, score, mistakenness, top) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    for (const it of items) ins.run(runId, ...it);
    return runId;
  })();
}

async function retrieval(
  db: Db,
  model: MomeModel,
  version: string,
  root: string,
  o: EvalOptions,
  ctx: JobContext,
  started: number,
): Promise<EvalResult> {
  const images = db
    .prepare(`SELECT id, source_id, file FROM images WHERE dataset_id = ? AND split = ? ORDER BY id`)
    .all(o.datasetId, o.split) as { id: number; source_id: string; file: string }[];
  if (images.length === 0)
    throw new ApiError('invalid_arguments', `Dataset ${o.datasetId} has no images in split "${o.split}".`);
  const captions = db
    .prepare(
      `SELECT c.sentid, c.raw, c.image_id FROM captions c JOIN images i ON i.id = c.image_id WHERE i.dataset_id = ? AND i.split = ? ORDER BY c.id`,
    )
    .all(o.datasetId, o.split) as { sentid: number; raw: string; image_id: number }[];
  const E = model.config.embedDim;
  const imgCache = EmbeddingCache.open(o.cacheDir, version, `images`, E);
  const txtCache = EmbeddingCache.open(o.cacheDir, version, `texts`, E);

  // images (0.02..0.6)
  const files = images.map((i) => path.join(root, i.file));
  const keys = await Promise.all(files.map((f) => fileKey(f).catch(() => `missing:${f}`)));
  const imageEmb = new Float32Array(images.length * E);
  const todo: number[] = [];
  keys.forEach((k, i) => {
    const hit = imgCache.get(k);
    if (hit) imageEmb.set(hit, i * E);
    else if (!k.startsWith('missing:')) todo.push(i);
  });
  const imageHits = images.length - todo.length;
  const unreadable = new Map<number, string>();
  for (let s = 0; s < todo.length; s += 256) {
    ctx.throwIfCancelled();
    const part = todo.slice(s, s + 256);
    const enc = await model.encodeImages(
      part.map((i) => files[i]),
      { signal: ctx.signal },
    );
    const entries: [string, Float32Array][] = [];
    part.forEach((i, j) => {
      if (enc.errors.has(j)) unreadable.set(i, enc.errors.get(j)!);
      else {
        const v = enc.embeddings.subarray(j * E, (j + 1) * E);
        imageEmb.set(v, i * E);
        entries.push([keys[i], v]);
      }
    });
    imgCache.put(entries);
    ctx.progress(
      0.02 + (0.58 * Math.min(s + 256, todo.length)) / todo.length,
      `Encoding images: ${Math.min(s + 256, todo.length)} of ${todo.length}`,
    );
  }

  // captions (0.6..0.85)
  const tkeys = captions.map((c) => textKey(c.raw));
  const textEmb = new Float32Array(captions.length * E);
  const ttodo: number[] = [];
  tkeys.forEach((k, i) => {
    const hit = txtCache.get(k);
    if (hit) textEmb.set(hit, i * E);
    else ttodo.push(i);
  });
  const textHits = captions.length - ttodo.length;
  for (let s = 0; s < ttodo.length; s += 2048) {
    ctx.throwIfCancelled();
    const part = ttodo.slice(s, s + 2048);
    const emb = await model.encodeTexts(
      part.map((i) => captions[i].raw),
      { signal: ctx.signal },
    );
    const entries: [string, Float32Array][] = part.map((i, j) => {
      const v = emb.subarray(j * E, (j + 1) * E);
      textEmb.set(v, i * E);
      return [tkeys[i], v];
    });
    txtCache.put(entries);
    ctx.progress(
      0.6 + (0.25 * Math.min(s + 2048, ttodo.length)) / ttodo.length,
      `Encoding captions: ${Math.min(s + 2048, ttodo.length)} of ${ttodo.length}`,
    );
  }

  // scoring (0.85..0.95)
  ctx.progress(0.85, 'Scoring every caption against every image');
  const index = new Map(images.map((im, i) => [im.id, i]));
  const textImage = Int32Array.from(captions, (c) => index.get(c.image_id)!);
  const k = o.k ?? 10;
  const scored = await scoreRetrieval({ texts: textEmb, images: imageEmb, dim: E, textImage, k, signal: ctx.signal });
  const own = Float32Array.from(captions, (_, t) => {
    let s = 0;
    const i = textImage[t];
    for (let j = 0; j < E; j++) s += textEmb[t * E + j] * imageEmb[i * E + j];
    return s;
  });
  const mist = captionMistakenness(scored.textTopIndex, scored.textTopScore, scored.k, textImage, own);
  const K = scored.k;
  const items: [string, string, number | null, number | null, number, string | null][] = [];
  captions.forEach((c, t) => {
    const top = Array.from({ length: K }, (_, j) => [
      images[scored.textTopIndex[t * K + j]].source_id,
      +scored.textTopScore[t * K + j].toFixed(5),
    ]);
    items.push(['caption', String(c.sentid), scored.textRank[t], own[t], mist[t], JSON.stringify(top)]);
  });
  images.forEach((im, i) => {
    const top = Array.from({ length: K }, (_, j) => [
      captions[scored.imageTopIndex[i * K + j]]?.sentid ?? null,
      +scored.imageTopScore[i * K + j].toFixed(5),
    ]);
    items.push(['image', im.source_id, scored.imageRank[i], null, unreadable.has(i) ? 1 : 0, JSON.stringify(top)]);
  });
  const seconds = (Date.now() - started) / 1000;
  const runId = storeRun(db, model, version, o, scored.metrics, seconds, items);
  ctx.progress(1, 'Done');
  return {
    runId,
    task: 'retrieval',
    metrics: scored.metrics,
    provider: model.provider.provider,
    providerReason: model.provider.reason,
    seconds,
    counts: { images: images.length, captions: captions.length, unreadableImages: unreadable.size },
    cache: { imageHits, textHits },
    mistakes: rankMistakes(mist)
      .slice(0, 1000)
      .map((t) => ({ kind: 'caption' as const, id: String(captions[t].sentid), score: mist[t] })),
  };
}

async function nlvr2(
  db: Db,
  model: MomeModel,
  version: string,
  root: string,
  o: EvalOptions,
  ctx: JobContext,
  started: number,
): Promise<EvalResult> {
  if (!model.hasNlvr2) throw new ApiError('invalid_arguments', `The model ${model.config.name} has no NLVR2 head.`);
  const examples = db
    .prepare(
      `SELECT identifier, sentence, label, left_file, right_file FROM nlvr2_examples WHERE dataset_id = ? AND split = ? ORDER BY id`,
    )
    .all(o.datasetId, o.split) as {
    identifier: string;
    sentence: string;
    label: number | null;
    left_file: string;
    right_file: string;
  }[];
  if (examples.length === 0)
    throw new ApiError('invalid_arguments', `Dataset ${o.datasetId} has no NLVR2 examples in split "${o.split}".`);
  const probs = new Float32Array(examples.length);
  const BATCH = 64;
  for (let s = 0; s < examples.length; s += BATCH) {
    ctx.throwIfCancelled();
    const part = examples.slice(s, s + BATCH);
    const p = await model.nlvr2(
      part.map((e) => ({
        left: path.join(root, e.left_file),
        right: path.join(root, e.right_file),
        sentence: e.sentence,
      })),
      { signal: ctx.signal },
    );
    probs.set(p, s);
    ctx.progress(
      0.05 + (0.9 * Math.min(s + BATCH, examples.length)) / examples.length,
      `Predicting: ${Math.min(s + BATCH, examples.length)} of ${examples.length}`,
    );
  }
  const labels = examples.map((e) => (e.label === null ? null : e.label === 1));
  let correct = 0;
  let labelled = 0;
  labels.forEach((l, i) => {
    if (l === null) return;
    labelled++;
    if (probs[i] >= 0.5 === l) correct++;
  });
  const metrics = { accuracy: labelled ? (100 * correct) / labelled : 0 };
  const mist = nlvr2Mistakenness(probs, labels);
  const seconds = (Date.now() - started) / 1000;
  const runId = storeRun(
    db,
    model,
    version,
    o,
    metrics,
    seconds,
    // rank of the given label among the two answers: 0 when predicted right, 1 when wrong (null: unlabelled)
    examples.map((e, i) => [
      'nlvr2',
      e.identifier,
      labels[i] === null ? null : Number(probs[i] >= 0.5 !== labels[i]),
      probs[i],
      mist[i],
      null,
    ]),
  );
  return {
    runId,
    task: 'nlvr2',
    metrics,
    provider: model.provider.provider,
    providerReason: model.provider.reason,
    seconds,
    counts: { examples: examples.length, labelled },
    cache: { imageHits: 0, textHits: 0 },
    mistakes: rankMistakes(mist)
      .slice(0, 1000)
      .map((i) => ({ kind: 'nlvr2' as const, id: examples[i].identifier, score: mist[i] })),
  };
}
