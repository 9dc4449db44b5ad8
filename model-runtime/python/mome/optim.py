"""The official optimizer and schedule (spec §5): AdamW (β 0.9/0.98, eps 1e-8), weight decay 0.01 except on
biases, norms and other 1-D or embedding-like parameters, an optional learning-rate multiplier for task heads,
linear warmup then linear decay to 0."""
from __future__ import annotations

from typing import Iterable, List, Sequence, Tuple

import torch
import torch.nn as nn

# Task heads that the official code can give a larger learning rate (`lr_mult`; 20 for VQA, 1 elsewhere).
DEFAULT_HEAD_PREFIXES = ('itm_score', 'mlm_score', 'nlvr2_classifier', 'vqa_classifier')
# Parameters that are not matrices of a linear map, so weight decay would only shrink them toward 0.
NO_DECAY_NAMES = ('cls_token', 'pos_embed', 'relative_position_bias_table', 'logit_scale', 'logit_vl_scale')


def no_decay(name: str, p: torch.Tensor) -> bool:
    return p.dim() <= 1 or name.endswith('.bias') or any(n in name for n in NO_DECAY_NAMES) \
        or 'norm' in name.lower()


def param_groups(model: nn.Module, lr: float, weight_decay: float, head_lr_mult: float,
                 head_prefixes: Sequence[str]) -> List[dict]:
    """Up to four groups (body/head x decay/no decay) of the trainable parameters; empty groups are left out."""
    groups = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        head = any(name.startswith(h) for h in head_prefixes)
        key = (head, no_decay(name, p))
        g = groups.setdefault(key, {'params': [], 'names': [], 'lr': lr * (head_lr_mult if head else 1.0),
                                    'weight_decay': 0.0 if key[1] else weight_decay})
        g['params'].append(p)
        g['names'].append(name)
    return [groups[k] for k in sorted(groups)]


def build_optimizer(model: nn.Module, lr: float, weight_decay: float = 0.01,
                    betas: Tuple[float, float] = (0.9, 0.98), eps: float = 1e-8, head_lr_mult: float = 1.0,
                    head_prefixes: Iterable[str] = DEFAULT_HEAD_PREFIXES) -> torch.optim.AdamW:
    """AdamW over the trainable parameters (requires_grad); frozen ones are left out, so freezing must happen
    before this call. Each group keeps `names` (for logs and tests) and its base `lr` as `initial_lr`."""
    groups = param_groups(model, lr, weight_decay, head_lr_mult, tuple(head_prefixes))
    if not groups:
        raise ValueError('the model has no trainable parameters (everything is frozen)')
    opt = torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    for g in opt.param_groups:
        g.setdefault('initial_lr', g['lr'])
    return opt


def warmup_linear_decay(step: int, total: int, warmup: int) -> float:
    """Learning-rate multiplier: step/warmup during warmup, then linear to 0 at `total` (Hugging Face's
    get_linear_schedule_with_warmup, which the official code uses; decay_power 1)."""
    if step < warmup:
        return step / max(1, warmup)
    return max(0.0, (total - step) / max(1, total - warmup))


def make_scheduler(optimizer: torch.optim.Optimizer, total: int, warmup: int) -> torch.optim.lr_scheduler.LambdaLR:
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: warmup_linear_decay(step, total, warmup))
