// Imports a dataset folder into SQLite: the annotation file is streamed and every record validated, image
// files are checked (missing, empty, or a symlink leaving the root are flagged, never fatal), then the rows
// are written. A large import runs in a worker thread with its own connection (the main thread keeps
// answering); its rows are written in short committed chunks under a hidden dataset row that one last
// transaction makes visible, so an error, a cancel or a killed process never shows a half-written dataset
// (leftovers are purged: at once on error or cancel, at the next start after a kill). A refresh writes only
// what changed, in one transaction. The folder is claimed first (datasets.busy_pid), so a second import of
// it, from this process or another, is refused with a sentence.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../api/contract';
import type { Db } from '../store/db';
import { CAPTIONS_FTS_INSERT_TRIGGER } from '../store/migrations';
import { JobCancelled, type JobContext } from '../jobs/service';
import { gateFor } from '../store/write-gate';
import { startWorker } from '../../model-runtime/src/runtime-paths'; // not index: it runs in the dataset worker too
import type { DatasetKind } from '../api/schemas';
import { annotationFilesFor, detectDatasetKind, KARPATHY_FILES } from './detect';
import { ImportError } from './errors';
import { readKarpathy } from './karpathy';
import { readNlvr2 } from './nlvr2';
import type { ImageRecord, ImportClaim, ImportSummary, Nlvr2ExampleRow, Nlvr2Record } from './records';
import { isInside } from '../media/roots';
import { claimImport, purgeDataset, recordImport, releaseClaim, settleClaim } from './repository';
import { recordCaptionTerms } from './caption-terms';

export interface ImportOptions {
  root: string;
  kind?: DatasetKind;
  /** Re-read a folder that is already imported, replacing its rows (the dataset id stays). */
  refresh?: boolean;
  /** The claim made when the job was asked for (claimImport); made here otherwise. */
  claim?: ImportClaim;
  /** Where the work runs: a worker thread for annotation files over WORKER_BYTES (auto), or always / never. */
  thread?: 'auto' | 'worker' | 'inline';
}

/** Annotation files larger than this (in all) are imported in a worker thread. */
export const WORKER_BYTES = 4 * 1024 * 1024;

const NO_FLAGS: readonly string[] = Object.freeze([]);

/** Why one image file cannot be shown, if it cannot: missing, empty, or a symlink leaving the root. */
function fileFlags(root: string, full: string): readonly string[] {
  try {
    const st = fs.lstatSync(full, { throwIfNoEntry: false }); // no exception per missing file: they are slow
    if (!st) return ['missing'];
    if (!st.isSymbolicLink()) return st.size === 0 ? ['empty'] : NO_FLAGS;
    const real = fs.realpathSync(full);
    if (!isInside(root, real)) return ['outside-root'];
    return fs.statSync(real).size === 0 ? ['empty'] : NO_FLAGS;
  } catch {
    return ['missing']; // a dangling link, a file where a folder should be, no permission
  }
}

/**
 * Checks every image file. Synchronous stats in chunks (a few microseconds each when the metadata is cached,
 * about 10x faster than one promise per file through the thread pool), yielding between chunks so progress,
 * cancel and other requests go on.
 */
async function checkFiles(
  root: string,
  files: string[],
  ctx: JobContext,
  from: number,
  to: number,
): Promise<(readonly string[])[]> {
  const flags: (readonly string[])[] = new Array(files.length);
  const CHUNK = 2048;
  for (let i = 0; i < files.length; i += CHUNK) {
    ctx.throwIfCancelled();
    const end = Math.min(files.length, i + CHUNK);
    for (let j = i; j < end; j++) flags[j] = fileFlags(root, path.join(root, files[j]));
    if (i % (4 * CHUNK) === 0)
      ctx.progress(
        from + ((to - from) * i) / files.length,
        `Checking image files: ${i.toLocaleString('en')} of ${files.length.toLocaleString('en')}`,
      );
    await new Promise((r) => setImmediate(r));
  }
  return flags;
}

function fingerprint(files: string[]): string {
  const h = crypto.createHash('sha256');
  for (const f of files) {
    const st = fs.statSync(f);
    h.update(`${path.basename(f)}\0${st.size}\0${st.mtimeMs}\0`);
  }
  return h.digest('hex');
}

