"""Training objectives of MoME (spec §5): ITC, ITM with hard negatives, MLM, NLVR2 — for pre-training
(tiny/train.py) and fine-tuning (finetune/).

Distributed: every loss that compares across the batch gathers its inputs from all ranks first
(`all_gather_with_grad`), as the official code does; without an initialized process group (one process, the
usual case here) the gather is the identity, so the same code runs on one CPU and on many GPUs.

Several captions of one image in a batch: the Karpathy loaders yield one row per caption, so a batch may hold
the same image twice (identical pixels, or two random crops). `image_ids` (one id per row) says which rows show
the same image; ITC then counts every caption of a row's image as a positive (the target is spread evenly over
them, as ALBEF's `idx` variant does), and the hard-negative sampler never draws another caption of the same
image as a "negative" (for ITM that would teach "no match" on a true pair). Without `image_ids` each row is its
own image (the official behaviour, which assumes unique images per batch).
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence, Tuple

import torch
import torch.distributed as dist
import torch.nn.functional as F

IGNORE_INDEX = -100   # labels that do not count (PyTorch's cross_entropy default, BERT's MLM convention)
BERT_MASK_ID = 103    # [MASK] in bert-base-uncased; pass mask_id for any other vocabulary


def _world() -> Tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def all_gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """[world*B, ...]: `x` from every rank, concatenated in rank order. The local slice is `x` itself, so the
    gradient flows into this rank's inputs (other ranks' slices are constants here; each rank back-propagates
    its own part, and DDP's gradient averaging combines them). Every rank must pass the same shape.
    The identity when torch.distributed is not initialized or has one process."""
    rank, world = _world()
    if world == 1:
        return x
    parts = [torch.zeros_like(x) for _ in range(world)]
    dist.all_gather(parts, x.contiguous())
    parts[rank] = x
    return torch.cat(parts, dim=0)


def _global_rows(n_local: int) -> torch.Tensor:
    """Global row indices of this rank's rows in a gathered batch."""
    rank, _ = _world()
    return torch.arange(rank * n_local, (rank + 1) * n_local)


def positive_mask(image_ids: Optional[torch.Tensor], n: int, device=None, text_ids: Optional[torch.Tensor] = None,
                  positives_of: Optional[Mapping[int, Sequence[int]]] = None) -> torch.Tensor:
    """[n, n] bool, [image row i, text row t]: row i's image matches row t's text. Without ids the diagonal; with
    `image_ids`, rows showing the same image. With `text_ids` (each row's caption id) and `positives_of` (caption
    id -> every image id it matches: its own and those a person marked "also a match"), also each image a row's
    caption matches: an extra positive is then never a negative, for ITC nor for the ITM sampler."""
    if image_ids is None:
        return torch.eye(n, dtype=torch.bool, device=device)
    ids = image_ids.view(-1)
    pos = ids[:, None] == ids[None, :]
    if text_ids is not None and positives_of:
        for t, caption in enumerate(text_ids.view(-1).tolist()):
            images = positives_of.get(int(caption))
            if images:
                pos[:, t] |= torch.isin(ids, torch.as_tensor(list(images), dtype=ids.dtype, device=ids.device))
    return pos


def itc_loss(image_embeds: torch.Tensor, text_embeds: torch.Tensor, logit_scale: torch.Tensor,
             image_ids: Optional[torch.Tensor] = None, text_ids: Optional[torch.Tensor] = None,
             positives_of: Optional[Mapping[int, Sequence[int]]] = None) -> torch.Tensor:
    """Symmetric InfoNCE over the gathered batch: logits = exp(logit_scale) * img @ txt^T on L2-normalized
    embeddings (row i of images pairs with row i of texts). With `image_ids`, every text of the same image is a
    positive (soft target, uniform over them); see the module note. With `text_ids` and `positives_of`, an
    image a caption was marked "also a match" with is a positive of that caption too (positive_mask)."""
    img = all_gather_with_grad(F.normalize(image_embeds.float(), dim=-1))
    txt = all_gather_with_grad(F.normalize(text_embeds.float(), dim=-1))
    ids = all_gather_with_grad(image_ids) if image_ids is not None else None
    tids = all_gather_with_grad(text_ids) if text_ids is not None and image_ids is not None else None
    logits = logit_scale.float().exp() * img @ txt.t()
    pos = positive_mask(ids, logits.shape[0], logits.device, tids, positives_of).float()
    i2t = -(F.log_softmax(logits, dim=1) * (pos / pos.sum(dim=1, keepdim=True))).sum(dim=1).mean()
    post = pos.t()
    t2i = -(F.log_softmax(logits.t(), dim=1) * (post / post.sum(dim=1, keepdim=True))).sum(dim=1).mean()
    return (i2t + t2i) / 2


