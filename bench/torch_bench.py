"""`npm run bench -- torch` runs this once per interpreter (bench/torch.ts): the PyTorch side's speed on this
interpreter's torch, one torch thread. Prints one JSON line last.

- train-tiny, two ways:
  - `steps_per_s`: the `--quick` plan's tiny model through mome.tiny.train's own Trainer, STEPS steps a stage (the
    stage's time as the trainer measures it: the first step included, checkpoints not). The model is so small that
    this measures per-operation overhead more than arithmetic;
  - `full_plan_steps_per_s`: the shipped model's own plan (its model size and batch) on a small dataset, each
    stage's steps through the trainer's stage_losses and an AdamW step, the first WARM steps left out (steady state).
    This is what decides which torch trains the embedded model faster.
- fine-tune: samples per second of `python -m mome finetune` (retrieval on the COCO sample, the tiny model
  shipped in assets/models/mome-tiny) in full and in fast mode, from the arrival of the third training-progress line
  to the last (the first steps, loading and fast mode's feature caching left out; their wall time is reported too).
- export: seconds of export_model_dir of the same model in fp16 (all four graphs through torch.onnx, weights
  shared), best of two.

On a CUDA GPU (`--device cuda`, run by hand on a GPU machine): the same measures on the GPU, with the plan
`train-tiny --device cuda` trains (its model and batch; the GPU times are taken after torch.cuda.synchronize), the
fine-tunes with `"device": "cuda"`, and `gpu_plan_hours`: the data the plan generates and its steps at the measured
rates, i.e. what `train-tiny --device cuda` would take end to end on that GPU.

usage: torch_bench.py WORK_DIR [--steps N] [--finetune-steps N] [--device cpu|cuda]
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import os
import platform
import subprocess
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PYTHON_DIR = os.path.join(REPO, 'model-runtime', 'python')
SHIPPED = os.path.join(REPO, 'assets', 'models', 'mome-tiny')
COCO = os.path.join(REPO, 'assets', 'datasets', 'coco-sample')


def _images(plan) -> int:
    """Images a plan's datasets generate (an NLVR2 example has two)."""
    return sum(n * (2 if kind == 'nlvr2' else 1) for kind, _, n, _ in plan.data.values())


