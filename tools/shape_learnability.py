"""How fast can an image encoder learn which shapes and colours a synthetic scene holds? Trains an encoder with a
linear head on supervised presence labels (7 shapes + 7 colours of train-tiny's world, binary cross-entropy) and
prints the held-out mean ROC AUC for shapes and for colours as JSON lines.

    PYTHONPATH=model-runtime/python python3 tools/shape_learnability.py --encoder vit --steps 1000
    ... --encoder model:assets/models/mome-tiny      the shipped image encoder, fine-tuned
    ... --encoder vit --readout max                   max over the patch tokens instead of [I_CLS]
    ... --encoder vit-stem | cnn                       a 4-convolution stem under the ViT | a small CNN alone
    ... --encoder cnn16                                the CNN with its last map at the ViT's 16-pixel stride
    ... --encoder vit-stem --readout max --layer-scale 0.1   a stem, small layer scale: near the CNN

Images: NLVR2-format scenes, 12,000 for training (seed 8821; --train-sets) and 2,000 held out (seed 8822), at
the model's image size. A fresh ViT is train-tiny's before the stem (MODEL_FULL with linear patches, tiny_init,
layer scale 1.0); --patch and --image-size change its tokens, --init official keeps the model's own init,
--layer-scale overrides the blocks' layer scale.

Why it exists: the shipped tiny model's image encoder barely tells shapes apart (tools/encoder_probe.py), and
NLVR2 statements mostly name shapes. This separates what the data allows from what the architecture learns in a
CPU budget: on this machine a small CNN reached shape AUC 0.91 in 1,000 steps, train-tiny's ViT about 0.6 (0.73
after 5,000 steps on 60,000 images), and the ViT under a convolutional stem with layer scale 0.1 and a read-out
over its patch tokens 0.81 (the README's Tiny model section has the whole table)."""
from __future__ import annotations

import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn

from mome.config import MomeConfig
from mome.model import MomeModel, conv_stem
from mome.model_dir import load_model_dir
from mome.tiny.data import pixels
from mome.tiny.train import MODEL_FULL, tiny_init
from scene_images import auc, presence, scene_images


def presence_data(seed: int, split: str, sets: int, size: int):
    """Every image of `sets` NLVR2 sets and its labels: [shape present for each shape; colour present ...]."""
    ims, scenes, _ = scene_images(seed, split, sets, size)
    has_shape, has_colour = presence(scenes)
    return ims, torch.cat([has_shape, has_colour], dim=1), has_shape.shape[1]


def presence_auc(enc: nn.Module, x: torch.Tensor, y: torch.Tensor, shapes: int) -> tuple[float, float]:
    """Mean ROC AUC over the shape labels and over the colour labels of `enc` on images `x`."""
    enc.eval()
    with torch.no_grad():
        pred = torch.cat([enc(pixels(x[s:s + 256])) for s in range(0, len(x), 256)])
    enc.train()
    aucs = [auc(pred[:, j], y[:, j]) for j in range(y.shape[1])]
    return round(sum(aucs[:shapes]) / shapes, 3), round(sum(aucs[shapes:]) / (len(aucs) - shapes), 3)


def stem_and_projection(width: int) -> nn.Module:
    """The model's convolutional stem (model.conv_stem: four stride-2 3x3 convolutions) and its 1x1 projection."""
    return nn.Sequential(conv_stem(16, width), nn.Conv2d(width, width, 1))