export async function importDataset(db: Db, options: ImportOptions, ctx: JobContext): Promise<ImportSummary> {
  let claim = options.claim;
  try {
    const summary = await importClaimed(db, options, ctx, (c) => (claim = c));
    if (claim) settleClaim(claim.datasetId);
    return summary;
  } catch (e) {
    const c = claim;
    if (c) await gateFor(db).run(() => releaseClaim(db, c));
    throw e;
  }
}

async function importClaimed(
  db: Db,
  options: ImportOptions,
  ctx: JobContext,
  claimed: (c: ImportClaim) => void,
): Promise<ImportSummary> {
  let root: string;
  try {
    root = fs.realpathSync(options.root);
  } catch {
    throw new ImportError({
      file: options.root,
      problem: 'the folder does not exist',
      hint: 'Pick an existing dataset folder.',
    });
  }
  if (!fs.statSync(root).isDirectory()) {
    throw new ImportError({
      file: options.root,
      problem: 'this is a file, not a folder',
      hint: 'Pick the folder that holds the annotation file.',
    });
  }
  const detection = detectDatasetKind(root);
  const kind = options.kind ?? detection.kind;
  if (!kind) {
    const rejected = (detection.rejected ?? []).map((r) => `${path.relative(root, r.file)}: ${r.reason}`);
    throw new ImportError({
      file: root,
      problem:
        'no dataset annotation file found (dataset_coco.json, dataset_flickr30k.json, or NLVR2 train.json / dev.json / test1.json)' +
        (rejected.length ? `; not read as NLVR2: ${rejected.join('; ')}` : ''),
      hint: rejected.length
        ? 'If this is NLVR2, choose the kind NLVR2 to see every line at fault.'
        : 'Pick the folder that holds the annotation file, or choose the kind explicitly.',
    });
  }
  // a kind chosen explicitly reads its files even when they do not look right, so the error names line and field
  const annotationFiles = options.kind ? annotationFilesFor(root, kind) : detection.annotationFiles;
  if (annotationFiles.length === 0) {
    const expected = kind === 'nlvr2' ? 'train.json, dev.json or test1.json' : KARPATHY_FILES[kind];
    const sub = kind === 'nlvr2' ? 'data/' : 'karpathy/';
    throw new ImportError({
      file: root,
      problem: `no ${expected} in this folder (nor in ${sub})`,
      hint: `A ${kind} folder holds ${expected}, beside its images or in ${sub}.`,
    });
  }

  const claim = options.claim ?? claimImport(db, root, options.refresh);
  if (!claim)
    throw new ImportError({
      file: options.root,
      problem: 'the folder does not exist',
      hint: 'Pick an existing dataset folder.',
    });
  claimed(claim);
  const job: ImportJob = { root, kind, annotationFiles, claim, started: Date.now() };
  const bytes = annotationFiles.reduce((n, f) => n + fs.statSync(f).size, 0);
  const thread = options.thread ?? 'auto';
  if (thread === 'worker' || (thread === 'auto' && bytes > WORKER_BYTES)) return importInWorker(db, job, ctx);
  // on the main thread: each transaction waits for the write lock without blocking the event loop
  const gate = gateFor(db);
  return runImport(db, job, ctx, (fn) => gate.run(fn));
}

export interface ImportJob {
  root: string;
  kind: DatasetKind;
  annotationFiles: string[];
  claim: ImportClaim;
  started: number;
}

/** Runs a claimed import in a worker thread with its own connection; progress and cancel cross over. */
function importInWorker(db: Db, job: ImportJob, ctx: JobContext): Promise<ImportSummary> {
  const cancel = new Int32Array(new SharedArrayBuffer(4));
  const onAbort = () => Atomics.store(cancel, 0, 1);
  ctx.signal.addEventListener('abort', onAbort);
  if (ctx.signal.aborted) onAbort();
  const gate = gateFor(db);
  const worker = startWorker('dataset-worker', {
    workerData: { task: 'import', dbFile: db.name, job, cancel: cancel.buffer, gate: gate.shared },
  });
  gate.workerStarted();
  return new Promise<ImportSummary>((resolve, reject) => {
    let settled = false;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener('abort', onAbort);
      gate.workerEnded();
      f();
    };
    const poll = setInterval(() => {
      // the caller's own cancel check (a context without an abort signal, as in tests)
      try {
        ctx.throwIfCancelled();
      } catch {
        onAbort();
      }
    }, 50);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') ctx.progress(m.fraction, m.message);
      else if (m.type === 'done') finish(() => resolve(m.summary));
      else if (m.type === 'error') finish(() => reject(reviveError(m.error)));
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => {
      clearInterval(poll);
      finish(() => reject(new Error(`The import worker stopped unexpectedly (exit code ${code}).`)));
    });
  });
}

