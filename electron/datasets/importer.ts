// Imports a dataset folder into SQLite: the annotation file is streamed and every record validated, image
// files are checked (missing, empty, or a symlink leaving the root are flagged, never fatal), and all rows
// are written in ONE transaction at the end, so an error or a cancel leaves the database unchanged.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../api/contract';
import { now, type Db } from '../store/db';
import { CAPTIONS_FTS_INSERT_TRIGGER } from '../store/migrations';
import type { JobContext } from '../jobs/service';
import { annotationFilesFor, detectDatasetKind, KARPATHY_FILES, type DatasetKind } from './detect';
import { ImportError } from './errors';
import { readKarpathy } from './karpathy';
import { readNlvr2 } from './nlvr2';
import type { ImageRecord, Nlvr2Record } from './records';
import { isInside } from '../media/roots';
import { takeRemovedId } from './repository';

export interface ImportOptions {
  root: string;
  kind?: DatasetKind;
  /** Re-read a folder that is already imported, replacing its rows (the dataset id stays). */
  refresh?: boolean;
}

export interface SplitCounts {
  images?: number;
  captions?: number;
  examples?: number;
}

export interface ImportSummary {
  datasetId: number;
  kind: DatasetKind;
  name: string;
  root: string;
  splits: Record<string, SplitCounts>;
  images: number;
  captions: number;
  examples: number;
  missingImages: number;
  flaggedImages: Record<string, number>;
  seconds: number;
  refreshed: boolean;
}

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

/**
 * The dataset already imported from this folder (resolved through symlinks), if any. Importing it again is a
 * conflict that names the dataset, so the UI can offer a refresh instead of making a duplicate.
 */
export function checkNotImported(db: Db, folder: string, refresh = false): { id: number; name: string } | undefined {
  let root: string;
  try {
    root = fs.realpathSync(folder);
  } catch {
    return undefined; // the importer itself says the folder does not exist
  }
  const existing = db.prepare('SELECT id, name FROM datasets WHERE root = ?').get(root) as
    { id: number; name: string } | undefined;
  if (existing && !refresh) {
    throw new ApiError(
      'conflict',
      `${root} is already imported as dataset ${existing.id} (${existing.name}). Refresh it instead of importing it again.`,
      { datasetId: existing.id, name: existing.name },
    );
  }
  return existing;
}

export async function importDataset(db: Db, options: ImportOptions, ctx: JobContext): Promise<ImportSummary> {
  const started = Date.now();
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
    throw new ImportError({
      file: root,
      problem:
        'no dataset annotation file found (dataset_coco.json, dataset_flickr30k.json, or NLVR2 train.json / dev.json / test1.json)',
      hint: 'Pick the folder that holds the annotation file, or choose the kind explicitly.',
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

  const existing = checkNotImported(db, root, options.refresh);

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

  // 3. write everything in one transaction (0.85..1)
  ctx.progress(0.85, 'Writing to the database');
  const name = path.basename(root);
  const fp = fingerprint(annotationFiles);
  const summary: ImportSummary = {
    datasetId: 0,
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
    refreshed: Boolean(existing),
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

  const write = db.transaction(() => {
    let id: number;
    const files = JSON.stringify(annotationFiles.map((f) => path.relative(root, f)));
    if (existing) {
      id = existing.id;
      db.prepare('DELETE FROM captions WHERE dataset_id = ?').run(id);
      db.prepare('DELETE FROM images WHERE dataset_id = ?').run(id);
      db.prepare('DELETE FROM nlvr2_examples WHERE dataset_id = ?').run(id);
      db.prepare(
        'UPDATE datasets SET kind = ?, annotation_files = ?, fingerprint = ?, refreshed_at = ? WHERE id = ?',
      ).run(kind, files, fp, now(), id);
    } else {
      id = Number(
        db
          .prepare(
            `INSERT INTO datasets (id, kind, name, root, annotation_files, fingerprint, summary, imported_at) VALUES (?, ?, ?, ?, ?, ?, '{}', ?)`,
          )
          .run(takeRemovedId(db, root) ?? null, kind, name, root, files, fp, now()).lastInsertRowid,
      );
    }
    db.exec('DROP TRIGGER captions_ai');
    const insImage = db.prepare(
      'INSERT INTO images (dataset_id, source_id, split, file, cocoid, flags) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const insCaption = db.prepare(
      'INSERT INTO captions (dataset_id, image_id, sentid, position, raw) VALUES (?, ?, ?, ?, ?)',
    );
    for (const img of images) {
      const imageId = insImage.run(
        id,
        img.sourceId,
        img.split,
        img.file,
        img.cocoid,
        img.flags.join(','),
      ).lastInsertRowid;
      img.captions.forEach((c, pos) => insCaption.run(id, imageId, c.sentid, pos, c.raw));
    }
    db.prepare('INSERT INTO captions_fts(rowid, raw) SELECT id, raw FROM captions WHERE dataset_id = ?').run(id);
    db.exec(CAPTIONS_FTS_INSERT_TRIGGER);
    const insExample = db.prepare(
      'INSERT INTO nlvr2_examples (dataset_id, identifier, split, sentence, label, left_file, right_file, flags, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (const ex of examples) {
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
    summary.datasetId = id;
    summary.seconds = (Date.now() - started) / 1000;
    db.prepare('UPDATE datasets SET summary = ? WHERE id = ?').run(JSON.stringify(summary), id);
  });
  ctx.throwIfCancelled();
  write();
  ctx.progress(
    1,
    `Imported ${kind === 'nlvr2' ? `${summary.examples.toLocaleString('en')} examples` : `${summary.images.toLocaleString('en')} images, ${summary.captions.toLocaleString('en')} captions`}`,
  );
  return summary;
}
