// The job methods of MomeApi: the list the jobs panel shows, one job, and cancelling one.
import type { Handlers } from '../api/dispatch';
import type { JobService } from './service';

export function jobHandlers(jobs: JobService): Pick<Handlers, 'listJobs' | 'getJob' | 'cancelJob'> {
  return {
    listJobs: ({ limit }) => jobs.list(limit),
    getJob: ({ id }) => jobs.get(id),
    cancelJob: ({ id }) => jobs.cancel(id),
  };
}
