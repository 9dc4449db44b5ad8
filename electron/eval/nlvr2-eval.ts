// NLVR2 evaluation of one split (or all splits): p(True) per example from the NLVR2 head, accuracy over the
// labelled examples, and the examples whose label the model most confidently disagrees with.
import { ApiError } from '../api/contract';
import { realPathInside, realRootOf } from '../media/roots';
import { ImageDecodeError, type MomeModel } from '../../model-runtime/src/index';
import type { Db } from '../store/db';
import type { JobContext } from '../jobs/service';
import { splitNlvr2Examples } from '../datasets/items';
import { corrected, readCorrections } from './corrections';
import { nlvr2Mistakenness, rankMistakes } from './mistakes';
import { type EvalOptions, type EvalResult, type ItemRow, type Mistake } from './types';

export interface Nlvr2Outcome {
  metrics: { accuracy: number };
  items: ItemRow[];
  mistakes: Mistake[];
  counts: Record<string, number>;
  unreadable: EvalResult['unreadable'];
}

export async function evaluateNlvr2(
  db: Db,
  model: MomeModel,
  root: string,
  o: EvalOptions,
  ctx: JobContext,
): Promise<Nlvr2Outcome> {
  if (!model.hasNlvr2) throw new ApiError('invalid_arguments', `The model ${model.config.name} has no NLVR2 head.`);
  const examples = splitNlvr2Examples(db, o.datasetId, o.split);
  // the user's corrections: a flipped label, an edited sentence
  const fix = readCorrections(db, o.datasetId);
  for (const e of examples) {
    const label = corrected<boolean | null>(
      fix,
      'nlvr2',
      e.identifier,
      'label',
      e.label === null ? null : e.label === 1,
    );
    e.label = label === null ? null : Number(label);
    e.sentence = String(corrected(fix, 'nlvr2', e.identifier, 'sentence', e.sentence));
  }
  if (examples.length === 0)
    throw new ApiError('invalid_arguments', `Dataset ${o.datasetId} has no NLVR2 examples in split "${o.split}".`);
  // An example whose image is missing, leads outside the dataset folder (the media route's rule), is corrupt or
  // over the pixel limit is reported and left out of the accuracy; the run goes on.
  const unreadable = new Map<number, string>();
  const realRoot = await realRootOf(root);
  const pairs = await Promise.all(
    examples.map(async (e, i) => {
      try {
        return {
          left: await realPathInside(root, e.left_file, realRoot),
          right: await realPathInside(root, e.right_file, realRoot),
          sentence: e.sentence,
        };
      } catch (err) {
        unreadable.set(i, (err as Error).message);
        return null;
      }
    }),
  );
  const probs = new Float32Array(examples.length).fill(0.5);
  const BATCH = 64;
  for (let s = 0; s < examples.length; s += BATCH) {
    ctx.throwIfCancelled();
    const part = pairs
      .slice(s, s + BATCH)
      .map((p, j) => [s + j, p] as const)
      .filter((x): x is readonly [number, NonNullable<(typeof pairs)[number]>] => x[1] !== null);
    const predict = async (items: typeof part) => {
      const p = await model.nlvr2(
        items.map(([, x]) => x),
        { signal: ctx.signal },
      );
      items.forEach(([i], j) => (probs[i] = p[j]));
    };
    try {
      await predict(part);
    } catch (e) {
      if (!(e instanceof ImageDecodeError)) throw e;
      // an image of this batch cannot be decoded: one example at a time, to tell which
      for (const item of part) {
        try {
          await predict([item]);
        } catch (err) {
          if (!(err instanceof ImageDecodeError)) throw err;
          unreadable.set(item[0], err.message);
        }
      }
    }
    const done = Math.min(s + BATCH, examples.length);
    ctx.progress(0.05 + (0.9 * done) / examples.length, `Predicting: ${done} of ${examples.length}`);
  }
  // unreadable examples count as unlabelled: no verdict, no mistakenness, not in the accuracy
  const labels = examples.map((e, i) => (e.label === null || unreadable.has(i) ? null : e.label === 1));
  const wrong = labels.map((l, i) => (l === null ? null : Number(probs[i] >= 0.5 !== l)));
  const labelled = wrong.filter((w) => w !== null).length;
  const correct = wrong.filter((w) => w === 0).length;
  const mist = nlvr2Mistakenness(probs, labels);
  return {
    metrics: { accuracy: labelled ? (100 * correct) / labelled : 0 },
    // rank of the given label among the two answers: 0 when predicted right, 1 when wrong (null: unlabelled)
    items: examples.map((e, i) => [
      'nlvr2',
      e.identifier,
      wrong[i],
      unreadable.has(i) ? null : probs[i],
      mist[i],
      null,
    ]),
    counts: { examples: examples.length, labelled, unreadableExamples: unreadable.size },
    unreadable: [...unreadable].slice(0, 100).map(([i, reason]) => ({ item: examples[i].identifier, reason })),
    mistakes: rankMistakes(mist)
      .slice(0, 1000)
      .map((i) => ({ kind: 'nlvr2' as const, id: examples[i].identifier, score: mist[i] })),
  };
}
