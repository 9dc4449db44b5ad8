"""What a model folder's encoders see of the synthetic world: linear probes for "this shape is in the image" and
"this colour is in the image" on the image encoder's [I_CLS], and the ITM head's score for one-object phrases
("a hexagon.", "a red shape.") against images with and without such an object. Prints one JSON object; the
probes also run on the max over the patch tokens (probe_auc_patch_max), which the fusion blocks can attend to.

    PYTHONPATH=model-runtime/python python3 tools/encoder_probe.py --model assets/models/mome-tiny
    PYTHONPATH=model-runtime/python python3 tools/encoder_probe.py --checkpoint WORK/ckpt/vl.pt --recipe NAME

`--checkpoint` reads a train-tiny stage checkpoint (its work folder's vocab.txt, the plan named by `--plan` under
`--recipe`), so what each stage does to the encoder can be followed through a run.

Images are rendered from NLVR2-format scenes of a seed no training run uses (8822, the NLVR2 experiments' dev
seed), in train-tiny's world; the probes train on the first 70% of them and report the mean held-out ROC AUC over
the shapes (or colours) present in both parts. AUC 0.5 is chance.

Why it exists: the shipped tiny model's NLVR2 accuracy stayed near 55% whatever its NLVR2 schedule. This tool
showed that its image encoder barely encodes shape (AUC 0.54-0.58) while colour is near perfect (0.99), and
NLVR2 statements mostly name shapes."""
from __future__ import annotations

import argparse
import json
import os
import random
import sys

import torch

from mome.model_dir import load_model_dir
from mome.synth.captions import with_article
from mome.synth.statements import _selector
from mome.tiny.data import pixels
from mome.tokenizer import WordPieceTokenizer
from scene_images import auc, presence, scene_images


@torch.enable_grad()
def probe_auc(x: torch.Tensor, y: torch.Tensor, train: int, steps: int = 400) -> float:
    """A logistic-regression probe per column of y, trained on the first `train` rows; mean held-out AUC."""
    x = (x - x[:train].mean(0)) / (x[:train].std(0) + 1e-6)
    w = torch.zeros(x.shape[1], y.shape[1], requires_grad=True)
    b = torch.zeros(y.shape[1], requires_grad=True)
    opt = torch.optim.Adam([w, b], lr=0.01)
    for _ in range(steps):
        fit = torch.nn.functional.binary_cross_entropy_with_logits(x[:train] @ w + b, y[:train])
        loss = fit + 1e-3 * (w ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    p, t = (x[train:] @ w + b).detach(), y[train:]
    aucs = [auc(p[:, j], t[:, j]) for j in range(y.shape[1]) if 0 < t[:, j].sum() < len(t)]
    return sum(aucs) / len(aucs)


def load_folder(path: str):
    model, config, meta = load_model_dir(path)
    vocab = os.path.join(path, meta.get('vocab_file', 'vocab.txt'))
    return model, config, meta, WordPieceTokenizer.from_file(vocab, max_len=meta['max_text_len'])


def load_checkpoint(path: str, recipe: str, plan_name: str = 'full'):
    """A train-tiny stage checkpoint as a model (loaded as data), with its work folder's vocabulary as a tokenizer."""
    from mome.model import MomeModel
    from mome.safe_load import load_data
    from mome.tiny.train import PLANS, RECIPES, apply_recipe, training_config
    if recipe not in RECIPES:
        raise SystemExit(f'encoder_probe: unknown --recipe {recipe!r}; one of {", ".join(RECIPES)}')
    vocab = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(path))), 'vocab.txt')
    if not (os.path.isfile(path) and os.path.isfile(vocab)):
        raise SystemExit(f'encoder_probe: {path} must be a checkpoint in a train-tiny work folder (WORK/ckpt/*.pt, '
                         f'with WORK/vocab.txt)')
    plan, weights = apply_recipe(PLANS[plan_name], recipe), load_data(path)['model']
    tok = WordPieceTokenizer.from_file(vocab, max_len=plan.model['max_text_len'])
    config = training_config(plan, len(tok), shared=not any('.mlp_imag.' in k for k in weights))
    model = MomeModel(config)
    model.load_state_dict(weights)
    return model, config, plan.model, tok


@torch.no_grad()
def main(argv) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--model', help='a model folder')
    src.add_argument('--checkpoint', help="a train-tiny stage checkpoint (WORK/ckpt/STAGE.pt or .partial.pt)")
    p.add_argument('--recipe', default='shipped', help='with --checkpoint: the run\'s train-tiny recipe')
    p.add_argument('--plan', default='full', choices=('full', 'gpu', 'quick'),
                   help='with --checkpoint: the run\'s plan (quick: --quick; gpu: --device cuda)')
    p.add_argument('--sets', type=int, default=250, help='NLVR2 sets to render (8 images each)')
    p.add_argument('--seed', type=int, default=8822)
    a = p.parse_args(argv)
    torch.manual_seed(0)
    if a.checkpoint:
        model, config, meta, tok = load_checkpoint(a.checkpoint, a.recipe, a.plan)
    else:
        model, config, meta, tok = load_folder(a.model)
    model.eval()
    raw, scenes, themes = scene_images(a.seed, 'dev', a.sets, meta['image_size'])
    px = pixels(raw)
    has_shape, has_colour = presence(scenes)
    cls, patch_max = [], []
    for s in range(0, len(px), 128):
        x = model.embed_image(px[s:s + 128])
        x = model.transformer.norm(model.run_blocks(x, 'image', None, model.rel_biases(model.image_rel_index)))
        cls.append(x[:, 0])
        patch_max.append(x[:, 1:].amax(dim=1))
    train = int(len(px) * 0.7)
    out = {'model': a.model or a.checkpoint, 'images': len(px), 'seed': a.seed}
    # [I_CLS] (what ITC reads) and the max over the patch tokens (what the fusion blocks can attend to)
    for key, feats in (('probe_auc', torch.cat(cls)), ('probe_auc_patch_max', torch.cat(patch_max))):
        out[key] = {'shape': round(probe_auc(feats, has_shape, train), 3),
                    'colour': round(probe_auc(feats, has_colour, train), 3)}
    if config.has('itm'):
        rng = random.Random(5)
        texts, labels, kinds = [], [], []
        for scene, theme in zip(scenes, themes):
            sel = _selector(rng, theme, specific=True)
            texts.append(with_article(sel.words(rng, False)) + '.')
            labels.append(int(sel.count(scene) > 0))
            kinds.append(('colour' if sel.colour else '') + ('+' if sel.colour and sel.shape else '')
                         + ('shape' if sel.shape else ''))
        enc = tok.encode_batch(texts, max_len=meta['max_text_len'], pad='max_length', as_tensors=True)
        scores = torch.cat([model.fusion(px[s:s + 64], enc.input_ids[s:s + 64], enc.attention_mask[s:s + 64])[1]
                            .softmax(-1)[:, 1] for s in range(0, len(px), 64)])
        y = torch.tensor(labels)
        of_kind = {k: torch.tensor([v == k for v in kinds]) for k in ('colour', 'shape', 'colour+shape')}
        out['itm_phrase_auc'] = {k: round(auc(scores[m], y[m]), 3) for k, m in of_kind.items()}
    print(json.dumps(out))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