class Encoder(nn.Module):
    def __init__(self, kind: str, image_size: int, patch: int, readout: str, labels: int, init: str,
                 layer_scale: float | None, loaded=None) -> None:
        super().__init__()
        self.kind, self.readout = kind, readout
        if kind in ('cnn', 'cnn16'):
            # cnn16: the last convolution strides too, so its map is the ViT's 6x6 grid of 16-pixel patches
            self.net = nn.Sequential(nn.Conv2d(3, 32, 5, 2, 2), nn.GELU(), nn.Conv2d(32, 64, 3, 2, 1), nn.GELU(),
                                     nn.Conv2d(64, 128, 3, 2, 1), nn.GELU(),
                                     nn.Conv2d(128, 128, 3, 2 if kind == 'cnn16' else 1, 1), nn.GELU(),
                                     nn.AdaptiveMaxPool2d(1), nn.Flatten())
            width = 128
        else:
            if loaded is not None:  # kind 'model:DIR': load_model_dir's (model, config, meta)
                self.model, cfg, _ = loaded
            else:
                # train-tiny's ViT (linear patches, layer scale 1.0), or with the model's own init its layer scale 0.1
                cfg = MomeConfig(vocab_size=8, heads=('itc',),
                                 **{**MODEL_FULL, 'image_size': image_size, 'patch_size': patch,
                                    'layer_scale_init': 1.0 if init == 'tiny' else 0.1})
                self.model = MomeModel(cfg)
                if init == 'tiny':
                    tiny_init(self.model)
                if layer_scale is not None:
                    with torch.no_grad():
                        for name, prm in self.model.named_parameters():
                            if 'gamma_' in name:
                                prm.fill_(layer_scale)
                if kind == 'vit-stem':
                    if patch != 16:
                        raise SystemExit('--encoder vit-stem downsamples 16x: use --patch 16')
                    self.model.transformer.patch_embed.proj = stem_and_projection(cfg.embed_dim)
            width = cfg.embed_dim
        self.head = nn.Linear(width, labels)

    def forward(self, px: torch.Tensor) -> torch.Tensor:
        if self.kind in ('cnn', 'cnn16'):
            return self.head(self.net(px))
        m = self.model
        x = m.transformer.norm(m.run_blocks(m.embed_image(px), 'image', None, m.rel_biases(m.image_rel_index)))
        return self.head(x[:, 0] if self.readout == 'cls' else x[:, 1:].amax(dim=1))


def main(argv) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--encoder', default='vit', help="vit | vit-stem | cnn | cnn16 (its map at 16-pixel stride) | "
                                                    "model:DIR (a model folder's image encoder)")
    p.add_argument('--readout', default='cls', choices=('cls', 'max'))
    p.add_argument('--init', default='tiny', choices=('tiny', 'official'),
                   help="a fresh ViT's init: train-tiny's tiny_init (default), or the model's own (N(0, 0.02), layer "
                        'scale as configured)')
    p.add_argument('--layer-scale', type=float, default=None,
                   help="a fresh ViT's layer scale after its init (tiny_init: 1.0, the model's own: 0.1)")
    p.add_argument('--image-size', type=int, default=96)
    p.add_argument('--patch', type=int, default=16)
    p.add_argument('--steps', type=int, default=1000)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--warmup', type=int, default=0, help='linear learning-rate warm-up steps (default: none)')
    p.add_argument('--cosine', action='store_true', help='cosine decay to 0 after the warm-up (default: constant)')
    p.add_argument('--eval-every', type=int, default=200)
    p.add_argument('--train-sets', type=int, default=1500,
                   help='NLVR2 sets rendered for training, 8 images each (default 1500: 12,000 images)')
    p.add_argument('--threads', type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    t0 = time.time()
    size, loaded = a.image_size, None
    if a.encoder.startswith('model:'):
        loaded = load_model_dir(a.encoder[len('model:'):])
        size = loaded[2]['image_size']
    train_x, train_y, shapes = presence_data(8821, 'train', a.train_sets, size)
    dev_x, dev_y, _ = presence_data(8822, 'dev', 250, size)
    enc = Encoder(a.encoder, size, a.patch, a.readout, train_y.shape[1], a.init, a.layer_scale, loaded)
    opt = torch.optim.AdamW(enc.parameters(), lr=a.lr, weight_decay=0.01)
    g = torch.Generator().manual_seed(1)
    t1 = time.time()
    for step in range(1, a.steps + 1):
        scale = min(1.0, step / a.warmup) if a.warmup else 1.0
        if a.cosine:
            scale *= 0.5 * (1 + math.cos(math.pi * max(0, step - a.warmup) / max(1, a.steps - a.warmup)))
        for group in opt.param_groups:
            group['lr'] = a.lr * scale
        idx = torch.randint(0, len(train_x), (a.batch,), generator=g)
        loss = nn.functional.binary_cross_entropy_with_logits(enc(pixels(train_x[idx])), train_y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % a.eval_every == 0 or step == a.steps:
            seen = presence_auc(enc, train_x[:2000], train_y[:2000], shapes)
            held_out = presence_auc(enc, dev_x, dev_y, shapes)
            print(json.dumps({'encoder': a.encoder, 'readout': a.readout, 'image_size': size, 'patch': a.patch,
                              'init': a.init, 'layer_scale': a.layer_scale, 'lr': a.lr, 'warmup': a.warmup,
                              'cosine': a.cosine, 'train_images': len(train_x),
                              'step': step, 'loss': round(float(loss.detach()), 4),
                              'auc_shape': held_out[0], 'auc_colour': held_out[1], 'auc_shape_train': seen[0],
                              'step_seconds': round((time.time() - t1) / step, 3),
                              'seconds': round(time.time() - t0)}), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
