// `npm run bench -- eval-cache`: a retrieval evaluation of every split of the shipped COCO-format sample,
// first with an empty embedding cache (every image decoded and encoded, every caption encoded), then again
// with the cache filled by the first run — the same code path as the app's job, in one run.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBackend } from '../electron/backend/index';
import { importDataset } from '../electron/datasets/importer';
import { ALL_SPLITS, runEvaluation } from '../electron/eval/run-eval';
import { findTorchPython } from '../scripts/lib.mjs';

const repo = path.resolve(import.meta.dirname, '..');
const quiet = { signal: new AbortController().signal, progress: () => undefined, throwIfCancelled: () => undefined };

/** The shipped tiny model when present, else a seeded random model of the same configuration. */
function tinyModel(dir: string): { dir: string; source: string } {
  const shipped = path.join(repo, 'assets', 'models', 'mome-tiny');
  if (fs.existsSync(path.join(shipped, 'mome.json'))) return { dir: shipped, source: 'assets/models/mome-tiny' };
  const script = `import sys
from mome.config import tiny_config
from mome.export import export_model_dir
from mome.model import MomeModel, randomize_
cfg = tiny_config()
export_model_dir(randomize_(MomeModel(cfg), 0).eval(), cfg, sys.argv[1], sys.argv[2], provenance={'source': 'benchmark'})`;
  const vocab = path.join(repo, '..', 'shared', 'fixtures', 'bert-base-uncased', 'vocab.txt');
  execFileSync(findTorchPython()!, ['-c', script, path.join(dir, 'model'), vocab], {
    env: { ...process.env, PYTHONPATH: path.join(repo, 'model-runtime', 'python') },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { dir: path.join(dir, 'model'), source: 'random tiny_config' };
}

export async function benchEvalCache(): Promise<Record<string, unknown>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mome-bench-cache-'));
  const model = tinyModel(dir);
  const backend = createBackend({ home: path.join(dir, 'home'), mode: 'browser' });
  try {
    const { datasetId } = await importDataset(
      backend.db,
      { root: path.join(repo, 'assets', 'datasets', 'coco-sample') },
      quiet,
    );
    const opts = {
      task: 'retrieval' as const,
      modelDir: model.dir,
      datasetId,
      split: ALL_SPLITS,
      k: 10,
      device: 'cpu' as const,
      cacheDir: path.join(dir, 'cache'),
    };
    const first = await runEvaluation(backend.db, opts, quiet);
    const second = await runEvaluation(backend.db, opts, quiet);
    const same = JSON.stringify(first.metrics) === JSON.stringify(second.metrics);
    return {
      benchmark: 'eval-cache',
      model: model.source,
      dataset: 'assets/datasets/coco-sample, every split',
      counts: first.counts,
      firstRun: { seconds: first.seconds, cacheHits: first.cache },
      cachedRun: { seconds: second.seconds, cacheHits: second.cache },
      speedup: first.seconds / second.seconds,
      sameMetrics: same,
      goal: 'speedup >= 20',
    };
  } finally {
    await backend.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
