// The review queue against planted label errors, on held-out synthetic sets (generator seeds 7301-7303, which no
// training, sample or other test uses) with the shipped tiny model: `mome review-queue` (the app's evaluation,
// scoring, cached embeddings and diversity step) builds the queue; noise.json, read by this test only, says what
// was planted. The measure, fixed in advance: the share of the planted items within the first 2 × (number planted)
// items of the queue, beside the label-error ranking alone (weights 1 / 0, no spacing) and a random order
// (expected share 2 × planted / items). The goal is 80%; it is printed, not asserted, where the shipped model is
// too weak to reach it (its NLVR2 head is near chance on held-out data: see its mome.json). Asserted: the queue
// holds about as many as the label-error ranking (within 10% of the planted items) and more than chance does.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { combineScores, orderQueue } from '../../electron/eval/review-score';
import { findTorchPython } from '../../scripts/lib.mjs';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const model = path.join(repo, 'assets', 'models', 'mome-tiny');
const home = tempDir();

function synth(args: string[]): string {
  const out = tempDir('mome-planted-');
  execFileSync(findTorchPython() ?? 'python3', ['-m', 'mome', 'synth', '--out', out, '--noise', '0.05', ...args], {
    env: { ...process.env, PYTHONPATH: path.join(repo, 'model-runtime', 'python') },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return out;
}

interface Queue {
  items: { kind: string; id: string | number; score: number; signals: { labelError: number; uncertainty: number } }[];
}

function queue(dataset: string, split: string): Queue {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'electron/cli/main.ts',
      'review-queue',
      '--model',
      model,
      '--dataset',
      dataset,
      '--split',
      split,
    ],
    { cwd: repo, encoding: 'utf8', env: { ...process.env, MOME_HOME: home }, maxBuffer: 1 << 28 },
  );
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Queue;
}

function measure(name: string, q: Queue, planted: Set<string>, total: number) {
  expect(q.items.length).toBe(total); // every item of the split is in the queue
  const top = 2 * planted.size;
  const found = (ids: (string | number)[]) => ids.slice(0, top).filter((id) => planted.has(String(id))).length;
  const inQueue = found(q.items.map((i) => i.id));
  // the label-error ranking alone: the same signals, weights 1 and 0, no spacing
  const labelError = Float32Array.from(q.items, (i) => i.signals.labelError);
  const uncertainty = Float32Array.from(q.items, (i) => i.signals.uncertainty);
  const alone = orderQueue(combineScores(labelError, uncertainty, { labelError: 1, uncertainty: 0, diversity: 0 }));
  const byLabelError = found(alone.map((i) => q.items[i].id));
  const chance = top / total;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  console.log(
    `${name}: first ${top} of ${total} items hold ${inQueue} of ${planted.size} planted (${pct(inQueue / planted.size)}); ` +
      `label-error ranking alone ${byLabelError} (${pct(byLabelError / planted.size)}); random ${pct(chance)}; goal 80%`,
  );
  return { inQueue, byLabelError, share: inQueue / planted.size, chance };
}

describe('review queue against planted errors (shipped tiny model, held-out seeds)', () => {
  it.each([
    ['captions, the model’s world', ['--kind', 'coco', '--size', '200', '--seed', '7301', '--world', 'tiny']],
    ['captions, a shifted world', ['--kind', 'coco', '--size', '150', '--seed', '7303', '--world', 'shift']],
  ])(
    '%s: 5% captions on the wrong image',
    (name, args) => {
      const root = synth([...args, '--split', 'test']);
      const noise = JSON.parse(fs.readFileSync(path.join(root, 'noise.json'), 'utf8')) as {
        captions: { sentid: number }[];
      };
      const planted = new Set(noise.captions.map((c) => String(c.sentid)));
      const total = (
        JSON.parse(fs.readFileSync(path.join(root, 'dataset_coco.json'), 'utf8')) as { images: { sentids: number[] }[] }
      ).images.reduce((n, im) => n + im.sentids.length, 0);
      expect(planted.size / total).toBeCloseTo(0.05, 1);
      const r = measure(name, queue(root, 'test'), planted, total);
      expect(r.inQueue).toBeGreaterThanOrEqual(r.byLabelError - Math.ceil(0.1 * planted.size));
      expect(r.share).toBeGreaterThan(5 * r.chance);
    },
    300_000,
  );

  it('NLVR2: 5% flipped labels', () => {
    const root = synth(['--kind', 'nlvr2', '--size', '400', '--seed', '7302', '--world', 'tiny', '--split', 'dev']);
    const noise = JSON.parse(fs.readFileSync(path.join(root, 'noise.json'), 'utf8')) as {
      nlvr2: { identifier: string }[];
    };
    const planted = new Set(noise.nlvr2.map((e) => e.identifier));
    const total = fs.readFileSync(path.join(root, 'dev.json'), 'utf8').split('\n').filter(Boolean).length;
    const r = measure('NLVR2', queue(root, 'dev'), planted, total);
    expect(r.inQueue).toBeGreaterThanOrEqual(r.byLabelError - Math.ceil(0.1 * planted.size));
    expect(r.share).toBeGreaterThan(r.chance);
  }, 300_000);
});
