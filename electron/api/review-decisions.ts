// Review queue decisions: one key per decision, each turned into the label edits `editLabels` writes (one
// transaction committed before it replies, so an acknowledged decision survives a crash). Pure: the Review view,
// the CLI and the tests share it.
import type { LabelTarget, ReviewWeights } from './schemas';

export type LabelEdit = LabelTarget & { field: string; value: unknown };

/** The review queue's default weights: label-error score, uncertainty, near-duplicate spacing. */
export const DEFAULT_REVIEW_WEIGHTS: ReviewWeights = { labelError: 0.7, uncertainty: 0.3, diversity: 1 };

export type ReviewKind = 'caption' | 'image' | 'nlvr2';
export type ReviewDecision = 'keep' | 'fix' | 'hard_negative' | 'also_match' | 'ambiguous' | 'skip';

/** The keyboard: K keep, F fix, H hard negative, M also a match, A ambiguous, S skip (U undoes the last decision). */
export const REVIEW_KEYS: Record<string, ReviewDecision> = {
  k: 'keep',
  f: 'fix',
  h: 'hard_negative',
  m: 'also_match',
  a: 'ambiguous',
  s: 'skip',
};

export interface ReviewItemRef {
  datasetId: number;
  kind: ReviewKind;
  /** sentid, imgid or NLVR2 identifier as in the dataset files */
  id: string;
  /** for a caption or an image: the image or caption the model prefers (the pair a hard negative / match is about) */
  partner?: string;
}

export interface ReviewFix {
  /** caption: new text and/or the image it belongs to */
  raw?: string;
  image?: string;
  /** NLVR2: the new label and/or sentence */
  label?: boolean;
  sentence?: string;
}

/** The label edits a decision makes; skip makes none. Throws on a decision that does not apply to the item. */
export function decisionEdits(item: ReviewItemRef, decision: ReviewDecision, fix?: ReviewFix): LabelEdit[] {
  const base = { datasetId: item.datasetId, kind: item.kind, key: item.id };
  switch (decision) {
    case 'skip':
      return [];
    case 'keep':
      return [{ ...base, field: 'note', value: 'reviewed: kept' }];
    case 'ambiguous':
      return [{ ...base, field: 'flag', value: 'ambiguous' }];
    case 'hard_negative':
    case 'also_match': {
      if (item.kind === 'nlvr2')
        throw new Error('An NLVR2 example has no retrieval pair to judge: use fix or ambiguous.');
      if (!item.partner) throw new Error(`The ${item.kind} ${item.id} has no preferred partner to judge.`);
      const [sentid, imgid] = item.kind === 'caption' ? [item.id, item.partner] : [item.partner, item.id];
      return [
        { datasetId: item.datasetId, kind: 'pair', key: `${sentid}|${imgid}`, field: 'relation', value: decision },
      ];
    }
    case 'fix': {
      const edits: LabelEdit[] = [];
      if (item.kind === 'caption') {
        if (fix?.raw !== undefined) edits.push({ ...base, field: 'raw', value: fix.raw });
        if (fix?.image !== undefined) edits.push({ ...base, field: 'image', value: fix.image });
      } else if (item.kind === 'nlvr2') {
        if (fix?.label !== undefined) edits.push({ ...base, field: 'label', value: fix.label });
        if (fix?.sentence !== undefined) edits.push({ ...base, field: 'sentence', value: fix.sentence });
      } else {
        throw new Error('An image has no label to fix: fix one of its captions, or flag it ambiguous.');
      }
      if (edits.length === 0) throw new Error('A fix needs a change (new text, another image, or the other label).');
      return edits;
    }
  }
}
