// `npm run bench -- snapshots [--events 200000]`: label snapshots on the full COCO-Karpathy shape (123,287
// images, 616,767 captions) with a long label history written through the app's own edit path (caption edits,
// moves, removals, hard negatives, flags by three authors; a share of them under review, accepted or rejected).
// Measures taking a snapshot (goal <= 1 s) and diffing two (goal <= 2 s: half the history apart, and the whole
// history from the dataset as imported), against a baseline measured in the same run: the existing read of
// every edited field's newest value (newestValues, what an export read before snapshots existed).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBackend } from '../electron/backend/index';
import { importDataset } from '../electron/datasets/importer';
import { newestValues, type LabelEdit } from '../electron/labels/history';
import { setReviewRequired } from '../electron/labels/adjudication';
import { createSnapshot, diffSnapshots } from '../electron/labels/snapshots';
import { writeKarpathyScale } from './karpathy-scale';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Wall-clock seconds, and this process's CPU seconds (user + system): on a shared machine the two differ. */
function timed<T>(fn: () => T): { value: T; seconds: number; cpuSeconds: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const c = process.cpuUsage(c0);
  return { value, seconds: (performance.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6 };
}

export async function benchSnapshots(args: string[]): Promise<Record<string, unknown>> {
  const at = args.indexOf('--events');
  const total = at >= 0 ? Number(args[at + 1]) : 200_000;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mome-bench-snap-coco-'));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mome-bench-snap-home-'));
  const log = (m: string) => process.stderr.write(`snapshots bench: ${m}\n`);
  const shape = writeKarpathyScale(root);
  log(`wrote ${shape.captions} captions`);
  const b = createBackend({ home, mode: 'browser' });
  try {
    const quiet = {
      signal: new AbortController().signal,
      progress: () => undefined,
      throwIfCancelled: () => undefined,
    };
    const importSeconds = await timedAsync(() => importDataset(b.db, { root }, quiet));
    log(`imported in ${importSeconds.toFixed(1)} s`);
    const datasetId = (b.db.prepare('SELECT max(id) AS id FROM datasets').get() as { id: number }).id;

    // The history, in batches of 5,000 edits. Writing 200,000 through LabelHistory.edit takes a quarter of an
    // hour of CPU here (each edit checks its target and its expected value), so all batches but the last are
    // written as the rows that path writes (same columns, old values chained from the original, review flags,
    // decisions and rejections' restoring events); the last batch goes through LabelHistory.edit and .review.
    const db = b.db;
    const insertEvent = db.prepare(
      `INSERT INTO label_events (dataset_id, target_kind, target_key, field, old_value, new_value, author, created_at, view, eval_run_id, reverses, action, batch, review)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'bench', NULL, ?, ?, ?, ?)`,
    );
    const insertDecision = db.prepare(
      `INSERT INTO label_reviews (event_id, dataset_id, decision, author, created_at, note, revert_event_id) VALUES (?, ?, ?, ?, ?, NULL, ?)`,
    );
    const originalCaption = db.prepare(
      `SELECT c.raw, i.source_id FROM captions c JOIN images i ON i.id = c.image_id WHERE c.dataset_id = ? AND c.sentid = ?`,
    );
    const inForce = new Map<string, string>(); // field -> JSON value in force
    const original = (e: LabelEdit): string => {
      if (e.kind === 'caption' && e.field !== 'removed') {
        const row = originalCaption.get(datasetId, Number(e.key)) as { raw: string; source_id: string };
        return JSON.stringify(e.field === 'raw' ? row.raw : row.source_id);
      }
      return e.kind === 'caption' ? 'false' : 'null';
    };
    const writeRows = (edits: LabelEdit[], author: string, reviewer: string | null) =>
      db.transaction(() => {
        const at = new Date().toISOString();
        let batch: number | null = null;
        edits.forEach((e, i) => {
          const k = `${e.kind}|${e.key}|${e.field}`;
          const old = inForce.get(k) ?? original(e);
          const value = JSON.stringify(e.value);
          const review = reviewer !== null && value !== old ? 'required' : null;
          const id = Number(
            insertEvent.run(datasetId, e.kind, e.key, e.field, old, value, author, at, null, 'edit', batch, review)
              .lastInsertRowid,
          );
          batch ??= id;
          if (!review) return inForce.set(k, value);
          if (i % 3 === 2) return; // left pending
          if (i % 10 === 0) {
            const revert = Number(
              insertEvent.run(datasetId, e.kind, e.key, e.field, value, old, reviewer, at, id, 'revert', null, null)
                .lastInsertRowid,
            );
            insertDecision.run(id, datasetId, 'reject', reviewer, at, revert);
          } else {
            insertDecision.run(id, datasetId, 'accept', reviewer, at, null);
            inForce.set(k, value);
          }
          reviewed++;
        });
      })();
    let rng = 7;
    const rand = (n: number) => (rng = (rng * 1103515245 + 12345) & 0x7fffffff) % n;
    const authors = ['ada', 'bob', 'cy'];
    const t0 = performance.now();
    let written = 0;
    let reviewed = 0;
    let batchNo = 0;
    let mid: ReturnType<typeof createSnapshot> | null = null;
    while (written < total) {
      // a quarter of the history written with corrections needing review (the last batch too)
      const review = batchNo % 4 === 3 || written + 5000 >= total;
      setReviewRequired(b.db, review);
      const author = authors[batchNo % authors.length];
      const edits = new Map<string, LabelEdit>();
      while (edits.size < Math.min(5000, total - written)) {
        const sentid = rand(shape.captions);
        const r = rand(100);
        const e: LabelEdit =
          r < 55
            ? { datasetId, kind: 'caption', key: String(sentid), field: 'raw', value: `edited ${batchNo} ${sentid}` }
            : r < 65
              ? { datasetId, kind: 'caption', key: String(sentid), field: 'image', value: String(rand(shape.images)) }
              : r < 70
                ? { datasetId, kind: 'caption', key: String(sentid), field: 'removed', value: true }
                : r < 90
                  ? {
                      datasetId,
                      kind: 'pair',
                      key: `${sentid}|${rand(shape.images)}`,
                      field: 'relation',
                      value: r < 80 ? 'hard_negative' : 'also_match',
                    }
                  : { datasetId, kind: 'image', key: String(rand(shape.images)), field: 'flag', value: 'bad' };
        edits.set(`${e.kind}|${e.key}|${e.field}`, e);
      }
      const reviewer = review ? authors[(batchNo + 1) % authors.length] : null;
      if (written + edits.size < total) {
        writeRows([...edits.values()], author, reviewer);
        written += edits.size;
        batchNo++;
        if (batchNo % 5 === 0) log(`${written} label events written`);
        if (!mid && written >= total / 2) mid = createSnapshot(b.db, { datasetId, name: 'mid', author: 'bench' });
        continue;
      }
      const events = b.labels.edit([...edits.values()], { author, view: 'bench' });
      written += events.length;
      if (review) {
        // another author decides two thirds of them: most accepted, some rejected; the rest stay pending
        for (const [i, e] of events.entries()) {
          if (e.review !== 'required' || i % 3 === 2) continue;
          b.labels.review(e.id, i % 10 === 0 ? 'reject' : 'accept', { author: reviewer! });
          reviewed++;
        }
      }
      batchNo++;
      if (batchNo % 5 === 0) log(`${written} label events written`);
      if (!mid && written >= total / 2) mid = createSnapshot(b.db, { datasetId, name: 'mid', author: 'bench' });
    }
    const historySeconds = (performance.now() - t0) / 1000;
    const events = (b.db.prepare('SELECT count(*) AS n FROM label_events').get() as { n: number }).n;

    const snaps = Array.from({ length: 5 }, (_, i) =>
      timed(() => createSnapshot(b.db, { datasetId, name: `end ${i}`, author: 'bench' })),
    );
    const end = snaps.at(-1)!.value;
    const diffHalf = Array.from({ length: 3 }, () => timed(() => diffSnapshots(b.db, datasetId, mid!.id, end.id)));
    const diffAll = Array.from({ length: 3 }, () => timed(() => diffSnapshots(b.db, datasetId, null, end.id)));
    const baseline = Array.from({ length: 3 }, () => timed(() => newestValues(b.db, datasetId).length));
    const snapshotSeconds = median(snaps.map((s) => s.seconds));
    const diffHalfSeconds = median(diffHalf.map((d) => d.seconds));
    const diffAllSeconds = median(diffAll.map((d) => d.seconds));
    const baselineSeconds = median(baseline.map((d) => d.seconds));
    const snapshotRows = b.db.prepare('SELECT count(*) AS n FROM label_snapshots').get() as { n: number };
    return {
      benchmark: 'snapshots',
      ...shape,
      importSeconds,
      history: { events, reviewDecisions: reviewed, editedFields: baseline[0].value, seconds: historySeconds },
      snapshot: {
        seconds: snapshotSeconds,
        cpuSeconds: median(snaps.map((s) => s.cpuSeconds)),
        corrections: end.corrections,
        pendingLeftOut: end.pendingLeftOut,
        rowsWritten: 1,
        snapshotsStored: snapshotRows.n,
      },
      diff: {
        halfHistoryApart: {
          seconds: diffHalfSeconds,
          cpuSeconds: median(diffHalf.map((d) => d.cpuSeconds)),
          changes: diffHalf[0].value.total,
        },
        fromImport: {
          seconds: diffAllSeconds,
          cpuSeconds: median(diffAll.map((d) => d.cpuSeconds)),
          changes: diffAll[0].value.total,
        },
      },
      baselineNewestValues: {
        seconds: baselineSeconds,
        cpuSeconds: median(baseline.map((d) => d.cpuSeconds)),
        fields: baseline[0].value,
      },
      loadAverage: os.loadavg(),
      ratios: {
        snapshotVsNewestValues: snapshotSeconds / baselineSeconds,
        diffFromImportVsNewestValues: diffAllSeconds / baselineSeconds,
      },
      goals: { snapshotSeconds: 1, diffSeconds: 2 },
      met: { snapshot: snapshotSeconds <= 1, diff: Math.max(diffHalfSeconds, diffAllSeconds) <= 2 },
    };
  } finally {
    await b.close();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  }
}

async function timedAsync(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}
