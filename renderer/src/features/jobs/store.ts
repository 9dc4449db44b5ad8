import { create } from 'zustand';
import type { Job } from '../../../../electron/api/schemas';
import { mome } from '../../api/mome';
import { toastError } from '../../stores/toasts';

interface JobsState {
  byId: Record<number, Job>;
  load(): Promise<void>;
  apply(job: Job): void;
  cancel(id: number): Promise<void>;
  startScan(path: string): Promise<Job | null>;
}

export const useJobs = create<JobsState>((set, get) => ({
  byId: {},
  load: async () => {
    try {
      const jobs = await mome().listJobs({ limit: 200 });
      set({ byId: Object.fromEntries(jobs.map((j) => [j.id, j])) });
    } catch (e) {
      toastError(e);
    }
  },
  apply: (job) => {
    // A start call's reply can arrive after the job's jobFinished event (a quick job): a job never runs again
    // once finished, so an older copy without finishedAt must not replace the finished one.
    const known = get().byId[job.id];
    if (known?.finishedAt && !job.finishedAt) return;
    set({ byId: { ...get().byId, [job.id]: job } });
  },
  cancel: async (id) => {
    try {
      get().apply(await mome().cancelJob({ id }));
    } catch (e) {
      toastError(e);
    }
  },
  startScan: async (path) => {
    try {
      const job = await mome().startFolderScan({ path });
      get().apply(job);
      return job;
    } catch (e) {
      toastError(e);
      return null;
    }
  },
}));

export const selectJobsNewestFirst = (s: JobsState) => Object.values(s.byId).sort((a, b) => b.id - a.id);
export const selectRunningCount = (s: JobsState) =>
  Object.values(s.byId).filter((j) => j.state === 'running' || j.state === 'queued').length;