export type WorkerMessage =
  | { type: 'progress'; fraction: number; message?: string }
  | { type: 'done'; summary: ImportSummary }
  | { type: 'error'; error: SerializedError };

export type SerializedError =
  | { name: 'ImportError'; info: ImportError['info'] }
  | { name: 'ApiError'; code: ApiError['code']; message: string; details?: unknown }
  | { name: 'JobCancelled' }
  | { name: string; message: string };

export function serializeError(e: unknown): SerializedError {
  if (e instanceof ImportError) return { name: 'ImportError', info: e.info };
  if (e instanceof ApiError) return { name: 'ApiError', code: e.code, message: e.message, details: e.details };
  if (e instanceof JobCancelled) return { name: 'JobCancelled' };
  return { name: 'Error', message: e instanceof Error ? e.message : String(e) };
}

function reviveError(e: SerializedError): Error {
  if (e.name === 'ImportError' && 'info' in e) return new ImportError(e.info);
  if (e.name === 'ApiError' && 'code' in e) return new ApiError(e.code, e.message, e.details);
  if (e.name === 'JobCancelled') return new JobCancelled();
  return new Error('message' in e ? e.message : e.name);
}

/**
 * Runs one write transaction: in the worker thread, after leaving the lock to the main thread's queued writes
 * (yieldToMainThread); on the main thread, through its WriteGate (never a busy wait).
 */
export type Write = <T>(fn: () => T) => Promise<T>;

/** Reads, checks and writes a claimed import (in whichever thread); a fresh import's rows go on failure. */
export async function runImport(db: Db, job: ImportJob, ctx: JobContext, write: Write): Promise<ImportSummary> {
  try {
    return await readAndWrite(db, job, ctx, write);
  } catch (e) {
    if (job.claim.fresh) await purgeDataset(db, job.claim.datasetId, write);
    throw e;
  }
}