def sample_hard_negatives(sim_i2t: torch.Tensor, positive_mask: torch.Tensor,
                          generator: Optional[torch.Generator] = None,
                          uniform_mix: float = 0.0) -> Tuple[torch.Tensor, torch.Tensor]:
    """(negative text for each image [Bi], negative image for each text [Bt]), drawn with probability
    softmax(similarity) with the positives zeroed (spec §5). `sim_i2t` [Bi, Bt] are the ITC logits (scaled
    similarities), `positive_mask` [Bi, Bt] marks the true pairs. A row with no negative at all (every candidate
    is a positive) gets -1; callers drop it.

    `uniform_mix` u in [0, 1]: draw from (1 - u) * that distribution + u * uniform over the negatives, i.e. a
    share u of the negatives are random ones (0, the default, is the official sampler). Training from scratch,
    hard negatives alone leave ITM at its label prior: see tiny.train.Plan.itm_uniform_mix."""
    if not 0.0 <= uniform_mix <= 1.0:
        raise ValueError(f'uniform_mix must be in [0, 1]; got {uniform_mix}')
    pos = positive_mask.bool()
    with torch.no_grad():
        w_i2t = F.softmax(sim_i2t.float(), dim=1).masked_fill(pos, 0.0)
        w_t2i = F.softmax(sim_i2t.float().t(), dim=1).masked_fill(pos.t(), 0.0)
        return _draw(w_i2t, ~pos, generator, uniform_mix), _draw(w_t2i, ~pos.t(), generator, uniform_mix)


def _draw(weights: torch.Tensor, allowed: torch.Tensor, generator: Optional[torch.Generator],
          uniform_mix: float = 0.0) -> torch.Tensor:
    # Softmax can underflow to exactly 0 for every allowed entry; fall back to uniform over them so a negative
    # is still drawn (never a positive: those stay 0).
    uniform = allowed.float()
    weights = torch.where(weights.sum(dim=1, keepdim=True) > 0, weights, uniform)
    if uniform_mix > 0:
        def rows(w):
            return w / w.sum(dim=1, keepdim=True).clamp_min(1e-30)
        weights = (1.0 - uniform_mix) * rows(weights) + uniform_mix * rows(uniform)
    has = allowed.any(dim=1)
    out = torch.full((weights.shape[0],), -1, dtype=torch.long, device=weights.device)
    if has.any():
        w = weights[has]
        if generator is not None and generator.device != w.device:
            w = w.cpu()   # a CPU generator draws the same negatives for a run on any device
        out[has] = torch.multinomial(w, 1, generator=generator).view(-1).to(out.device)
    return out


