"""A MomeModel out as a model directory (design.md, "Model directory"): mome.json, vocab.txt and the ONNX graphs
image_encoder / text_encoder / fusion / nlvr2, whose weights are stored ONCE in weights.bin.

How the weights are shared: each graph is exported by torch.onnx on its own (torch switches to external data by
itself above 2 GB), then every initializer of every graph is rewritten to point into one file, weights.bin, at
an (offset, length); identical tensors (same type, shape and bytes — e.g. the same parameter in two graphs) are
written once. ONNX Runtime resolves `location` relative to the graph file, so the graphs must stay beside
weights.bin. Tensors of 4 KiB or more start on a 4 KiB (page) boundary, smaller ones on 64 bytes, so memory-mapped
tensors are page- and SIMD-aligned while small models waste little space on padding.

Constant folding in torch.onnx is off so that initializers stay the model's parameters (folded copies such as
transposed weights would otherwise be stored too); ONNX Runtime folds them in memory when a session loads.

Text inputs: the text and fusion graphs take any text length L <= max_text_len (dynamic axis `text_len`); the
runtime pads to max_text_len as the official loader does, which gives the official results (see model.py).

The directory is written to a temporary folder beside DIR and renamed at the end, so DIR is untouched when
anything fails.
"""
from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import inspect
import json
import os
import shutil
import tempfile
import warnings
from typing import Callable, Dict, Iterable, List, Optional

import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

from .config import MomeConfig
from .fp16 import halve_bytes, halve_graph
from .model import MomeModel

FORMAT_VERSION = 1
OPSET = 17           # torch 1.13's newest; native LayerNormalization
WEIGHTS_FILE = 'weights.bin'
ALIGN_LARGE = 4096
ALIGN_SMALL = 64


class ExportError(Exception):
    """The model could not be written as a model directory."""


# Graph wrappers: one forward per graph, named inputs/outputs --------------------------------------------------

