// What a fine-tune of a dataset would use, before it starts: the corrections, judged pairs and training examples
// it trains on, sensible defaults, a time estimate, and whether an interpreter with PyTorch is there.
import fs from 'node:fs';
import path from 'node:path';
import type { FineTunePreview, FineTuneSettings } from '../api/schemas';
import type { Db } from '../store/db';
import { countInSplits } from '../datasets/items';
import type { DatasetInfo } from '../datasets/repository';
import { scanHistory } from '../labels/adjudication';
import { readModelConfig, findPython } from '../../model-runtime/src/index';

export const HELD_OUT = { retrieval: 'test', nlvr2: 'dev' } as const;
const TRAIN_SPLITS = { retrieval: ['train', 'restval'], nlvr2: ['train'] } as const;
/** Label fields that change what the model trains on (flags and notes do not). */
const TRAINING_FIELDS = { caption: ['raw', 'image', 'removed'], nlvr2: ['label', 'sentence'] };
// Effective throughput for the size rule (float32 training, small batches): measured rates replace it.
const CPU_FLOPS = 5e9;
const GPU_FLOPS = 3e13;

export function taskFor(kind: DatasetInfo['kind']): FineTuneSettings['task'] {
  return kind === 'nlvr2' ? 'nlvr2' : 'retrieval';
}

/**
 * What a fine-tune would read of the labels in force: targets whose training-relevant value differs from the
 * original (net of undo and revert), the judged pairs, and the corrections awaiting review it leaves out.
 */
function labelsInForce(db: Db, datasetId: number) {
  let corrections = 0;
  let pendingLeftOut = 0;
  let hardNegatives = 0;
  let extraPositives = 0;
  for (const f of scanHistory(db, datasetId).fields.values()) {
    if (f.state === 'pending') pendingLeftOut++;
    const value = f.inForce ? f.inForce.new_value : f.original;
    if (f.kind === 'pair' && f.field === 'relation') {
      if (value === '"hard_negative"') hardNegatives++;
      if (value === '"also_match"') extraPositives++;
    } else if (f.kind in TRAINING_FIELDS && TRAINING_FIELDS[f.kind as 'caption' | 'nlvr2'].includes(f.field)) {
      if (value !== f.original) corrections++;
    }
  }
  return { corrections, pendingLeftOut, hardNegatives, extraPositives };
}

function countExamples(db: Db, ds: DatasetInfo, task: FineTuneSettings['task']): number {
  return countInSplits(db, ds.id, task === 'nlvr2' ? 'nlvr2' : 'captions', TRAIN_SPLITS[task]);
}

export function defaults(task: FineTuneSettings['task'], baseModelId: number | null): FineTuneSettings {
  return {
    task,
    baseModelId,
    epochs: task === 'nlvr2' ? 10 : 5,
    lr: task === 'nlvr2' ? 5e-5 : 3e-5, // the paper's fine-tuning rates (spec §5)
    batchSize: 32,
    device: 'auto',
    mode: 'auto',
    maxSteps: null,
    seed: 0,
  };
}

/** Training samples per second by a size rule: ~6 FLOPs per parameter and token for forward + backward. */
export function ruleRate(baseDir: string, task: string, mode: string, device: string): number {
  const raw = readModelConfig(baseDir).raw as Record<string, number>;
  const d = raw.hidden_size ?? 768;
  const layers = raw.num_layers ?? 12;
  const tokens = ((raw.image_size ?? 224) / (raw.patch_size ?? 16)) ** 2 + 1 + (raw.max_text_len ?? 40);
  const perToken = 12 * d * d * layers;
  // retrieval: two encoders + ITM over three fusion passes; NLVR2: two fusion passes
  const passes = task === 'nlvr2' ? 2 : 4;
  const large = layers >= 12 || d >= 768;
  const fast = mode === 'fast' || (mode === 'auto' && device !== 'cuda' && large);
  const flops = fast ? 2 * perToken * tokens * (passes / 2) : 6 * perToken * tokens * passes;
  return (device === 'cuda' ? GPU_FLOPS : CPU_FLOPS) / flops;
}

function pythonStatus(): FineTunePreview['python'] {
  try {
    return { found: true, path: findPython(), message: null };
  } catch (e) {
    return { found: false, path: null, message: (e as Error).message };
  }
}

export function buildPreview(
  db: Db,
  ds: DatasetInfo,
  base: { id: number | null; name: string; dir: string } | null,
  task: FineTuneSettings['task'],
  measured: number | null,
): FineTunePreview {
  const inForce = labelsInForce(db, ds.id);
  const { corrections, pendingLeftOut } = inForce;
  const hardNegatives = task === 'retrieval' ? inForce.hardNegatives : 0;
  const extraPositives = task === 'retrieval' ? inForce.extraPositives : 0;
  const examples = countExamples(db, ds, task) + extraPositives;
  const d = defaults(task, base?.id ?? null);
  const steps = d.epochs * Math.max(1, Math.floor(examples / d.batchSize));
  const rate =
    measured ?? (base && fs.existsSync(path.join(base.dir, 'mome.json')) ? ruleRate(base.dir, task, 'auto', 'cpu') : 1);
  const what = task === 'nlvr2' ? 'NLVR2' : 'Retrieval';
  const judged = task === 'retrieval' ? ` and ${hardNegatives} hard negatives` : '';
  return {
    datasetId: ds.id,
    datasetName: ds.name,
    kind: ds.kind,
    heldOutSplit: HELD_OUT[task],
    counts: { corrections, hardNegatives, extraPositives, examples, pendingLeftOut },
    summary: `${what} on ${ds.name} train with my ${corrections} corrections${judged}${pendingLeftOut ? ` (${pendingLeftOut} awaiting review left out)` : ''}`,
    defaults: d,
    baseModel: base,
    estimate: {
      steps,
      seconds: Math.round((steps * d.batchSize) / rate),
      samplesPerSecond: +rate.toFixed(2),
      basis: measured ? 'measured' : 'model size',
    },
    python: pythonStatus(),
  };
}
