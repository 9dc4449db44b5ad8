"""Masked image modeling for the vision pre-training stage, SimMIM-style.

VLMo's vision stage is BEiT: masked patches are predicted as discrete tokens of a pre-trained dVAE image
tokenizer. That tokenizer is not available here (no download), so the tiny model predicts the raw, normalized
pixels of the masked patches instead (SimMIM: a learnable [MASK] patch embedding replaces masked patches, a
linear head maps each final patch state to its patch's pixels, L1 loss on masked patches only). The head and
the mask embedding are training-only: they are not part of MomeModel and are never exported.

The encoder is MomeModel's own image mode (same blocks, relative position bias, token type 1), entered after
the patch embedding so masked patches can be swapped.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .model import MomeModel


class MimHead(nn.Module):
    """[MASK] patch embedding + linear pixel decoder (patch*patch*3 values per patch)."""

    def __init__(self, model: MomeModel) -> None:
        super().__init__()
        cfg = model.config
        self.patch = cfg.patch_size
        self.mask_token = nn.Parameter(torch.zeros(1, 1, cfg.embed_dim))
        nn.init.trunc_normal_(self.mask_token, std=0.02)
        self.decoder = nn.Linear(cfg.embed_dim, cfg.patch_size * cfg.patch_size * 3)


def random_patch_mask(batch: int, patches: int, ratio: float,
                      generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """[B, P] bool with exactly round(ratio * P) masked patches per image."""
    k = max(1, int(round(ratio * patches)))
    order = torch.rand(batch, patches, generator=generator).argsort(dim=1)
    mask = torch.zeros(batch, patches, dtype=torch.bool)
    mask.scatter_(1, order[:, :k], True)
    return mask


def patchify(pixels: torch.Tensor, patch: int) -> torch.Tensor:
    """[B, 3, S, S] -> [B, P, patch*patch*3], patches in row-major order (the patch embedding's order)."""
    b, c, s, _ = pixels.shape
    w = s // patch
    x = pixels.reshape(b, c, w, patch, w, patch).permute(0, 2, 4, 3, 5, 1)
    return x.reshape(b, w * w, patch * patch * c)


def mim_loss(model: MomeModel, head: MimHead, pixels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """L1 between predicted and true pixels of the masked patches (`mask` [B, P])."""
    t = model.transformer
    seen = pixels
    if t.patch_embed.stem is not None:
        # a convolutional stem sees past its patch's border: grey out the masked patches' pixels too, so the
        # neighbours' tokens cannot carry what is to be predicted
        w = model.config.window
        px_mask = mask.view(-1, 1, w, w).to(pixels.dtype)
        px_mask = px_mask.repeat_interleave(head.patch, dim=2).repeat_interleave(head.patch, dim=3)
        seen = pixels * (1 - px_mask)
    x = t.patch_embed(seen)                                             # [B, P, D]
    m = mask.unsqueeze(-1).to(x.dtype)
    x = x * (1 - m) + head.mask_token.to(x.dtype) * m
    x = torch.cat((t.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
    if t.pos_embed is not None:
        x = x + t.pos_embed
    x = x + model.token_type_embeddings.weight[1]
    index = model.image_rel_index if model.config.rel_pos_bias else None
    h = t.norm(model.run_blocks(x, 'image', None, model.rel_biases(index)))[:, 1:]
    pred = head.decoder(h)
    target = patchify(pixels, head.patch)
    per_patch = F.l1_loss(pred, target, reduction='none').mean(dim=-1)
    return (per_patch * mask).sum() / mask.sum().clamp(min=1)
