"""Reading .pt/.pth/.ckpt files as data, never as code.

Such a file is a pickle: plain `torch.load` imports and calls whatever the file names while reading it, so a
downloaded "checkpoint" can run any command. Every file this package reads with torch goes through `load_data`,
which builds tensors and plain data only and refuses anything else by name, before anything of it runs.

What the files we read need:

- Official VLMo checkpoints. VLMo trains with PyTorch Lightning 1.5.5 (unilm/vlmo/requirements.txt); its loader
  reads only the state dict under `state_dict`, `module` or `model` (spec section 2). A Lightning 1.5 checkpoint
  is a dict of `state_dict` (an OrderedDict of tensors), `epoch` / `global_step` (ints),
  `pytorch-lightning_version` (a string), `optimizer_states` (AdamW state dicts: tensors, floats, tuples, bools,
  None), `lr_schedulers` (LambdaLR state dicts: numbers, lists, None in place of the lambdas),
  `native_amp_scaling_state` (floats, ints), `callbacks` (ModelCheckpoint state: strings and tensors under a
  string key), `loops` (progress counters: nested dicts of ints), `hparams_name` and `hyper_parameters`
  (Lightning 1.5 stores `dict(model.hparams)`, and VLMo's hparams are {'config': the sacred config that run.py
  deep-copies: strings, numbers, lists, dicts and None}). DeepSpeed files (`module`) and bare state dicts hold
  tensors only. So: OrderedDict, tensors and their storages, torch.Size, dtypes, and pickle's own
  dict/list/tuple/str/int/float/bool/None -- nothing that needs an allow-list beyond what PyTorch's weights-only
  loader accepts. The test files `checkpoint.save_official_checkpoint` writes are of these kinds ({'state_dict',
  'epoch', 'global_step'}, {'module'}, {'model'}, bare). Not confirmed against the released files themselves
  (not reachable from here), nor whether Lightning 1.5's saved logging results under `loops` can name a reduce
  function (torch.mean) or a torchmetrics object. A file that needs more -- Lightning's AttributeDict (pickled by
  Lightning ~1.0 with OmegaConf installed, Lightning issue #4542), argparse.Namespace hparams of older Lightning,
  numpy scalars, any object of Lightning or torchmetrics -- is refused with that name and how to re-save it as a
  state dict.
- Our own trainer checkpoints (fine-tune resume, train-tiny stages) and the train-tiny data cache: model and MIM
  state dicts, AdamW and LambdaLR state dicts, ints, floats, strings, lists of dicts of floats, string lists.
  No RNG state is saved (resume re-derives its randomness from the seed and the step), and no numpy object.

How, by PyTorch version (one switch, `weights_only_reads_plain_data()`, probed once in memory):

- torch 2.x: `torch.load(weights_only=True)`, PyTorch's own restricted unpickler.
- torch 1.13 (Debian's): its weights-only unpickler has a fixed allow-list and cannot even read a float
  (pickle's BINFLOAT opcode: "Unsupported operand 71"), so every optimizer state and every Lightning checkpoint
  with hyper-parameters would fail. There files are read by `AllowListUnpickler`: pickle's own unpickler whose
  `find_class` -- the one door through which a pickle reaches any function or class -- answers only from torch's
  own weights-only allow-list (tensor and storage types, dtypes, torch.Size, Parameter, OrderedDict, the tensor
  rebuild functions) plus set/frozenset/complex/bytearray/slice, bytes (`_codecs.encode`), torch.device and the
  dtypes 1.13's list lacks; about what torch 2.x accepts. `load_data(..., backend='allowlist')` forces it on any
  version (the tests run it on 2.x too).

TorchScript archives (torch.jit.save) are refused up front: they are programs, not checkpoints.
"""
from __future__ import annotations

import codecs
import collections
import io
import pickle
import re
import zipfile
from typing import Any, Dict, Optional

import torch

