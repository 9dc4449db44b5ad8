"""The pieces of a fine-tune run that are not about the model: JSON lines out, SIGTERM, the process group,
the device and mode choice, and checkpoints that a later run resumes from."""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from typing import Optional, Tuple

import torch
import torch.distributed as dist

from .safe_load import load_data

LARGE_DEPTH, LARGE_WIDTH = 12, 768   # VLMo-Base and up: a full CPU fine-tune would take days
PARENT_POLL_S = 1.0


class Stopped(Exception):
    """SIGTERM (or SIGINT) arrived; the run stops after writing a checkpoint."""


class Emitter:
    """One JSON object per stdout line, from rank 0 only (other ranks stay silent)."""

    def __init__(self, rank: int) -> None:
        self.rank = rank

    def __call__(self, type_: str, **fields) -> None:
        if self.rank != 0:
            return
        sys.stdout.write(json.dumps({'type': type_, 'time': round(time.time(), 3), **fields}) + '\n')
        sys.stdout.flush()


class StopFlag:
    """Set by SIGTERM/SIGINT, or when the process that started this one is gone (an app that crashed or was
    killed must not leave a trainer running); `check` agrees across ranks so every process stops after the
    same step."""

    def __init__(self) -> None:
        self.requested = False
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)
        threading.Thread(target=self._watch_parent, args=(os.getppid(),), daemon=True).start()

    def _watch_parent(self, parent: int) -> None:
        while not self.requested:
            time.sleep(PARENT_POLL_S)
            if os.getppid() != parent:   # re-parented: our parent died
                self.requested = True

    def _handle(self, signum, frame) -> None:
        self.requested = True

    def check(self, device: torch.device) -> bool:
        if dist.is_initialized() and dist.get_world_size() > 1:
            flag = torch.tensor([1.0 if self.requested else 0.0], device=device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            return bool(flag.item())
        return self.requested


def init_distributed(device_name: str) -> Tuple[int, int, int]:
    """(rank, world, local_rank). Under torchrun (WORLD_SIZE > 1): NCCL on GPUs, gloo on CPU."""
    world = int(os.environ.get('WORLD_SIZE', '1'))
    if world <= 1:
        return 0, 1, 0
    local = int(os.environ.get('LOCAL_RANK', '0'))
    backend = 'nccl' if device_name == 'cuda' else 'gloo'
    if backend == 'nccl':
        torch.cuda.set_device(local)
    dist.init_process_group(backend)
    return dist.get_rank(), dist.get_world_size(), local


def pick_device(asked: str, local_rank: int) -> Tuple[torch.device, str]:
    if asked == 'cuda' and not torch.cuda.is_available():
        raise ValueError('device "cuda" was asked for but PyTorch sees no CUDA GPU (torch.cuda.is_available() is '
                         'False); use device "auto" or "cpu"')
    if asked in ('cuda', 'auto') and torch.cuda.is_available():
        name = torch.cuda.get_device_name(local_rank)
        return torch.device('cuda', local_rank), f'CUDA GPU {local_rank} ({name})'
    reason = 'asked for' if asked == 'cpu' else 'no CUDA GPU visible to PyTorch'
    return torch.device('cpu'), f'CPU ({reason}, {torch.get_num_threads()} threads)'


def pick_mode(asked: str, device: torch.device, depth: int, width: int) -> Tuple[str, str]:
    large = depth >= LARGE_DEPTH or width >= LARGE_WIDTH
    size = f'{depth} layers, width {width}'
    if asked == 'full':
        return 'full', f'asked for: every layer trains ({size})'
    if asked == 'fast':
        return 'fast', 'asked for: only the heads (and any top layers) train, on features cached once'
    if device.type == 'cpu' and large:
        return 'fast', (f'no GPU and a large model ({size}): a full fine-tune would take days on CPU, so only the '
                        f'heads train, on features of the frozen layers cached once')
    if device.type == 'cuda':
        return 'full', f'GPU: every layer trains ({size})'
    return 'full', f'small model ({size}): a full fine-tune is affordable on CPU'


def autocast_dtype(device: torch.device) -> Optional[torch.dtype]:
    if device.type != 'cuda':
        return None   # float32 on CPU
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def save_checkpoint(path: str, state: dict) -> None:
    """Written beside and renamed, so a crash mid-write leaves the previous checkpoint intact."""
    tmp = path + '.partial'
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str, key: str) -> dict:
    state = load_data(path)   # data only: model, AdamW and LambdaLR state dicts, ints (safe_load)
    if state.get('key') != key:
        raise ValueError(f'the checkpoint {path} belongs to a fine-tune with other settings or data; start anew '
                         f'(resume: false) or restore the settings it was made with')
    return state
