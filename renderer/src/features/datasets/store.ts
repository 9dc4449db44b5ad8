import { create } from 'zustand';
import type { Dataset, Job } from '../../../../electron/api/schemas';
import { errorMessage, mome } from '../../api/mome';
import { useJobs } from '../jobs/store';
import { toastError } from '../../stores/toasts';

interface DatasetsState {
  list: Dataset[];
  selectedId: number | null;
  load(): Promise<void>;
  select(id: number | null): void;
  startImport(path: string, kind?: Dataset['kind'], refresh?: boolean): Promise<Job | null>;
  remove(id: number): Promise<void>;
}

export const useDatasets = create<DatasetsState>((set, get) => ({
  list: [],
  selectedId: null,
  load: async () => {
    try {
      const list = await mome().listDatasets({});
      const selectedId = get().selectedId ?? list[0]?.id ?? null;
      set({ list, selectedId: list.some((d) => d.id === selectedId) ? selectedId : (list[0]?.id ?? null) });
    } catch (e) {
      toastError(e);
    }
  },
  select: (id) => set({ selectedId: id }),
  startImport: async (path, kind, refresh = false) => {
    try {
      const job = await mome().startDatasetImport({ path, kind, refresh });
      useJobs.getState().apply(job);
      return job;
    } catch (e) {
      // the same folder again: offer a refresh (re-read in place; labels kept) rather than a duplicate
      const code = (e as { code?: string }).code;
      if (code === 'conflict' && !refresh) {
        if (confirm(`${errorMessage(e)}\n\nRefresh it now? Its rows are re-read from the folder; labels are kept.`))
          return get().startImport(path, kind, true);
        return null;
      }
      toastError(e);
      return null;
    }
  },
  remove: async (id) => {
    try {
      const { events } = await mome().countLabels({ datasetId: id });
      const deleteLabels =
        events > 0 &&
        confirm(
          `This dataset has ${events} label edits. Delete them too? (Cancel keeps them; they come back if you import the folder again.)`,
        );
      await mome().removeDataset({ id, deleteLabels });
      await get().load();
    } catch (e) {
      toastError(e);
    }
  },
}));
