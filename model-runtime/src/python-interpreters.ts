// Which Python interpreters this machine has, and what each can do for MoME: researchers keep PyTorch in a conda
// env, a venv or a pyenv version, so the first python3 on PATH is often not the one they mean. Listing is cheap
// (existence checks only); each candidate then answers one short probe script, a few at a time, with a timeout.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Debian's python3-torch is 1.13 (its version string reads 1.13.0a0); older releases lack what mome uses. */
export const MIN_TORCH = '1.13';
/** Imported besides torch: data loading (numpy, Pillow) and writing ONNX graphs (export, convert, fine-tune). */
const MODULES = [
  { module: 'numpy', name: 'numpy', pip: 'numpy' },
  { module: 'PIL', name: 'Pillow', pip: 'pillow' },
  { module: 'onnx', name: 'onnx', pip: 'onnx' },
] as const;
const PROBE_TIMEOUT_MS = 15_000;
const PROBE_CONCURRENCY = 3;

export interface PythonCandidate {
  path: string;
  /** Where it was found, for people: "PATH", "conda env torch2", "pyenv 3.11.7", "VIRTUAL_ENV", … */
  foundAs: string[];
}

/** What the probe script reported, or why it could not run. */
export interface PythonProbe {
  pythonVersion: string | null;
  torchVersion: string | null;
  torchError: string | null;
  cuda: { available: boolean; devices: string[] };
  /** Modules that failed to import, by import name (numpy, PIL, onnx), with the error. */
  missing: Record<string, string>;
  /** The interpreter's real executable and sys.prefix: two paths with both equal are one interpreter. */
  executable: string | null;
  prefix: string | null;
  /** The probe itself failed: not executable, not Python, crashed, or timed out. */
  error: string | null;
}

export interface PythonInterpreter extends PythonCandidate {
  /** Other paths that turned out to be the same interpreter (e.g. a pyenv shim and the version it runs). */
  aliases: string[];
  pythonVersion: string | null;
  torchVersion: string | null;
  cuda: { available: boolean; devices: string[] };
  /** Modules besides torch it cannot import, as people name them (numpy, Pillow, onnx). */
  missing: string[];
  ok: boolean;
  /** Why it cannot run MoME's Python, and what to do; null when ok. */
  problem: string | null;
}

export interface DiscoverOptions {
  env?: NodeJS.ProcessEnv;
  /** The user's home folder (conda, pyenv and venv locations); default os.homedir(). */
  home?: string;
  /** Where ./.venv is looked for; default process.cwd(). */
  cwd?: string;
  /** Paths to list first whatever the search finds (e.g. the interpreter the user chose). */
  extra?: PythonCandidate[];
  timeoutMs?: number;
  concurrency?: number;
}

const WINDOWS = process.platform === 'win32';

function isExecutableFile(p: string): boolean {
  try {
    if (!fs.statSync(p).isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function subdirs(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() || e.isSymbolicLink())
      .map((e) => path.join(dir, e.name))
      .sort();
  } catch {
    return [];
  }
}

/** The interpreter of an environment folder (conda prefix, venv, pyenv version), if it has one. */
export function prefixPython(prefix: string): string | null {
  const names = WINDOWS
    ? [path.join(prefix, 'python.exe'), path.join(prefix, 'Scripts', 'python.exe')]
    : [path.join(prefix, 'bin', 'python3'), path.join(prefix, 'bin', 'python')];
  return names.find(isExecutableFile) ?? null;
}

/** A bare command name (python3) as the absolute path PATH gives it; an absolute path as is. */
export function resolveCommand(command: string, env: NodeJS.ProcessEnv = process.env): string | null {
  if (path.isAbsolute(command)) return isExecutableFile(command) ? command : null;
  if (command.includes('/')) return isExecutableFile(command) ? path.resolve(command) : null;
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of WINDOWS ? [command, `${command}.exe`] : [command]) {
      const p = path.join(dir, name);
      if (isExecutableFile(p)) return p;
    }
  }
  return null;
}

/**
 * One interpreter, however reached: the real folder and the real file. Not the file alone: a venv's python is a
 * symlink to its base interpreter, yet it is another environment (its own site-packages), found from its own bin/.
 */
export function interpreterKey(p: string): string {
  try {
    return `${fs.realpathSync(path.dirname(p))}\0${fs.realpathSync(p)}`;
  } catch {
    return path.resolve(p);
  }
}

