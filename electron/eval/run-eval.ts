// An evaluation run: embeds a split's images and captions with the dual encoder (reusing cached embeddings),
// scores every caption × image pair to the official protocol, or predicts NLVR2; stores the run and its
// per-query results in SQLite (a retrieval run's rows in batches while it is hidden, made visible with its
// metrics in the last transaction; an NLVR2 run in one transaction), and returns the metrics and the likely
// label errors.
import { ApiError } from '../api/contract';
import type { Db } from '../store/db';
import { datasetRoot } from '../datasets/repository';
import { cacheKeys } from '../models/model-folder';
import type { JobContext } from '../jobs/service';
import { MomeModel } from '../../model-runtime/src/index';
import { evaluateNlvr2 } from './nlvr2-eval';
import { evaluateRetrieval } from './retrieval-eval';
import { EvalRunWriter, saveEvalRun, type RunFacts } from './repository';
import type { EvalOptions, EvalResult } from './types';

export { ALL_SPLITS, type EvalOptions, type EvalResult, type Mistake } from './types';

export async function runEvaluation(db: Db, o: EvalOptions, ctx: JobContext): Promise<EvalResult> {
  const started = Date.now();
  const root = datasetRoot(db, o.datasetId);
  ctx.progress(0.01, 'Loading the model');
  const model = await MomeModel.load(o.modelDir, { device: o.device ?? 'auto' });
  const keys = cacheKeys(o.modelDir);
  const fingerprint = keys.texts;
  if (o.task === 'retrieval' && o.rerankK && !model.hasFusion)
    throw new ApiError('invalid_arguments', `The model ${model.config.name} has no fusion graph to re-rank with ITM.`);
  const facts = runFacts(model, fingerprint, o);
  // a retrieval run's rows are written as they are scored, the run hidden until its metrics are stored
  const writer = o.task === 'retrieval' ? new EvalRunWriter(db, facts) : null;
  try {
    const out = writer
      ? { ...(await evaluateRetrieval(db, model, keys, root, o, ctx, (rows) => writer.add(rows))), items: [] }
      : { ...(await evaluateNlvr2(db, model, root, o, ctx)), cache: { imageHits: 0, textHits: 0 } };
    const seconds = (Date.now() - started) / 1000;
    let runId: number;
    if (writer) {
      writer.finish(out.metrics, seconds);
      runId = writer.runId;
    } else runId = saveEvalRun(db, { ...facts, metrics: out.metrics, seconds, items: out.items });
    ctx.progress(1, 'Done');
    return {
      runId,
      task: o.task,
      metrics: out.metrics,
      provider: model.provider.provider,
      providerReason: model.provider.reason,
      seconds,
      counts: out.counts,
      cache: out.cache,
      mistakes: out.mistakes,
      unreadable: out.unreadable,
    };
  } catch (e) {
    writer?.abandon();
    throw e;
  } finally {
    await model.release();
  }
}

function runFacts(model: MomeModel, fingerprint: string, o: EvalOptions): RunFacts {
  const options = {
    k: o.k ?? 10,
    device: o.device ?? 'auto',
    ...(o.task === 'retrieval' ? { rerank: o.rerankK ? 'itm' : 'none', rerankK: o.rerankK ?? 0 } : {}),
  };
  return {
    task: o.task,
    modelName: model.config.name,
    modelDir: o.modelDir,
    fingerprint,
    datasetId: o.datasetId,
    split: o.split,
    options,
    provider: model.provider.provider,
  };
}
