// The Python interpreter fine-tunes and conversions run with: the user's choice, remembered in the home's settings
// and handed to model-runtime's python.ts at start. MOME_PYTHON still wins over it. Probes run as child
// processes without blocking the server (a torch import takes seconds).
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../api/contract';
import type { Handlers } from '../api/dispatch';
import type { PythonInUse } from '../api/schemas';
import type { Db } from '../store/db';
import { deleteSetting, readSetting, writeSetting } from '../store/settings';
import {
  discoverInterpreters,
  inspectInterpreter,
  interpreterKey,
  MIN_TORCH,
  prefixPython,
  type PythonInterpreter,
  PythonNotFoundError,
  CANDIDATES,
  preferredPython,
  pythonSelection,
  searchPython,
  setPreferredPython,
} from '../../model-runtime/src/index';

const KEY = 'python_interpreter';

export function savedPython(db: Db): string | null {
  return readSetting(db, KEY) || null;
}

/** The in-use interpreter; the automatic one is looked for (asynchronously) when no rule names one. */
async function inUse(db: Db, interpreters: PythonInterpreter[] | null): Promise<PythonInUse> {
  const sel = pythonSelection();
  const chosen = savedPython(db);
  let p = sel.path;
  if (sel.source === 'automatic') p = await searchPython();
  let problem: string | null = null;
  if (!p) problem = new PythonNotFoundError(CANDIDATES).message;
  else if (interpreters) {
    const key = interpreterKey(p);
    problem = interpreters.find((i) => [i.path, ...i.aliases].some((a) => interpreterKey(a) === key))?.problem ?? null;
  }
  return { source: sel.source, path: p, chosen, problem };
}

function markInUse<T extends PythonInterpreter>(list: T[], p: string | null): (T & { inUse: boolean })[] {
  const key = p ? interpreterKey(p) : null;
  return list.map((i) => ({
    ...i,
    inUse: key !== null && [i.path, ...i.aliases].some((a) => interpreterKey(a) === key),
  }));
}

/** A folder given (a venv, a conda env): its interpreter. */
function interpreterAt(given: string): string {
  const p = path.resolve(given);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p);
  } catch {
    throw new ApiError('not_found', `\`${p}\` does not exist.`);
  }
  if (!stat.isDirectory()) return p;
  const inside = prefixPython(p);
  if (!inside)
    throw new ApiError('invalid_arguments', `\`${p}\` is a folder without bin/python: choose the interpreter itself.`);
  return inside;
}

/**
 * The setting for one backend: at start the saved choice becomes python.ts's preferred interpreter (it was probed
 * when chosen; findPython checks once more that it still imports torch before the first job uses it), and close()
 * forgets it again unless something else set another since.
 */
export function pythonSetting(db: Db): {
  handlers: Pick<Handlers, 'listPythonInterpreters' | 'setPythonInterpreter'>;
  close(): void;
} {
  let applied = savedPython(db);
  setPreferredPython(applied);
  const handlers: Pick<Handlers, 'listPythonInterpreters' | 'setPythonInterpreter'> = {
    listPythonInterpreters: async () => {
      const chosen = savedPython(db);
      const found = await discoverInterpreters({ extra: chosen ? [{ path: chosen, foundAs: ['chosen'] }] : [] });
      const used = await inUse(db, found);
      return { interpreters: markInUse(found, used.path), inUse: used, minimumTorch: MIN_TORCH };
    },
    setPythonInterpreter: async ({ path: given }) => {
      if (given === null) {
        deleteSetting(db, KEY);
        setPreferredPython((applied = null));
        return { interpreter: null, inUse: await inUse(db, null) };
      }
      const python = interpreterAt(given);
      const probed = await inspectInterpreter(python);
      if (!probed.ok) throw new ApiError('invalid_arguments', probed.problem!, { path: python });
      writeSetting(db, KEY, python);
      setPreferredPython((applied = python), { verified: true });
      const used = await inUse(db, [probed]);
      const [interpreter] = markInUse([probed], used.path);
      return { interpreter, inUse: used };
    },
  };
  return {
    handlers,
    close: () => {
      if (preferredPython() === applied) setPreferredPython(null);
    },
  };
}