async function readAndWrite(db: Db, job: ImportJob, ctx: JobContext, write: Write): Promise<ImportSummary> {
  const { root, kind, annotationFiles, claim, started } = job;
  // 1. read and validate (0..0.6 of the progress)
  const images: ImageRecord[] = [];
  const examples: Nlvr2Record[] = [];
  const seenIds = new Map<string, string>();
  const seenSentids = new Set<number>();
  for (const [fi, file] of annotationFiles.entries()) {
    const share = 0.6 / annotationFiles.length;
    const progress = (done: number, total: number, records: number) =>
      ctx.progress(
        share * (fi + done / total),
        `Reading ${path.basename(file)}: ${records.toLocaleString('en')} records`,
      );
    if (kind === 'nlvr2') {
      for await (const ex of readNlvr2(root, file, progress)) {
        const prior = seenIds.get(ex.identifier);
        if (prior) {
          throw new ImportError({
            file: path.basename(file),
            record: ex.identifier,
            field: 'identifier',
            problem: `duplicate identifier (also in ${prior})`,
            hint: 'Each identifier must appear once.',
          });
        }
        seenIds.set(ex.identifier, path.basename(file));
        examples.push(ex);
        if (examples.length % 2000 === 0) ctx.throwIfCancelled();
      }
    } else {
      for await (const img of readKarpathy(root, file, kind, progress)) {
        if (seenIds.has(img.sourceId)) {
          throw new ImportError({
            file: path.basename(file),
            record: `imgid ${img.sourceId}`,
            field: 'imgid',
            problem: 'duplicate imgid',
            hint: 'Each image must appear once.',
          });
        }
        seenIds.set(img.sourceId, '');
        for (const c of img.captions) {
          if (seenSentids.has(c.sentid)) {
            throw new ImportError({
              file: path.basename(file),
              record: `imgid ${img.sourceId}`,
              field: 'sentid',
              problem: `duplicate sentid ${c.sentid}`,
              hint: 'Each sentence id must appear once.',
            });
          }
          seenSentids.add(c.sentid);
        }
        images.push(img);
        if (images.length % 2000 === 0) ctx.throwIfCancelled();
      }
    }
  }

  // 2. check image files (0.6..0.85)
  if (kind === 'nlvr2') {
    const files = examples.flatMap((e) => [e.leftFile, e.rightFile]);
    const flags = await checkFiles(root, files, ctx, 0.6, 0.85);
    examples.forEach((e, i) => {
      e.flags = [...new Set([...flags[2 * i].map((f) => `left-${f}`), ...flags[2 * i + 1].map((f) => `right-${f}`)])];
    });
  } else {
    const flags = await checkFiles(
      root,
      images.map((i) => i.file),
      ctx,
      0.6,
      0.85,
    );
    images.forEach((img, i) => (img.flags = flags[i]));
  }
  ctx.throwIfCancelled();

  if (images.length === 0 && examples.length === 0) {
    throw new ImportError({
      file: annotationFiles.map((f) => path.basename(f)).join(', '),
      problem: `no ${kind === 'nlvr2' ? 'examples' : 'images'} in the annotation file, so there is nothing to import`,
      hint: 'Pick a folder whose annotation file lists its data; nothing was imported.',
    });
  }
  if (kind !== 'nlvr2' && images.every((i) => i.captions.length === 0)) {
    throw new ImportError({
      file: annotationFiles.map((f) => path.basename(f)).join(', '),
      problem: `${images.length.toLocaleString('en')} images but not one caption`,
      hint: 'Pick a folder whose annotation file has the sentences of its images; nothing was imported.',
    });
  }

  // 3. write (0.85..1): a fresh import in committed chunks under its hidden row, a refresh as one diff
  ctx.progress(0.85, 'Writing to the database');
  const name = path.basename(root);
  const fp = fingerprint(annotationFiles);
  const id = claim.datasetId;
  const summary: ImportSummary = {
    datasetId: id,
    kind,
    name,
    root,
    splits: {},
    images: images.length,
    captions: images.reduce((n, i) => n + i.captions.length, 0),
    examples: examples.length,
    missingImages: 0,
    flaggedImages: {},
    seconds: 0,
    refreshed: !claim.fresh,
  };
  for (const img of images) {
    const s = (summary.splits[img.split] ??= { images: 0, captions: 0 });
    s.images! += 1;
    s.captions! += img.captions.length;
    for (const f of img.flags) summary.flaggedImages[f] = (summary.flaggedImages[f] ?? 0) + 1;
    if (img.flags.length) summary.missingImages++;
  }
  for (const ex of examples) {
    const s = (summary.splits[ex.split] ??= { examples: 0 });
    s.examples! += 1;
    for (const f of ex.flags) summary.flaggedImages[f] = (summary.flaggedImages[f] ?? 0) + 1;
    if (ex.flags.length) summary.missingImages++;
  }
  ctx.throwIfCancelled();
  const files = JSON.stringify(annotationFiles.map((f) => path.relative(root, f)));
  const finish = () => {
    summary.seconds = (Date.now() - started) / 1000;
    recordImport(db, claim, {
      kind,
      name,
      root,
      annotationFiles: files,
      fingerprint: fp,
      summary: JSON.stringify(summary),
    });
    if (kind !== 'nlvr2') recordCaptionTerms(db); // the caption index's words, for prefix search (if cheap here)
  };
  if (claim.fresh) await writeChunks(db, id, images, examples, ctx, write);
  else await writeDiff(db, id, images, examples, write);
  ctx.throwIfCancelled();
  db.pragma('synchronous = FULL'); // (a worker stages with NORMAL) the dataset appears durably or not at all
  await write(() => db.transaction(finish)());
  ctx.progress(
    1,
    `Imported ${kind === 'nlvr2' ? `${summary.examples.toLocaleString('en')} examples` : `${summary.images.toLocaleString('en')} images, ${summary.captions.toLocaleString('en')} captions`}`,
  );
  return summary;
}

/**
 * How long one chunk holds the write lock: a main-thread write (a label edit) that arrives meanwhile waits for
 * the chunk's end, queued without blocking (WriteGate), then goes first. Chunks are sized to this from the time
 * the previous ones took, so a slow or busy machine writes smaller ones; each chunk also costs a commit and a
 * rebuild of the search trigger, so they should not be much smaller.
 */
const CHUNK_MS = 100;
const CHUNK_ROWS = { first: 4000, min: 500, max: 100_000 };

