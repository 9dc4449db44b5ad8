// The Python interpreter fine-tunes and conversions run with: the ones found here (probing takes seconds), the one
// in use and why, and the user's choice. A refused choice keeps its message until the next attempt.
import { create } from 'zustand';
import type { PythonInterpreter, PythonInUse } from '../../../../electron/api/schemas';
import { errorMessage, mome } from '../../api/mome';

interface PythonState {
  interpreters: PythonInterpreter[];
  inUse: PythonInUse | null;
  minimumTorch: string | null;
  /** The search is running (each interpreter answers a probe). */
  searching: boolean;
  /** A choice is being probed. */
  choosing: boolean;
  /** Why the last choice was refused (or the search failed). */
  error: string | null;
  load(): Promise<void>;
  /** null: back to the automatic search. Resolves true when the choice was taken. */
  choose(path: string | null): Promise<boolean>;
}

/** The list with `inUse` moved to the interpreter now in use (the chosen one added when it was not listed). */
function marked(list: PythonInterpreter[], inUse: PythonInUse, chosen: PythonInterpreter | null) {
  const same = (i: PythonInterpreter) => inUse.path !== null && [i.path, ...i.aliases].includes(inUse.path);
  const withChosen = chosen && !list.some((i) => i.path === chosen.path) ? [chosen, ...list] : list;
  return withChosen.map((i) => ({ ...i, inUse: same(i) }));
}

export const usePython = create<PythonState>((set, get) => ({
  interpreters: [],
  inUse: null,
  minimumTorch: null,
  searching: false,
  choosing: false,
  error: null,
  load: async () => {
    set({ searching: true });
    try {
      const r = await mome().listPythonInterpreters({});
      set({ interpreters: r.interpreters, inUse: r.inUse, minimumTorch: r.minimumTorch, error: null });
    } catch (e) {
      set({ error: errorMessage(e) });
    } finally {
      set({ searching: false });
    }
  },
  choose: async (path) => {
    set({ choosing: true, error: null });
    try {
      const r = await mome().setPythonInterpreter({ path });
      set({ inUse: r.inUse, interpreters: marked(get().interpreters, r.inUse, r.interpreter) });
      return true;
    } catch (e) {
      set({ error: errorMessage(e) });
      return false;
    } finally {
      set({ choosing: false });
    }
  },
}));
