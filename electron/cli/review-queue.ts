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
import { DEFAULT_REVIEW_WEIGHTS } from '../eval/review-score';
import { getEvalRun } from '../eval/repository';
import { cachedEmbeddings, orderRunQueue } from '../eval/review-queue';
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
    // the app's queue code: every item the run scored, scored and ordered as the Review view shows them
    const weights = { ...DEFAULT_REVIEW_WEIGHTS, diversity };
    const q = await orderRunQueue(
      backend.db,
      getEvalRun(backend.db, result.runId),
      weights,
      cachedEmbeddings(backend.db, cacheDir),
    );
    const items = q.order.map((i) => ({
      kind: q.kind,
      id: q.kind === 'caption' ? Number(q.keys[i]) : q.keys[i],
      score: q.scores[i],
      signals: { labelError: q.labelError[i], uncertainty: q.uncertainty[i] },
    }));
    // embedded: how many items the near-duplicate spacing could compare (with a cached embedding)
    const out = { weights, runId: result.runId, embedded: q.embedded, items };
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
