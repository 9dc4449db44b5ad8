// Small random models for tests, exported by the real exporter (mome.export) into model folders: every
// parameter random and of a telling size (mome.model.randomize_), the BERT vocabulary of shared/fixtures.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTorchPython } from '../../../scripts/lib.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const VOCAB = path.join(repo, '..', 'shared', 'fixtures', 'bert-base-uncased', 'vocab.txt');

const SCRIPT = `import json, sys
from mome.config import tiny_config
from mome.export import export_model_dir
from mome.model import MomeModel, randomize_
overrides = json.loads(sys.argv[2])
for out, seed in zip(sys.argv[3::2], sys.argv[4::2]):
    cfg = tiny_config(**overrides)
    export_model_dir(randomize_(MomeModel(cfg), int(seed)).eval(), cfg, out, sys.argv[1],
                     provenance={'source': 'random test model'})`;

/**
 * Exports one random tiny model (4 layers, width 64, 32 px images; `overrides` change the config) per
 * (folder, seed), in one Python process. Returns the folders.
 */
export function exportRandomModels(
  models: { out: string; seed: number }[],
  overrides: Record<string, unknown> = {},
): string[] {
  const args = models.flatMap((m) => [m.out, String(m.seed)]);
  execFileSync(findTorchPython()!, ['-c', SCRIPT, VOCAB, JSON.stringify(overrides), ...args], {
    env: { ...process.env, PYTHONPATH: path.join(repo, 'model-runtime', 'python'), OMP_NUM_THREADS: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return models.map((m) => m.out);
}

const CHECKPOINT_SCRIPT = `import sys
from mome.config import tiny_config
from mome.checkpoint import save_official_checkpoint
from mome.model import MomeModel, randomize_
save_official_checkpoint(randomize_(MomeModel(tiny_config()), int(sys.argv[2])).eval(), sys.argv[1])`;

/** Saves one random tiny model in the official checkpoint layout (Lightning's state_dict wrapper) at `file`. */
export function writeRandomCheckpoint(file: string, seed: number): string {
  execFileSync(findTorchPython()!, ['-c', CHECKPOINT_SCRIPT, file, String(seed)], {
    env: { ...process.env, PYTHONPATH: path.join(repo, 'model-runtime', 'python'), OMP_NUM_THREADS: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return file;
}
