// Small helpers shared by the setup, start and test scripts (plain Node, no dependencies: they run before
// node_modules exists).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  return r.status ?? 1;
}

export function say(line) {
  process.stdout.write(`[mome] ${line}\n`);
}

/** Newest modification time under a path (files only), 0 when missing. */
export function newestMtime(p) {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const e of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, e)));
  return newest;
}

const PYTHON_CANDIDATES = ['python3', '/usr/bin/python3', 'python'];

/** The first interpreter that imports torch (MOME_PYTHON wins), or null. */
export function findTorchPython(env = process.env) {
  const candidates = env.MOME_PYTHON ? [env.MOME_PYTHON] : PYTHON_CANDIDATES;
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch, numpy, PIL'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return null;
}
