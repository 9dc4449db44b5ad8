"""Shared pieces of the model, checkpoint, export and convert tests: tiny configs, temp folders, the official
parameter table written out from the spec (independently of mome.model), and paths to the real fixtures."""
from __future__ import annotations

import os
import shutil
import tempfile
import unittest
from typing import Dict, Iterable, Tuple

import torch

from mome.config import MomeConfig
from mome.model import MomeModel, randomize_

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
# Real fixtures live beside the repository (../shared from its root) and are never copied into it.
BERT_VOCAB = os.path.join(REPO, '..', 'shared', 'fixtures', 'bert-base-uncased', 'vocab.txt')
PYTHON_DIR = os.path.join(REPO, 'model-runtime', 'python')
SMALL_VOCAB_SIZE = 120


def tiny(**overrides) -> MomeConfig:
    """Depth 4, width 64, 4 heads, 32px images of 16px patches, a 120-word vocabulary."""
    base = dict(embed_dim=64, depth=4, num_heads=4, image_size=32, patch_size=16, vl_start=2,
                vocab_size=SMALL_VOCAB_SIZE, max_text_len=10, token_types=3,
                heads=('itc', 'itm', 'mlm', 'nlvr2'))
    base.update(overrides)
    return MomeConfig(**base)


def random_model(cfg: MomeConfig, seed: int = 0) -> MomeModel:
    torch.manual_seed(seed)
    return randomize_(MomeModel(cfg), seed).eval()


def write_small_vocab(path: str, size: int = SMALL_VOCAB_SIZE) -> str:
    specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
    words = specials + [f'w{i}' for i in range(size - len(specials))]
    with open(path, 'w', encoding='utf-8', newline='\n') as fh:
        fh.write('\n'.join(words) + '\n')
    return path


def inputs(cfg: MomeConfig, batch: int = 2, text_len: int | None = None, seed: int = 1) -> Dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    n = text_len or cfg.max_text_len
    ids = torch.randint(5, cfg.vocab_size, (batch, n), generator=g)
    mask = torch.ones(batch, n, dtype=torch.long)
    for b in range(1, batch):   # later rows padded more and more
        keep = max(2, n - 2 * b)
        mask[b, keep:] = 0
        ids[b, keep:] = 0
    s = cfg.image_size
    return {'pixels': torch.rand(batch, 3, s, s, generator=g) * 2 - 1,
            'pixels2': torch.rand(batch, 3, s, s, generator=g) * 2 - 1,
            'ids': ids, 'mask': mask}


class TempDirTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix='mome-test-')
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def path(self, *parts: str) -> str:
        return os.path.join(self.tmp, *parts)


# The official parameter table (spec §2), written from the spec rather than from mome.model ------------------

def spec_shapes(d: int, depth: int, heads: int, window: int, vl_start: int, *, rel_pos: bool = True,
                abs_pos: bool = False, layer_scale: bool = True, vocab: int = 30522, max_text_len: int = 40,
                t0: int = 196, token_types: int = 2, mlp_ratio: int = 4, patch: int = 16,
                head_names: Iterable[str] = ('itc', 'itm'), shared: bool = False,
                vqa_labels: int = 3129) -> Dict[str, Tuple[int, ...]]:
    h4 = mlp_ratio * d
    s: Dict[str, Tuple[int, ...]] = {
        'transformer.patch_embed.proj.weight': (d, 3, patch, patch),
        'transformer.patch_embed.proj.bias': (d,),
        'transformer.cls_token': (1, 1, d),
        'transformer.norm.weight': (d,), 'transformer.norm.bias': (d,),
        'text_embeddings.word_embeddings.weight': (vocab, d),
        'text_embeddings.position_embeddings.weight': (max_text_len, d),
        'text_embeddings.token_type_embeddings.weight': (2, d),
        'text_embeddings.LayerNorm.weight': (d,), 'text_embeddings.LayerNorm.bias': (d,),
        'token_type_embeddings.weight': (token_types, d),
        'pooler.dense.weight': (d, d), 'pooler.dense.bias': (d,),
    }
    if abs_pos:
        s['transformer.pos_embed'] = (1, window * window + 1, d)
    if rel_pos:
        s['relative_position_bias_table'] = ((2 * window - 1) ** 2 + 3 + 2 * t0 + 2, heads * depth)
    experts = ['text'] if shared else ['text', 'imag']
    for i in range(depth):
        p = f'transformer.blocks.{i}.'
        s.update({p + 'norm1.weight': (d,), p + 'norm1.bias': (d,), p + 'attn.qkv.weight': (3 * d, d),
                  p + 'attn.q_bias': (d,), p + 'attn.v_bias': (d,), p + 'attn.proj.weight': (d, d),
                  p + 'attn.proj.bias': (d,)})
        if layer_scale:
            s[p + 'gamma_1'] = (d,)
            s[p + 'gamma_2'] = (d,)
        for e in experts + (['vl'] if i >= vl_start and not shared else []):
            s.update({f'{p}norm2_{e}.weight': (d,), f'{p}norm2_{e}.bias': (d,),
                      f'{p}mlp_{e}.fc1.weight': (h4, d), f'{p}mlp_{e}.fc1.bias': (h4,),
                      f'{p}mlp_{e}.fc2.weight': (d, h4), f'{p}mlp_{e}.fc2.bias': (d,)})
    head_names = set(head_names)
    if 'itc' in head_names:
        s.update({'itc_text_proj.fc.weight': (d, d), 'itc_image_proj.fc.weight': (d, d), 'logit_scale': ()})
    if 'itc_vl' in head_names:
        s.update({'itc_vl_text_proj.fc.weight': (d, d), 'itc_vl_image_proj.fc.weight': (d, d),
                  'logit_vl_scale': ()})
    if 'itm' in head_names:
        s.update({'itm_score.fc.weight': (2, d), 'itm_score.fc.bias': (2,)})
    if 'mlm' in head_names:
        s.update({'mlm_score.transform.dense.weight': (d, d), 'mlm_score.transform.dense.bias': (d,),
                  'mlm_score.transform.LayerNorm.weight': (d,), 'mlm_score.transform.LayerNorm.bias': (d,),
                  'mlm_score.decoder.weight': (vocab, d), 'mlm_score.bias': (vocab,)})
    for name, d_in, d_out in (('nlvr2', 2 * d, 2), ('vqa', d, vqa_labels)):
        if name in head_names:
            c = f'{name}_classifier.'
            s.update({c + '0.weight': (2 * d, d_in), c + '0.bias': (2 * d,), c + '1.weight': (2 * d,),
                      c + '1.bias': (2 * d,), c + '3.weight': (d_out, 2 * d), c + '3.bias': (d_out,)})
    return s


def shape_only(shapes: Dict[str, Tuple[int, ...]]) -> Dict[str, torch.Tensor]:
    """Tensors of the given shapes that take no memory (stride 0), for reading configs of big models."""
    return {k: torch.zeros(()) if v == () else torch.zeros(1).expand(*v) for k, v in shapes.items()}
