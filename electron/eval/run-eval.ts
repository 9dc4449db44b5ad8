// An evaluation run: embeds a split's images and captions with the dual encoder (reusing cached embeddings),
// scores every caption × image pair to the official protocol, or predicts NLVR2; stores the run and its
// per-query results in SQLite in one transaction, and returns the metrics and the likely label errors.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../api/contract';
import { now, type Db } from '../store/db';
import { datasetRoot } from '../datasets/repository';
import type { JobContext } from '../jobs/service';
import { MomeModel } from '../../model-runtime/src/model/model';
import { evaluateNlvr2 } from './nlvr2-eval';
import { evaluateRetrieval } from './retrieval-eval';
import type { EvalOptions, EvalResult, ItemRow } from './types';

export { ALL_SPLITS, type EvalOptions, type EvalResult, type Mistake } from './types';

/** A model version: the hash of its description and graphs' sizes and times (immutable once registered). */
export function modelVersion(dir: string): string {
  const h = crypto.createHash('sha256');
  for (const f of fs.readdirSync(dir).sort()) {
    const st = fs.statSync(path.join(dir, f));
    if (!st.isFile()) continue;
    h.update(f === 'mome.json' ? fs.readFileSync(path.join(dir, f)) : `${f}:${st.size}:${st.mtimeMs}`);
  }
  return h.digest('hex').slice(0, 16);
}

export async function runEvaluation(db: Db, o: EvalOptions, ctx: JobContext): Promise<EvalResult> {
  const started = Date.now();
  const root = datasetRoot(db, o.datasetId);
  ctx.progress(0.01, 'Loading the model');
  const model = await MomeModel.load(o.modelDir, { device: o.device ?? 'auto' });
  const version = modelVersion(o.modelDir);
  if (o.task === 'retrieval' && o.rerankK && !model.hasFusion)
    throw new ApiError('invalid_arguments', `The model ${model.config.name} has no fusion graph to re-rank with ITM.`);
  try {
    const out =
      o.task === 'retrieval'
        ? await evaluateRetrieval(db, model, version, root, o, ctx)
        : { ...(await evaluateNlvr2(db, model, root, o, ctx)), cache: { imageHits: 0, textHits: 0 } };
    const seconds = (Date.now() - started) / 1000;
    const runId = storeRun(db, model, version, o, out.metrics, seconds, out.items);
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
  } finally {
    await model.release();
  }
}

function storeRun(
  db: Db,
  model: MomeModel,
  version: string,
  o: EvalOptions,
  metrics: object,
  seconds: number,
  items: ItemRow[],
): number {
  const options = {
    k: o.k ?? 10,
    device: o.device ?? 'auto',
    ...(o.task === 'retrieval' ? { rerank: o.rerankK ? 'itm' : 'none', rerankK: o.rerankK ?? 0 } : {}),
  };
  return db.transaction(() => {
    const runId = Number(
      db
        .prepare(
          `INSERT INTO eval_runs (task, model_name, model_dir, model_version, dataset_id, split, options, metrics, provider, seconds, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          o.task,
          model.config.name,
          o.modelDir,
          version,
          o.datasetId,
          o.split,
          JSON.stringify(options),
          JSON.stringify(metrics),
          model.provider.provider,
          seconds,
          now(),
        ).lastInsertRowid,
    );
    const ins = db.prepare(
      'INSERT INTO eval_items (run_id, kind, item_key, rank, score, mistakenness, top) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    for (const it of items) ins.run(runId, ...it);
    return runId;
  })();
}
