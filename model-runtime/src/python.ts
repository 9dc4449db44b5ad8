// Python is reached only through here: an interpreter that imports torch (the first python3 on PATH may be
// another one), found once, with the package's folder on PYTHONPATH. MOME_PYTHON overrides the search.
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import path from 'node:path';
import { pythonPackageDir } from './runtime-paths';

const CANDIDATES = ['python3', '/usr/bin/python3', 'python'];
let cached: string | null | undefined;

export class PythonNotFoundError extends Error {
  constructor(tried: string[]) {
    super(
      `No Python interpreter that imports torch was found (tried ${tried.join(', ')}). ` +
        'On Debian/Ubuntu: sudo apt-get install python3-torch libopenblas0-pthread python3-numpy python3-pil python3-onnx ' +
        '— or point MOME_PYTHON at an interpreter that has PyTorch.',
    );
    this.name = 'PythonNotFoundError';
  }
}

export function findPython(env: NodeJS.ProcessEnv = process.env): string {
  if (cached !== undefined && !env.MOME_PYTHON) {
    if (cached) return cached;
    throw new PythonNotFoundError(CANDIDATES);
  }
  const candidates = env.MOME_PYTHON ? [env.MOME_PYTHON] : CANDIDATES;
  const found =
    candidates.find((py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) ?? null;
  if (!env.MOME_PYTHON) cached = found;
  if (!found) throw new PythonNotFoundError(candidates);
  return found;
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
