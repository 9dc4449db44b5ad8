// Adjudication and label snapshots in the Labels view: the project's review setting and user name, a dataset's
// edited fields by state with their decisions, agreement between authors, and the dataset's snapshots with a
// diff of two. Every write goes to the backend; the labels store's version makes the views re-read.
import { create } from 'zustand';
import type {
  LabelAgreement,
  LabelField,
  LabelFieldState,
  LabelSettings,
  LabelSnapshot,
  LabelSnapshotDiff,
} from '../../../../electron/api/schemas';
import { mome } from '../../api/mome';
import { toastError, useToasts } from '../../stores/toasts';
import { useLabels } from './store';

export type LabelsTab = 'history' | 'review' | 'snapshots';
/** A diff's ends: a snapshot id, or null (from: the dataset as imported; to: the labels now). */
export interface DiffEnds {
  fromId: number | null;
  toId: number | null;
}

interface ReviewState {
  tab: LabelsTab;
  settings: LabelSettings | null;
  datasetId: number | null;
  state: LabelFieldState | undefined;
  fields: { total: number; counts: Record<string, number>; items: LabelField[] } | null;
  agreement: LabelAgreement | null;
  snapshots: LabelSnapshot[];
  diffEnds: DiffEnds | null;
  diff: LabelSnapshotDiff | null;
  setTab(tab: LabelsTab): void;
  loadSettings(): Promise<void>;
  saveSettings(s: { reviewRequired?: boolean; userName?: string | null }): Promise<void>;
  /** The dataset the Review and Snapshots tabs show (the state filter stays). */
  choose(datasetId: number | null): void;
  /** The state the fields are filtered by (undefined: all). */
  filterState(state: LabelFieldState | undefined): void;
  load(): Promise<void>;
  decide(eventId: number, decision: 'accept' | 'reject'): Promise<void>;
  takeSnapshot(name: string): Promise<void>;
  showDiff(datasetId: number, ends: DiffEnds): Promise<void>;
  restore(snapshot: LabelSnapshot): Promise<void>;
}

export const useReview = create<ReviewState>((set, get) => ({
  tab: 'history',
  settings: null,
  datasetId: null,
  state: undefined,
  fields: null,
  agreement: null,
  snapshots: [],
  diffEnds: null,
  diff: null,
  setTab: (tab) => set({ tab }),
  loadSettings: async () => {
    try {
      set({ settings: await mome().getLabelSettings({}) });
    } catch (e) {
      toastError(e);
    }
  },
  saveSettings: async (s) => {
    const before = get().settings;
    if (before) set({ settings: { ...before, ...s } }); // shown at once; the reply (or a failure) settles it
    try {
      set({ settings: await mome().setLabelSettings(s) });
    } catch (e) {
      set({ settings: before });
      toastError(e);
    }
  },
  choose: (datasetId) => {
    if (datasetId !== get().datasetId) set({ datasetId, diff: null, diffEnds: null });
    void get().load();
  },
  filterState: (state) => {
    set({ state });
    void get().load();
  },
  load: async () => {
    const { datasetId, state, diffEnds } = get();
    if (datasetId === null) return set({ fields: null, agreement: null, snapshots: [] });
    try {
      const [fields, agreement, snapshots] = await Promise.all([
        mome().listLabelFields({ datasetId, state, limit: 500 }),
        mome().getLabelAgreement({ datasetId }),
        mome().listLabelSnapshots({ datasetId }),
      ]);
      if (get().datasetId !== datasetId) return;
      set({ fields, agreement, snapshots });
      if (diffEnds) await get().showDiff(datasetId, diffEnds);
    } catch (e) {
      toastError(e);
    }
  },
  decide: async (eventId, decision) => {
    try {
      const r = await mome().reviewLabel({ eventId, decision, view: 'labels' });
      useToasts.getState().push(`${decision === 'accept' ? 'Accepted' : 'Rejected'} label event ${eventId}`, 'info');
      useLabels.getState().changed(r.event?.id);
      await get().load();
    } catch (e) {
      toastError(e);
    }
  },
  takeSnapshot: async (name) => {
    const { datasetId } = get();
    if (datasetId === null) return;
    try {
      const s = await mome().createLabelSnapshot({ datasetId, name });
      useToasts.getState().push(`Snapshot “${s.name}” taken`, 'info');
      await get().load();
    } catch (e) {
      toastError(e);
    }
  },
  showDiff: async (datasetId, ends) => {
    try {
      const diff = await mome().diffLabelSnapshots({ datasetId, ...ends });
      set({ diffEnds: ends, diff });
    } catch (e) {
      toastError(e);
    }
  },
  restore: async (s) => {
    try {
      const written = await mome().restoreLabelSnapshot({ snapshotId: s.id });
      useToasts
        .getState()
        .push(
          written.length
            ? `Restored “${s.name}”: ${written.length} label events written (Ctrl+Z takes them back)`
            : `The labels already equal “${s.name}”`,
          'info',
        );
      if (written.length) useLabels.getState().changed(Math.max(...written.map((e) => e.id)));
      await get().load();
    } catch (e) {
      toastError(e);
    }
  },
}));
