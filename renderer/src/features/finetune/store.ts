// The Fine-tune view's state: the preview of the chosen dataset (what would be used, defaults, estimate), the
// fine-tunes of that dataset, and the selected one in full (curve, log, before/after runs), refreshed while it runs.
import { create } from 'zustand';
import type { FineTune, FineTunePreview, FineTuneSettings } from '../../../../electron/api/schemas';
import { errorMessage, mome } from '../../api/mome';
import { useJobs } from '../jobs/store';
import { toastError } from '../../stores/toasts';

interface FineTuneState {
  datasetId: number | null;
  preview: FineTunePreview | null;
  previewError: string | null;
  list: FineTune[];
  selected: number | null;
  detail: FineTune | null;
  setDataset(id: number | null): Promise<void>;
  loadList(): Promise<void>;
  select(jobId: number | null): Promise<void>;
  refreshDetail(): Promise<void>;
  start(settings: FineTuneSettings): Promise<boolean>;
  resume(jobId: number): Promise<void>;
}

export const useFineTune = create<FineTuneState>((set, get) => ({
  datasetId: null,
  preview: null,
  previewError: null,
  list: [],
  selected: null,
  detail: null,
  setDataset: async (id) => {
    set({ datasetId: id, preview: null, previewError: null, list: [], selected: null, detail: null });
    if (id === null) return;
    try {
      const preview = await mome().previewFineTune({ datasetId: id });
      if (get().datasetId === id) set({ preview });
    } catch (e) {
      if (get().datasetId === id) set({ previewError: errorMessage(e) });
    }
    await get().loadList();
    const newest = get().list[0];
    if (newest && get().selected === null) await get().select(newest.jobId);
  },
  loadList: async () => {
    const id = get().datasetId;
    if (id === null) return;
    try {
      const list = await mome().listFineTunes({ datasetId: id });
      if (get().datasetId === id) set({ list });
    } catch (e) {
      toastError(e);
    }
  },
  select: async (jobId) => {
    set({ selected: jobId, detail: null });
    await get().refreshDetail();
  },
  refreshDetail: async () => {
    const jobId = get().selected;
    if (jobId === null) return;
    try {
      const detail = await mome().getFineTune({ jobId });
      if (get().selected === jobId) set({ detail });
    } catch (e) {
      toastError(e);
    }
  },
  resume: async (jobId) => {
    try {
      const job = await mome().resumeFineTune({ jobId });
      useJobs.getState().apply(job);
      await get().loadList();
      await get().select(job.id);
    } catch (e) {
      toastError(e);
    }
  },
  start: async (settings) => {
    const datasetId = get().datasetId;
    if (datasetId === null) return false;
    try {
      const job = await mome().startFineTune({ datasetId, ...settings });
      useJobs.getState().apply(job);
      await get().loadList();
      await get().select(job.id);
      return true;
    } catch (e) {
      toastError(e);
      return false;
    }
  },
}));