/** A fresh import's rows, in chunks of committed transactions (the dataset stays hidden until finish). */
async function writeChunks(
  db: Db,
  id: number,
  images: ImageRecord[],
  examples: Nlvr2Record[],
  ctx: JobContext,
  write: Write,
) {
  const insImage = db.prepare(
    'INSERT INTO images (dataset_id, source_id, split, file, cocoid, flags, caption_count) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const insCaption = db.prepare(
    'INSERT INTO captions (dataset_id, image_id, sentid, position, raw) VALUES (?, ?, ?, ?, ?)',
  );
  const insExample = db.prepare(
    'INSERT INTO nlvr2_examples (dataset_id, identifier, split, sentence, label, left_file, right_file, flags, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const imageChunk = db.transaction((from: number, to: number) => {
    // captions are indexed for search in bulk per chunk (about 5x faster than the per-row trigger)
    db.exec('DROP TRIGGER captions_ai');
    let first = 0;
    let last = 0;
    for (let i = from; i < to; i++) {
      const img = images[i];
      const imageId = insImage.run(
        id,
        img.sourceId,
        img.split,
        img.file,
        img.cocoid,
        img.flags.join(','),
        img.captions.length,
      ).lastInsertRowid;
      img.captions.forEach((c, pos) => {
        last = Number(insCaption.run(id, imageId, c.sentid, pos, c.raw).lastInsertRowid);
        first ||= last;
      });
    }
    if (first) {
      db.prepare('INSERT INTO captions_fts(rowid, raw) SELECT id, raw FROM captions WHERE id BETWEEN ? AND ?').run(
        first,
        last,
      );
    }
    db.exec(CAPTIONS_FTS_INSERT_TRIGGER);
  });
  const exampleChunk = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const ex = examples[i];
      insExample.run(
        id,
        ex.identifier,
        ex.split,
        ex.sentence,
        ex.label,
        ex.leftFile,
        ex.rightFile,
        ex.flags.join(','),
        JSON.stringify(ex.extra),
      );
    }
  });
  const total = images.length + examples.length;
  let done = 0;
  let chunkRows = CHUNK_ROWS.first;
  /** Runs one chunk of about chunkRows rows, then sizes the next from the time this one took. */
  const timed = async (rows: number, chunk: () => void) => {
    await write(() => {
      const t0 = performance.now();
      chunk();
      const ms = Math.max(1, performance.now() - t0);
      const next = Math.round((rows * CHUNK_MS) / ms);
      chunkRows = Math.max(CHUNK_ROWS.min, Math.min(CHUNK_ROWS.max, next, chunkRows * 2));
    });
  };
  for (let i = 0; i < images.length;) {
    ctx.throwIfCancelled();
    let rows = 0;
    let end = i;
    while (end < images.length && rows < chunkRows) rows += 1 + images[end++].captions.length;
    const from = i;
    await timed(rows, () => imageChunk(from, end));
    done += end - i;
    i = end;
    ctx.progress(0.85 + (0.14 * done) / total, `Writing to the database: ${done.toLocaleString('en')} images`);
  }
  for (let i = 0; i < examples.length;) {
    ctx.throwIfCancelled();
    const from = i;
    const end = Math.min(examples.length, i + chunkRows);
    await timed(end - from, () => exampleChunk(from, end));
    done += end - from;
    i = end;
    ctx.progress(0.85 + (0.14 * done) / total, `Writing to the database: ${done.toLocaleString('en')} examples`);
  }
}

/**
 * A refresh writes what changed, in one transaction: rows that did not change keep their ids, so refreshing
 * an unchanged or slightly edited file is quick and holds the write lock briefly.
 */