def itm_loss(model, pixels: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor,
             image_embeds: torch.Tensor, text_embeds: torch.Tensor, image_ids: Optional[torch.Tensor] = None,
             generator: Optional[torch.Generator] = None,
             extra_negatives: Optional[Sequence[Tuple[int, int]]] = None, uniform_mix: float = 0.0,
             text_ids: Optional[torch.Tensor] = None,
             positives_of: Optional[Mapping[int, Sequence[int]]] = None,
             text_negatives: Optional[Tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = None) -> torch.Tensor:
    """Image-text matching with global hard negatives (spec §5): for each local image a negative text and for
    each local text a negative image, sampled from the gathered batch by ITC similarity; cross-entropy of
    itm_score over [positives; image-negatives; text-negatives] with labels [1; 0; 0].

    `extra_negatives`: (image_index, text_index) pairs within the local batch that a person marked as not
    matching; they are added with label 0 (pairs of the same image id are skipped). `uniform_mix`: the share of
    random negatives (sample_hard_negatives). `text_ids`, `positives_of`: the "also a match" pairs, never drawn
    nor added as negatives (positive_mask). `text_negatives`: (rows, ids, mask), texts made not to match the
    local images at `rows` (e.g. a caption with one word swapped), added with label 0."""
    n = pixels.shape[0]
    all_pixels = all_gather_with_grad(pixels.detach())
    all_ids, all_mask = all_gather_with_grad(input_ids), all_gather_with_grad(attention_mask)
    all_img = all_gather_with_grad(F.normalize(image_embeds.detach().float(), dim=-1))
    all_txt = all_gather_with_grad(F.normalize(text_embeds.detach().float(), dim=-1))
    all_image_ids = all_gather_with_grad(image_ids) if image_ids is not None else None
    all_text_ids = all_gather_with_grad(text_ids) if text_ids is not None and image_ids is not None else None
    scale = model.logit_scale.detach().float().exp() if hasattr(model, 'logit_scale') else 1.0
    sim = scale * all_img @ all_txt.t()
    pos = positive_mask(all_image_ids, sim.shape[0], sim.device, all_text_ids, positives_of)
    neg_txt, neg_img = sample_hard_negatives(sim, pos, generator, uniform_mix)
    rows = _global_rows(n).to(sim.device)
    neg_txt, neg_img = neg_txt[rows], neg_img[rows]

    px = [pixels]
    ids, mask = [input_ids], [attention_mask]
    labels = [torch.ones(n, dtype=torch.long)]
    keep_t = neg_img >= 0   # texts paired with a sampled negative image
    px.append(all_pixels[neg_img[keep_t]])
    ids.append(input_ids[keep_t])
    mask.append(attention_mask[keep_t])
    keep_i = neg_txt >= 0   # images paired with a sampled negative text
    px.append(pixels[keep_i])
    ids.append(all_ids[neg_txt[keep_i]])
    mask.append(all_mask[neg_txt[keep_i]])
    labels.append(torch.zeros(int(keep_t.sum()) + int(keep_i.sum()), dtype=torch.long))
    extra = [(i, t) for i, t in _extra_pairs(extra_negatives, image_ids, n) if not pos[rows[i], rows[t]]]
    if extra:
        ii = torch.tensor([p[0] for p in extra], dtype=torch.long)
        tt = torch.tensor([p[1] for p in extra], dtype=torch.long)
        px.append(pixels[ii])
        ids.append(input_ids[tt])
        mask.append(attention_mask[tt])
        labels.append(torch.zeros(len(extra), dtype=torch.long))
    if text_negatives is not None and len(text_negatives[0]):
        rows_t, ids_t, mask_t = text_negatives
        px.append(pixels[rows_t])
        ids.append(ids_t)
        mask.append(mask_t)
        labels.append(torch.zeros(len(rows_t), dtype=torch.long))
    _, logits = model.fusion(torch.cat(px), torch.cat(ids), torch.cat(mask))
    return F.cross_entropy(logits.float(), torch.cat(labels).to(logits.device))


def _extra_pairs(pairs, image_ids: Optional[torch.Tensor], n: int) -> list:
    if not pairs:
        return []
    out = []
    for i, t in pairs:
        i, t = int(i), int(t)
        if not (0 <= i < n and 0 <= t < n):
            raise ValueError(f'extra negative ({i}, {t}) is outside the batch of {n} rows')
        if image_ids is not None and int(image_ids[i]) == int(image_ids[t]):
            continue
        out.append((i, t))
    return out


def mlm_mask(input_ids: torch.Tensor, attention_mask: torch.Tensor, vocab_size: int, special_ids: Sequence[int],
             prob: float = 0.15, generator: Optional[torch.Generator] = None,
             mask_id: int = BERT_MASK_ID) -> Tuple[torch.Tensor, torch.Tensor]:
    """BERT masking: each real (attended, non-special) token is chosen with `prob`; of those 80% become
    [MASK] (`mask_id`), 10% a random non-special token, 10% stay. Returns (masked_ids, labels) with labels
    -100 where not chosen. Whole-word masking (the official pre-training configs) is not applied: it only
    differs for words split into several pieces."""
    special = torch.tensor(sorted(set(int(s) for s in special_ids) | {int(mask_id)}), dtype=torch.long)
    candidate = attention_mask.bool() & ~torch.isin(input_ids, special.to(input_ids.device))
    rand = torch.rand(input_ids.shape, generator=generator)
    chosen = candidate & (rand.to(input_ids.device) < prob)
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, IGNORE_INDEX))
    how = torch.rand(input_ids.shape, generator=generator).to(input_ids.device)
    masked = input_ids.clone()
    masked[chosen & (how < 0.8)] = mask_id
    to_random = chosen & (how >= 0.8) & (how < 0.9)
    allowed = torch.tensor([i for i in range(vocab_size) if i not in set(special.tolist())], dtype=torch.long)
    picks = torch.randint(len(allowed), (int(to_random.sum()),), generator=generator)
    masked[to_random] = allowed[picks].to(input_ids.device)
    return masked, labels


def mlm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over masked positions ([B, L, V] logits, [B, L] labels with -100 elsewhere). A batch where
    nothing was masked gives a zero that still belongs to the graph (so backward() works)."""
    if not (labels != IGNORE_INDEX).any():
        return logits.sum() * 0.0
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), labels.reshape(-1),
                           ignore_index=IGNORE_INDEX)


def nlvr2_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy on the NLVR2 classifier's [B, 2] logits; label 1 = "True"."""
    return F.cross_entropy(logits.float(), labels.long().view(-1).to(logits.device))
