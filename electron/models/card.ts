// A model card: the version itself, where it runs and why, its evaluation runs, and the same metrics for
// every other registered version (removed ones included), so the card can chart how versions compare.
import type { EvalRun, ModelCard } from '../api/schemas';
import type { Db } from '../store/db';
import { getEvalRun, listEvalRuns } from '../eval/repository';
import { compareIntervals, DEFAULT_BOOTSTRAP } from '../eval/stats';
import type { ModelRegistry } from './registry';
import { snapshotOfModel } from '../labels/snapshots';

/** The newest run per (task, dataset, split) of one model folder: what a version "scores" there. */
function latestPerSplit(runs: EvalRun[]): EvalRun[] {
  const seen = new Map<string, EvalRun>();
  for (const r of runs) {
    const key = `${r.task}|${r.datasetId}|${r.split}`;
    const prior = seen.get(key);
    if (!prior || r.id > prior.id) seen.set(key, r);
  }
  return [...seen.values()].sort((a, b) => a.datasetId - b.datasetId || a.split.localeCompare(b.split));
}

export function modelCard(db: Db, registry: ModelRegistry, id: number): ModelCard {
  const model = registry.getAny(id);
  const all = listEvalRuns(db);
  const byDir = new Map<string, EvalRun[]>();
  for (const r of all) byDir.set(r.modelDir, [...(byDir.get(r.modelDir) ?? []), r]);
  const versions = registry
    .list(true)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id - b.id)
    .map((m) => ({
      modelId: m.id,
      name: m.name,
      version: m.version,
      createdAt: m.createdAt,
      removed: m.removedAt !== null,
      results: latestPerSplit(byDir.get(m.dir) ?? []).map((r) => ({
        runId: r.id,
        task: r.task,
        datasetId: r.datasetId,
        split: r.split,
        metrics: r.metrics,
      })),
    }));
  const parent = model.parentId === null ? null : registry.getAny(model.parentId);
  return {
    model,
    parent: parent && { id: parent.id, name: parent.name, version: parent.version, removed: parent.removedAt !== null },
    provider: registry.providerFor(),
    runs: (byDir.get(model.dir) ?? []).sort((a, b) => b.id - a.id),
    labelSnapshot: snapshotOfModel(db, model.id),
    parentLabelSnapshot: parent ? snapshotOfModel(db, parent.id) : null,
    heldOut: heldOutAgainstParent(db, model.id),
    versions,
  };
}

/** The fine-tune that made this version: its held-out before/after runs compared, as the job recorded them. */
function heldOutAgainstParent(db: Db, modelId: number): ModelCard['heldOut'] {
  const row = db
    .prepare(
      `SELECT job_id AS jobId, before_run_id AS beforeRunId, after_run_id AS afterRunId FROM finetunes
       WHERE model_id = ? AND before_run_id IS NOT NULL AND after_run_id IS NOT NULL ORDER BY job_id DESC LIMIT 1`,
    )
    .get(modelId) as { jobId: number; beforeRunId: number; afterRunId: number } | undefined;
  if (!row) return null;
  const before = getEvalRun(db, row.beforeRunId);
  const after = getEvalRun(db, row.afterRunId);
  return { ...row, split: after.split, differences: compareIntervals(db, before, after, DEFAULT_BOOTSTRAP) };
}
