"""`python3 -m mome finetune --config job.json`: fine-tune a model version on a corrected dataset.

job.json: {"task": "retrieval"|"nlvr2", "base_model": DIR, "data": DIR (the corrected dataset the app exports,
in its real format), "pairs" (alias "hard_negatives"): FILE.jsonl of judged pairs, "out": DIR, "epochs",
"max_steps", "lr", "batch_size", "warmup" (fraction of steps, or steps when >= 1), "weight_decay",
"grad_clip", "device": auto|cpu|cuda, "mode": auto|full|fast, "fast_top_layers", "seed", "resume",
"checkpoint": FILE, "eval_split", "itm", "workers", "log": FILE (the JSON lines appended, and an exit line),
"parent": {...lineage the caller adds}}.

stdout: JSON lines start, progress {step, total, loss, lr, samples_per_s, eta_s}, eval, checkpoint, stopped,
done, error. Exit codes: 0 done, 1 failed, 2 bad config, 3 stopped after writing a checkpoint (resume continues
from it): by SIGTERM, or because the app is gone (stdout closed, or the parent process died), in which case the
log file gets the lines the app can no longer read. Under `torchrun --nproc_per_node N` it trains with DDP
(run.init_distributed).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import traceback
from typing import List, Optional

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from ..export import export_model_dir
from ..model_dir import load_model_dir
from ..optim import build_optimizer, make_scheduler
from ..tokenizer import WordPieceTokenizer
from .data import FineTuneDataError, check_splits, detect_kind, fit_batch_size, read_pairs, snapshot_hash
from .run import (Emitter, StopFlag, Stopped, autocast_dtype, init_distributed, load_checkpoint, pick_device,
                  pick_mode, save_checkpoint)
from .steps import ensure_heads, set_trainable
from .tasks import make_task

DEFAULTS = {'epochs': 1, 'max_steps': None, 'lr': None, 'batch_size': 32, 'warmup': 0.1, 'weight_decay': 0.01,
            'grad_clip': 1.0, 'device': 'auto', 'mode': 'auto', 'fast_top_layers': 0, 'seed': 0, 'resume': False,
            'checkpoint': None, 'eval_split': None, 'itm': True, 'workers': 0, 'log_every': 1, 'parent': None,
            'pairs': None, 'kind': None, 'log': None}
DEFAULT_LR = {'retrieval': 3e-5, 'nlvr2': 5e-5}            # spec §5
DEFAULT_EVAL_SPLIT = {'retrieval': 'test', 'nlvr2': 'dev'}
TASK_KINDS = {'retrieval': ('coco', 'flickr30k'), 'nlvr2': ('nlvr2',)}
EXIT_STOPPED = 3


class ConfigError(ValueError):
    pass


def read_config(path: str) -> dict:
    try:
        with open(path, encoding='utf-8') as fh:
            raw = json.load(fh)
    except (OSError, json.JSONDecodeError) as e:
        raise ConfigError(f'cannot read the job file {path}: {e}') from None
    if not isinstance(raw, dict):
        raise ConfigError(f'{path} must hold a JSON object')
    return normalize_config(raw)


def normalize_config(raw: dict) -> dict:
    cfg = dict(DEFAULTS, **raw)
    cfg['pairs'] = cfg.get('pairs') or raw.get('hard_negatives')
    for key in ('task', 'base_model', 'data', 'out'):
        if not cfg.get(key):
            raise ConfigError(f'the job file needs "{key}"')
    if cfg['task'] not in TASK_KINDS:
        raise ConfigError(f'task must be "retrieval" or "nlvr2", not {cfg["task"]!r}')
    cfg['kind'] = cfg['kind'] or detect_kind(cfg['data'])
    known = sorted({k for kinds in TASK_KINDS.values() for k in kinds})
    if cfg['kind'] not in known:
        raise ConfigError(f'unknown dataset kind {cfg["kind"]!r}; "kind" must be one of {", ".join(known)}, or left '
                          f'out to detect it from the files in {cfg["data"]}')
    if cfg['kind'] not in TASK_KINDS[cfg['task']]:
        raise ConfigError(f'a {cfg["task"]} fine-tune needs a {" or ".join(TASK_KINDS[cfg["task"]])} dataset; '
                          f'{cfg["data"]} is {cfg["kind"]}')
    if cfg['device'] not in ('auto', 'cpu', 'cuda') or cfg['mode'] not in ('auto', 'full', 'fast'):
        raise ConfigError('device must be auto|cpu|cuda and mode auto|full|fast')
    out = cfg['out']
    if os.path.exists(out) and (not os.path.isdir(out) or os.listdir(out)):
        raise ConfigError(f'the output folder {out} already exists and is not empty; models are immutable, so '
                          f'choose a new folder')
    cfg['lr'] = float(cfg['lr'] if cfg['lr'] is not None else DEFAULT_LR[cfg['task']])
    cfg['eval_split'] = cfg['eval_split'] or DEFAULT_EVAL_SPLIT[cfg['task']]
    check_splits(cfg['data'], cfg['kind'], cfg['eval_split'])
    cfg['checkpoint'] = cfg['checkpoint'] or os.path.abspath(cfg['out']) + '.checkpoint.pt'
    for key in ('epochs', 'batch_size', 'seed', 'fast_top_layers', 'workers', 'log_every'):
        cfg[key] = int(cfg[key])
    if cfg['epochs'] < 1 and not cfg['max_steps'] or cfg['batch_size'] < 2 or cfg['lr'] <= 0:
        raise ConfigError('epochs (or max_steps) must be >= 1, batch_size >= 2 and lr > 0')
    return cfg


def run_key(cfg: dict, snapshot: str) -> str:
    """What a checkpoint must match to be resumed: everything that shapes training, not where output goes."""
    fields = {k: cfg[k] for k in ('task', 'base_model', 'epochs', 'max_steps', 'lr', 'batch_size', 'warmup',
                                  'weight_decay', 'seed', 'mode', 'fast_top_layers', 'itm')}
    return hashlib.sha256(json.dumps([fields, snapshot], sort_keys=True).encode()).hexdigest()


def grad_scaler(enabled: bool):
    """fp16 loss scaling: torch.amp.GradScaler('cuda') on PyTorch 2.3+, torch.cuda.amp.GradScaler before (the
    later one warns that the old name is deprecated; 1.13 has only the old one)."""
    if hasattr(torch, 'amp') and hasattr(torch.amp, 'GradScaler'):
        return torch.amp.GradScaler('cuda', enabled=enabled)
    return torch.cuda.amp.GradScaler(enabled=enabled)


def warmup_steps(warmup: float, total: int) -> int:
    return int(warmup) if warmup >= 1 else int(round(warmup * total))


class FineTune:
    def __init__(self, cfg: dict, emit: Emitter, stop: StopFlag) -> None:
        self.cfg = cfg
        self.started = time.time()
        self.emit, self.stop = emit, stop
        self.rank, self.world, local = init_distributed('cuda' if cfg['device'] != 'cpu' and
                                                        torch.cuda.is_available() else 'cpu')
        emit.rank = self.rank
        self.device, self.device_reason = pick_device(cfg['device'], local)

    def setup(self) -> None:
        cfg = self.cfg
        torch.manual_seed(cfg['seed'])   # the same added-head init on every rank
        model, config, self.base_meta = load_model_dir(cfg['base_model'])
        model, self.config, added = ensure_heads(model, config, cfg['task'])
        cfg['mode'], self.mode_reason = pick_mode(cfg['mode'], self.device, config.depth, config.embed_dim)
        self.model = model.to(self.device)
        vocab = os.path.join(cfg['base_model'], self.base_meta.get('vocab_file', 'vocab.txt'))
        self.vocab = vocab
        tokenizer = WordPieceTokenizer.from_file(vocab, max_len=config.max_text_len,
                                                 lowercase=self.base_meta.get('do_lower_case', True))
        cfg['pairs'] = read_pairs(cfg['pairs']) if isinstance(cfg['pairs'], (str, type(None))) else cfg['pairs']
        torch.manual_seed(cfg['seed'] + self.rank)
        self.task = make_task(cfg, self.model, tokenizer, self.device, self.world, self.rank)
        self.trainable = set_trainable(self.model, cfg['task'], cfg['mode'] == 'fast', cfg['fast_top_layers'],
                                       getattr(self.task, 'use_itm', False))
        self.batch_size = fit_batch_size(self.task.n, cfg['batch_size'], self.world)
        self.per_epoch = self.task.n // (self.batch_size * self.world)
        self.total = int(cfg['max_steps']) if cfg['max_steps'] else cfg['epochs'] * self.per_epoch
        self.snapshot = snapshot_hash(cfg['data'], [cfg.get('pairs_file')])
        self.added = added

    def announce(self) -> None:
        cfg = self.cfg
        self.emit('start', task=cfg['task'], mode=cfg['mode'], mode_reason=self.mode_reason,
                  device=str(self.device), device_reason=self.device_reason, world_size=self.world,
                  counts=self.task.counts, steps=self.total, steps_per_epoch=self.per_epoch,
                  batch_size=self.batch_size, trainable_parameters=self.trainable, added_heads=self.added,
                  not_in_model_dir=self.base_meta['missing_parameters'], data_snapshot=self.snapshot,
                  itm=bool(getattr(self.task, 'use_itm', False)))

    def run(self) -> int:
        self.setup()
        self.announce()
        self.task.prepare(self._caching_progress)
        metrics = self.train()
        if metrics is None:
            return EXIT_STOPPED
        if self.rank == 0:
            self.export(metrics)
        return 0

    def _caching_progress(self, type_: str, **fields) -> None:
        if self.stop.requested:
            raise Stopped()
        self.emit(type_, **fields)

    def train(self) -> Optional[dict]:
        cfg, dev = self.cfg, self.device
        step_module = self.task.step_module().to(dev)
        runner = DistributedDataParallel(step_module, device_ids=[dev.index] if dev.type == 'cuda' else None,
                                         find_unused_parameters=True) if self.world > 1 else step_module
        opt = build_optimizer(self.model, cfg['lr'], cfg['weight_decay'])
        sched = make_scheduler(opt, self.total, warmup_steps(float(cfg['warmup']), self.total))
        amp = autocast_dtype(dev)
        scaler = grad_scaler(amp == torch.float16)
        step, epoch, skip = self.resume(opt, sched)
        params = [p for p in self.model.parameters() if p.requires_grad]
        window_t, window_n = time.time(), 0
        while step < self.total:
            batches = self.task.batches(epoch, self.batch_size)
            for i, (args, n) in enumerate(self.task.loader(batches[skip:]), start=skip):
                self.model.train()
                with torch.autocast(dev.type, dtype=amp, enabled=amp is not None):
                    loss = runner(*args)
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.unscale_(opt)
                torch.nn.utils.clip_grad_norm_(params, cfg['grad_clip'])
                scaler.step(opt)
                scaler.update()
                lr = opt.param_groups[0]['lr']   # the rate this step used
                sched.step()
                step += 1
                window_n += n * self.world
                if step % cfg['log_every'] == 0 or step == self.total:
                    rate = window_n / max(1e-9, time.time() - window_t)
                    self.emit('progress', stage='train', step=step, total=self.total, epoch=epoch,
                              loss=round(self.mean_over_ranks(loss.detach().float()), 6),
                              lr=lr, samples_per_s=round(rate, 3),
                              eta_s=round((self.total - step) * self.batch_size * self.world / max(rate, 1e-9), 1))
                if self.stop.check(dev):
                    self.checkpoint(opt, sched, step, epoch, i + 1)
                    self.emit('stopped', step=step, checkpoint=cfg['checkpoint'], reason=self.stop.reason)
                    return None
                if step >= self.total:
                    break
            epoch, skip = epoch + 1, 0
        self.model.eval()
        metrics = self.task.evaluate(cfg['eval_split']) if self.rank == 0 else {}
        self.emit('eval', split=cfg['eval_split'], metrics=metrics, step=step)
        self.samples_per_s = round(step * self.batch_size * self.world / max(1e-9, time.time() - self.started), 3)
        return metrics

    def mean_over_ranks(self, x: torch.Tensor) -> float:
        if self.world > 1:
            x = x.clone()
            dist.all_reduce(x)
            x /= self.world
        return float(x)

    def resume(self, opt, sched):
        cfg = self.cfg
        if not cfg['resume'] or not os.path.isfile(cfg['checkpoint']):
            return 0, 0, 0
        state = load_checkpoint(cfg['checkpoint'], run_key(cfg, self.snapshot))
        self.model.load_state_dict(state['model'])
        opt.load_state_dict(state['optimizer'])
        sched.load_state_dict(state['scheduler'])
        self.emit('resumed', step=state['step'], epoch=state['epoch'], checkpoint=cfg['checkpoint'])
        return state['step'], state['epoch'], state['batch']

    def checkpoint(self, opt, sched, step: int, epoch: int, batch: int) -> None:
        if self.rank == 0:
            save_checkpoint(self.cfg['checkpoint'], {
                'key': run_key(self.cfg, self.snapshot), 'model': self.model.state_dict(),
                'optimizer': opt.state_dict(), 'scheduler': sched.state_dict(), 'step': step, 'epoch': epoch,
                'batch': batch})
            self.emit('checkpoint', path=self.cfg['checkpoint'], step=step)
        if self.world > 1:
            dist.barrier()

    def export(self, metrics: dict) -> None:
        cfg = self.cfg
        lineage = {
            'parent': {'dir': os.path.abspath(cfg['base_model']), 'name': self.base_meta.get('name'),
                       'mome_json_sha256': _sha256(os.path.join(cfg['base_model'], 'mome.json')),
                       **(cfg['parent'] or {})},
            'data_snapshot': self.snapshot,
            'data': os.path.abspath(cfg['data']),
            'finetune': {k: v for k, v in cfg.items() if k not in ('pairs', 'parent')},
            'mode': cfg['mode'], 'mode_reason': self.mode_reason, 'device': str(self.device),
            'metrics': {cfg['eval_split']: metrics}, 'counts': self.task.counts, 'steps': self.total,
            'samples_per_s': self.samples_per_s, 'seconds': round(time.time() - self.started, 1),
        }
        fp16 = self.base_meta.get('precision') == 'fp16'
        self.emit('progress', stage='export', step=self.total, total=self.total)
        meta = export_model_dir(self.model.float().cpu().eval(), self.config, cfg['out'], self.vocab, fp16=fp16,
                                provenance={'exporter': 'mome finetune', 'lineage': lineage},
                                progress=lambda g: self.emit('progress', stage='export', graph=g))
        if os.path.isfile(cfg['checkpoint']):
            os.remove(cfg['checkpoint'])   # the model folder now holds the result
        self.emit('done', out=os.path.abspath(cfg['out']), metrics=metrics, eval_split=cfg['eval_split'],
                  steps=self.total, samples_per_s=self.samples_per_s, data_snapshot=self.snapshot,
                  seconds=lineage['seconds'], name=meta['name'])


def _sha256(path: str) -> Optional[str]:
    if not os.path.isfile(path):
        return None
    with open(path, 'rb') as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(prog='mome finetune', description=__doc__.split('\n\n')[0])
    p.add_argument('--config', required=True, help='job.json (see python3 -m mome finetune --help)')
    args = p.parse_args(argv)
    emit = Emitter(int(os.environ.get('RANK', '0')))
    stop = StopFlag()   # from the start: a SIGTERM or a dead app during setup stops the run too
    emit.on_gone = stop.app_gone
    code = 1
    try:
        code = _run(args.config, emit, stop)
    finally:
        emit.close(code)
    return code


def _run(config: str, emit: Emitter, stop: StopFlag) -> int:
    try:
        cfg = read_config(config)
        cfg['pairs_file'] = cfg['pairs'] if isinstance(cfg['pairs'], str) else None
    except (ConfigError, FineTuneDataError) as e:
        emit('error', message=str(e))
        sys.stderr.write(f'mome finetune: {e}\n')
        return 2
    try:
        emit.open_log(cfg['log'])
        return FineTune(cfg, emit, stop).run()
    except Stopped:
        emit('stopped', step=0, checkpoint=None, reason=stop.reason)
        return EXIT_STOPPED
    except Exception as e:   # every failure ends as one error line the app can show
        emit('error', message=f'{type(e).__name__}: {e}' if not isinstance(e, ValueError) else str(e))
        if not emit.gone:   # once the app is gone stderr is the log file already
            emit.to_log(traceback.format_exc())
        traceback.print_exc(file=sys.stderr)
        return 1
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