RESAVE_HINT = ("MoME Studio loads checkpoints as tensors and plain data only. Re-save it where it was made (and "
               "where you trust it): torch.save(model.state_dict(), 'weights.pt'), or for a Lightning checkpoint "
               "torch.save({'state_dict': torch.load(path, weights_only=False)['state_dict']}, 'weights.pt'); "
               "or save it as .safetensors")


class UnsafeCheckpointError(Exception):
    """The file needs more than tensors and plain data to load; the message names the file and the type."""


def _allowed_globals() -> Dict[str, Any]:
    from torch import _weights_only_unpickler
    # torch's own vetted list, less what on 2.x its unpickler only allows with extra checks of its own (tensor
    # subclasses, numpy arrays): that leaves the 1.13 list, and what 2.x adds for quantized/sparse/meta tensors
    allowed = {k: v for k, v in _weights_only_unpickler._get_allowed_globals().items()
               if not any(s in k for s in ('numpy', '_rebuild_from_type', '_rebuild_wrapper_subclass',
                                           '_rebuild_nested_tensor'))}
    for name in dir(torch):                                           # every dtype (1.13 lists only ten)
        value = getattr(torch, name, None)
        if isinstance(value, torch.dtype):
            allowed[str(value)] = value
    for name, value in (('set', set), ('frozenset', frozenset), ('complex', complex), ('bytearray', bytearray),
                        ('slice', slice)):
        allowed[f'builtins.{name}'] = allowed[f'__builtin__.{name}'] = value   # protocol 2 writes `__builtin__`
    allowed.update({
        'torch.device': torch.device,
        '_codecs.encode': codecs.encode,   # how protocol 2 writes bytes: _codecs.encode(text, 'latin1')
        'collections.OrderedDict': collections.OrderedDict,
    })
    return allowed


_ALLOWED: Optional[Dict[str, Any]] = None


class AllowListUnpickler(pickle.Unpickler):
    """pickle.Unpickler that resolves only allow-listed names (the Python documentation's "restricting globals").
    Every GLOBAL/STACK_GLOBAL/INST/OBJ/EXT opcode goes through find_class, so nothing outside the list can be
    called, constructed or imported."""

    def find_class(self, module: str, name: str) -> Any:
        global _ALLOWED
        if _ALLOWED is None:
            _ALLOWED = _allowed_globals()
        found = _ALLOWED.get(f'{module}.{name}')
        if found is None:
            raise pickle.UnpicklingError(f'Unsupported class {module}.{name}')   # the wording torch 1.13 uses
        return found


class _AllowListPickleModule:
    """What torch's loaders need of a `pickle_module`: Unpickler and load."""
    Unpickler = AllowListUnpickler
    UnpicklingError = pickle.UnpicklingError

    @staticmethod
    def load(file, **kwargs) -> Any:
        return AllowListUnpickler(file, **kwargs).load()


# The type torch (1.13 or 2.x) or AllowListUnpickler named when it refused, from the message's wording.
_TYPE_PATTERNS = (
    r'GLOBAL ([\w.]+) was not an allowed global',                 # 2.x
    r'[Uu]nsupported GLOBAL ([\w.]+)',                            # 2.x, blocked modules (os, posix, subprocess…)
    r'Unsupported class ([\w.]+)',                                # 1.13 and AllowListUnpickler
    r"(?:unsupported class|but got|unrecognized function) <class '([\w.]+)'>",
    r'(?:unsupported class|but got|unrecognized function) <(?:built-in )?function ([\w.]+)',
    r'(?:unsupported class|but got|unrecognized function) ([\w.]+)',
)


def offending_type(message: str) -> Optional[str]:
    for pattern in _TYPE_PATTERNS:
        m = re.search(pattern, message)
        if m:
            name = m.group(1)
            if name.startswith('__builtin__.'):   # protocol 2 writes builtins under their Python 2 name
                name = 'builtins.' + name[len('__builtin__.'):]
            return name if '.' in name else f'builtins.{name}'   # 2.x names builtins bare: "GLOBAL exec"
    return None


