"""The pieces of a fine-tune run that are not about the model: JSON lines out (and into the job's log file),
SIGTERM and the app dying, the process group, the device and mode choice, and checkpoints that a later run
resumes from."""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
from typing import Callable, Optional, TextIO, Tuple

import torch
import torch.distributed as dist

from .. import jsonl
from ..safe_load import load_data

LARGE_DEPTH, LARGE_WIDTH = 12, 768   # VLMo-Base and up: a full CPU fine-tune would take days
PARENT_POLL_S = 1.0


class Stopped(Exception):
    """SIGTERM (or SIGINT) arrived, or the app is gone; the run stops after writing a checkpoint."""


class Emitter:
    """One JSON object per stdout line, from rank 0 only (other ranks stay silent), each also appended to the
    job's log file when it names one (`open_log`), so the log keeps receiving lines when no app reads stdout.

    A write to a closed stdout (EPIPE: the app that read it was killed; Python ignores SIGPIPE, so it is a
    BrokenPipeError) means the app is gone: stdout turns to /dev/null and stderr to the log file (so neither
    this write, a later print, a warning nor the interpreter's flush at exit fails or prints a traceback),
    `on_gone` is told (the run stops at the next step with a checkpoint, as on SIGTERM), and later lines go to
    the log file only."""

    def __init__(self, rank: int) -> None:
        self.rank = rank
        self.log: Optional[TextIO] = None
        self.gone = False
        self.on_gone: Callable[[], None] = lambda: None

    def open_log(self, path: Optional[str]) -> None:
        if self.rank != 0 or not path:
            return
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.log = open(path, 'a', encoding='utf-8', buffering=1)   # line-buffered; appended to by a resume

    def __call__(self, type_: str, **fields) -> None:
        if self.rank != 0:
            return
        line = jsonl.line({'type': type_, 'time': round(time.time(), 3), **fields})
        self.to_log(line)
        if self.gone:
            return
        try:
            jsonl.write(line)
        except BrokenPipeError:
            self.app_gone()

    def to_log(self, text: str) -> None:
        if self.log is None:
            return
        try:
            self.log.write(text)
        except (OSError, ValueError):   # a full disk must not stop training; the app still gets stdout
            self.log = None

    def app_gone(self) -> None:
        if self.gone:
            return
        self.gone = True
        self.to_log(jsonl.line({'type': 'app_gone', 'time': round(time.time(), 3),
                                'message': 'stdout is closed: the app is gone; stopping with a checkpoint'}))
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())   # what the failed write left in stdout's buffer is flushed here
        os.dup2(self.log.fileno() if self.log is not None else null, sys.stderr.fileno())
        os.close(null)
        self.on_gone()

    def close(self, code: int) -> None:
        """The last log line: how the trainer exits (no one may be left to see its exit status)."""
        self.to_log(jsonl.line({'type': 'exit', 'time': round(time.time(), 3), 'code': code}))
        if self.log is not None:
            try:
                self.log.close()
            except OSError:
                pass
            self.log = None


class StopFlag:
    """Set by SIGTERM/SIGINT, or when the app is gone: the process that started this one died (re-parented;
    polled in a thread, for the stages without steps, and at every step) or stdout is closed (the Emitter calls
    `app_gone`). An app that crashed or was killed must not leave a trainer running, and the run it leaves
    stops with a checkpoint that the next start of the app resumes from. `check` agrees across ranks so every
    process stops after the same step."""

    def __init__(self) -> None:
        self.requested = False
        self.reason: Optional[str] = None
        self.parent = os.getppid()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)
        threading.Thread(target=self._watch_parent, daemon=True).start()

    def set(self, reason: str) -> None:
        if not self.requested:
            self.requested, self.reason = True, reason

    def app_gone(self) -> None:
        self.set('the app is gone (stdout closed)')

    def _parent_gone(self) -> bool:
        if os.getppid() != self.parent:   # re-parented: our parent died
            self.set('the app is gone (its process ended)')
        return self.requested

    def _watch_parent(self) -> None:
        while not self._parent_gone():
            time.sleep(PARENT_POLL_S)

    def _handle(self, signum, frame) -> None:
        self.set(signal.Signals(signum).name)

    def check(self, device: torch.device) -> bool:
        self._parent_gone()
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
