// The Python interpreter is the user's choice: discovery probes the real interpreters of this machine, a choice
// that cannot run MoME's Python is refused with what it lacks, a good one is remembered in the home and is what
// fine-tunes and conversions run (findPython), MOME_PYTHON still wins, and null goes back to the automatic search.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../../electron/backend/index';
import type { FineTunePreview, PythonInterpreter, PythonInUse } from '../../electron/api/schemas';
import { discoverInterpreters, inspectInterpreter } from '../../model-runtime/src/python-interpreters';
import { findPython, searchPython } from '../../model-runtime/src/python';
import { importSample } from './helpers/finetune';
import { tempDir } from './helpers/temp';

const SYSTEM = '/usr/bin/python3'; // Debian's python3-torch (1.13)
const PYENV_SHIM = '/root/.pyenv/shims/python3'; // a Python 3.11 without torch, first on PATH here
type Listing = { interpreters: PythonInterpreter[]; inUse: PythonInUse; minimumTorch: string };

let userHome: string;
/** A real interpreter without torch: the pyenv shim where there is one, else a venv without site packages. */
let torchless: string;
/** Real venvs of the system Python in ~/.venvs: one sees its torch 1.13, one has a torch older than the minimum. */
let venvPython: string;
let oldTorchPython: string;

function venv(dir: string, systemSitePackages: boolean): string {
  const args = ['-m', 'venv', '--without-pip', ...(systemSitePackages ? ['--system-site-packages'] : []), dir];
  execFileSync(SYSTEM, args, { stdio: 'ignore' });
  return path.join(dir, 'bin', 'python');
}

beforeAll(() => {
  userHome = tempDir('mome-python-home-');
  venvPython = venv(path.join(userHome, '.venvs', 'torch-system'), true);
  oldTorchPython = venv(path.join(userHome, '.venvs', 'old-torch'), true);
  const site = execFileSync(oldTorchPython, ['-c', 'import site; print(site.getsitepackages()[0])'], {
    encoding: 'utf8',
  }).trim();
  // a torch package older than the minimum, found before the system one (the venv's site-packages come first)
  fs.mkdirSync(path.join(site, 'torch'));
  fs.writeFileSync(path.join(site, 'torch', '__init__.py'), '__version__ = "1.12.1"\n');
  torchless = fs.existsSync(PYENV_SHIM) ? PYENV_SHIM : venv(path.join(userHome, '.venvs', 'bare'), false);
}, 60_000);

describe('discovery', () => {
  it('finds /usr/bin/python3 with its torch, the venvs in ~/.venvs, and says what each lacks', async () => {
    const found = await discoverInterpreters({ home: userHome, extra: [{ path: torchless, foundAs: ['test'] }] });
    const system = found.find((i) => i.path === SYSTEM || i.aliases.includes(SYSTEM));
    expect(system).toMatchObject({ ok: true, problem: null, missing: [], cuda: { available: false, devices: [] } });
    expect(system!.torchVersion).toMatch(/^1\.13\./);
    expect(system!.pythonVersion).toMatch(/^3\.\d+\.\d+$/);

    // a venv is its own interpreter even though its python is a symlink to the system one
    const inVenv = found.find((i) => path.dirname(i.path) === path.dirname(venvPython));
    expect(inVenv).toMatchObject({ ok: true, foundAs: ['venv (~/.venvs)'], torchVersion: system!.torchVersion });
    expect(inVenv).not.toBe(system);

    const old = found.find((i) => path.dirname(i.path) === path.dirname(oldTorchPython))!;
    expect(old.ok).toBe(false);
    expect(old.problem).toContain(`\`${old.path}\` has torch 1.12.1, older than 1.13`);

    const bare = found.find((i) => i.path === torchless || i.aliases.includes(torchless))!;
    expect(bare).toMatchObject({ ok: false, torchVersion: null });
    expect(bare.problem).toMatch(
      new RegExp(
        `^\`${bare.path}\` cannot import torch: ModuleNotFoundError: No module named 'torch'\\. ` +
          'Install PyTorch into it \\(pip install torch\\) or choose another interpreter\\.',
      ),
    );
  }, 120_000);

  it('names the modules besides torch an interpreter lacks', async () => {
    const probed = await inspectInterpreter(torchless);
    for (const m of probed.missing) expect(probed.problem).toContain(m);
    if (probed.missing.includes('onnx')) expect(probed.problem).toMatch(/pip install .*onnx/);
  });

  it('reports a probe that cannot run instead of failing', async () => {
    const probed = await inspectInterpreter(path.join(userHome, 'no-such-python'));
    expect(probed).toMatchObject({ ok: false, pythonVersion: null });
    expect(probed.problem).toMatch(/could not be probed: it does not exist/);
  });
});

