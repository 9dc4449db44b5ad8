"""What encoder_probe.py and shape_learnability.py share (a script's own folder is on its import path): every
image of N generated NLVR2 sets, rendered as the NLVR2 tools render them, which shapes and colours each holds,
and ROC AUC."""
from __future__ import annotations

import random

import torch
from PIL import Image

from mome.synth.nlvr2 import PAIRS_PER_SET, example_set, set_numbers
from mome.synth.render import render
from mome.synth.scene import world_sets


def scene_images(seed: int, split: str, sets: int, size: int):
    """(uint8 images [N, 3, size, size], their scenes, each image's set theme), in train-tiny's world."""
    ims, scenes, themes = [], [], []
    for i, num in enumerate(set_numbers(seed, split, sets)):
        es = example_set(seed, split, i, num, 'tiny')
        for b in range(PAIRS_PER_SET):
            for side, scene in enumerate(es.pairs[b]):
                rng = random.Random(f'{seed}:nlvr2:{split}:pixels:{es.number}:{b}:{side}')
                img = render(scene, rng).convert('RGB').resize((size, size), Image.BICUBIC)
                ims.append(torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8).view(size, size, 3)
                           .permute(2, 0, 1))
                scenes.append(scene)
                themes.append(es.theme)
    return torch.stack(ims), scenes, themes


def presence(scenes) -> tuple[torch.Tensor, torch.Tensor]:
    """Per scene, 1.0 for each shape and for each colour of train-tiny's world that it holds: ([N, shapes],
    [N, colours])."""
    colours, shapes, _ = world_sets('tiny')
    return (torch.tensor([[float(any(o.shape == s for o in sc.objects)) for s in shapes] for sc in scenes]),
            torch.tensor([[float(any(o.colour == c for o in sc.objects)) for c in colours] for sc in scenes]))


def auc(p: torch.Tensor, y: torch.Tensor) -> float:
    """ROC AUC of scores p for binary labels y (ties count half)."""
    pos, neg = p[y == 1], p[y == 0]
    return float((pos[:, None] > neg[None, :]).float().mean() + 0.5 * (pos[:, None] == neg[None, :]).float().mean())