class _Graph(nn.Module):
    """Inputs arrive as float32 and are cast to the model's precision; outputs leave as float32 (fp16.py)."""

    def __init__(self, model: MomeModel) -> None:
        super().__init__()
        self.model = model
        self.dtype = model.transformer.cls_token.dtype

    def px(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(self.dtype)


class ImageEncoderGraph(_Graph):
    def forward(self, pixel_values):
        return self.model.encode_image(self.px(pixel_values)).float()


class TextEncoderGraph(_Graph):
    def forward(self, input_ids, attention_mask):
        return self.model.encode_text(input_ids, attention_mask).float()


class FusionGraph(_Graph):
    def forward(self, pixel_values, input_ids, attention_mask):
        pooled, itm = self.model.fusion(self.px(pixel_values), input_ids, attention_mask)
        return pooled.float(), itm.float()


class Nlvr2Graph(_Graph):
    def forward(self, pixel_values_left, pixel_values_right, input_ids, attention_mask):
        return self.model.nlvr2(self.px(pixel_values_left), self.px(pixel_values_right), input_ids,
                                attention_mask).float()


def _example_inputs(cfg: MomeConfig, batch: int = 2) -> Dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    s, lt = cfg.image_size, cfg.max_text_len
    ids = torch.randint(0, cfg.vocab_size, (batch, lt), generator=g)
    mask = torch.ones(batch, lt, dtype=torch.long)
    mask[-1, lt // 2:] = 0
    ids[:, 0] = 101 if cfg.vocab_size > 101 else 0
    return {
        'pixel_values': torch.rand(batch, 3, s, s, generator=g) * 2 - 1,
        'pixel_values_left': torch.rand(batch, 3, s, s, generator=g) * 2 - 1,
        'pixel_values_right': torch.rand(batch, 3, s, s, generator=g) * 2 - 1,
        'input_ids': ids,
        'attention_mask': mask,
    }


GRAPH_SPECS = {
    # name: (wrapper, inputs, outputs, file)
    'image_encoder': (ImageEncoderGraph, ['pixel_values'], ['image_embeds'], 'image_encoder.onnx'),
    'text_encoder': (TextEncoderGraph, ['input_ids', 'attention_mask'], ['text_embeds'], 'text_encoder.onnx'),
    'fusion': (FusionGraph, ['pixel_values', 'input_ids', 'attention_mask'], ['pooled', 'itm_logits'],
               'fusion.onnx'),
    'nlvr2': (Nlvr2Graph, ['pixel_values_left', 'pixel_values_right', 'input_ids', 'attention_mask'],
              ['nlvr2_logits'], 'nlvr2.onnx'),
}


def graphs_for(cfg: MomeConfig) -> List[str]:
    """Which graphs a model gets: fusion needs the ITM head (its contract has itm_logits), nlvr2 its head."""
    names = ['image_encoder', 'text_encoder']
    if cfg.has('itm'):
        names.append('fusion')
    if cfg.has('nlvr2'):
        names.append('nlvr2')
    return names


def _dynamic_axes(inputs: Iterable[str], outputs: Iterable[str]) -> Dict[str, Dict[int, str]]:
    axes: Dict[str, Dict[int, str]] = {}
    for name in inputs:
        axes[name] = {0: 'batch', 1: 'text_len'} if name in ('input_ids', 'attention_mask') else {0: 'batch'}
    for name in outputs:
        axes[name] = {0: 'batch'}
    return axes


# torch >= 2.9 defaults to the torch.export (dynamo) exporter, which needs onnxscript and names graphs differently;
# the TorchScript exporter (1.13's only one, `dynamo=False` from 2.5 on) gives the same graphs on every version.
TORCHSCRIPT_EXPORTER = {'dynamo': False} if 'dynamo' in inspect.signature(torch.onnx.export).parameters else {}


def export_graph(model: MomeModel, name: str, path: str) -> None:
    """One graph with torch.onnx, in the model's precision (float32, or float64 on the way to fp16). Large
    models get torch's own external data beside `path`."""
    wrapper_cls, inputs, outputs, _ = GRAPH_SPECS[name]
    examples = _example_inputs(model.config)
    args = tuple(examples[n] for n in inputs)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore')   # tracer warnings about Python ints from shapes are expected here
        torch.onnx.export(wrapper_cls(model).eval(), args, path, input_names=inputs, output_names=outputs,
                          dynamic_axes=_dynamic_axes(inputs, outputs), opset_version=OPSET,
                          do_constant_folding=False, export_params=True, **TORCHSCRIPT_EXPORTER)


# Weights stored once ------------------------------------------------------------------------------------------

def _tensor_bytes(t: onnx.TensorProto, base_dir: str) -> bytes:
    if t.data_location == onnx.TensorProto.EXTERNAL:
        info = {e.key: e.value for e in t.external_data}
        with open(os.path.join(base_dir, info['location']), 'rb') as fh:
            fh.seek(int(info.get('offset', 0)))
            return fh.read(int(info['length'])) if 'length' in info else fh.read()
    if t.HasField('raw_data'):
        return t.raw_data
    return numpy_helper.to_array(t).tobytes()


_TYPED_FIELDS = ('float_data', 'int32_data', 'string_data', 'int64_data', 'double_data', 'uint64_data')


class WeightsFile:
    """Appends tensors to one file, each distinct (type, shape, bytes) once."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fh = open(path, 'wb')
        self.offset = 0
        self.seen: Dict[tuple, tuple] = {}
        self.tensors_written = 0
        self.tensors_shared = 0

    def add(self, t: onnx.TensorProto, data: bytes) -> tuple:
        key = (t.data_type, tuple(t.dims), hashlib.sha256(data).hexdigest())
        if key in self.seen:
            self.tensors_shared += 1
            return self.seen[key]
        align = ALIGN_LARGE if len(data) >= ALIGN_LARGE else ALIGN_SMALL
        pad = (-self.offset) % align
        if pad:
            self.fh.write(b'\0' * pad)
            self.offset += pad
        self.fh.write(data)
        self.seen[key] = (self.offset, len(data))
        self.offset += len(data)
        self.tensors_written += 1
        return self.seen[key]

    def close(self) -> None:
        self.fh.close()


def share_weights(src_graph: str, dst_graph: str, weights: WeightsFile, halve: bool = False) -> None:
    """Rewrites every initializer of `src_graph` to point into `weights` and saves the graph as `dst_graph`
    (which must sit in the same folder as the weights file). `halve`: the graph was traced in float64 and
    becomes fp16 (fp16.py)."""
    proto = onnx.load(src_graph, load_external_data=False)
    base = os.path.dirname(src_graph)
    location = os.path.relpath(weights.path, os.path.dirname(dst_graph))
    if halve:
        halve_graph(proto.graph)
    for t in proto.graph.initializer:
        data = _tensor_bytes(t, base)
        if halve and t.data_type == onnx.TensorProto.DOUBLE:
            data, t.data_type = halve_bytes(data), onnx.TensorProto.FLOAT16
        offset, length = weights.add(t, data)
        t.ClearField('raw_data')
        for f in _TYPED_FIELDS:
            t.ClearField(f)
        del t.external_data[:]
        t.data_location = onnx.TensorProto.EXTERNAL
        for k, v in (('location', location), ('offset', str(offset)), ('length', str(length))):
            entry = t.external_data.add()
            entry.key, entry.value = k, v
    with open(dst_graph, 'wb') as fh:
        fh.write(proto.SerializeToString())
    onnx.checker.check_model(dst_graph)   # by path, so the external data is resolved beside the graph


# The directory ------------------------------------------------------------------------------------------------

def count_vocab(path: str) -> int:
    with open(path, 'r', encoding='utf-8') as fh:
        return sum(1 for _ in fh)


# What an image embedding depends on besides the image encoder graph and its weights: the pre-processing.
IMAGE_INPUT_KEYS = ('image_size', 'patch_size', 'mean', 'std', 'resize')


def image_tower_sha256(model_dir: str, meta: dict) -> Optional[str]:
    """The sha256 of what decides a model's image embeddings: the image encoder graph (its nodes, without where its
    weights lie in weights.bin), each of its weights by name, type, shape and bytes, and the pre-processing keys of
    mome.json. Two versions with the same value give the same image embeddings, so the app reuses the cached ones
    (e.g. after a fine-tune that left the image side alone); None without an image encoder."""
    file = (meta.get('graphs') or {}).get('image_encoder')
    if not file:
        return None
    graph = onnx.load(os.path.join(model_dir, file), load_external_data=False)
    h = hashlib.sha256()
    h.update(json.dumps({k: meta.get(k) for k in IMAGE_INPUT_KEYS}, sort_keys=True).encode())
    with open(os.path.join(model_dir, WEIGHTS_FILE), 'rb') as weights:
        for init in sorted(graph.graph.initializer, key=lambda t: t.name):
            ext = {e.key: e.value for e in init.external_data}
            if 'offset' in ext:
                weights.seek(int(ext['offset']))
                data = weights.read(int(ext['length']))
            else:
                data = init.raw_data or init.SerializeToString()
            h.update(f'{init.name}|{init.data_type}|{list(init.dims)}|{len(data)}'.encode())
            h.update(data)
    del graph.graph.initializer[:]
    h.update(graph.graph.SerializeToString())
    return h.hexdigest()


def model_json(cfg: MomeConfig, graphs: Dict[str, str], fp16: bool, provenance: dict, name: str) -> dict:
    tasks = (['retrieval'] if cfg.has('itc') else []) + (['itm'] if cfg.has('itm') else []) + \
        (['nlvr2'] if cfg.has('nlvr2') else [])
    return {
        'format_version': FORMAT_VERSION,
        'name': name,
        'architecture': 'vlmo-mome',
        'embed_dim': cfg.embed_dim,          # the ITC projections are D x D
        'hidden_size': cfg.embed_dim,
        'num_layers': cfg.depth,
        'num_heads': cfg.num_heads,
        'mlp_ratio': cfg.mlp_ratio,
        'vl_start': cfg.vl_start,
        'image_size': cfg.image_size,
        'patch_size': cfg.patch_size,
        'patch_embed': cfg.patch_embed,
        'mean': [0.5, 0.5, 0.5],
        'std': [0.5, 0.5, 0.5],
        'resize': 'bicubic',
        'max_text_len': cfg.max_text_len,
        'text_padding': 'max_length',
        'vocab_file': 'vocab.txt',
        'vocab_size': cfg.vocab_size,
        'do_lower_case': True,
        'rel_pos_bias': cfg.rel_pos_bias,
        'abs_pos_emb': cfg.abs_pos_emb,
        'layer_scale': cfg.layer_scale,
        'token_types': cfg.token_types,
        'shared_experts': cfg.shared_experts,
        # Without ITC projections (e.g. NLVR2 fine-tunes) the encoders return the normalized [CLS] states.
        'embedding': 'itc_projection' if cfg.has('itc') else 'cls_hidden_state',
        'heads': list(cfg.heads),
        'tasks': tasks,
        'graphs': graphs,
        'weights_file': WEIGHTS_FILE,
        'precision': 'fp16' if fp16 else 'fp32',
        'io_dtype': 'float32',
        'opset': OPSET,
        'config': cfg.to_dict(),
        'provenance': provenance,
    }


def _temp_dir_beside(out_dir: str) -> str:
    parent = os.path.dirname(os.path.abspath(out_dir)) or '.'
    os.makedirs(parent, exist_ok=True)
    return tempfile.mkdtemp(prefix=f'.{os.path.basename(os.path.abspath(out_dir))}.partial-', dir=parent)


def export_model_dir(model: MomeModel, config: MomeConfig, out_dir: str, vocab_path: str, fp16: bool = False,
                     provenance: Optional[dict] = None, overwrite: bool = False,
                     progress: Optional[Callable[[str], None]] = None) -> dict:
    """Writes the model directory; returns mome.json's content. DIR is only touched by the final rename."""
    out_dir = os.path.abspath(out_dir)
    if os.path.exists(out_dir) and (not os.path.isdir(out_dir) or os.listdir(out_dir)) and not overwrite:
        raise ExportError(f'{out_dir} already exists and is not empty; choose a new folder (models are '
                          f'immutable) or pass --force to replace it')
    if not os.path.isfile(vocab_path):
        raise ExportError(f'vocabulary {vocab_path} does not exist')
    lines = count_vocab(vocab_path)
    if lines != config.vocab_size:
        raise ExportError(f'vocabulary {vocab_path} has {lines} lines but the model\'s word embeddings have '
                          f'{config.vocab_size} rows; give the vocab.txt the model was trained with')
    # fp16: traced in float64 so the float32 islands show as casts (fp16.py); a copy, the caller's model stays.
    model = copy.deepcopy(model).double().eval() if fp16 else model.float().eval()
    tmp = _temp_dir_beside(out_dir)
    try:
        raw = os.path.join(tmp, '_raw')
        weights = WeightsFile(os.path.join(tmp, WEIGHTS_FILE))
        graphs: Dict[str, str] = {}
        try:
            for name in graphs_for(config):
                if progress:
                    progress(name)
                file = GRAPH_SPECS[name][3]
                src_dir = os.path.join(raw, name)
                os.makedirs(src_dir)
                src = os.path.join(src_dir, file)
                export_graph(model, name, src)
                share_weights(src, os.path.join(tmp, file), weights, halve=fp16)
                shutil.rmtree(src_dir)    # keep peak disk use at one raw graph
                graphs[name] = file
        finally:
            weights.close()
        shutil.rmtree(raw, ignore_errors=True)
        shutil.copyfile(vocab_path, os.path.join(tmp, 'vocab.txt'))
        prov = {'exported_at': _dt.datetime.now(_dt.timezone.utc).isoformat(timespec='seconds'),
                'exporter': 'mome export', 'torch': torch.__version__, 'onnx': onnx.__version__,
                'weights_written': weights.tensors_written, 'weights_shared': weights.tensors_shared,
                **(provenance or {})}
        meta = model_json(config, graphs, fp16, prov, os.path.basename(out_dir))
        tower = image_tower_sha256(tmp, meta)
        if tower:
            meta['image_tower_sha256'] = tower
        with open(os.path.join(tmp, 'mome.json'), 'w', encoding='utf-8', newline='\n') as fh:
            json.dump(meta, fh, indent=2)
            fh.write('\n')
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)   # mkdtemp made it private
        _replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return meta


def _replace_dir(tmp: str, out_dir: str) -> None:
    if not os.path.exists(out_dir):
        os.rename(tmp, out_dir)
        return
    old = tmp + '.old'
    os.rename(out_dir, old)
    try:
        os.rename(tmp, out_dir)
    except BaseException:
        os.rename(old, out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)