def _sync(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


def train_tiny(work: str, steps: int, device: str = 'cpu') -> dict:
    from mome.tiny import train as tt
    quick = tt.PLANS['quick']
    plan = dataclasses.replace(quick, steps={s: steps for s in quick.steps}, ckpt_every=steps)
    args = argparse.Namespace(seed=0, work=work, out=None, data=None, shared_experts=False, quick=True, threads=1,
                              device=device, stop_at=None, stop_at_stage=None, stop_at_step=None)
    with contextlib.redirect_stdout(io.StringIO()):   # the trainer's JSON lines
        trainer = tt.Trainer(args, plan)
        t0 = time.monotonic()
        trainer.load_data()
        data_s = time.monotonic() - t0
        for stage in tt.STAGES:
            trainer.run_stage(stage)
    seconds = trainer.state['seconds']
    return {'plan': 'quick', 'model': plan.model, 'batch': plan.batch, 'steps_per_stage': steps,
            'data_seconds': round(data_s, 2),
            'steps_per_s': {s: round(steps / seconds[s], 3) for s in tt.STAGES}}


FULL_WARM, FULL_STEPS = 2, 4
GPU_WARM, GPU_STEPS = 5, 40   # a GPU step is milliseconds: more of them, after more warm-up
FINETUNE_WARM = 2   # fine-tune progress lines left out before timing (the first steps warm kernels and caches)


def train_tiny_full(work: str, device: str = 'cpu') -> dict:
    from mome.optim import build_optimizer
    from mome.tiny import train as tt
    from mome.tiny.stages import stage_losses
    full = tt.PLANS['gpu' if device == 'cuda' else 'full']
    warm, timed = (GPU_WARM, GPU_STEPS) if device == 'cuda' else (FULL_WARM, FULL_STEPS)
    data = {'coco-train': ('coco', 'train', full.batch + 32, 1), 'coco-test': ('coco', 'test', 16, 2),
            'nlvr2-train': ('nlvr2', 'train', full.nlvr2_batch * 2, 3), 'nlvr2-dev': ('nlvr2', 'dev', 16, 4)}
    plan = dataclasses.replace(full, data=data)
    args = argparse.Namespace(seed=0, work=work, out=None, data=None, shared_experts=False, quick=False, threads=1,
                              device=device, stop_at=None, stop_at_stage=None, stop_at_step=None)
    out = {}
    with contextlib.redirect_stdout(io.StringIO()):
        trainer = tt.Trainer(args, plan)
        t0 = time.monotonic()
        trainer.load_data()
        data_s = time.monotonic() - t0
        ctx = trainer.context()
        trainer.model.train()
        for stage in tt.STAGES:
            opt = build_optimizer(trainer.prepare(stage), plan.lr[stage], weight_decay=plan.weight_decay)
            seconds = []
            for step in range(warm + timed):
                _sync(device)
                t0 = time.perf_counter()
                loss = sum(stage_losses(stage, step, ctx).values())
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                _sync(device)
                seconds.append(time.perf_counter() - t0)
            out[stage] = round(timed / sum(seconds[warm:]), 3)
    return {'plan': 'gpu' if device == 'cuda' else 'full', 'model': plan.model, 'batch': plan.batch,
            'nlvr2_batch': plan.nlvr2_batch, 'warm_steps': warm, 'timed_steps': timed, 'steps_per_s': out,
            'plan_steps': full.steps, 'data_seconds': round(data_s, 2), 'data_images': _images(plan)}


def finetune(work: str, mode: str, steps: int, batch: int, device: str = 'cpu') -> dict:
    out = os.path.join(work, f'ft-{mode}')
    job = os.path.join(work, f'ft-{mode}.json')
    with open(job, 'w') as fh:
        json.dump({'task': 'retrieval', 'base_model': SHIPPED, 'data': COCO, 'out': out, 'max_steps': steps,
                   'batch_size': batch, 'lr': 1e-4, 'device': device, 'seed': 0, 'mode': mode, 'log_every': 1}, fh)
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')
    t0 = time.monotonic()
    child = subprocess.Popen([sys.executable, '-m', 'mome', 'finetune', '--config', job], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env, cwd=work)
    start, train = None, []
    for line in child.stdout:
        if not line.startswith('{'):
            continue
        msg = json.loads(line)
        if msg['type'] == 'start':
            start = msg
        elif msg['type'] == 'progress' and msg.get('stage') == 'train':
            train.append((time.monotonic(), msg['step']))
    err = child.stderr.read()
    if child.wait() != 0 or start is None or len(train) < 2:
        raise RuntimeError(f'mome finetune ({mode}) failed: {err[-2000:]}')
    (t_first, s_first), (t_last, s_last) = train[min(FINETUNE_WARM, len(train) - 2)], train[-1]
    samples = (s_last - s_first) * start['batch_size']
    return {'mode': start['mode'], 'device': start.get('device'), 'batch_size': start['batch_size'], 'steps': s_last,
            'samples_per_s': round(samples / (t_last - t_first), 3), 'wall_seconds': round(time.monotonic() - t0, 2),
            'seconds_before_first_step': round(t_first - t0, 2)}


def export(work: str) -> dict:
    from mome.export import export_model_dir
    from mome.model_dir import load_model_dir
    model, cfg, meta = load_model_dir(SHIPPED)
    vocab = os.path.join(SHIPPED, meta.get('vocab_file', 'vocab.txt'))
    times = []
    for i in range(2):
        t0 = time.monotonic()
        export_model_dir(model.float().eval(), cfg, os.path.join(work, f'export-{i}'), vocab, fp16=True)
        times.append(time.monotonic() - t0)
    return {'model': 'mome-tiny', 'fp16': True, 'seconds': round(min(times), 3),
            'all_seconds': [round(t, 3) for t in times]}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument('work')
    p.add_argument('--steps', type=int, default=6)
    p.add_argument('--finetune-steps', type=int, default=10)
    p.add_argument('--batch', type=int, default=16)
    p.add_argument('--device', default='cpu', choices=('cpu', 'cuda'))
    a = p.parse_args()
    if a.device == 'cuda' and not torch.cuda.is_available():
        sys.exit(f'torch_bench.py: --device cuda, but this PyTorch ({torch.__version__}) sees no CUDA GPU')
    torch.set_num_threads(1)
    os.makedirs(a.work, exist_ok=True)
    result = {'torch': torch.__version__, 'python': platform.python_version(), 'executable': sys.executable,
              'threads': torch.get_num_threads(), 'device': a.device}
    if a.device == 'cuda':
        result['gpu'] = torch.cuda.get_device_name(0)
    result['train_tiny'] = train_tiny(os.path.join(a.work, 'train-tiny'), a.steps, a.device)
    result['train_tiny']['full_plan'] = train_tiny_full(os.path.join(a.work, 'train-tiny-full'), a.device)
    if a.device == 'cuda':
        result['gpu_plan_hours'] = gpu_plan_hours(result['train_tiny'])
    result['finetune'] = {m: finetune(a.work, m, a.finetune_steps, a.batch, a.device) for m in ('full', 'fast')}
    result['export'] = export(a.work)
    print(json.dumps(result))


def gpu_plan_hours(tiny: dict) -> dict:
    """`train-tiny --device cuda` end to end at the measured rates: generating the plan's images (at the small
    full-size dataset's seconds per image, one process) and each stage's steps."""
    from mome.tiny import train as tt
    gpu, full = tt.PLANS['gpu'], tiny['full_plan']
    images = _images(gpu)
    data_s = images * full['data_seconds'] / full['data_images']
    steps_s = {s: gpu.steps[s] / full['steps_per_s'][s] for s in tt.STAGES}
    return {'images': images, 'data_hours': round(data_s / 3600, 3),
            'stage_hours': {s: round(v / 3600, 3) for s, v in steps_s.items()},
            'total_hours': round((data_s + sum(steps_s.values())) / 3600, 3)}


if __name__ == '__main__':
    main()
