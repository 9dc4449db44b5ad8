// `mome review-queue` from the command line: the queue the app would show, as {"items": [{kind, id, score, signals}]},
// with ids as the dataset files write them, every evaluated item once, highest score first except where the
// diversity step holds a near-duplicate back (captions: by the embeddings the evaluation cached).
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../electron/backend/index';
import { reviewEmbeddings } from '../../electron/eval/review-embeddings';
import { worstNearDuplicatesPerWindow } from '../../electron/eval/review-score';
import { exportRandomModels } from './helpers/models';
import { runMome } from './helpers/cli';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const home = tempDir();
let model: string;

const mome = (args: string[]) => runMome(home, args);

beforeAll(() => {
  model = exportRandomModels([{ out: path.join(tempDir('mome-review-model-'), 'model'), seed: 4 }])[0];
}, 120_000);

interface Queue {
  runId: number;
  embedded: number;
  items: { kind: 'caption' | 'nlvr2'; id: string | number; score: number; signals: Record<string, number> }[];
}

function checkShape(j: Queue, sorted: boolean) {
  const scores = j.items.map((i) => i.score);
  if (sorted) expect(scores).toEqual([...scores].sort((a, b) => b - a));
  for (const it of j.items) {
    expect(it.score >= 0 && it.score <= 1).toBe(true);
    expect(Object.keys(it.signals).sort()).toEqual(['labelError', 'uncertainty']);
  }
}

describe('mome review-queue', () => {
  it('captions of every split, by sentid', async () => {
    const out = path.join(tempDir(), 'queue.json');
    const dataset = path.join(repo, 'assets', 'datasets', 'flickr30k-sample');
    // the shipped model: a random one's embeddings are all near-duplicates of each other, which no order spaces
    const shipped = path.join(repo, 'assets', 'models', 'mome-tiny');
    const r = mome(['review-queue', '--model', shipped, '--dataset', dataset, '--split', 'all', '--json', out]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(fs.readFileSync(out, 'utf8')) as Queue;
    const sentids = new Set<number>(
      JSON.parse(fs.readFileSync(path.join(dataset, 'dataset_flickr30k.json'), 'utf8')).images.flatMap(
        (im: { sentences: { sentid: number }[] }) => im.sentences.map((s) => s.sentid),
      ),
    );
    // every caption once
    expect(j.items.length).toBe(sentids.size);
    expect(new Set(j.items.map((i) => i.id)).size).toBe(j.items.length);
    for (const it of j.items) {
      expect(it.kind).toBe('caption');
      expect(sentids.has(it.id as number)).toBe(true);
    }
    checkShape(j, false);
    // near-duplicates spaced by the cached embeddings: no more of them in any 50 items than in the score order
    expect(j.embedded).toBe(j.items.length);
    const b = createBackend({ home, mode: 'browser' });
    try {
      const emb = (await reviewEmbeddings(b.db, j.runId, path.join(b.home.cache, 'embeddings'), j.items))!;
      const shown = j.items.map((_, i) => i);
      const byScore = [...shown].sort((x, y) => j.items[y].score - j.items[x].score);
      const dupShown = worstNearDuplicatesPerWindow(shown, emb.embeddings, emb.dim);
      const dupByScore = worstNearDuplicatesPerWindow(byScore, emb.embeddings, emb.dim);
      console.log(`near-duplicates in the worst 50 items: ${dupShown} (score order: ${dupByScore})`);
      expect(dupShown).toBeLessThanOrEqual(dupByScore);
      expect(dupByScore).toBeGreaterThan(0); // the sample has near-duplicates to space
      expect(shown).not.toEqual(byScore);
    } finally {
      await b.close();
    }
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
    // no cached embeddings for NLVR2: the score order
    expect(j.embedded).toBe(0);
    checkShape(j, true);
  });

  it('says what is missing or wrong', () => {
    const r = mome(['review-queue', '--dataset', 'x']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/usage: mome review-queue/);
    const bad = mome(['review-queue', '--model', model, '--dataset', 'x', '--diversity', '2']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--diversity takes a number from 0 to 1, not "2"/);
  });
});
