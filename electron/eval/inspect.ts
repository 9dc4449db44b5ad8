// One query of a run in full, for the inspection panel: a caption with its image and the top-k images; an
// image with its captions and the top-k captions; an NLVR2 example with its pair, label and prediction.
import path from 'node:path';
import { ApiError } from '../api/contract';
import type { EvalCandidate, EvalItemDetail } from '../api/schemas';
import type { Db } from '../store/db';
import { datasetRoot } from '../datasets/repository';
import { corrected, readCorrections } from './corrections';
import { getEvalRun, toItem } from './repository';
import { splitCaptions } from './retrieval-eval';

interface ImageRow {
  id: number;
  source_id: string;
  file: string;
  split: string;
}

function itemRow(db: Db, runId: number, kind: string, key: string) {
  const row = db
    .prepare('SELECT *, NULL AS text FROM eval_items WHERE run_id = ? AND kind = ? AND item_key = ?')
    .get(runId, kind, key) as Parameters<typeof toItem>[0] | undefined;
  if (!row) throw new ApiError('not_found', `Run ${runId} has no ${kind} ${key}.`);
  return toItem(row);
}

export function getEvalItemDetail(db: Db, q: { runId: number; kind: string; key: string }): EvalItemDetail {
  const run = getEvalRun(db, q.runId);
  const root = datasetRoot(db, run.datasetId);
  const item = itemRow(db, q.runId, q.kind, q.key);
  const imageBySource = db.prepare(
    'SELECT id, source_id, file, split FROM images WHERE dataset_id = ? AND source_id = ?',
  );
  const imageById = db.prepare('SELECT id, source_id, file, split FROM images WHERE id = ?');
  const captionBySentid = db.prepare('SELECT sentid, raw, image_id FROM captions WHERE dataset_id = ? AND sentid = ?');
  const abs = (file: string) => path.join(root, file);
  const base = { ...item, runId: run.id, nlvr2: null };

  const fix = readCorrections(db, run.datasetId);
  if (item.kind === 'caption') {
    const cap = captionBySentid.get(run.datasetId, Number(item.key)) as
      { sentid: number; raw: string; image_id: number } | undefined;
    if (!cap) throw new ApiError('not_found', `Dataset ${run.datasetId} no longer has caption ${item.key}.`);
    // its image as the user's corrections have it (a caption may have been moved)
    const given = imageById.get(cap.image_id) as ImageRow;
    const moved = corrected(fix, 'caption', item.key, 'image', given.source_id);
    const own = (imageBySource.get(run.datasetId, String(moved)) as ImageRow | undefined) ?? given;
    cap.raw = String(corrected(fix, 'caption', item.key, 'raw', cap.raw));
    const candidates = (item.top ?? []).map(([sourceId, score]): EvalCandidate => {
      const img = imageBySource.get(run.datasetId, String(sourceId)) as ImageRow | undefined;
      const truth = img?.id === own.id;
      return {
        kind: 'image',
        key: String(sourceId),
        text: null,
        path: img ? abs(img.file) : null,
        score,
        rank: null,
        isTruth: truth,
      };
    });
    const truth: EvalCandidate = {
      kind: 'image',
      key: own.source_id,
      text: null,
      path: abs(own.file),
      score: item.score,
      rank: item.rank,
      isTruth: true,
    };
    return { ...base, text: cap.raw, split: own.split, path: abs(own.file), truth: [truth], candidates };
  }

  if (item.kind === 'image') {
    const img = imageBySource.get(run.datasetId, item.key) as ImageRow | undefined;
    if (!img) throw new ApiError('not_found', `Dataset ${run.datasetId} no longer has image ${item.key}.`);
    const itemOf = db.prepare(
      `SELECT rank, score FROM eval_items WHERE run_id = ? AND kind = 'caption' AND item_key = ?`,
    );
    const ownCaptions = splitCaptions(db, run.datasetId, run.split)
      .filter((c) => c.image_id === img.id)
      .map((c) => ({
        ...c,
        ...((itemOf.get(run.id, String(c.sentid)) as { rank: number | null; score: number | null } | undefined) ?? {
          rank: null,
          score: null,
        }),
      }));
    const ownKeys = new Set(ownCaptions.map((c) => String(c.sentid)));
    const truth = ownCaptions.map((c): EvalCandidate => ({
      kind: 'caption',
      key: String(c.sentid),
      text: c.raw,
      path: abs(img.file),
      score: c.score,
      rank: c.rank,
      isTruth: true,
    }));
    const candidates = (item.top ?? []).map(([sentid, score]): EvalCandidate => {
      const cap = captionBySentid.get(run.datasetId, Number(sentid)) as { raw: string; image_id: number } | undefined;
      if (cap) cap.raw = String(corrected(fix, 'caption', String(sentid), 'raw', cap.raw));
      const capImage = cap ? (imageById.get(cap.image_id) as ImageRow) : undefined;
      return {
        kind: 'caption',
        key: String(sentid),
        text: cap?.raw ?? null,
        path: capImage ? abs(capImage.file) : null,
        score,
        rank: null,
        isTruth: ownKeys.has(String(sentid)),
      };
    });
    return { ...base, text: null, split: img.split, path: abs(img.file), truth, candidates };
  }

  const ex = db
    .prepare(
      'SELECT split, sentence, label, left_file, right_file FROM nlvr2_examples WHERE dataset_id = ? AND identifier = ?',
    )
    .get(run.datasetId, item.key) as
    { split: string; sentence: string; label: number | null; left_file: string; right_file: string } | undefined;
  if (!ex) throw new ApiError('not_found', `Dataset ${run.datasetId} no longer has NLVR2 example ${item.key}.`);
  const p = item.score ?? 0;
  return {
    ...base,
    text: String(corrected(fix, 'nlvr2', item.key, 'sentence', ex.sentence)),
    split: ex.split,
    path: null,
    truth: [],
    candidates: [],
    nlvr2: {
      label: corrected<boolean | null>(fix, 'nlvr2', item.key, 'label', ex.label === null ? null : ex.label === 1),
      prediction: p >= 0.5,
      probability: p,
      leftPath: abs(ex.left_file),
      rightPath: abs(ex.right_file),
    },
  };
}