/** Every candidate interpreter, in order of preference, de-duplicated; only existence checks, nothing runs. */
export function listCandidates(opts: DiscoverOptions = {}): PythonCandidate[] {
  const env = opts.env ?? process.env;
  const home = opts.home ?? os.homedir();
  const cwd = opts.cwd ?? process.cwd();
  const found = new Map<string, PythonCandidate>();
  const add = (p: string | null | undefined, foundAs: string) => {
    if (!p || !isExecutableFile(p)) return;
    const key = interpreterKey(p);
    const seen = found.get(key);
    if (seen) {
      if (!seen.foundAs.includes(foundAs)) seen.foundAs.push(foundAs);
    } else found.set(key, { path: path.resolve(p), foundAs: [foundAs] });
  };
  const addPrefix = (prefix: string | undefined, foundAs: string) => prefix && add(prefixPython(prefix), foundAs);

  for (const c of opts.extra ?? []) for (const f of c.foundAs) add(c.path, f);
  if (env.MOME_PYTHON) add(resolveCommand(env.MOME_PYTHON, env), 'MOME_PYTHON');
  addPrefix(env.VIRTUAL_ENV, 'VIRTUAL_ENV');
  addPrefix(env.CONDA_PREFIX, 'CONDA_PREFIX');
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of WINDOWS ? ['python.exe', 'python3.exe'] : ['python3', 'python'])
      add(path.join(dir, name), 'PATH');
  }
  if (!WINDOWS) add('/usr/bin/python3', 'system');
  addPrefix(path.join(cwd, '.venv'), 'venv (.venv)');
  for (const root of [
    ...['miniconda3', 'anaconda3', 'miniforge3', 'mambaforge'].map((d) => path.join(home, d)),
    '/opt/conda',
  ]) {
    addPrefix(root, `conda (${root})`);
    for (const env_ of subdirs(path.join(root, 'envs'))) addPrefix(env_, `conda env ${path.basename(env_)}`);
  }
  for (const env_ of subdirs(path.join(home, '.conda', 'envs'))) addPrefix(env_, `conda env ${path.basename(env_)}`);
  for (const v of subdirs(path.join(home, '.pyenv', 'versions'))) addPrefix(v, `pyenv ${path.basename(v)}`);
  for (const d of ['.venvs', 'venvs', '.virtualenvs']) {
    for (const v of subdirs(path.join(home, d))) addPrefix(v, `venv (~/${d})`);
  }
  return [...found.values()];
}

// One short script, valid Python 2 too (so an old `python` says what it is rather than a syntax error).
const PROBE = `
import json, os, sys
r = {"python": "%d.%d.%d" % tuple(sys.version_info[:3]), "executable": os.path.realpath(sys.executable),
     "prefix": sys.prefix, "torch": None, "torchError": None, "cuda": False, "devices": [], "missing": {}}
def err(e):
    return "%s: %s" % (type(e).__name__, str(e).strip().splitlines()[-1] if str(e).strip() else "")
try:
    import torch
    r["torch"] = str(torch.__version__)
    try:
        if torch.cuda.is_available():
            r["cuda"] = True
            r["devices"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except Exception as e:
        r["cudaError"] = err(e)
except BaseException as e:
    r["torchError"] = err(e)
for m in ("numpy", "PIL", "onnx"):
    try:
        __import__(m)
    except BaseException as e:
        r["missing"][m] = err(e)
sys.stdout.write("MOME_PROBE " + json.dumps(r) + "\\n")
`;

