// Python is reached only through here: an interpreter that imports torch (the first python3 on PATH may be
// another one), with the package's folder on PYTHONPATH. Which one: MOME_PYTHON always wins, then the interpreter
// the user chose (the backend sets it from its settings), then the first of CANDIDATES that imports torch.
import { execFile, spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pythonPackageDir } from './runtime-paths';
import { resolveCommand } from './python-interpreters';

/** The automatic search, in order. */
export const CANDIDATES = ['python3', '/usr/bin/python3', 'python'];
let automatic: string | null | undefined;
let preferred: string | null = null;
/** Interpreters known to import torch (checked once each; a chosen one was probed when chosen). */
const importsTorch = new Set<string>();

export type PythonSource = 'MOME_PYTHON' | 'chosen' | 'automatic';

export class PythonNotFoundError extends Error {
  constructor(tried: string[], message?: string) {
    super(
      message ??
        `No Python interpreter that imports torch was found (tried ${tried.join(', ')}). ` +
          'On Debian/Ubuntu: sudo apt-get install python3-torch libopenblas0-pthread python3-numpy python3-pil python3-onnx ' +
          '— or choose an interpreter that has PyTorch (Models → Python interpreter), or point MOME_PYTHON at one.',
    );
    this.name = 'PythonNotFoundError';
  }
}

/** The interpreter the user chose (null: the automatic search); MOME_PYTHON still wins over it. */
export function setPreferredPython(python: string | null, opts: { verified?: boolean } = {}): void {
  preferred = python;
  if (python && opts.verified) importsTorch.add(python);
}

export function preferredPython(): string | null {
  return preferred;
}

/** Which rule picks the interpreter now, and the path when it is known without running anything. */
export function pythonSelection(env: NodeJS.ProcessEnv = process.env): { source: PythonSource; path: string | null } {
  if (env.MOME_PYTHON) return { source: 'MOME_PYTHON', path: resolveCommand(env.MOME_PYTHON, env) ?? env.MOME_PYTHON };
  if (preferred) return { source: 'chosen', path: preferred };
  return { source: 'automatic', path: automatic ?? null };
}

const torchImports = (py: string) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const resolved = (py: string, env: NodeJS.ProcessEnv) => resolveCommand(py, env) ?? py;

export function findPython(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MOME_PYTHON) {
    if (!torchImports(env.MOME_PYTHON)) throw new PythonNotFoundError([env.MOME_PYTHON]);
    return env.MOME_PYTHON;
  }
  if (preferred) {
    if (!importsTorch.has(preferred)) {
      if (!fs.existsSync(preferred) || !torchImports(preferred)) {
        throw new PythonNotFoundError(
          [preferred],
          `The chosen Python interpreter ${preferred} ${fs.existsSync(preferred) ? 'cannot import torch' : 'does not exist any more'}. ` +
            'Choose another one (Models → Python interpreter) or go back to the automatic search.',
        );
      }
      importsTorch.add(preferred);
    }
    return preferred;
  }
  if (automatic === undefined) {
    const found = CANDIDATES.find(torchImports);
    automatic = found ? resolved(found, env) : null;
  }
  if (automatic) return automatic;
  throw new PythonNotFoundError(CANDIDATES);
}

/**
 * The automatic search without blocking the event loop (for the backend's server); it refreshes what findPython
 * remembers, so torch installed since is seen.
 */
export async function searchPython(env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  for (const py of CANDIDATES) {
    const ok = await new Promise<boolean>((resolve) =>
      execFile(py, ['-c', 'import torch'], { env, timeout: 60_000 }, (e) => resolve(!e)),
    );
    if (ok) return (automatic = resolved(py, env));
  }
  return (automatic = null);
}

export function pythonEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const parts = [pythonPackageDir(), env.PYTHONPATH].filter(Boolean);
  return { ...env, PYTHONPATH: parts.join(path.delimiter), PYTHONUNBUFFERED: '1' };
}

/** Runs `python -m mome <args>`; resolves with the exit code. */
export function runPythonModule(args: string[], opts: SpawnOptions = {}): Promise<number> {
  const py = findPython();
  return new Promise((resolve, reject) => {
    const child = spawn(py, ['-m', 'mome', ...args], {
      stdio: 'inherit',
      ...opts,
      env: pythonEnv(opts.env ?? process.env),
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
