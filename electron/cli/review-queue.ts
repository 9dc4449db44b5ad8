// `mome review-queue --model DIR --dataset DIR [--split S|all] [--task retrieval|nlvr2] [--json OUT] [--home DIR]`
// Evaluates the model on the dataset folder as the app does and prints the review queue built from it with the
// app's scoring (label-error score and model uncertainty, default weights): {"items": [{kind, id, score, signals}]}.
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
import { defaultHome } from '../store/home';
import { datasetAt } from './dataset-at';
import { optionPairs } from './options';

const USAGE =
  'usage: mome review-queue --model DIR --dataset DIR [--split S|all] [--task retrieval|nlvr2] [--json OUT] [--home DIR]';

export async function reviewQueueCommand(argv: string[]): Promise<number> {
  const opts = optionPairs(argv, USAGE);
  if (!opts) return 2;
  if (!opts.model || !opts.dataset) {
    console.error(USAGE);
    return 2;
  }
  const backend = createBackend({ home: opts.home ?? defaultHome(), mode: 'browser' });
  const ctx = consoleContext('review-queue');
  try {
    const dataset = await datasetAt(backend.db, opts.dataset);
    const task = (opts.task ?? (datasetInfo(backend.db, dataset.id).kind === 'nlvr2' ? 'nlvr2' : 'retrieval')) as
      'retrieval' | 'nlvr2';
    if (task !== 'retrieval' && task !== 'nlvr2') throw new Error(`--task must be retrieval or nlvr2, got "${task}"`);
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
        cacheDir: path.join(backend.home.cache, 'embeddings'),
      },
      ctx,
    );
    ctx.dispose();
    const m = result.mistakes;
    const labelError = Float32Array.from(m, (x) => x.score);
    // retrieval: the mistakenness is a margin (near 0 = undecided); NLVR2: the probability of the other label
    const uncertainty = task === 'nlvr2' ? probabilityUncertainty(labelError) : marginUncertainty(labelError);
    const scores = combineScores(labelError, uncertainty, DEFAULT_REVIEW_WEIGHTS);
    const items = orderQueue(scores).map((i) => ({
      kind: m[i].kind,
      id: m[i].kind === 'caption' ? Number(m[i].id) : m[i].id,
      score: scores[i],
      signals: { labelError: labelError[i], uncertainty: uncertainty[i] },
    }));
    const out = { weights: DEFAULT_REVIEW_WEIGHTS, runId: result.runId, items };
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
