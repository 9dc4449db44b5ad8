"""Official VLMo checkpoints in and out.

Reading is data only: a .pt/.pth/.ckpt goes through safe_load.load_data (tensors and plain data; a pickle that
would import or call anything else is refused by name, its payload never run; safe_load says what official files
hold), a .safetensors file through the safetensors package (a bare state dict). Then (spec §2): the file is a
dict; the state dict is under the first present key of `state_dict`, `module`, `model`, else it is the file
itself. DeepSpeed files (`module`) prefix every key with `module.`. Keys derived from the configuration (relative
position indices, BERT's position_ids / token_type_ids buffers) are dropped. The rest must match the model
exactly (strict): a missing or unexpected tensor is an error that lists them.
"""
from __future__ import annotations

import hashlib
import os
import struct
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

import torch

from .config import ConfigError, MomeConfig, checkpoint_window, config_from_state_dict
from .interpolate import resize_pos_embed, resize_relative_position_table
from .model import MomeModel, fusion_relative_position_index, image_relative_position_index, \
    text_relative_position_index
from .safe_load import UnsafeCheckpointError, load_data

WRAPPER_KEYS = ('state_dict', 'module', 'model')
DERIVED_KEYS = ('relative_position_index', 'text_relative_position_index', 'text_imag_relative_position_index',
                'text_embeddings.position_ids', 'text_embeddings.token_type_ids')


class CheckpointError(Exception):
    """A checkpoint that cannot be used, with what is wrong, where, and what to do."""


@dataclass
class LoadedCheckpoint:
    model: MomeModel
    config: MomeConfig
    path: str
    wrapper: Optional[str]                 # the key the state dict was found under; None for a bare file
    ignored_keys: List[str] = field(default_factory=list)
    resized_from: Optional[int] = None     # the checkpoint's own image size when it was interpolated


