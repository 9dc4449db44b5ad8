// Evaluation UI state shared across views: which run each task's view shows, and the item to open in the
// inspection panel. Anything that lists evaluated items (a comparison, the embedding map, likely label
// errors) opens one through `openItem`, which switches to the Retrieval or NLVR2 view.
import { create } from 'zustand';
import { useNav } from './nav';

export type EvalTask = 'retrieval' | 'nlvr2';
export type EvalItemKind = 'caption' | 'image' | 'nlvr2';

export interface ItemRef {
  runId: number;
  kind: EvalItemKind;
  key: string;
}

interface EvalState {
  /** The run shown by each view (null: the newest of its dataset). */
  runByTask: Record<EvalTask, number | null>;
  /** The item shown in the inspection panel. */
  focus: ItemRef | null;
  selectRun(task: EvalTask, runId: number | null): void;
  openItem(ref: ItemRef): void;
  focusItem(ref: ItemRef | null): void;
}

export const taskOf = (kind: EvalItemKind): EvalTask => (kind === 'nlvr2' ? 'nlvr2' : 'retrieval');

export const useEval = create<EvalState>((set, get) => ({
  runByTask: { retrieval: null, nlvr2: null },
  focus: null,
  selectRun: (task, runId) => set({ runByTask: { ...get().runByTask, [task]: runId } }),
  openItem: (ref) => {
    const task = taskOf(ref.kind);
    set({ runByTask: { ...get().runByTask, [task]: ref.runId }, focus: ref });
    useNav.getState().go(task);
  },
  focusItem: (ref) => set({ focus: ref }),
}));
