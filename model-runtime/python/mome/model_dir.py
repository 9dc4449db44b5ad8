"""A model directory back into PyTorch: `load_model_dir(dir) -> (MomeModel, MomeConfig, meta)`.

Fine-tuning starts from a registered model version, which exists only as a model directory. The model is
rebuilt from mome.json's `config`, and its weights are read from the ONNX graphs' initializers: export.py runs
torch.onnx with constant folding off, so every initializer is a parameter under its PyTorch name (prefixed by
the graph wrapper's `model.`), stored once in weights.bin. fp16 directories are cast back to float32.

Parameters no graph uses (logit_scale, the MLM head, unused position embeddings, itc_vl, vqa) cannot be
recovered from a model directory; they keep the model's initial values and are listed in
meta['missing_parameters'] so callers can say so.
"""
from __future__ import annotations

import json
import os
from typing import Dict, List, Tuple

import numpy as np
import onnx
import torch

from .config import MomeConfig
from .model import MomeModel

WRAPPER_PREFIX = 'model.'   # export.py's graph wrappers hold the model as `self.model`

_NUMPY_TYPES = {
    onnx.TensorProto.FLOAT: np.float32,
    onnx.TensorProto.FLOAT16: np.float16,
    onnx.TensorProto.DOUBLE: np.float64,
    onnx.TensorProto.INT64: np.int64,
    onnx.TensorProto.INT32: np.int32,
}


class ModelDirError(ValueError):
    """The folder is not a model directory this version can load."""


def read_meta(model_dir: str) -> dict:
    path = os.path.join(model_dir, 'mome.json')
    if not os.path.isfile(path):
        raise ModelDirError(f'{model_dir} is not a model folder: it has no mome.json')
    try:
        with open(path, 'r', encoding='utf-8') as fh:
            meta = json.load(fh)
    except (ValueError, UnicodeDecodeError) as e:   # json.JSONDecodeError is a ValueError
        raise ModelDirError(f'{path} is not valid JSON ({e}); re-export the model with this version of mome') from None
    if not isinstance(meta, dict) or not isinstance(meta.get('config'), dict):
        raise ModelDirError(f'{path} has no "config" object; re-export the model with this version of mome')
    return meta


def _tensor(t: onnx.TensorProto, model_dir: str, blobs: Dict[str, np.memmap]) -> np.ndarray:
    """One initializer as a numpy array, read from its external file (or inline data)."""
    dtype = _NUMPY_TYPES.get(t.data_type)
    if dtype is None:
        raise ModelDirError(f'initializer {t.name} has ONNX type {t.data_type}, which no MoME parameter has')
    if t.data_location != onnx.TensorProto.EXTERNAL:
        return onnx.numpy_helper.to_array(t)
    info = {e.key: e.value for e in t.external_data}
    location = os.path.join(model_dir, info['location'])
    if location not in blobs:
        if not os.path.isfile(location):
            raise ModelDirError(f'{t.name} is stored in {location}, which does not exist')
        blobs[location] = np.memmap(location, dtype=np.uint8, mode='r')
    blob = blobs[location]
    offset = int(info.get('offset', 0))
    length = int(info.get('length', blob.size - offset))
    if offset + length > blob.size:
        raise ModelDirError(f'{t.name} lies beyond the end of {location} (truncated file?)')
    return np.frombuffer(blob[offset:offset + length].tobytes(), dtype=dtype).reshape(tuple(t.dims))


def read_graph_weights(model_dir: str, meta: dict) -> Dict[str, np.ndarray]:
    """Every initializer of every graph, keyed by its PyTorch parameter name."""
    blobs: Dict[str, np.memmap] = {}
    out: Dict[str, np.ndarray] = {}
    for name, file in (meta.get('graphs') or {}).items():
        path = os.path.join(model_dir, file)
        if not os.path.isfile(path):
            raise ModelDirError(f'mome.json lists the graph {name} as {file}, but {path} does not exist')
        proto = onnx.load(path, load_external_data=False)
        for t in proto.graph.initializer:
            if _key(t.name) not in out:
                out[_key(t.name)] = _tensor(t, model_dir, blobs)
        # torch.onnx stores parameters with identical values once; each other one becomes Identity(kept one)
        for node in proto.graph.node:
            if node.op_type == 'Identity' and _key(node.input[0]) in out and _key(node.output[0]) not in out:
                out[_key(node.output[0])] = out[_key(node.input[0])]
    return out


def _key(name: str) -> str:
    return name[len(WRAPPER_PREFIX):] if name.startswith(WRAPPER_PREFIX) else name


def load_model_dir(model_dir: str) -> Tuple[MomeModel, MomeConfig, dict]:
    """The PyTorch model of a model directory, in float32 and eval mode."""
    meta = read_meta(model_dir)
    config = MomeConfig.from_dict(meta['config'])
    model = MomeModel(config)
    weights = read_graph_weights(model_dir, meta)
    state = model.state_dict()
    missing: List[str] = []
    with torch.no_grad():
        for key, param in state.items():
            if key not in weights:
                missing.append(key)
                continue
            arr = weights[key]
            if tuple(arr.shape) != tuple(param.shape):
                raise ModelDirError(f'{key} has shape {list(arr.shape)} in {model_dir} but the config in '
                                    f'mome.json gives {list(param.shape)}; the folder is inconsistent')
            param.copy_(torch.tensor(arr, dtype=torch.float32))
    if not any(k in weights for k in state):
        raise ModelDirError(f'none of the graphs in {model_dir} carries named parameters; was it exported with '
                            f'constant folding on (by another tool)?')
    meta = dict(meta, missing_parameters=missing)
    return model.float().eval(), config, meta
