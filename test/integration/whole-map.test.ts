// The map of every image and caption of a retrieval run: computed as a job from the cached embeddings of a real
// evaluation (a small random model on the shipped COCO-format sample, every split), its points as base64
// columns, kept in a file under the home's cache folder so a second backend on the same home reads it back.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddingMapItem, EmbeddingMapPoints, EvalItem, Job } from '../../electron/api/schemas';
import { createBackend } from '../../electron/backend/index';
import { importDataset } from '../../electron/datasets/importer';
import { runEvaluation, type EvalResult } from '../../electron/eval/run-eval';
import { exportRandomModels } from './helpers/models';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const quiet = { signal: new AbortController().signal, progress: () => undefined, throwIfCancelled: () => undefined };
const home = tempDir();
let backend = createBackend({ home, mode: 'browser' });
const cacheDir = path.join(backend.home.cache, 'embeddings');
afterAll(() => backend.close());

const bytes = (s: string) => Buffer.from(s, 'base64');
const f32 = (s: string) => {
  const b = bytes(s);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const i32 = (s: string) => {
  const b = bytes(s);
  return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

async function mapJob(runId: number): Promise<Job> {
  const job = (await backend.call('startEmbeddingMap', { runId })) as Job;
  return backend.jobs.wait(job.id);
}
const points = async (runId: number) => (await backend.call('getEmbeddingMapPoints', { runId })) as EmbeddingMapPoints;

let run: EvalResult;
let coco: number;
let nlvr2Run: number;
beforeAll(async () => {
  const [model] = exportRandomModels([{ out: path.join(tempDir('mome-map-models-'), 'model1'), seed: 1 }]);
  coco = (await importDataset(backend.db, { root: path.join(repo, 'assets', 'datasets', 'coco-sample') }, quiet))
    .datasetId;
  const nlvr2 = (
    await importDataset(backend.db, { root: path.join(repo, 'assets', 'datasets', 'nlvr2-sample') }, quiet)
  ).datasetId;
  const evaluate = (task: 'retrieval' | 'nlvr2', datasetId: number, split: string) =>
    runEvaluation(backend.db, { task, modelDir: model, datasetId, split, k: 10, device: 'cpu', cacheDir }, quiet);
  run = await evaluate('retrieval', coco, '*');
  nlvr2Run = (await evaluate('nlvr2', nlvr2, 'dev')).runId;
}, 300_000);

describe('the whole map of a run', () => {
  let first: EmbeddingMapPoints;
  it('has no map before its job ran', async () => {
    expect((await points(run.runId)).stage).toBe('none');
  });

  it('maps every image and caption of every split, each with its split, kind and rank', async () => {
    const job = await mapJob(run.runId);
    expect(job.state).toBe('succeeded');
    expect(job.result).toMatchObject({ cached: false, points: run.counts.images + run.counts.captions });
    first = await points(run.runId);
    expect(first.stage).toBe('full');
    expect(first.n).toBe(run.counts.images + run.counts.captions);
    expect(first.total).toBe(first.n);
    expect(first.splits).toEqual(['restval', 'test', 'train', 'val']);
    const x = f32(first.x);
    const y = f32(first.y);
    const kind = bytes(first.kind);
    const rank = i32(first.rank);
    expect(x).toHaveLength(first.n);
    expect(x.every(Number.isFinite) && y.every(Number.isFinite)).toBe(true);
    expect(new Set(Array.from(x, (v) => v.toFixed(3))).size).toBeGreaterThan(first.n / 2); // spread, not collapsed
    expect(kind.filter((k) => k === 0)).toHaveLength(run.counts.images);
    expect(new Set(bytes(first.split))).toEqual(new Set([0, 1, 2, 3]));

    // ranks and splits agree with the run's stored items
    const all = Array.from({ length: first.n }, (_, i) => i);
    const items: EmbeddingMapItem[] = [];
    for (let s = 0; s < all.length; s += 1000)
      items.push(
        ...((await backend.call('getEmbeddingMapItems', {
          runId: run.runId,
          indices: all.slice(s, s + 1000),
        })) as EmbeddingMapItem[]),
      );
    const stored = new Map<string, number | null>();
    for (const k of ['caption', 'image'] as const)
      for (let offset = 0; ; offset += 1000) {
        const page = (await backend.call('getEvalItems', { runId: run.runId, kind: k, offset, limit: 1000 })) as {
          items: EvalItem[];
        };
        for (const it of page.items) stored.set(`${k}:${it.key}`, it.rank);
        if (page.items.length < 1000) break;
      }
    items.forEach((it, i) => {
      expect(it.index).toBe(i);
      expect(it.kind).toBe(kind[i] === 0 ? 'image' : 'caption');
      expect(it.rank).toBe(rank[i] < 0 ? null : rank[i]);
      expect(stored.get(`${it.kind}:${it.key}`)).toBe(it.rank);
      expect(it.split).toBe(first.splits[bytes(first.split)[i]]);
      expect(fs.existsSync(it.path)).toBe(true);
    });
  });

  it('colours edited items and judged pairs by their label state', async () => {
    const items = (await backend.call('getEmbeddingMapItems', {
      runId: run.runId,
      indices: Array.from({ length: first.n }, (_, i) => i).slice(0, 1000),
    })) as EmbeddingMapItem[];
    const caption = items.find((i) => i.kind === 'caption')!;
    const image = items.find((i) => i.kind === 'image')!;
    const other = items.find((i) => i.kind === 'image' && i.key !== image.key)!;
    // a flag and a judged pair: neither changes what was embedded, so the points stay the same
    await backend.call('editLabels', {
      edits: [{ datasetId: coco, kind: 'image', key: other.key, field: 'flag', value: 'bad' }],
    });
    await backend.call('editLabels', {
      edits: [
        {
          datasetId: coco,
          kind: 'pair',
          key: `${caption.key}|${image.key}`,
          field: 'relation',
          value: 'hard_negative',
        },
      ],
    });
    const label = bytes((await points(run.runId)).label);
    expect(label[other.index]).toBe(1);
    expect(label[caption.index]).toBe(2);
    expect(label[image.index]).toBe(2);
    expect(label.filter((v) => v > 0)).toHaveLength(3);
  });

  it('reads the map back from its file in a new backend on the same home', async () => {
    const dir = path.join(home, 'cache', 'maps');
    expect(fs.readdirSync(dir, { recursive: true }).some((f) => String(f).endsWith('.map'))).toBe(true);
    await backend.close();
    backend = createBackend({ home, mode: 'browser' });
    const job = await mapJob(run.runId);
    expect(job.result).toMatchObject({ cached: true });
    const again = await points(run.runId);
    expect(again.cached).toBe(true);
    expect(again.x === first.x && again.y === first.y).toBe(true);
  });

  it('recomputes a damaged map file instead of trusting it', async () => {
    const dir = path.join(home, 'cache', 'maps');
    const file = fs
      .readdirSync(dir, { recursive: true })
      .map(String)
      .find((f) => f.endsWith('.map'))!;
    fs.truncateSync(path.join(dir, file), 100);
    await backend.close();
    backend = createBackend({ home, mode: 'browser' });
    const job = await mapJob(run.runId);
    expect(job.result).toMatchObject({ cached: false });
    expect((await points(run.runId)).x === first.x).toBe(true); // seeded: the same map again
  });

  it('refuses an NLVR2 run and points outside the map, with messages', async () => {
    await expect(backend.call('startEmbeddingMap', { runId: nlvr2Run })).rejects.toThrow(/NLVR2 run/);
    await expect(backend.call('getEmbeddingMapItems', { runId: run.runId, indices: [first.n + 5] })).rejects.toThrow(
      /outside the map/,
    );
    await expect(backend.call('getEmbeddingMapPoints', { runId: 99999 })).rejects.toThrow();
  });
});
