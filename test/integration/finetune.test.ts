// Fine-tuning in the app: the job exports the corrected data, trains with the real PyTorch trainer as a child
// process, registers a new model version and evaluates it before and after; cancelling leaves no trainer behind
// (killing the app: finetune-crash.test.ts).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../../electron/backend/index';
import type {
  EvalRun,
  FineTune,
  FineTunePreview,
  Job,
  LabelSnapshotDiff,
  ModelCard,
  ModelVersion,
} from '../../electron/api/schemas';
import { tempDir } from './helpers/temp';
import {
  alive,
  correctNlvr2Noise,
  fineTune,
  importModel,
  importSample,
  randomModelDir,
  repo,
  trainerPid,
  waitFor,
} from './helpers/finetune';

let b: Backend;
let nlvr2: number;
let baseId: number;
let modelDir: string;

const noise = JSON.parse(fs.readFileSync(path.join(repo, 'assets/datasets/nlvr2-sample/noise.json'), 'utf8')) as {
  nlvr2: { identifier: string; true_label: string; given_label: string }[];
};

beforeAll(async () => {
  b = createBackend({ home: tempDir(), mode: 'browser' });
  nlvr2 = await importSample(b, 'nlvr2-sample');
  modelDir = randomModelDir(path.join(tempDir(), 'tiny-random'));
  baseId = await importModel(b, modelDir);
}, 120_000);
afterAll(() => b.close());