describe('the chosen interpreter', () => {
  let home: string;
  let b: Backend;
  const setting = () =>
    (b.db.prepare(`SELECT value FROM settings WHERE key = 'python_interpreter'`).get() as { value: string } | undefined)
      ?.value;

  beforeAll(() => {
    delete process.env.MOME_PYTHON;
    home = tempDir();
    b = createBackend({ home, mode: 'browser' });
  });
  afterAll(() => b.close());

  it('refuses an interpreter without torch, naming it and what it lacks, and saves nothing', async () => {
    const automatic = await searchPython();
    await expect(b.call('setPythonInterpreter', { path: torchless })).rejects.toMatchObject({
      code: 'invalid_arguments',
      message: expect.stringMatching(
        new RegExp(`^\`${torchless}\` cannot import torch: .*Install PyTorch into it \\(pip install torch\\)`),
      ),
    });
    await expect(b.call('setPythonInterpreter', { path: oldTorchPython })).rejects.toThrow(
      /has torch 1\.12\.1, older than 1\.13, the minimum/,
    );
    await expect(b.call('setPythonInterpreter', { path: 'python3' })).rejects.toThrow(/path must be absolute/);
    await expect(b.call('setPythonInterpreter', { path: '/nonexistent/bin/python' })).rejects.toMatchObject({
      code: 'not_found',
    });
    expect(setting()).toBeUndefined();
    expect(findPython()).toBe(automatic);
  }, 60_000);

  it('saves a good one; the list marks it in use; it survives reopening and is what fine-tunes run', async () => {
    const chosen = (await b.call('setPythonInterpreter', { path: SYSTEM })) as {
      interpreter: PythonInterpreter;
      inUse: PythonInUse;
    };
    expect(chosen.inUse).toMatchObject({ source: 'chosen', path: SYSTEM, chosen: SYSTEM, problem: null });
    expect(chosen.interpreter).toMatchObject({ path: SYSTEM, ok: true, inUse: true });
    expect(findPython()).toBe(SYSTEM);

    // a venv's folder is taken as its interpreter
    const venvDir = path.dirname(path.dirname(venvPython));
    const r = (await b.call('setPythonInterpreter', { path: venvDir })) as { inUse: PythonInUse };
    expect(r.inUse).toMatchObject({ source: 'chosen', path: path.join(venvDir, 'bin', 'python3') });
    const chosenPath = r.inUse.path!;
    expect(setting()).toBe(chosenPath);

    const listing = (await b.call('listPythonInterpreters', {})) as Listing;
    expect(listing.minimumTorch).toBe('1.13');
    expect(listing.inUse).toMatchObject({ source: 'chosen', path: chosenPath, problem: null });
    const inUse = listing.interpreters.filter((i) => i.inUse);
    expect(inUse.map((i) => i.path)).toEqual([chosenPath]);
    expect(inUse[0].foundAs).toContain('chosen');
    expect(listing.interpreters.find((i) => i.path === SYSTEM)?.inUse).toBe(false);

    await b.close();
    expect(findPython()).not.toBe(chosenPath); // forgotten with the backend that applied it …
    b = createBackend({ home, mode: 'browser' });
    expect(findPython()).toBe(chosenPath); // … and read back from the home
    const datasetId = await importSample(b, 'nlvr2-sample');
    const preview = (await b.call('previewFineTune', { datasetId })) as FineTunePreview;
    expect(preview.python).toEqual({ found: true, path: chosenPath, message: null });
  }, 120_000);

  it('MOME_PYTHON still wins, and the listing says so', async () => {
    process.env.MOME_PYTHON = SYSTEM;
    try {
      const listing = (await b.call('listPythonInterpreters', {})) as Listing;
      expect(listing.inUse).toMatchObject({ source: 'MOME_PYTHON', path: SYSTEM, chosen: setting() });
      const marked = listing.interpreters.filter((i) => i.inUse);
      expect(marked.map((i) => i.path)).toEqual([SYSTEM]);
      expect(marked[0].foundAs).toContain('MOME_PYTHON');
      expect(findPython()).toBe(SYSTEM);
    } finally {
      delete process.env.MOME_PYTHON;
    }
  }, 120_000);

  it('null goes back to the automatic search, also after reopening', async () => {
    const r = (await b.call('setPythonInterpreter', { path: null })) as { interpreter: null; inUse: PythonInUse };
    const automatic = await searchPython();
    expect(r).toEqual({
      interpreter: null,
      inUse: { source: 'automatic', path: automatic, chosen: null, problem: null },
    });
    expect(setting()).toBeUndefined();
    expect(findPython()).toBe(automatic);
    await b.close();
    b = createBackend({ home, mode: 'browser' });
    expect(findPython()).toBe(automatic);
    expect(((await b.call('listPythonInterpreters', {})) as Listing).inUse.source).toBe('automatic');
  }, 120_000);
});
