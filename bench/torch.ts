// `npm run bench -- torch`: the PyTorch side on each interpreter the tests use (the torch 2.x test venv and
// Debian's torch 1.13), in one run, one torch thread: train-tiny steps/s per stage (the `--quick` plan, a few
// steps a stage; and the shipped model's full plan in steady state), fine-tune samples/s in full and in fast mode,
// and export seconds (bench/torch_bench.py).
// The ratios are 2.x over 1.13 (above 1: 2.x is faster; for export seconds, below 1 is faster).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureTestVenv, testInterpreters } from '../scripts/lib.mjs';

const repo = path.resolve(import.meta.dirname, '..');

interface TorchResult {
  torch: string;
  python: string;
  executable: string;
  threads: number;
  train_tiny: { steps_per_s: Record<string, number>; full_plan: { steps_per_s: Record<string, number> } } & Record<
    string,
    unknown
  >;
  finetune: Record<'full' | 'fast', { samples_per_s: number } & Record<string, unknown>>;
  export: { seconds: number } & Record<string, unknown>;
}

function runOn(python: string): TorchResult {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mome-bench-torch-'));
  try {
    const stdout = execFileSync(python, [path.join(repo, 'bench', 'torch_bench.py'), work], {
      env: { ...process.env, PYTHONPATH: path.join(repo, 'model-runtime', 'python'), OMP_NUM_THREADS: '1' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
    });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as TorchResult;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;

export async function benchTorch(): Promise<Record<string, unknown>> {
  const venv = ensureTestVenv();
  const results: TorchResult[] = [];
  for (const i of testInterpreters({ ...process.env, MOME_PYTHON: '' })) {
    console.error(`[bench torch] ${i.label}`);
    results.push(runOn(i.python));
  }
  const v1 = results.find((r) => r.torch.startsWith('1.'));
  const v2 = results.find((r) => !r.torch.startsWith('1.'));
  const notes = [];
  if (!v2) notes.push(`no torch 2.x: ${venv.reason ?? 'the test venv is missing'}`);
  if (!v1) notes.push("no torch 1.13: Debian's python3-torch is not installed at /usr/bin/python3");
  const compare =
    v1 && v2
      ? {
          [`${v2.torch} / ${v1.torch}`]: {
            train_tiny_steps_per_s: Object.fromEntries(
              Object.entries(v2.train_tiny.steps_per_s).map(([s, x]) => [s, ratio(x, v1.train_tiny.steps_per_s[s])]),
            ),
            train_tiny_full_plan_steps_per_s: Object.fromEntries(
              Object.entries(v2.train_tiny.full_plan.steps_per_s).map(([s, x]) => [
                s,
                ratio(x, v1.train_tiny.full_plan.steps_per_s[s]),
              ]),
            ),
            finetune_full_samples_per_s: ratio(v2.finetune.full.samples_per_s, v1.finetune.full.samples_per_s),
            finetune_fast_samples_per_s: ratio(v2.finetune.fast.samples_per_s, v1.finetune.fast.samples_per_s),
            export_seconds: ratio(v2.export.seconds, v1.export.seconds),
          },
        }
      : null;
  return {
    bench: 'torch',
    what:
      'PyTorch side per interpreter, one torch thread: train-tiny steps/s per stage (--quick plan, and the ' +
      "shipped model's full plan in steady state), fine-tune " +
      'samples/s (retrieval, COCO sample, mome-tiny) in full and fast mode, fp16 export seconds',
    interpreters: results,
    compare,
    notes,
  };
}
