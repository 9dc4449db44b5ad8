"""The model side of a fine-tune: the heads a task needs, which parameters train, and one training step per task
and mode as an nn.Module (so DistributedDataParallel sees the whole step in its forward and synchronizes every
gradient the step produces).

- Retrieval, full: ITC over the (gathered) batch, whose rows include the user's hard-negative images (see
  data.py), plus ITM on negatives mined from the ITC similarities and the user's hard negatives, when the
  model has an ITM head.
- Retrieval, fast: ITC on cached encoder states through the trainable top (fast.py).
- NLVR2: cross-entropy of the classifier on the (corrected) labels, full or from cached fusion states.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from ..config import MomeConfig
from ..losses import itc_loss, itm_loss, nlvr2_loss
from ..model import MomeModel
from . import fast

TASK_HEADS = {'retrieval': ('itc',), 'nlvr2': ('nlvr2',)}
# Heads that only serve the other task, pre-training, or VQA: frozen so the optimizer and DDP skip them.
UNUSED_BY = {'retrieval': ('nlvr2_classifier', 'mlm_score', 'vqa_classifier', 'itc_vl_', 'logit_vl_scale'),
             'nlvr2': ('itc_', 'logit_scale', 'itm_score', 'mlm_score', 'vqa_classifier', 'logit_vl_scale')}


def ensure_heads(model: MomeModel, config: MomeConfig, task: str) -> Tuple[MomeModel, MomeConfig, List[str]]:
    """The model with the task's head, adding it (freshly initialized) when the base lacks it. NLVR2 also needs a
    third token type, which starts as a copy of the image type (spec §5)."""
    need = [h for h in TASK_HEADS[task] if not config.has(h)]
    if not need and (task != 'nlvr2' or config.token_types >= 3):
        return model, config, []
    d = config.to_dict()
    d['heads'] = list(config.heads) + need
    if task == 'nlvr2':
        d['token_types'] = max(3, config.token_types)
    new_config = MomeConfig.from_dict(d)
    new = MomeModel(new_config)
    old = model.state_dict()
    state = new.state_dict()
    with torch.no_grad():
        for k, v in old.items():
            if k in state and state[k].shape == v.shape:
                state[k].copy_(v)
        tt = old['token_type_embeddings.weight']
        state['token_type_embeddings.weight'][:tt.shape[0]].copy_(tt)
        for row in range(tt.shape[0], new_config.token_types):
            state['token_type_embeddings.weight'][row].copy_(tt[1])
    added = need + (['token_type 2'] if new_config.token_types > config.token_types else [])
    return new, new_config, added


def set_trainable(model: MomeModel, task: str, fast_mode: bool, top_layers: int, use_itm: bool) -> int:
    """Freezes what this fine-tune does not train; returns the number of trainable parameters."""
    unused = UNUSED_BY[task] + (() if use_itm or task != 'retrieval' else ('itm_score',))
    keep = fast.trainable_prefixes(task, top_layers, model.config.depth) if fast_mode else None
    n = 0
    for name, p in model.named_parameters():
        train = not name.startswith(unused) and (keep is None or name.startswith(tuple(keep)))
        p.requires_grad_(train)
        n += p.numel() if train else 0
    return n


def local_negative_pairs(image_index: Sequence[int], negatives: dict, rows: Sequence[int]) -> List[Tuple[int, int]]:
    """(image row, text row) pairs in this batch that the user marked as not matching."""
    where = {}
    for k, i in enumerate(image_index):
        where.setdefault(int(i), []).append(k)
    pairs = []
    for t, row in enumerate(rows):
        for image in negatives.get(int(row), ()):
            pairs += [(k, t) for k in where.get(image, ())]
    return pairs


class RetrievalFull(nn.Module):
    """`positives_of`: caption id -> the images it matches, for captions with "also a match" pairs; with the
    batch's caption ids (`text_ids`) the losses never use such a pair as an ITC or ITM negative."""

    def __init__(self, model: MomeModel, use_itm: bool, generator: Optional[torch.Generator],
                 positives_of: Optional[Dict[int, List[int]]] = None) -> None:
        super().__init__()
        self.model, self.use_itm, self.generator = model, use_itm, generator
        self.positives_of = positives_of or {}

    def forward(self, pixels, ids, mask, image_ids, extra_negatives, text_ids=None):
        m = self.model
        img, txt = m.image_features(pixels), m.text_features(ids, mask)
        loss = itc_loss(img, txt, m.logit_scale, image_ids, text_ids, self.positives_of)
        if self.use_itm:
            loss = loss + itm_loss(m, pixels, ids, mask, img, txt, image_ids=image_ids, generator=self.generator,
                                   extra_negatives=extra_negatives, text_ids=text_ids,
                                   positives_of=self.positives_of)
        return loss


class RetrievalFast(nn.Module):
    def __init__(self, model: MomeModel, top: int, positives_of: Optional[Dict[int, List[int]]] = None) -> None:
        super().__init__()
        self.model, self.top = model, top
        self.positives_of = positives_of or {}

    def forward(self, image_states, text_states, mask, image_ids, text_ids=None):
        m = self.model
        img = fast.image_upper(m, image_states, self.top)
        txt = fast.text_upper(m, text_states, mask, self.top)
        return itc_loss(img, txt, m.logit_scale, image_ids, text_ids, self.positives_of)


class Nlvr2Full(nn.Module):
    def __init__(self, model: MomeModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, left, right, ids, mask, labels):
        return nlvr2_loss(self.model.nlvr2(left, right, ids, mask), labels)


class Nlvr2Fast(nn.Module):
    def __init__(self, model: MomeModel, top: int) -> None:
        super().__init__()
        self.model, self.top = model, top

    def forward(self, left_states, right_states, mask, labels):
        m = self.model
        a = fast.fusion_upper(m, left_states, mask, self.top)
        b = fast.fusion_upper(m, right_states, mask, self.top)
        return nlvr2_loss(m.nlvr2_classifier(torch.cat([a, b], dim=-1)), labels)
