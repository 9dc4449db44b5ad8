"""Held-out quality with the official protocol (spec §6), on cached tensors (tiny/data.py).

Retrieval (compute_irtr_recall): scores = image embeddings x caption embeddings. TR R@k: for each image, a hit
if any of its captions is among the top-k captions; IR R@k: for each caption, a hit if its image is among the
top-k images. Means over images (TR) and captions (IR), in percent. NLVR2: accuracy in percent.
"""
from __future__ import annotations

from typing import Dict, Sequence

import torch

from ..model import MomeModel
from .data import pixels, trim


def _device(model: MomeModel) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def embed_images(model: MomeModel, images_u8: torch.Tensor, batch: int = 128) -> torch.Tensor:
    dev = _device(model)
    return torch.cat([model.encode_image(pixels(images_u8[i:i + batch]).to(dev)).cpu()
                      for i in range(0, len(images_u8), batch)])


@torch.no_grad()
def embed_texts(model: MomeModel, ids: torch.Tensor, mask: torch.Tensor, batch: int = 256) -> torch.Tensor:
    dev, out = _device(model), []
    for i in range(0, len(ids), batch):
        out.append(model.encode_text(*(t.to(dev) for t in trim(ids[i:i + batch], mask[i:i + batch]))).cpu())
    return torch.cat(out)


def recall_at_k(scores: torch.Tensor, caption_image: torch.Tensor, ks: Sequence[int] = (1, 5, 10)) -> Dict[str, float]:
    """scores [Ni, Nt]; caption_image [Nt] = the image index of each caption."""
    ni, nt = scores.shape
    out: Dict[str, float] = {}
    kmax = min(max(ks), nt)
    top_t = scores.topk(kmax, dim=1).indices                  # [Ni, k] captions per image
    hit_t = caption_image[top_t] == torch.arange(ni)[:, None]
    top_i = scores.t().topk(min(max(ks), ni), dim=1).indices  # [Nt, k] images per caption
    hit_i = top_i == caption_image[:, None]
    for k in ks:
        out[f'tr_r{k}'] = round(100.0 * hit_t[:, :k].any(dim=1).float().mean().item(), 2)
        out[f'ir_r{k}'] = round(100.0 * hit_i[:, :k].any(dim=1).float().mean().item(), 2)
    out['images'], out['captions'] = ni, nt
    return out


@torch.no_grad()
def retrieval_metrics(model: MomeModel, data: dict) -> Dict[str, float]:
    was = model.training
    model.eval()
    img = embed_images(model, data['images'])
    txt = embed_texts(model, data['input_ids'], data['attention_mask'])
    model.train(was)
    return recall_at_k(img @ txt.t(), data['image_index'])


@torch.no_grad()
def nlvr2_accuracy(model: MomeModel, data: dict, batch: int = 64) -> Dict[str, float]:
    was = model.training
    model.eval()
    correct, dev, hits = 0, _device(model), []
    n = len(data['label'])
    for i in range(0, n, batch):
        sl = slice(i, i + batch)
        ids, mask = trim(data['input_ids'][sl], data['attention_mask'][sl])
        logits = model.nlvr2(*(t.to(dev) for t in (pixels(data['images'][data['left'][sl]]),
                                                   pixels(data['images'][data['right'][sl]]), ids, mask)))
        right = logits.argmax(dim=1).cpu() == data['label'][sl]
        hits.append(right)
        correct += int(right.sum())
    model.train(was)
    out = {'accuracy': round(100.0 * correct / max(1, n), 2), 'examples': n}
    if 'level' in data and n:
        hit = torch.cat(hits)
        out['by_level'] = {('presence' if lv == 0 else 'counting'): {
            'accuracy': round(100.0 * hit[data['level'] == lv].float().mean().item(), 2),
            'examples': int((data['level'] == lv).sum())} for lv in sorted(set(data['level'].tolist()))}
    return out
