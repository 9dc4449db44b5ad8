// `mome review-queue --model DIR --dataset DIR [--split S|all] [--task retrieval|nlvr2] [--diversity W] [--json OUT]
//  [--home DIR]`
// Evaluates the model on the dataset folder as the app does and prints the review queue built from it with the
// app's scoring (label-error score and model uncertainty, default weights) and its diversity step (near-duplicates,
// by the run's cached embeddings, kept apart; --diversity 0 turns it off): {"items": [{kind, id, score, signals}]}.
import fs from 'node:fs';
import path from 'node:path';
import { createBackend } from '../backend/index';
import { datasetInfo } from '../datasets/repository';
import { consoleContext } from '../jobs/console-context';
import { ALL_SPLITS, runEvaluation } from '../eval/run-eval';
import {
  DEFAULT_REVIEW_WEIGHTS,
  combineScores,
  marginUncertainty,
  orderQueue,
  probabilityUncertainty,
} from '../eval/review-score';
import { getEvalItems } from '../eval/repository';
import { reviewEmbeddings } from '../eval/review-embeddings';
import { defaultHome } from '../store/home';
import { datasetAt } from './dataset-at';
import { optionPairs } from './options';

const USAGE =
  'usage: mome review-queue --model DIR --dataset DIR [--split S|all] [--task retrieval|nlvr2] [--diversity W] [--json OUT] [--home DIR]\n  --diversity W: 0 (off) to 1 (default): how far apart near-duplicates (cosine >= 0.95) are kept';

export async function reviewQueueCommand(argv: string[]): Promise<number> {
  const opts = optionPairs(argv, USAGE);
  if (!opts) return 2;
  if (!opts.model || !opts.dataset) {
    console.error(USAGE);
    return 2;
  }
  const diversity = Number(opts.diversity ?? DEFAULT_REVIEW_WEIGHTS.diversity);
  if (!(diversity >= 0 && diversity <= 1)) {
    console.error(`mome review-queue: --diversity takes a number from 0 to 1, not "${opts.diversity}"\n${USAGE}`);
    return 2;
  }
  const backend = createBackend({ home: opts.home ?? defaultHome(), mode: 'browser' });
  const ctx = consoleContext('review-queue');
  try {
    const dataset = await datasetAt(backend.db, opts.dataset);
    const task = (opts.task ?? (datasetInfo(backend.db, dataset.id).kind === 'nlvr2' ? 'nlvr2' : 'retrieval')) as
      'retrieval' | 'nlvr2';
    if (task !== 'retrieval' && task !== 'nlvr2') throw new Error(`--task must be retrieval or nlvr2, got "${task}"`);
    const cacheDir = path.join(backend.home.cache, 'embeddings');
    const asked = opts.split ?? (task === 'nlvr2' ? 'dev' : 'test');
    const result = await runEvaluation(
      backend.db,
      {
        task,
        modelDir: path.resolve(opts.model),
        datasetId: dataset.id,
        split: asked === 'all' ? ALL_SPLITS : asked,
        k: 10,
        rerankK: 0,
        device: 'auto',
        cacheDir,
      },
      ctx,
    );
    ctx.dispose();
    // every item the run scored (the result's list of likely errors stops at its first thousand)
    const kind: 'caption' | 'nlvr2' = task === 'nlvr2' ? 'nlvr2' : 'caption';
    const m = getEvalItems(backend.db, {
      runId: result.runId,
      kind,
      order: 'mistakenness',
      offset: 0,
      limit: Number.MAX_SAFE_INTEGER,
    })
      .items.map((x) => ({ kind, id: x.key, score: x.mistakenness }))
      // in item-key order, as the app's queue lists them before ordering: equal scores keep the same order
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const labelError = Float32Array.from(m, (x) => x.score);
    // retrieval: the mistakenness is a margin (near 0 = undecided); NLVR2: the probability of the other label
    const uncertainty = task === 'nlvr2' ? probabilityUncertainty(labelError) : marginUncertainty(labelError);
    const weights = { ...DEFAULT_REVIEW_WEIGHTS, diversity };
    const scores = combineScores(labelError, uncertainty, weights);
    // near-duplicates by the embeddings the evaluation cached (none for NLVR2: score order)
    const emb = diversity > 0 ? await reviewEmbeddings(backend.db, result.runId, cacheDir, m) : undefined;
    const order = orderQueue(scores, { embeddings: emb?.embeddings, dim: emb?.dim, diversity });
    const items = order.map((i) => ({
      kind: m[i].kind,
      id: m[i].kind === 'caption' ? Number(m[i].id) : m[i].id,
      score: scores[i],
      signals: { labelError: labelError[i], uncertainty: uncertainty[i] },
    }));
    const out = {
      weights,
      runId: result.runId,
      // how many items the near-duplicate spacing could compare (with a cached embedding)
      embedded: emb?.found ?? 0,
      items,
    };
    if (opts.json) fs.writeFileSync(opts.json, JSON.stringify(out, null, 2));
    console.log(JSON.stringify({ ...out, items: opts.json ? `${items.length} (in ${opts.json})` : items }, null, 2));
    return 0;
  } catch (e) {
    ctx.dispose();
    console.error(`mome review-queue: ${(e as Error).message}`);
    return 1;
  } finally {
    await backend.close();
  }
}