describe('fine-tune job', () => {
  it('trains on the corrected labels, registers a child version and evaluates it before and after', async () => {
    const before = (await b.call('previewFineTune', { datasetId: nlvr2 })) as FineTunePreview;
    expect(before.counts).toEqual({
      corrections: 0,
      hardNegatives: 0,
      extraPositives: 0,
      examples: 258,
      pendingLeftOut: 0,
    });
    expect(before.defaults).toMatchObject({ task: 'nlvr2', baseModelId: baseId, lr: 5e-5, device: 'auto' });
    expect(before.python.found).toBe(true);
    expect(before.estimate.seconds).toBeGreaterThan(0);
    expect(await correctNlvr2Noise(b, nlvr2)).toBe(noise.nlvr2.length);
    const preview = (await b.call('previewFineTune', { datasetId: nlvr2 })) as FineTunePreview;
    expect(preview.counts.corrections).toBe(noise.nlvr2.length);
    expect(preview.summary).toBe(`NLVR2 on nlvr2-sample train with my ${noise.nlvr2.length} corrections`);

    const ft = await fineTune(b, { datasetId: nlvr2, maxSteps: 6, batchSize: 16 });
    // the trainer saw the corrected labels: 129 True in the original train.json, each fix moves one
    const fixedToTrue = noise.nlvr2.filter((n) => n.true_label === 'True').length;
    expect(ft.counts.true).toBe(129 + fixedToTrue - (noise.nlvr2.length - fixedToTrue));
    expect(ft.points.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ft.mode).toBe('full');
    const models = (await b.call('listModels', {})) as ModelVersion[];
    const child = models.find((m) => m.id === ft.modelId)!;
    expect(child.parentId).toBe(baseId);
    const lineage = JSON.parse(fs.readFileSync(path.join(child.dir, 'mome.json'), 'utf8')).provenance.lineage;
    expect(lineage.parent.model_id).toBe(baseId);
    expect(lineage.data_snapshot).toBe(ft.dataSnapshot);
    expect(lineage.finetune).toMatchObject({ task: 'nlvr2', lr: 5e-5, batch_size: 16, max_steps: 6 });
    const runs = (await b.call('listEvalRuns', { datasetId: nlvr2 })) as EvalRun[];
    const beforeRun = runs.find((r) => r.id === ft.beforeRunId)!;
    const afterRun = runs.find((r) => r.id === ft.afterRunId)!;
    expect([beforeRun.split, afterRun.split]).toEqual(['dev', 'dev']);
    expect(beforeRun.modelDir).toBe(ft.baseDir);
    expect(afterRun.modelDir).toBe(child.dir);
    const jobDir = path.join(b.home.root, 'finetune', String(ft.jobId));
    expect(fs.readdirSync(jobDir).sort()).toEqual(['job.json', 'pairs.jsonl', 'trainer.log']);
    expect(fs.existsSync(ft.baseDir)).toBe(true);
    // the labels it trained on: a snapshot taken by the fine-tune, linked from the new version's card
    expect(ft.labelSnapshotId).not.toBeNull();
    expect(ft.parentLabelSnapshotId).toBeNull(); // the base was imported, not trained here
    expect(lineage.parent.label_snapshot).toBe(ft.labelSnapshotId);
    const card = (await b.call('getModelCard', { id: child.id })) as ModelCard;
    expect(card.labelSnapshot).toMatchObject({
      id: ft.labelSnapshotId,
      reason: 'finetune',
      finetuneJobId: ft.jobId,
      modelId: child.id,
      corrections: noise.nlvr2.length,
      pendingLeftOut: 0,
    });
    const changed = (await b.call('diffLabelSnapshots', {
      datasetId: nlvr2,
      fromId: ft.parentLabelSnapshotId ?? null,
      toId: ft.labelSnapshotId,
    })) as LabelSnapshotDiff;
    expect(changed.total).toBe(noise.nlvr2.length);
  }, 180_000);

  it('without an interpreter that imports torch, the sheet and the job say how to install one', async () => {
    const before = process.env.MOME_PYTHON;
    process.env.MOME_PYTHON = '/nonexistent/python3';
    try {
      const p = (await b.call('previewFineTune', { datasetId: nlvr2 })) as FineTunePreview;
      expect(p.python).toMatchObject({ found: false, path: null });
      expect(p.python.message).toMatch(/sudo apt-get install python3-torch/);
      const job = (await b.call('startFineTune', { datasetId: nlvr2, maxSteps: 2 })) as Job;
      const done = await b.jobs.wait(job.id);
      expect(done.state).toBe('failed');
      expect(done.error).toMatch(/No Python interpreter that imports torch was found.*apt-get install python3-torch/);
    } finally {
      if (before === undefined) delete process.env.MOME_PYTHON;
      else process.env.MOME_PYTHON = before;
    }
  }, 120_000);

  it('a retrieval fine-tune trains with the hard negatives marked in the labels', async () => {
    const coco = await importSample(b, 'coco-sample');
    await b.call('editLabels', {
      edits: [{ datasetId: coco, kind: 'pair', key: '237323|4', field: 'relation', value: 'hard_negative' }],
      author: 'test',
    });
    const p = (await b.call('previewFineTune', { datasetId: coco })) as FineTunePreview;
    expect(p.counts.hardNegatives).toBe(1);
    expect(p.summary).toMatch(/^Retrieval on coco-sample train with my \d+ corrections and 1 hard negatives$/);
    const ft = await fineTune(b, { datasetId: coco, maxSteps: 2, batchSize: 12 });
    expect(ft.counts.hard_negatives).toBe(1);
    expect(ft.task).toBe('retrieval');
    expect(ft.afterRunId).not.toBeNull();
  }, 180_000);

  it('cancel sends SIGTERM: the trainer writes a checkpoint and exits, no process is left; resume finishes it', async () => {
    const job = (await b.call('startFineTune', { datasetId: nlvr2, maxSteps: 40, batchSize: 8 })) as Job;
    const running = await waitFor(
      () => b.call('getFineTune', { jobId: job.id }) as Promise<FineTune>,
      (ft) => ft.points.length > 0 && trainerPid(ft) !== null,
    );
    const pid = trainerPid(running)!;
    expect(alive(pid)).toBe(true);
    await b.call('cancelJob', { id: job.id });
    const done = await b.jobs.wait(job.id);
    expect(done.state).toBe('cancelled');
    expect(alive(pid)).toBe(false);
    const stopped = (await b.call('getFineTune', { jobId: job.id })) as FineTune;
    expect(stopped.logTail.some((l) => l.startsWith('stopped'))).toBe(true);
    expect(stopped.modelId).toBeNull();
    expect(stopped.resumable).toBe(true);
    const at = stopped.points.at(-1)!.step;
    expect(at).toBeLessThan(40);

    const resumed = (await b.call('resumeFineTune', { jobId: job.id })) as Job;
    expect((await b.jobs.wait(resumed.id)).state).toBe('succeeded');
    const ft = (await b.call('getFineTune', { jobId: resumed.id })) as FineTune;
    expect(ft.logTail.find((l) => l.startsWith('resumed'))).toContain(`"step":${at}`);
    expect(ft.points.map((p) => p.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(ft.modelId).not.toBeNull();
    expect(ft.resumable).toBe(false); // the checkpoint is gone once the model folder is written
    await expect(b.call('resumeFineTune', { jobId: resumed.id })).rejects.toThrow(/only a stopped one/);
  }, 180_000);
});
