// Label edits from the UI: every action appends to the backend's history (with `expected`, so an edit made
// on a stale view is refused, not silently applied); undo/redo go to the backend so they survive restarts.
import { create } from 'zustand';
import type { LabelEvent } from '../../../../electron/api/schemas';
import { mome } from '../../api/mome';
import { toastError, useToasts } from '../../stores/toasts';

type Edit = Parameters<ReturnType<typeof mome>['editLabels']>[0]['edits'][number];

interface LabelsState {
  /** Bumped once per change seen (ours or another client's), so views re-read what they show. */
  version: number;
  /** The newest label event views have re-read after. */
  seenEventId: number;
  events: LabelEvent[];
  total: number;
  filter: { datasetId?: number; kind?: LabelEvent['kind']; author?: string; since?: string; until?: string };
  counts: { datasetId: number; kind: string; field: string; n: number }[];
  /** `evalRunId`: the evaluation run the edit was made from (provenance in the history and the export). */
  edit(edits: Edit[], view: string, evalRunId?: number): Promise<boolean>;
  undo(): Promise<void>;
  redo(): Promise<void>;
  revert(eventId: number): Promise<void>;
  load(filter?: LabelsState['filter']): Promise<void>;
  /**
   * Labels changed: views re-read. With `labelEventId` (the newest event the change wrote), only when that event
   * is new to this window: the reply to our own edit and its echo from the backend (dataChanged) carry the same
   * event, and whichever arrives second finds it seen. Without one (a refused edit, another process's edits): always.
   */
  changed(labelEventId?: number): void;
}

export const useLabels = create<LabelsState>((set, get) => ({
  version: 0,
  seenEventId: 0,
  events: [],
  total: 0,
  filter: {},
  counts: [],
  edit: async (edits, view, evalRunId) => {
    try {
      const written = await mome().editLabels({ edits, view, evalRunId });
      get().changed(Math.max(...written.map((e) => e.id)));
      return true;
    } catch (e) {
      toastError(e);
      get().changed(); // a conflict means what is shown is stale: re-read it
      return false;
    }
  },
  undo: async () => {
    try {
      const e = await mome().undoLabel({});
      useToasts.getState().push(e ? `Undid ${e.kind} ${e.key} ${e.field}` : 'Nothing to undo', 'info');
      get().changed(e?.id);
    } catch (e) {
      toastError(e);
    }
  },
  redo: async () => {
    try {
      const e = await mome().redoLabel({});
      useToasts.getState().push(e ? `Redid ${e.kind} ${e.key} ${e.field}` : 'Nothing to redo', 'info');
      get().changed(e?.id);
    } catch (e) {
      toastError(e);
    }
  },
  revert: async (eventId) => {
    try {
      const reverted = await mome().revertLabel({ eventId, view: 'labels' });
      get().changed(reverted.id);
    } catch (e) {
      toastError(e);
    }
  },
  load: async (filter) => {
    const f = filter ?? get().filter;
    try {
      const r = await mome().listLabelEvents({ ...f, limit: 500 });
      set({ events: r.items, total: r.total, counts: r.counts, filter: f });
    } catch (e) {
      toastError(e);
    }
  },
  changed: (labelEventId) => {
    if (labelEventId === undefined) return set({ version: get().version + 1 });
    if (labelEventId <= get().seenEventId) return;
    set({ version: get().version + 1, seenEventId: labelEventId });
  },
}));
