// The failure-slice finder finds a failure planted in real data: every caption of the COCO sample that uses one
// rare word is moved to a wrong image (through the labeling API, as a careless annotator would), the shipped
// tiny model is evaluated on every split, and that word's slice must stand among the top 3 proposed. Then the
// captions are moved back and the model evaluated again: between the two runs, that word's group is what the
// second run fixed most (and, read the other way round, what it broke most).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangedSlices, FailureSlices } from '../../electron/api/schemas';
import { createBackend } from '../../electron/backend/index';
import { importDataset } from '../../electron/datasets/importer';
import { runEvaluation } from '../../electron/eval/run-eval';
import { words } from '../../electron/eval/slices';
import { tempDir } from './helpers/temp';

const repo = path.resolve(__dirname, '..', '..');
const SAMPLE = path.join(repo, 'assets', 'datasets', 'coco-sample');
const TINY = path.join(repo, 'assets', 'models', 'mome-tiny');
const quiet = { signal: new AbortController().signal, progress: () => undefined, throwIfCancelled: () => undefined };
const backend = createBackend({ home: tempDir(), mode: 'browser' });
afterAll(() => backend.close());

interface Caption {
  sentid: number;
  imgid: number;
  raw: string;
}
const images = (
  JSON.parse(fs.readFileSync(path.join(SAMPLE, 'dataset_coco.json'), 'utf8')) as {
    images: { imgid: number; sentences: Caption[] }[];
  }
).images;
const captions = images.flatMap((im) => im.sentences.map((s) => ({ ...s, imgid: im.imgid })));

/** The rarest word used by at least 60 captions (about 2.5% of the sample): support enough to be tested. */
function rareWord(): { word: string; members: Caption[] } {
  const byWord = new Map<string, Caption[]>();
  for (const c of captions) for (const w of new Set(words(c.raw))) byWord.set(w, [...(byWord.get(w) ?? []), c]);
  const [word, members] = [...byWord].filter(([, m]) => m.length >= 60).sort((a, b) => a[1].length - b[1].length)[0];
  return { word, members };
}

let planted: { word: string; members: Caption[] };
let slices: FailureSlices;
let changed: ChangedSlices;
let reversed: ChangedSlices;
beforeAll(async () => {
  const datasetId = (await importDataset(backend.db, { root: SAMPLE }, quiet)).datasetId;
  planted = rareWord();
  // each caption of the word to an image half the dataset away: a wrong image, never its own
  const wrong = (imgid: number) => images[(images.findIndex((im) => im.imgid === imgid) + 250) % images.length].imgid;
  await backend.call('editLabels', {
    edits: planted.members.map((c) => ({
      datasetId,
      kind: 'caption',
      key: String(c.sentid),
      field: 'image',
      value: String(wrong(c.imgid)),
    })),
    author: 'planted',
  });
  const cacheDir = tempDir();
  const evaluate = () =>
    runEvaluation(
      backend.db,
      { task: 'retrieval', modelDir: TINY, datasetId, split: '*', k: 10, device: 'cpu', cacheDir },
      quiet,
    );
  const run = await evaluate();
  slices = (await backend.call('findFailureSlices', {
    runId: run.runId,
    kind: 'caption',
    at: 5,
    minSupport: 30,
  })) as FailureSlices;
  // the captions back on their own images, and the model evaluated again
  await backend.call('editLabels', {
    edits: planted.members.map((c) => ({
      datasetId,
      kind: 'caption',
      key: String(c.sentid),
      field: 'image',
      value: String(c.imgid),
    })),
    author: 'planted',
  });
  const fixedRun = await evaluate();
  const q = { kind: 'caption', at: 5, minSupport: 30 };
  changed = (await backend.call('findChangedSlices', { a: run.runId, b: fixedRun.runId, ...q })) as ChangedSlices;
  reversed = (await backend.call('findChangedSlices', { a: fixedRun.runId, b: run.runId, ...q })) as ChangedSlices;
}, 360_000);

describe('failure slices on a planted failure', () => {
  it("put the planted word's captions among the top 3 slices", () => {
    const top = slices.slices.slice(0, 3).map((s) => `${s.feature}:${s.value}`);
    console.log(`planted word "${planted.word}" (${planted.members.length} captions); top slices: ${top.join(', ')}`);
    expect(top).toContain(`word:${planted.word}`);
    const found = slices.slices.find((s) => s.feature === 'word' && s.value === planted.word)!;
    expect(found.size).toBe(planted.members.length);
    expect(found.metric).toBeLessThan(slices.whole.metric);
  });
});

describe('the slices that changed most between two runs', () => {
  it("the planted word's group is what the corrected run fixed most, and read backwards what it broke", () => {
    const key = (s: ChangedSlices['fixed'][number]) => `${s.feature}:${s.value}`;
    expect(changed.fixed.slice(0, 3).map(key)).toContain(`word:${planted.word}`);
    expect(reversed.broke.slice(0, 3).map(key)).toContain(`word:${planted.word}`);
    const g = changed.fixed.find((s) => key(s) === `word:${planted.word}`)!;
    expect(g.size).toBe(planted.members.length);
    expect(g.delta).toBeCloseTo(g.b - g.a, 3);
    expect(g.delta).toBeCloseTo((100 * (g.fixedCount - g.brokenCount)) / g.size, 3);
    expect(g.ci95[0]).toBeGreaterThan(0); // surely better
    expect(g.ci95[1]).toBeGreaterThanOrEqual(g.delta);
    expect(g.fixedItems.length).toBe(Math.min(50, g.fixedCount));
    for (const it of g.fixedItems) expect(it.rankB < 5 && it.rankA >= 5).toBe(true);
    for (const s of changed.fixed) expect(s.delta).toBeGreaterThan(0);
    for (const s of changed.broke) expect(s.delta).toBeLessThan(0);
    // reading the two runs the other way round flips the sign of the same group's change
    const back = reversed.broke.find((s) => key(s) === `word:${planted.word}`)!;
    expect(back.delta).toBeCloseTo(-g.delta, 3);
  });
});
