// `mome review-queue` from the command line: the queue the app would show, as {"items": [{kind, id, score, signals}]},
// with ids as the dataset files write them, every evaluated item once, highest score first.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportRandomModels } from './helpers/models';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const home = tempDir();
let model: string;

const mome = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'electron/cli/main.ts', ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, MOME_HOME: home },
  });

beforeAll(() => {
  model = exportRandomModels([{ out: path.join(tempDir('mome-review-model-'), 'model'), seed: 4 }])[0];
}, 120_000);

function checkShape(j: { items: { kind: string; id: unknown; score: number; signals: Record<string, number> }[] }) {
  const scores = j.items.map((i) => i.score);
  expect(scores).toEqual([...scores].sort((a, b) => b - a));
  for (const it of j.items) {
    expect(it.score >= 0 && it.score <= 1).toBe(true);
    expect(Object.keys(it.signals).sort()).toEqual(['labelError', 'uncertainty']);
  }
}

describe('mome review-queue', () => {
  it('captions of every split, by sentid', () => {
    const out = path.join(tempDir(), 'queue.json');
    const dataset = path.join(repo, 'assets', 'datasets', 'flickr30k-sample');
    const r = mome(['review-queue', '--model', model, '--dataset', dataset, '--split', 'all', '--json', out]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(fs.readFileSync(out, 'utf8'));
    const sentids = new Set<number>(
      JSON.parse(fs.readFileSync(path.join(dataset, 'dataset_flickr30k.json'), 'utf8')).images.flatMap(
        (im: { sentences: { sentid: number }[] }) => im.sentences.map((s) => s.sentid),
      ),
    );
    expect(j.items.length).toBeGreaterThan(0);
    expect(new Set(j.items.map((i: { id: number }) => i.id)).size).toBe(j.items.length);
    for (const it of j.items) {
      expect(it.kind).toBe('caption');
      expect(sentids.has(it.id)).toBe(true);
    }
    checkShape(j);
  });

  it('NLVR2 dev, by identifier', () => {
    const out = path.join(tempDir(), 'queue.json');
    const dataset = path.join(repo, 'assets', 'datasets', 'nlvr2-sample');
    const r = mome(['review-queue', '--model', model, '--dataset', dataset, '--split', 'dev', '--json', out]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(fs.readFileSync(out, 'utf8'));
    const dev = fs.readFileSync(path.join(dataset, 'dev.json'), 'utf8').split('\n').filter(Boolean);
    const ids = new Set(dev.map((l) => JSON.parse(l).identifier));
    expect(j.items).toHaveLength(dev.length);
    for (const it of j.items) {
      expect(it.kind).toBe('nlvr2');
      expect(ids.has(it.id)).toBe(true);
    }
    checkShape(j);
  });

  it('says what is missing', () => {
    const r = mome(['review-queue', '--dataset', 'x']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/usage: mome review-queue/);
  });
});