def _reason(message: str) -> str:
    """torch's refusal without its preamble (which advises weights_only=False: exactly what must not happen)."""
    tail = message.split('WeightsUnpickler error:')[-1].strip()
    return tail.splitlines()[0].strip() if tail else 'no detail'


def is_torchscript(path: str) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    return any(n.endswith('/constants.pkl') or '/code/' in n for n in names)


_READS_PLAIN_DATA: Optional[bool] = None


def weights_only_reads_plain_data() -> bool:
    """Whether this torch's weights-only unpickler reads what our files hold besides tensors: floats (1.13's
    cannot: BINFLOAT is "Unsupported operand 71"), bytes, sets, dtypes. Probed once, in memory."""
    global _READS_PLAIN_DATA
    if _READS_PLAIN_DATA is None:
        buf = io.BytesIO()
        torch.save({'lr': 0.5, 'betas': (0.9, 0.98), 'b': b'x', 's': {1}, 'dtype': torch.bfloat16,
                    't': torch.zeros(1, dtype=torch.uint8)}, buf)
        buf.seek(0)
        try:
            torch.load(buf, map_location='cpu', weights_only=True)
            _READS_PLAIN_DATA = True
        except Exception:   # pickle.UnpicklingError on 1.13
            _READS_PLAIN_DATA = False
    return _READS_PLAIN_DATA


def _allowlist_load(path: str) -> Any:
    """What torch.load(weights_only=True) does, with AllowListUnpickler in place of torch's weights-only
    unpickler. torch's private loaders are called directly because torch 1.13's torch.load replaces any
    pickle_module by `pickle` unless weights_only is set (and then uses its own); these loaders have kept their
    signatures from 1.13 to 2.x, and the tests run this path on both."""
    from torch import serialization as ser
    with ser._open_file_like(path, 'rb') as f:
        if ser._is_zipfile(f):
            with ser._open_zipfile_reader(f) as z:
                return ser._load(z, 'cpu', _AllowListPickleModule, encoding='utf-8')
        return ser._legacy_load(f, 'cpu', _AllowListPickleModule, encoding='utf-8')


def load_data(path: str, backend: Optional[str] = None) -> Any:
    """torch.load of `path` on the CPU that builds tensors and plain data only.

    Raises UnsafeCheckpointError, naming the file and the type, for a file that needs anything else (its payload
    is not run); pickle.UnpicklingError (torch's advice to retry unrestricted removed) for pickle content that is
    damaged or of an unknown opcode; other failures (truncated zip, not a torch file) as torch raises them.
    backend: 'torch' (torch.load(weights_only=True)) or 'allowlist' (AllowListUnpickler); by default 'torch'
    where weights_only_reads_plain_data(), i.e. torch 2.x."""
    backend = backend or ('torch' if weights_only_reads_plain_data() else 'allowlist')
    if backend not in ('torch', 'allowlist'):
        raise ValueError(f'unknown backend {backend!r}; use torch or allowlist')
    if is_torchscript(path):
        raise UnsafeCheckpointError(f'{path} cannot be loaded as data: it is a TorchScript archive (torch.jit.save), '
                                    f'a program rather than a checkpoint. {RESAVE_HINT}')
    try:
        if backend == 'torch':
            return torch.load(path, map_location='cpu', weights_only=True)
        return _allowlist_load(path)
    except pickle.UnpicklingError as e:
        # refused: never re-read unrestricted
        name = offending_type(str(e))
        if name:
            raise UnsafeCheckpointError(
                f'{path} cannot be loaded as data: it contains a pickled `{name}`, which loading would have to '
                f'import and call, so the file could run code. {RESAVE_HINT}') from None
        raise pickle.UnpicklingError(_reason(str(e))) from None