def sha256_file(path: str, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as fh:
        for block in iter(lambda: fh.read(chunk), b''):
            h.update(block)
    return h.hexdigest()


def is_safetensors(path: str) -> bool:
    """By name, or by content: 8 bytes of little-endian header length, then the JSON header."""
    if path.lower().endswith('.safetensors'):
        return True
    try:
        with open(path, 'rb') as fh:
            head = fh.read(9)
    except OSError:
        return False
    if len(head) < 9 or head[8:9] != b'{':
        return False
    return 2 <= struct.unpack('<Q', head[:8])[0] < os.path.getsize(path)


def read_safetensors(path: str) -> Dict[str, torch.Tensor]:
    """A .safetensors file: a JSON header and raw tensor bytes, nothing executable. Its tensors are a bare state
    dict (a flat name -> tensor map; same names as a .pt state dict)."""
    try:
        from safetensors.torch import load_file
    except ImportError:
        raise CheckpointError(f'{path} is a .safetensors file, and reading it needs the safetensors package, which '
                              f'this Python ({sys.executable}) does not have: pip install safetensors (or set '
                              f'MOME_PYTHON to a Python that has it), or use the .pt checkpoint') from None
    try:
        return load_file(path, device='cpu')
    except Exception as e:   # SafetensorError, header JSON and I/O errors
        detail = str(e).strip().splitlines()[0] if str(e).strip() else 'no detail'
        raise CheckpointError(f'checkpoint {path} ({os.path.getsize(path)} bytes) could not be read as safetensors: '
                              f'{type(e).__name__}: {detail}. The file is truncated or corrupt; download it again '
                              f'and compare its size/sha256') from None


def read_checkpoint(path: str) -> Any:
    """The checkpoint's content on the CPU, read as data only (safe_load.load_data, or safetensors), with the file
    named in every error."""
    if not os.path.exists(path):
        raise CheckpointError(f'checkpoint {path} does not exist')
    if os.path.isdir(path):
        raise CheckpointError(f'checkpoint {path} is a folder; give the .pt/.pth/.ckpt/.safetensors file itself')
    size = os.path.getsize(path)
    if size == 0:
        raise CheckpointError(f'checkpoint {path} is empty (0 bytes); download it again')
    if is_safetensors(path):
        return read_safetensors(path)
    try:
        return load_data(path)
    except UnsafeCheckpointError as e:
        raise CheckpointError(str(e)) from None
    except Exception as e:  # zip reader, unpickler and EOF errors all mean the same thing to the user
        raise CheckpointError(
            f'checkpoint {path} ({size} bytes) could not be read by torch.load: {type(e).__name__}: '
            f'{str(e).strip().splitlines()[0] if str(e).strip() else "no detail"}. The file is truncated or '
            f'corrupt, or not a PyTorch checkpoint; download it again and compare its size/sha256') from None


def unwrap_state_dict(obj: Any, path: str = '<checkpoint>') -> tuple[Dict[str, torch.Tensor], Optional[str]]:
    """(state dict with plain official names, wrapper key) from a loaded checkpoint object."""
    if not isinstance(obj, Mapping):
        raise CheckpointError(f'{path} is not a VLMo checkpoint: it holds a {type(obj).__name__}, not a dict of '
                              f'tensors')
    wrapper = next((k for k in WRAPPER_KEYS if k in obj and isinstance(obj[k], Mapping)), None)
    sd = obj[wrapper] if wrapper else obj
    out: Dict[str, torch.Tensor] = {}
    for key, value in sd.items():
        if not isinstance(key, str):
            continue
        name = key[len('module.'):] if key.startswith('module.') else key
        if isinstance(value, torch.Tensor):
            out[name] = value
    if not any(k.startswith('transformer.') for k in out):
        sample = ', '.join(list(map(str, sd.keys()))[:6]) or 'none'
        raise CheckpointError(f'{path} is not a VLMo checkpoint: it has no transformer.* tensors '
                              f'(top-level keys: {", ".join(map(str, list(obj.keys())[:6]))}; '
                              f'state-dict keys: {sample})')
    return out, wrapper


def _format_keys(keys: List[str], limit: int = 20) -> str:
    shown = ', '.join(keys[:limit])
    return shown + (f' … and {len(keys) - limit} more' if len(keys) > limit else '')


def adapt_state_dict(sd: Dict[str, torch.Tensor], cfg: MomeConfig) -> Optional[int]:
    """Resizes position tensors in place when cfg.image_size differs from the checkpoint's. Returns the
    checkpoint's own image size when it did."""
    src_window, _ = checkpoint_window(sd, cfg.patch_size, None, cfg.max_text_len_of_initckpt) \
        if ('relative_position_bias_table' in sd or 'transformer.pos_embed' in sd) else (cfg.window, 0)
    if src_window == cfg.window:
        return None
    if 'relative_position_bias_table' in sd:
        sd['relative_position_bias_table'] = resize_relative_position_table(
            sd['relative_position_bias_table'], src_window, cfg.window)
    if 'transformer.pos_embed' in sd:
        sd['transformer.pos_embed'] = resize_pos_embed(sd['transformer.pos_embed'], cfg.window)
    return src_window * cfg.patch_size


def load_state_dict_strict(model: MomeModel, sd: Mapping[str, torch.Tensor], path: str) -> None:
    try:
        result = model.load_state_dict(sd, strict=False)
    except RuntimeError as e:   # size mismatches
        detail = ' '.join(str(e).split())
        raise CheckpointError(f'{path}: tensors do not fit the model read from it: {detail}') from None
    if result.missing_keys:
        raise CheckpointError(f'{path} is incomplete: {len(result.missing_keys)} tensors are missing: '
                              f'{_format_keys(result.missing_keys)}. The file may be from a different '
                              f'architecture or cut short; use a complete official VLMo checkpoint')
    if result.unexpected_keys:
        raise CheckpointError(f'{path} has {len(result.unexpected_keys)} tensors this model does not know: '
                              f'{_format_keys(result.unexpected_keys)}')


def load_checkpoint(path: str, image_size: Optional[int] = None, num_heads: Optional[int] = None) -> LoadedCheckpoint:
    """Reads an official checkpoint into a MomeModel (eval mode), inferring every size from its tensors."""
    sd, wrapper = unwrap_state_dict(read_checkpoint(path), path)
    ignored = [k for k in sd if k in DERIVED_KEYS]
    for k in ignored:
        del sd[k]
    try:
        cfg = config_from_state_dict(sd, image_size=image_size, num_heads=num_heads)
        resized_from = adapt_state_dict(sd, cfg)
    except (ConfigError, ValueError) as e:
        raise CheckpointError(f'{path}: {e}') from None
    model = MomeModel(cfg)
    load_state_dict_strict(model, sd, path)
    model.eval()
    return LoadedCheckpoint(model, cfg, path, wrapper, ignored, resized_from)


def official_state_dict(model: MomeModel, with_derived: bool = True) -> Dict[str, torch.Tensor]:
    """The model's tensors under official names, plus the derived buffers official files carry."""
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if with_derived:
        cfg = model.config
        sd['text_embeddings.position_ids'] = torch.arange(cfg.max_text_len).expand((1, -1)).clone()
        if cfg.rel_pos_bias:
            image = image_relative_position_index(cfg.window)
            text = text_relative_position_index(cfg.max_text_len, cfg.num_relative_distance,
                                                cfg.max_text_len_of_initckpt)
            sd['relative_position_index'] = image
            sd['text_relative_position_index'] = text
            sd['text_imag_relative_position_index'] = fusion_relative_position_index(
                text, image, cfg.num_relative_distance)
    return sd


def save_official_checkpoint(model: MomeModel, path: str, wrapper: Optional[str] = 'state_dict') -> str:
    """Writes the model as an official checkpoint: wrapper 'state_dict' (Lightning), 'module' (DeepSpeed, keys
    prefixed `module.`), 'model', or None (a bare state dict)."""
    sd = official_state_dict(model)
    if wrapper == 'state_dict':
        obj: Any = {'state_dict': sd, 'epoch': 0, 'global_step': 0}
    elif wrapper == 'module':
        obj = {'module': {f'module.{k}': v for k, v in sd.items()}}
    elif wrapper == 'model':
        obj = {'model': sd}
    elif wrapper is None:
        obj = sd
    else:
        raise ValueError(f'unknown wrapper {wrapper!r}; use state_dict, module, model or None')
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    torch.save(obj, path)
    return path
