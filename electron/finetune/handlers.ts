// The fine-tune methods of MomeApi, wired by the backend.
import { ApiError } from '../api/contract';
import type { Handlers } from '../api/dispatch';
import type { JobService } from '../jobs/service';
import { jobDir, resolveBase, resumeFineTuneJob, startFineTuneJob, type FineTuneDeps } from './job';
import { datasetInfo } from '../datasets/repository';
import { buildPreview, taskFor } from './preview';
import { FineTuneStore } from './repository';

type FineTuneHandlers = Pick<
  Handlers,
  'previewFineTune' | 'startFineTune' | 'resumeFineTune' | 'getFineTune' | 'listFineTunes'
>;

export function fineTuneHandlers(deps: Omit<FineTuneDeps, 'store'>, jobs: JobService): FineTuneHandlers {
  const store = new FineTuneStore(deps.db, jobs, (id) => jobDir(deps, id));
  const all: FineTuneDeps = { ...deps, store };
  return {
    previewFineTune: ({ datasetId, task }) => {
      const ds = datasetInfo(deps.db, datasetId);
      const t = task ?? taskFor(ds.kind);
      const base = resolveBase(deps, null);
      return buildPreview(deps.db, ds, base, t, base ? store.measuredRate(base.dir, t, 'auto') : null);
    },
    startFineTune: (args) => startFineTuneJob(all, jobs, args),
    resumeFineTune: ({ jobId }) => resumeFineTuneJob(all, jobs, jobId),
    getFineTune: ({ jobId }) => {
      const ft = store.get(jobId);
      if (!ft) throw new ApiError('not_found', `Job ${jobId} is not a fine-tune.`);
      return ft;
    },
    listFineTunes: ({ datasetId }) => store.list(datasetId),
  };
}
