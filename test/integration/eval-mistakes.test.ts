// Likely label errors on the shipped noisy samples, with the shipped tiny model: the ranking over every
// split must put most planted errors near its top. noise.json (what was planted) is read by this test only.
// Acceptance: the top 2 × (number planted) of the ranking hold at least 70% of the planted errors.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../electron/backend/index';
import { importDataset } from '../../electron/datasets/importer';
import { ALL_SPLITS, runEvaluation } from '../../electron/eval/run-eval';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const modelDir = path.join(repo, 'assets', 'models', 'mome-tiny');
const quiet = { signal: new AbortController().signal, progress: () => undefined, throwIfCancelled: () => undefined };
const backend = createBackend({ home: tempDir(), mode: 'browser' });
afterAll(() => backend.close());

interface Noise {
  captions: { sentid: number }[];
  nlvr2: { identifier: string }[];
}

async function recovered(sample: string, task: 'retrieval' | 'nlvr2') {
  const root = path.join(repo, 'assets', 'datasets', sample);
  const noise = JSON.parse(fs.readFileSync(path.join(root, 'noise.json'), 'utf8')) as Noise;
  const planted = new Set(
    task === 'retrieval' ? noise.captions.map((c) => String(c.sentid)) : noise.nlvr2.map((e) => e.identifier),
  );
  const { datasetId } = await importDataset(backend.db, { root }, quiet);
  const result = await runEvaluation(
    backend.db,
    { task, modelDir, datasetId, split: ALL_SPLITS, device: 'cpu', cacheDir: path.join(backend.home.cache, 'emb') },
    quiet,
  );
  const top = result.mistakes.slice(0, 2 * planted.size);
  const found = top.filter((m) => planted.has(m.id)).length;
  // the figure for the record
  console.log(
    `${sample}: ${found} of ${planted.size} planted errors in the top ${top.length} (${((100 * found) / planted.size).toFixed(1)}%)`,
  );
  return found / planted.size;
}

describe('likely label errors on the shipped samples (shipped tiny model)', () => {
  it.skipIf(!fs.existsSync(modelDir)).each([
    ['coco-sample', 'retrieval'],
    ['flickr30k-sample', 'retrieval'],
    ['nlvr2-sample', 'nlvr2'],
  ] as const)(
    '%s (%s): the top 2× planted hold at least 70 percent of the planted errors',
    async (sample, task) => {
      expect(await recovered(sample, task)).toBeGreaterThanOrEqual(0.7);
    },
    300_000,
  );
});
