// The embedded default shipped in assets/: the tiny model and the sample datasets.
import fs from 'node:fs';
import path from 'node:path';
import { assetsDir } from '../../model-runtime/src/index';

export { assetsDir };

export function defaultModelDir(): string | null {
  const dir = assetsDir();
  const model = dir ? path.join(dir, 'models', 'mome-tiny') : null;
  return model && fs.existsSync(path.join(model, 'mome.json')) ? model : null;
}

/** The sample datasets shipped in assets/datasets/ (each a folder in its real format). */
export function sampleDatasetDirs(): string[] {
  const dir = assetsDir();
  const datasets = dir ? path.join(dir, 'datasets') : null;
  if (!datasets || !fs.existsSync(datasets)) return [];
  return fs
    .readdirSync(datasets, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => path.join(datasets, e.name))
    .sort();
}