async function writeDiff(db: Db, id: number, images: ImageRecord[], examples: Nlvr2Record[], write: Write) {
  type OldImage = {
    id: number;
    source_id: string;
    split: string;
    file: string;
    cocoid: number | null;
    flags: string;
    caption_count: number;
  };
  type OldCaption = { id: number; sentid: number; image_id: number; position: number; raw: string };
  type OldExample = Omit<Nlvr2ExampleRow, 'dataset_id'>;
  const oldImages = new Map(
    (
      db
        .prepare('SELECT id, source_id, split, file, cocoid, flags, caption_count FROM images WHERE dataset_id = ?')
        .all(id) as OldImage[]
    ).map((r) => [r.source_id, r]),
  );
  const oldCaptions = new Map(
    (
      db
        .prepare('SELECT id, sentid, image_id, position, raw FROM captions WHERE dataset_id = ?')
        .all(id) as OldCaption[]
    ).map((r) => [r.sentid, r]),
  );
  const oldExamples = new Map(
    (
      db
        .prepare(
          'SELECT id, identifier, split, sentence, label, left_file, right_file, flags, extra FROM nlvr2_examples WHERE dataset_id = ?',
        )
        .all(id) as OldExample[]
    ).map((r) => [r.identifier, r]),
  );
  const insImage = db.prepare(
    'INSERT INTO images (dataset_id, source_id, split, file, cocoid, flags, caption_count) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const updImage = db.prepare(
    'UPDATE images SET split = ?, file = ?, cocoid = ?, flags = ?, caption_count = ? WHERE id = ?',
  );
  const delImage = db.prepare('DELETE FROM images WHERE id = ?');
  const insCaption = db.prepare(
    'INSERT INTO captions (dataset_id, image_id, sentid, position, raw) VALUES (?, ?, ?, ?, ?)',
  );
  const updCaption = db.prepare('UPDATE captions SET image_id = ?, position = ?, raw = ? WHERE id = ?');
  const delCaption = db.prepare('DELETE FROM captions WHERE id = ?');
  const insExample = db.prepare(
    'INSERT INTO nlvr2_examples (dataset_id, identifier, split, sentence, label, left_file, right_file, flags, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const updExample = db.prepare(
    'UPDATE nlvr2_examples SET split = ?, sentence = ?, label = ?, left_file = ?, right_file = ?, flags = ?, extra = ? WHERE id = ?',
  );
  const delExample = db.prepare('DELETE FROM nlvr2_examples WHERE id = ?');
  // the diff is worked out before the transaction (the folder is claimed: no one else writes these rows), so
  // the write lock is held only for the changes themselves
  const steps: (() => unknown)[] = [];
  const keptImages = new Set<number>();
  const keptCaptions = new Set<number>();
  for (const img of images) {
    const flags = img.flags.join(',');
    const old = oldImages.get(img.sourceId);
    if (!old) {
      for (const c of img.captions) {
        const oc = oldCaptions.get(c.sentid);
        if (oc) keptCaptions.add(oc.id);
      }
      steps.push(() => {
        const imageId = Number(
          insImage.run(id, img.sourceId, img.split, img.file, img.cocoid, flags, img.captions.length).lastInsertRowid,
        );
        img.captions.forEach((c, pos) => {
          const oc = oldCaptions.get(c.sentid);
          if (!oc) insCaption.run(id, imageId, c.sentid, pos, c.raw);
          else updCaption.run(imageId, pos, c.raw, oc.id);
        });
      });
      continue;
    }
    const imageId = old.id;
    keptImages.add(old.id);
    if (
      old.split !== img.split ||
      old.file !== img.file ||
      old.cocoid !== img.cocoid ||
      old.flags !== flags ||
      old.caption_count !== img.captions.length
    ) {
      steps.push(() => updImage.run(img.split, img.file, img.cocoid, flags, img.captions.length, old.id));
    }
    img.captions.forEach((c, pos) => {
      const oc = oldCaptions.get(c.sentid);
      if (!oc) steps.push(() => insCaption.run(id, imageId, c.sentid, pos, c.raw));
      else {
        keptCaptions.add(oc.id);
        if (oc.image_id !== imageId || oc.position !== pos || oc.raw !== c.raw)
          steps.push(() => updCaption.run(imageId, pos, c.raw, oc.id));
      }
    });
  }
  for (const oc of oldCaptions.values()) if (!keptCaptions.has(oc.id)) steps.push(() => delCaption.run(oc.id));
  for (const oi of oldImages.values()) if (!keptImages.has(oi.id)) steps.push(() => delImage.run(oi.id));
  const keptExamples = new Set<number>();
  for (const ex of examples) {
    const flags = ex.flags.join(',');
    const extra = JSON.stringify(ex.extra);
    const old = oldExamples.get(ex.identifier);
    if (!old) {
      steps.push(() =>
        insExample.run(id, ex.identifier, ex.split, ex.sentence, ex.label, ex.leftFile, ex.rightFile, flags, extra),
      );
      continue;
    }
    keptExamples.add(old.id);
    if (
      old.split !== ex.split ||
      old.sentence !== ex.sentence ||
      old.label !== ex.label ||
      old.left_file !== ex.leftFile ||
      old.right_file !== ex.rightFile ||
      old.flags !== flags ||
      old.extra !== extra
    ) {
      steps.push(() =>
        updExample.run(ex.split, ex.sentence, ex.label, ex.leftFile, ex.rightFile, flags, extra, old.id),
      );
    }
  }
  for (const oe of oldExamples.values()) if (!keptExamples.has(oe.id)) steps.push(() => delExample.run(oe.id));
  await write(() =>
    db.transaction(() => {
      for (const step of steps) step();
    })(),
  );
}
