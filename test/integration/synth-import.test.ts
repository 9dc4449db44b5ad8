// The synthetic datasets (python -m mome synth) are real-format datasets: the importer reads them whole,
// with every image found, including NLVR2 train images in numbered sub-folders.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../electron/backend/index';
import { importDataset } from '../../electron/datasets/importer';
import { findTorchPython } from '../../scripts/lib.mjs';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const backend = createBackend({ home: tempDir(), mode: 'browser' });
afterAll(() => backend.close());
const quiet = { signal: new AbortController().signal, progress: () => undefined, throwIfCancelled: () => undefined };

function synth(args: string[]): string {
  const out = tempDir('mome-synth-');
  execFileSync(findTorchPython() ?? 'python3', ['-m', 'mome', 'synth', '--out', out, ...args], {
    env: { ...process.env, PYTHONPATH: path.join(repo, 'model-runtime', 'python') },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return out;
}

describe('synthetic datasets import as real ones', () => {
  it.each([
    ['coco', ['--kind', 'coco', '--size', '40', '--seed', '3', '--noise', '0.1'], { images: 40, captionsAtLeast: 200 }],
    ['flickr30k', ['--kind', 'flickr30k', '--size', '30', '--seed', '4'], { images: 30, captionsAtLeast: 150 }],
  ] as const)('%s', async (_kind, args, expected) => {
    const root = synth([...args]);
    const s = await importDataset(backend.db, { root }, quiet);
    expect(s.images).toBe(expected.images);
    expect(s.captions).toBeGreaterThanOrEqual(expected.captionsAtLeast);
    expect(s.missingImages).toBe(0);
  });

  it('nlvr2 with train images in numbered sub-folders', async () => {
    const root = synth(['--kind', 'nlvr2', '--size', '24', '--seed', '5', '--split', 'train']);
    expect(fs.existsSync(path.join(root, 'train.json'))).toBe(true);
    const s = await importDataset(backend.db, { root }, quiet);
    expect(s.splits.train.examples).toBe(24);
    expect(s.missingImages).toBe(0);
    const row = backend.db
      .prepare(`SELECT left_file FROM nlvr2_examples WHERE dataset_id = ? LIMIT 1`)
      .get(s.datasetId) as { left_file: string };
    expect(row.left_file).toMatch(/^images\/train\/\d+\/train-\d+-\d+-img0\.png$/);
  });
});
