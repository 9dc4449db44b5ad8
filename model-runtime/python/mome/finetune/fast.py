"""Fast mode: the frozen lower part of the model runs once per training item and its output is kept in memory;
each step then runs only the trainable top: the retrieval projections / NLVR2 head, plus optionally the top
`top_layers` blocks (with the final norm, and for NLVR2 the pooler).

Why this is what makes a CPU fine-tune of a large model possible: with top_layers = 0 a step costs a few
matrix products per item instead of a full transformer pass (forward and backward), and the one-off caching
pass costs one forward. With top_layers > 0 the cached states are whole token sequences, so memory grows with
tokens x width; `cache_bytes` lets the caller refuse sizes that would not fit.

Cached features come from the eval transform (no augmentation), since each item is encoded once.
"""
from __future__ import annotations

from typing import Callable, Dict, Iterable, List, Optional

import torch

from ..model import MomeModel


def _image_biases(model: MomeModel) -> list:
    return model.rel_biases(model.image_rel_index if model.config.rel_pos_bias else None)


def _text_biases(model: MomeModel, n: int) -> list:
    return model.rel_biases(model.text_rel_index[:n, :n] if model.config.rel_pos_bias else None)


def _split(model: MomeModel, top: int) -> int:
    return model.config.depth - top


# Retrieval: image and text encoders ---------------------------------------------------------------------------

def image_state(model: MomeModel, pixels: torch.Tensor, top: int) -> torch.Tensor:
    x = model.embed_image(pixels)
    if top == 0:
        return model.transformer.norm(model.run_blocks(x, 'image', None, _image_biases(model)))[:, 0]
    return model.run_blocks(x, 'image', None, _image_biases(model), blocks=range(_split(model, top)))


def image_upper(model: MomeModel, state: torch.Tensor, top: int) -> torch.Tensor:
    if top == 0:
        cls = state
    else:
        x = model.run_blocks(state, 'image', None, _image_biases(model),
                             blocks=range(_split(model, top), model.config.depth))
        cls = model.transformer.norm(x)[:, 0]
    return model.itc_image_proj(cls) if model.config.has('itc') else cls


def text_state(model: MomeModel, ids: torch.Tensor, mask: torch.Tensor, top: int) -> torch.Tensor:
    x = model.embed_text(ids)
    biases = _text_biases(model, ids.shape[1])
    if top == 0:
        return model.transformer.norm(model.run_blocks(x, 'text', mask, biases))[:, 0]
    return model.run_blocks(x, 'text', mask, biases, blocks=range(_split(model, top)))


def text_upper(model: MomeModel, state: torch.Tensor, mask: torch.Tensor, top: int) -> torch.Tensor:
    if top == 0:
        cls = state
    else:
        x = model.run_blocks(state, 'text', mask, _text_biases(model, mask.shape[1]),
                             blocks=range(_split(model, top), model.config.depth))
        cls = model.transformer.norm(x)[:, 0]
    return model.itc_text_proj(cls) if model.config.has('itc') else cls


# NLVR2: the fusion encoder, once per image ----------------------------------------------------------------

def fusion_mask(mask: torch.Tensor, model: MomeModel) -> torch.Tensor:
    ones = torch.ones(mask.shape[0], model.config.num_image_tokens, dtype=mask.dtype, device=mask.device)
    return torch.cat([mask, ones], dim=1)


def fusion_state(model: MomeModel, pixels: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor, token_type: int,
                 top: int) -> torch.Tensor:
    n = ids.shape[1]
    x = torch.cat([model.embed_text(ids), model.embed_image(pixels, token_type)], dim=1)
    biases = model.rel_biases(model.fusion_index(n))
    full = fusion_mask(mask, model)
    if top == 0:
        return model.pooler(model.transformer.norm(model.run_blocks(x, 'vl', full, biases, text_len=n)))
    return model.run_blocks(x, 'vl', full, biases, text_len=n, blocks=range(_split(model, top)))


def fusion_upper(model: MomeModel, state: torch.Tensor, mask: torch.Tensor, top: int) -> torch.Tensor:
    """Pooled output [B, D] from a cached state (`mask` is the text mask)."""
    if top == 0:
        return state
    n = mask.shape[1]
    x = model.run_blocks(state, 'vl', fusion_mask(mask, model), model.rel_biases(model.fusion_index(n)), text_len=n,
                         blocks=range(_split(model, top), model.config.depth))
    return model.pooler(model.transformer.norm(x))


# Caching ------------------------------------------------------------------------------------------------

def state_bytes(model: MomeModel, top: int, tokens: int) -> int:
    return model.config.embed_dim * 4 * (1 if top == 0 else tokens)


@torch.no_grad()
def cache_states(batches: Iterable, encode: Callable[..., Dict[str, torch.Tensor]],
                 progress: Optional[Callable[[int], None]] = None) -> Dict[str, torch.Tensor]:
    """Runs `encode(*batch)` -> {name: [B, ...]} over every batch and concatenates per name, on the CPU."""
    parts: Dict[str, List[torch.Tensor]] = {}
    done = 0
    for batch in batches:
        out = encode(*batch)
        for name, t in out.items():
            parts.setdefault(name, []).append(t.detach().float().cpu())
        done += next(iter(out.values())).shape[0]
        if progress:
            progress(done)
    return {name: torch.cat(ts) for name, ts in parts.items()}


def trainable_prefixes(task: str, top: int, depth: int) -> List[str]:
    """Parameter name prefixes a fast-mode fine-tune trains."""
    heads = ['itc_image_proj', 'itc_text_proj', 'logit_scale'] if task == 'retrieval' else ['nlvr2_classifier']
    if top == 0:
        return heads
    extra = [f'transformer.blocks.{i}.' for i in range(depth - top, depth)] + ['transformer.norm.']
    if task == 'nlvr2':
        extra.append('pooler.')
    return heads + extra
