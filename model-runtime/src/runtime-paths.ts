// Every file the app reads at run time (renderer files, assets/, the Python package, worker scripts) is found
// here, and only here, in each of the three ways the code runs:
// - source: TypeScript under tsx (tests, browser mode, the `mome` CLI); this file is
//   <checkout>/model-runtime/src/runtime-paths.ts;
// - build: Electron Forge's Vite bundle in a checkout (`electron-forge start`); this code is inside
//   <checkout>/.vite/build/*.cjs, with the checkout's assets/ and model-runtime/python beside it;
// - packaged: the same bundle in <resources>/app.asar/.vite/build (or <resources>/app/.vite/build), with
//   assets/ and python/ unpacked in <resources> (extraResource): Python cannot read inside an asar archive.
// It knows nothing of Electron: the packaged resources folder is the folder holding the app, which is what Electron
// sets as process.resourcesPath and what a packaged layout run under plain Node has.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export type RuntimeMode = 'source' | 'build' | 'packaged';

/** Worker threads: each is its own bundle entry (vite.main.config.ts) and a TypeScript file in source mode. */
export const WORKER_ENTRIES = {
  'preprocess-worker': 'model-runtime/src/image/preprocess-worker.ts',
  'projection-worker': 'model-runtime/src/embedding-map/projection-worker.ts',
  'dataset-worker': 'electron/datasets/dataset-worker.ts',
  'review-order-worker': 'electron/eval/review-order-worker.ts',
} as const;
export type WorkerName = keyof typeof WORKER_ENTRIES;

export interface RuntimeLayout {
  mode: RuntimeMode;
  /** The folder of the running code: model-runtime/src in source mode, .vite/build when bundled. */
  codeDir: string;
  /** The checkout (source and build modes), or the app folder (app.asar) when packaged. */
  appRoot: string;
  /** Where assets/ and the Python package live: the checkout, or the packaged resources folder. */
  resourcesDir: string;
}

export class RuntimeFileMissingError extends Error {
  constructor(what: string, tried: string[], hint: string) {
    super(`${what} was not found (looked in ${tried.join(', ')}). ${hint}`);
    this.name = 'RuntimeFileMissingError';
  }
}

/** The layout for code at `moduleUrl` (import.meta.url of this module; a parameter so tests can ask). */
export function layoutFor(moduleUrl: string): RuntimeLayout {
  const codeDir = path.dirname(fileURLToPath(moduleUrl));
  if (/\.[cm]?ts$/.test(fileURLToPath(moduleUrl))) {
    const checkout = path.resolve(codeDir, '..', '..');
    return { mode: 'source', codeDir, appRoot: checkout, resourcesDir: checkout };
  }
  const appRoot = path.resolve(codeDir, '..', '..');
  if (fs.existsSync(path.join(appRoot, 'model-runtime', 'python', 'mome'))) {
    return { mode: 'build', codeDir, appRoot, resourcesDir: appRoot };
  }
  return { mode: 'packaged', codeDir, appRoot, resourcesDir: path.dirname(appRoot) };
}

let current: RuntimeLayout | undefined;
export function runtimeLayout(): RuntimeLayout {
  return (current ??= layoutFor(import.meta.url));
}

/** assets/ (the tiny model, the sample datasets); MOME_ASSETS overrides. Null when it is not there. */
export function assetsDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const dir = env.MOME_ASSETS ?? path.join(runtimeLayout().resourcesDir, 'assets');
  return fs.existsSync(dir) ? dir : null;
}

/** The folder to put on PYTHONPATH so that `python -m mome` imports the package. */
export function pythonPackageDir(): string {
  const { mode, resourcesDir } = runtimeLayout();
  const dir =
    mode === 'packaged' ? path.join(resourcesDir, 'python') : path.join(resourcesDir, 'model-runtime', 'python');
  if (!fs.existsSync(path.join(dir, 'mome', '__init__.py'))) {
    throw new RuntimeFileMissingError(
      'The Python package (mome)',
      [dir],
      mode === 'packaged'
        ? 'The app was packaged without its python/ resource: reinstall MoME Studio.'
        : 'The checkout is incomplete: model-runtime/python/mome is missing.',
    );
  }
  return dir;
}

/** The built renderer (index.html and its assets); null when it has not been built. */
export function rendererDir(): string | null {
  const { mode, appRoot } = runtimeLayout();
  const candidates =
    mode === 'source'
      ? [path.join(appRoot, 'dist', 'renderer')]
      : // Forge's renderer build, then (electron-forge start in a checkout) scripts/build-renderer.mjs's output
        [path.join(appRoot, '.vite', 'renderer', 'main_window'), path.join(appRoot, 'dist', 'renderer')];
  return candidates.find((d) => fs.existsSync(path.join(d, 'index.html'))) ?? null;
}

/**
 * How to start a worker thread: the bundled .cjs beside this code, or in source mode the TypeScript file,
 * loaded through tsx's loader registered inside the worker (the parent's loader hooks do not reach workers).
 */
export function workerSource(name: WorkerName): { file: string } | { evalSource: string } {
  const { mode, codeDir, appRoot } = runtimeLayout();
  if (mode !== 'source') {
    const file = path.join(codeDir, `${name}.cjs`);
    if (!fs.existsSync(file)) {
      throw new RuntimeFileMissingError(
        `The worker script ${name}.cjs`,
        [codeDir],
        'The build is incomplete: rebuild the app.',
      );
    }
    return { file };
  }
  const ts = pathToFileURL(path.join(appRoot, WORKER_ENTRIES[name])).href;
  // tsx's ESM entry (package export "tsx/esm/api" -> import); require.resolve would give the CommonJS one.
  // tsx is a development dependency: present wherever the source runs.
  const tsxDir = path.dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const tsxApi = pathToFileURL(path.join(tsxDir, 'dist', 'esm', 'api', 'index.mjs')).href;
  return {
    evalSource: `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(ts)}); })`,
  };
}

/** Starts the named worker thread in whichever mode this code runs. */
export function startWorker(name: WorkerName, options: WorkerOptions = {}): Worker {
  const source = workerSource(name);
  return 'file' in source
    ? new Worker(source.file, options)
    : new Worker(source.evalSource, { ...options, eval: true });
}
