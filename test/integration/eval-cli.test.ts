// `mome eval` from the command line: the JSON file holds the metrics in percent, the provider, the time and
// the likely label errors, most likely wrong first, with ids as the dataset file writes them.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportRandomModels } from './helpers/models';
import { runMome } from './helpers/cli';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const home = tempDir();
let model: string;

const mome = (args: string[]) => runMome(home, args);

beforeAll(() => {
  model = exportRandomModels([{ out: path.join(tempDir('mome-cli-model-'), 'model'), seed: 4 }])[0];
}, 120_000);

describe('mome eval', () => {
  it('retrieval on every split writes metrics, provider, seconds and the mistakes', () => {
    const out = path.join(tempDir(), 'eval.json');
    const dataset = path.join(repo, 'assets', 'datasets', 'flickr30k-sample');
    const r = mome(['eval', 'retrieval', '--model', model, '--dataset', dataset, '--split', 'all', '--json', out]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(Object.keys(j.metrics).sort()).toEqual(['ir_r1', 'ir_r10', 'ir_r5', 'tr_r1', 'tr_r10', 'tr_r5']);
    for (const v of Object.values(j.metrics) as number[]) expect(v >= 0 && v <= 100).toBe(true);
    expect(j.metrics.ir_r1).toBeLessThanOrEqual(j.metrics.ir_r5);
    expect(j.provider).toBe('cpu');
    expect(j.seconds).toBeGreaterThan(0);
    const sentids = new Set<number>(
      JSON.parse(fs.readFileSync(path.join(dataset, 'dataset_flickr30k.json'), 'utf8')).images.flatMap(
        (im: { sentences: { sentid: number }[] }) => im.sentences.map((s) => s.sentid),
      ),
    );
    expect(j.mistakes.length).toBeGreaterThanOrEqual(Math.min(500, sentids.size));
    for (const m of j.mistakes) {
      expect(m.kind).toBe('caption');
      expect(sentids.has(m.id)).toBe(true);
    }
    const scores = j.mistakes.map((m: { score: number }) => m.score);
    expect(scores).toEqual([...scores].sort((a: number, b: number) => b - a));
  });

  it('nlvr2 on dev writes the accuracy and the examples it disagrees with, by identifier', () => {
    const out = path.join(tempDir(), 'nlvr2.json');
    const dataset = path.join(repo, 'assets', 'datasets', 'nlvr2-sample');
    const r = mome(['eval', 'nlvr2', '--model', model, '--dataset', dataset, '--split', 'dev', '--json', out]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(Object.keys(j.metrics)).toEqual(['accuracy']);
    const dev = fs.readFileSync(path.join(dataset, 'dev.json'), 'utf8').split('\n').filter(Boolean);
    expect(j.mistakes).toHaveLength(dev.length);
    const ids = new Set(dev.map((l) => JSON.parse(l).identifier));
    for (const m of j.mistakes) expect(m.kind === 'nlvr2' && ids.has(m.id)).toBe(true);
  });

  it('refuses a bad --rerank with a clear message', () => {
    const dataset = path.join(repo, 'assets', 'datasets', 'coco-sample');
    const r = mome(['eval', 'retrieval', '--model', model, '--dataset', dataset, '--rerank', 'ten']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--rerank must be a whole number, got "ten"/);
  });
});