/** Runs the probe script in one interpreter; never rejects (a failure is in `error`). */
export function probeInterpreter(
  python: string,
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<PythonProbe> {
  const timeoutMs = opts.timeoutMs ?? PROBE_TIMEOUT_MS;
  const empty: PythonProbe = {
    pythonVersion: null,
    torchVersion: null,
    torchError: null,
    cuda: { available: false, devices: [] },
    missing: {},
    executable: null,
    prefix: null,
    error: null,
  };
  return new Promise((resolve) => {
    execFile(
      python,
      ['-c', PROBE],
      { env: opts.env ?? process.env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        const line = String(stdout)
          .split('\n')
          .find((l) => l.startsWith('MOME_PROBE '));
        if (line) {
          try {
            const r = JSON.parse(line.slice('MOME_PROBE '.length));
            return resolve({
              pythonVersion: r.python ?? null,
              torchVersion: r.torch ?? null,
              torchError: r.torchError ?? null,
              cuda: { available: Boolean(r.cuda), devices: Array.isArray(r.devices) ? r.devices.map(String) : [] },
              missing: r.missing ?? {},
              executable: r.executable ?? null,
              prefix: r.prefix ?? null,
              error: null,
            });
          } catch {
            // fall through: reported as output that is not the probe's
          }
        }
        const e = error as (NodeJS.ErrnoException & { killed?: boolean; signal?: string }) | null;
        const lastWords = String(stderr).trim().split('\n').slice(-1)[0] ?? '';
        let why: string;
        if (e?.code === 'ENOENT') why = 'it does not exist';
        else if (e?.code === 'EACCES') why = 'it is not executable';
        else if (e?.killed && e.signal === 'SIGKILL')
          why = `it did not answer within ${Math.round(timeoutMs / 1000)} s`;
        else if (e?.signal) why = `it crashed (${e.signal})${lastWords ? `: ${lastWords}` : ''}`;
        else why = lastWords || (e ? e.message : 'it printed no answer; is it a Python interpreter?');
        resolve({ ...empty, error: why });
      },
    );
  });
}

/** Whether a torch version string (2.3.1+cu121, 1.13.0a0+git…) is at least `min`; unreadable ones pass. */
export function torchVersionOk(version: string, min: string = MIN_TORCH): boolean {
  const parse = (v: string) => /^(\d+)\.(\d+)/.exec(v)?.slice(1).map(Number);
  const [v, m] = [parse(version), parse(min)];
  if (!v || !m) return true;
  return v[0] !== m[0] ? v[0] > m[0] : v[1] >= m[1];
}

function listed(names: string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** What is wrong with an interpreter for MoME's Python, in words that say what to do; null when nothing is. */
export function interpreterProblem(python: string, probe: PythonProbe): string | null {
  if (probe.error) return `\`${python}\` could not be probed: ${probe.error}. Choose another interpreter.`;
  const problems: string[] = [];
  if (probe.torchVersion === null) {
    problems.push(
      `\`${python}\` cannot import torch: ${probe.torchError ?? 'unknown error'}. ` +
        'Install PyTorch into it (pip install torch) or choose another interpreter.',
    );
  } else if (!torchVersionOk(probe.torchVersion)) {
    problems.push(
      `\`${python}\` has torch ${probe.torchVersion}, older than ${MIN_TORCH}, the minimum MoME Studio supports. ` +
        'Upgrade it (pip install --upgrade torch) or choose another interpreter.',
    );
  }
  const missing = MODULES.filter((m) => m.module in probe.missing);
  if (missing.length) {
    const who = problems.length ? 'It also' : `\`${python}\``;
    const why = missing.some((m) => m.module === 'onnx')
      ? ' (onnx writes the graphs of converted and fine-tuned models)'
      : '';
    problems.push(
      `${who} cannot import ${listed(missing.map((m) => m.name))}${why}: ` +
        `pip install ${missing.map((m) => m.pip).join(' ')}.`,
    );
  }
  return problems.length ? problems.join(' ') : null;
}

export function describeInterpreter(candidate: PythonCandidate, probe: PythonProbe): PythonInterpreter {
  const problem = interpreterProblem(candidate.path, probe);
  return {
    ...candidate,
    aliases: [],
    pythonVersion: probe.pythonVersion,
    torchVersion: probe.torchVersion,
    cuda: probe.cuda,
    missing: MODULES.filter((m) => m.module in probe.missing).map((m) => m.name),
    ok: problem === null,
    problem,
  };
}

/** Probes one interpreter the user named. */
export async function inspectInterpreter(
  python: string,
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; foundAs?: string } = {},
): Promise<PythonInterpreter> {
  const probe = await probeInterpreter(python, opts);
  return describeInterpreter({ path: python, foundAs: [opts.foundAs ?? 'chosen'] }, probe);
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Every candidate, probed. Paths that turn out to run the same interpreter (same real executable and sys.prefix:
 * a pyenv shim and the version it runs, python and python3) become one entry with the others as aliases.
 */
export async function discoverInterpreters(opts: DiscoverOptions = {}): Promise<PythonInterpreter[]> {
  const candidates = listCandidates(opts);
  const probes = await mapLimited(candidates, opts.concurrency ?? PROBE_CONCURRENCY, (c) =>
    probeInterpreter(c.path, { env: opts.env, timeoutMs: opts.timeoutMs }),
  );
  const byIdentity = new Map<string, PythonInterpreter>();
  const out: PythonInterpreter[] = [];
  candidates.forEach((c, i) => {
    const p = probes[i];
    const identity = p.executable && p.prefix !== null ? `${p.executable}\0${p.prefix}` : null;
    const same = identity ? byIdentity.get(identity) : undefined;
    if (same) {
      same.aliases.push(c.path);
      for (const f of c.foundAs) if (!same.foundAs.includes(f)) same.foundAs.push(f);
      return;
    }
    const entry = describeInterpreter(c, p);
    if (identity) byIdentity.set(identity, entry);
    out.push(entry);
  });
  return out;
}
