// Evaluation UI state shared across views: which run each task's view shows, the run it is compared with,
// the open tab, the query list's filters, and the item open in the inspection panel. Anything that lists
// evaluated items (a comparison, the embedding map, likely label errors) opens one through `openItem`,
// which switches to the Retrieval or NLVR2 view.
import { create } from 'zustand';
import { useNav } from '../../stores/nav';

export type EvalTask = 'retrieval' | 'nlvr2';
export type EvalItemKind = 'caption' | 'image' | 'nlvr2';
export type EvalTab = 'queries' | 'map' | 'whole' | 'errors' | 'slices' | 'compare';

export interface ItemRef {
  runId: number;
  kind: EvalItemKind;
  key: string;
}

export interface QueryFilter {
  kind: EvalItemKind;
  order: 'rank' | 'mistakenness';
  /** Only queries whose ground truth ranks at or below this (0-based): 1 = missed at R@1, 5 = missed at R@5. */
  minRank?: number;
  search: string;
}

interface EvalState {
  /** The run shown by each view (null: the newest of its dataset). */
  runByTask: Record<EvalTask, number | null>;
  /** The run each view compares against (null: none). */
  compareWith: Record<EvalTask, number | null>;
  tab: Record<EvalTask, EvalTab>;
  filter: Record<EvalTask, QueryFilter>;
  /** The item shown in the inspection panel. */
  focus: ItemRef | null;
  selectRun(task: EvalTask, runId: number | null): void;
  setCompare(task: EvalTask, runId: number | null): void;
  setTab(task: EvalTask, tab: EvalTab): void;
  setFilter(task: EvalTask, f: Partial<QueryFilter>): void;
  openItem(ref: ItemRef): void;
  focusItem(ref: ItemRef | null): void;
}

export const taskOf = (kind: EvalItemKind): EvalTask => (kind === 'nlvr2' ? 'nlvr2' : 'retrieval');

export const useEval = create<EvalState>((set, get) => ({
  runByTask: { retrieval: null, nlvr2: null },
  compareWith: { retrieval: null, nlvr2: null },
  tab: { retrieval: 'queries', nlvr2: 'queries' },
  filter: {
    retrieval: { kind: 'caption', order: 'rank', search: '' },
    nlvr2: { kind: 'nlvr2', order: 'mistakenness', minRank: 1, search: '' },
  },
  focus: null,
  selectRun: (task, runId) => {
    const focus = get().focus;
    set({
      runByTask: { ...get().runByTask, [task]: runId },
      focus: focus && taskOf(focus.kind) === task && focus.runId !== runId ? null : focus,
    });
  },
  setCompare: (task, runId) => set({ compareWith: { ...get().compareWith, [task]: runId } }),
  setTab: (task, tab) => set({ tab: { ...get().tab, [task]: tab } }),
  setFilter: (task, f) => set({ filter: { ...get().filter, [task]: { ...get().filter[task], ...f } } }),
  openItem: (ref) => {
    const task = taskOf(ref.kind);
    const filter = get().filter[task];
    set({
      runByTask: { ...get().runByTask, [task]: ref.runId },
      tab: { ...get().tab, [task]: 'queries' },
      filter: { ...get().filter, [task]: { ...filter, kind: ref.kind } },
      focus: ref,
    });
    useNav.getState().go(task);
  },
  focusItem: (ref) => set({ focus: ref }),
}));
