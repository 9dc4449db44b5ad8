// One query of a run in full, for the inspection panel: a caption with its image and the top-k images; an
// image with its captions and the top-k captions; an NLVR2 example with its pair, label and prediction.
import path from 'node:path';
import { ApiError } from '../api/contract';
import type { EvalCandidate, EvalItemDetail } from '../api/schemas';
import type { Db } from '../store/db';
import { imageCaptionRows, itemLookups, nlvr2Example } from '../datasets/items';
import { datasetRoot } from '../datasets/repository';
import { corrected, readCorrections } from './corrections';
import { captionResults, evalItem } from './items';
import { getEvalRun } from './repository';

export function getEvalItemDetail(db: Db, q: { runId: number; kind: string; key: string }): EvalItemDetail {
  const run = getEvalRun(db, q.runId);
  const root = datasetRoot(db, run.datasetId);
  const item = evalItem(db, q.runId, q.kind, q.key);
  const { imageBySource, imageById, captionBySentid } = itemLookups(db);
  const abs = (file: string) => path.join(root, file);
  const base = { ...item, runId: run.id, nlvr2: null };

  const fix = readCorrections(db, run.datasetId);
  if (item.kind === 'caption') {
    const cap = captionBySentid(run.datasetId, Number(item.key));
    if (!cap) throw new ApiError('not_found', `Dataset ${run.datasetId} no longer has caption ${item.key}.`);
    // its image as the user's corrections have it (a caption may have been moved)
    const given = imageById(cap.image_id)!;
    const moved = corrected(fix, 'caption', item.key, 'image', given.source_id);
    const own = imageBySource(run.datasetId, String(moved)) ?? given;
    cap.raw = String(corrected(fix, 'caption', item.key, 'raw', cap.raw));
    const candidates = (item.top ?? []).map(([sourceId, score]): EvalCandidate => {
      const img = imageBySource(run.datasetId, String(sourceId));
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
    const img = imageBySource(run.datasetId, item.key);
    if (!img) throw new ApiError('not_found', `Dataset ${run.datasetId} no longer has image ${item.key}.`);
    const resultOf = captionResults(db, run.id);
    // its captions as the user's corrections have them (splitCaptions' rule for one image, without reading the
    // dataset's every caption): imported on it or moved to it, not moved away, not removed
    const movedHere = [...fix]
      .filter(([k, f]) => k.startsWith('caption:') && String(f.get('image')) === img.source_id)
      .map(([k]) => Number(k.slice('caption:'.length)));
    const ownCaptions = imageCaptionRows(db, run.datasetId, img.id, movedHere)
      .filter((c) => {
        const key = String(c.sentid);
        if (corrected<unknown>(fix, 'caption', key, 'removed', false) === true) return false;
        const given = c.image_id === img.id ? img.source_id : null;
        return String(corrected(fix, 'caption', key, 'image', given)) === img.source_id;
      })
      .map((c) => ({
        ...c,
        raw: String(corrected(fix, 'caption', String(c.sentid), 'raw', c.raw)),
        image_id: img.id,
        ...(resultOf(c.sentid) ?? { rank: null, score: null }),
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
      const cap = captionBySentid(run.datasetId, Number(sentid));
      if (cap) cap.raw = String(corrected(fix, 'caption', String(sentid), 'raw', cap.raw));
      const capImage = cap ? imageById(cap.image_id) : undefined;
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

  const ex = nlvr2Example(db, run.datasetId, item.key);
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
