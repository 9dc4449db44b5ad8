"""`python3 -m mome train-tiny [--out DIR] [--work DIR] [--seed 0] [--shared-experts] [--quick]`: trains the
embedded tiny MoME model from scratch and exports it as a model directory (assets/models/mome-tiny).

1. Data: synthetic COCO-Karpathy and NLVR2 datasets written in the published formats into --work (fixed sizes
   and seeds), read back by data.py's readers and cached as tensors (tiny/data.py); a WordPiece vocabulary of
   the grammar's words (tiny.data.VOCAB_NOTE).
2. Model: MomeModel itself, smaller (PLANS below), started with `tiny_init` instead of the official init (see
   there: trained from scratch on a small budget, the official init learned several times slower).
3. Stages as VLMo, scaled down (tiny/stages.py): vision (MIM), language (MLM, attention and vision expert
   frozen), vl (ITC + ITC-VL + ITM with hard negatives + MLM), finetune (retrieval and NLVR2 jointly).
   `--recipe` trains a measured variant of the plan instead (RECIPES below); the default is the shipped recipe.
4. Checkpoints after every stage and every `ckpt_every` steps in --work; rerunning with the same --work resumes
   (finished stages are loaded, an interrupted stage continues from its last checkpoint).
5. Evaluation on held-out splits (tiny/eval.py), export through export_model_dir with the quality figures,
   seed, command, durations and parameter count in mome.json (`quality` and `provenance`).

Prints JSON lines ({"type": "progress"|"stage"|"eval"|"done"|"error", ...}) like the other mome commands.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Dict, Optional

import torch

from ..config import MomeConfig
from ..export import export_model_dir
from ..jsonl import emit
from ..mim import MimHead
from ..model import MomeModel
from ..optim import build_optimizer, make_scheduler
from ..safe_load import load_data
from ..synth.scene import HELD_OUT
from .data import VOCAB_NOTE, DataSpec, load_cached, write_vocab
from .eval import nlvr2_accuracy, retrieval_metrics
from .stages import (STAGES, TagHead, attribute_columns, caption_word_targets, freeze_for_language,
                     init_third_token_type, init_vl_expert, shape_swap_table, stage_losses, unfreeze)
from ..tokenizer import WordPieceTokenizer

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
EXPORT_HEADS = ('itc', 'itm', 'nlvr2')   # what the app runs; MLM and ITC-VL heads are pre-training only


@dataclass
class Plan:
    model: dict
    data: Dict[str, tuple]           # name -> (kind, split, size, seed offset)
    steps: Dict[str, int]
    lr: Dict[str, float]
    batch: int
    itm_rows: int                    # rows of a vl batch that get ITM and fusion MLM (3x fusion passes each)
    finetune_itm_rows: int
    nlvr2_batch: int
    nlvr2_every: int                 # finetune: every n-th step is an NLVR2 batch, the others retrieval
    ckpt_every: int
    warmup: float = 0.1
    nlvr2_head_lr_mult: float = 10.0  # finetune: the NLVR2 classifier's lr multiplier (the official lr_mult)
    # ITM negatives: this share drawn at random, the rest by ITC similarity (losses.sample_hard_negatives).
    # With hard negatives only, ITM sat at its label prior (loss 0.636) through every vl step of the runs before;
    # from the same model, ITM with random negatives reached 85% held-out accuracy in 25 steps, so the fusion
    # encoder can ground text in the image once some negatives are easy, and NLVR2 fine-tuning needs that.
    itm_uniform_mix: float = 0.5
    nlvr2_curriculum: float = 0.0    # finetune: this share of the steps draws NLVR2 presence statements only
    word_tags: float = 0.0           # vision and vl: weight of the caption-word tag loss (stages.py); 0 = off
    # vision: which tag words the vision stage's tag loss reads: 'caption' every tag word, 'attributes' only the
    # words that name a shape or a colour (synth.lexicon)
    vision_tags: str = 'caption'
    # vl: the same choice for the vl stage's tag loss; 'attributes' keeps the shape the vision stage learnt, which
    # image-text training with every tag word lost (held-out shape probe 0.81 -> 0.67 in 350 vl steps)
    vl_tags: str = 'caption'
    # vision: 0 = the vision stage draws from coco-train; k > 0 = from a separate set of k times as many fresh
    # training images of the same world (DATA_VISION's seed offset), because 3,000 vision steps memorize 8,000
    vision_images: float = 0.0
    # vl: ITM also gets each ITM caption with one shape word swapped for a shape the image lacks (stages.py)
    shape_swaps: bool = False
    weight_decay: float = 0.01
    fp16: bool = True
    extra: dict = field(default_factory=dict)


# Text up to 48 tokens: captions name every object of a scene (up to 5, with sizes, textures, relations and
# positions), 45 word-pieces at most in 10,000 generated captions.
# Layer scale 1.0 with tiny_init's Xavier matrices (see there). Linear 16-pixel patches: the convolutional stem
# (patch_embed='conv') with layer scale 0.1, trained with this plan, did worse on every held-out figure and its
# encoder saw shape no better (README, Tiny model).
MODEL_FULL = dict(embed_dim=128, depth=6, num_heads=4, mlp_ratio=4.0, image_size=96, patch_size=16, vl_start=4,
                  max_text_len=48, token_types=3, layer_scale_init=1.0)
DATA_VISION = ('coco', 'train', 5)   # Plan.vision_images: kind, split, seed offset (size from the plan)
DATA_FULL = {'coco-train': ('coco', 'train', 8000, 1), 'coco-test': ('coco', 'test', 1000, 2),
             'nlvr2-train': ('nlvr2', 'train', 10000, 3), 'nlvr2-dev': ('nlvr2', 'dev', 1000, 4)}
# The caption-word tag loss (word_tags; stages.py) runs beside MIM in a vision stage of 500 steps and beside
# ITC/ITM/MLM in vl: measured against the recipe without it (--recipe no-tags, the model shipped before), it
# raised held-out TR/IR R@5 from 86.8/88.1 to 93.5/92.7 and NLVR2 from 54.5 to 56.8 % (README, Tiny model).
PLANS = {
    'full': Plan(model=MODEL_FULL, data=DATA_FULL,
                 steps={'vision': 500, 'language': 100, 'vl': 1600, 'finetune': 2000},
                 lr={'vision': 1e-3, 'language': 5e-4, 'vl': 1e-3, 'finetune': 5e-4},
                 batch=64, itm_rows=16, finetune_itm_rows=8, nlvr2_batch=32, nlvr2_every=2, ckpt_every=50,
                 nlvr2_curriculum=0.3, word_tags=1.0),
    # --device cuda: the same model, data and seed, five times the steps (a GPU does them in minutes)
    'gpu': Plan(model=MODEL_FULL, data=DATA_FULL,
                steps={'vision': 2500, 'language': 500, 'vl': 8000, 'finetune': 10000},
                lr={'vision': 1e-3, 'language': 5e-4, 'vl': 1e-3, 'finetune': 5e-4},
                batch=64, itm_rows=16, finetune_itm_rows=8, nlvr2_batch=32, nlvr2_every=2, ckpt_every=250,
                nlvr2_curriculum=0.3, word_tags=1.0),
    'quick': Plan(model=dict(embed_dim=32, depth=2, num_heads=2, mlp_ratio=2.0, image_size=32, patch_size=16,
                             vl_start=1, max_text_len=40, token_types=3, layer_scale_init=1.0),
                  data={'coco-train': ('coco', 'train', 48, 1), 'coco-test': ('coco', 'test', 16, 2),
                        'nlvr2-train': ('nlvr2', 'train', 48, 3), 'nlvr2-dev': ('nlvr2', 'dev', 16, 4)},
                  steps={'vision': 12, 'language': 12, 'vl': 12, 'finetune': 18},
                  lr={'vision': 2e-3, 'language': 2e-3, 'vl': 1e-3, 'finetune': 1e-3},
                  batch=16, itm_rows=8, finetune_itm_rows=4, nlvr2_batch=8, nlvr2_every=2, ckpt_every=5,
                  nlvr2_curriculum=0.3, word_tags=1.0),
}


# --recipe: changes to a plan, trained and measured against the shipped recipe (README, Tiny model).
# 'no-tags': the recipe shipped before, without the caption-word tag loss and with a vision stage a fifth as
# long; 'tags-stem': the shipped recipe under the convolutional stem with layer scale 0.1, which made shape
# learnable from presence labels (tools/shape_learnability.py) but not from caption words in train-tiny;
# 'attributes-stem': tags-stem whose vision stage (six times as long) tags only the shape and colour words;
# 'attributes-stem-60k': the same on 60,000 images of its own, since 3,000 steps memorize the 8,000 training images;
# 'attributes-stem-60k-vl': that, with the vl stage's tag loss on the shape and colour words too;
# 'attributes-stem-60k-vl-swaps': that, with shape-swapped captions as ITM negatives in the vl stage.
_STEM = {'model': {'patch_embed': 'conv', 'layer_scale_init': 0.1}}
_ATTRIBUTES = {**_STEM, 'vision_tags': 'attributes', 'steps': {'vision': 6}}
_ATTRIBUTES_60K = {**_ATTRIBUTES, 'vision_images': 7.5}
_ATTRIBUTES_60K_VL = {**_ATTRIBUTES_60K, 'vl_tags': 'attributes'}
RECIPES = {
    'shipped': {},
    'no-tags': {'word_tags': 0.0, 'steps': {'vision': 0.2}},
    'tags-stem': _STEM,
    'attributes-stem': _ATTRIBUTES,
    'attributes-stem-60k': _ATTRIBUTES_60K,
    'attributes-stem-60k-vl': _ATTRIBUTES_60K_VL,
    'attributes-stem-60k-vl-swaps': {**_ATTRIBUTES_60K_VL, 'shape_swaps': True},
}


def apply_recipe(plan: Plan, recipe: str) -> Plan:
    """The plan with the recipe's changes; dict fields are updated key by key, 'steps' scaled (x the factor,
    rounded, at least 1)."""
    changes = RECIPES[recipe]
    fields = asdict(plan)
    for key, value in changes.items():
        if key == 'steps':
            fields['steps'] = {k: max(1, round(v * value.get(k, 1))) for k, v in plan.steps.items()}
        elif isinstance(value, dict):
            fields[key] = {**fields[key], **value}
        else:
            fields[key] = value
    return Plan(**fields)


def vision_set(plan: Plan) -> tuple:
    """(kind, split, size, seed offset) of the vision stage's own images (Plan.vision_images)."""
    kind, split, offset = DATA_VISION
    return kind, split, round(plan.vision_images * plan.data['coco-train'][2]), offset


def datasets(plan: Plan) -> Dict[str, tuple]:
    """The plan's datasets, and the vision stage's own images ('coco-vision') when Plan.vision_images is set."""
    return {**plan.data, **({'coco-vision': vision_set(plan)} if plan.vision_images else {})}


def objectives(plan: Plan, shared: bool, tags: str = '') -> str:
    """What each stage trains, for mome.json's provenance (stages.stage_losses; `tags`: ' + ' and the tag note,
    or '' without the tag loss). The shared-experts model has no ITC-VL head, freezes nothing for language, and
    adds image-only MIM (and, in vl, text-only MLM) to the same update, as MoMo does."""
    language = ('MLM text-only + MIM image-only, nothing frozen' if shared
                else 'MLM text-only, attention and vision expert frozen')
    vl = 'ITC + ITM + MLM + MIM image-only + MLM text-only' if shared else 'ITC + ITC-VL + ITM + MLM'
    def tag_words(choice: str) -> str:   # Plan.vision_tags / vl_tags
        return f'{tags}, only the words naming a shape or a colour' if tags and choice == 'attributes' else tags

    vision_tags, vl_tags = tag_words(plan.vision_tags), tag_words(plan.vl_tags)
    if plan.vision_images:
        vision_tags += f', on {vision_set(plan)[2]:,} other training images'
    return (f'vision: MIM with raw-pixel targets (SimMIM-style, no dVAE){vision_tags}; language: {language}; '
            f'vl: {vl}{vl_tags}; '
            f'finetune: retrieval (ITC + ITM) and NLVR2 batches interleaved (every {plan.nlvr2_every}. step an NLVR2 '
            f'batch, its classifier at {plan.nlvr2_head_lr_mult:g}x the learning rate; the first '
            f'{plan.nlvr2_curriculum:.0%} of the steps presence statements only)')


def training_config(plan: Plan, vocab_size: int, shared: bool) -> MomeConfig:
    heads = ('itc', 'itm', 'mlm', 'nlvr2') if shared else ('itc', 'itc_vl', 'itm', 'mlm', 'nlvr2')
    return MomeConfig(vocab_size=vocab_size, heads=heads, shared_experts=shared, **plan.model)


@torch.no_grad()
def tiny_init(model: MomeModel) -> MomeModel:
    """The tiny model's starting point (training from scratch only; official checkpoints are loaded, never
    re-initialized): Xavier-uniform attention and FFN matrices instead of the official N(0, 0.02), which is
    made for fine-tuning a 12-layer model from BEiT weights; layer scale stays the config's layer_scale_init.
    Measured (with the linear patch embedding and layer scale 1.0, the recipe before the stem) on the
    8,000-image training split, ITC alone, batch 64, lr 1e-3, one CPU thread:
    - official init: loss 3.84 after 300 steps, held-out TR/IR R@5 1.8/1.2;
    - this init: 3.30 after 300 steps, and runs leave the ~3.3 plateau (where the text encoder is the bottleneck:
      with a bag-of-words text side the image encoder alone reached 2.79 in 200 steps) after 300-800 steps.
    A text-embedding LayerNorm weight of 0.1, tried with it, slowed the text side (2.90 vs 3.15 after 300
    steps against fixed colour-histogram image features), so it stays at 1.0."""
    for name, p in model.named_parameters():
        if p.dim() == 2 and ('.attn.' in name or '.mlp' in name):
            torch.nn.init.xavier_uniform_(p)
    return model


def count_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# Checkpoints --------------------------------------------------------------------------------------------------

def _save(obj: dict, path: str) -> None:
    torch.save(obj, path + '.tmp')
    os.replace(path + '.tmp', path)   # a run killed mid-write leaves the previous checkpoint intact


def stage_path(work: str, stage: str, partial: bool = False) -> str:
    return os.path.join(work, 'ckpt', f'{stage}{".partial" if partial else ""}.pt')


class Trainer:
    def __init__(self, args, plan: Plan) -> None:
        self.args, self.plan, self.seed, self.work = args, plan, args.seed, args.work
        self.log = os.path.join(self.work, 'train.jsonl')
        os.makedirs(os.path.join(self.work, 'ckpt'), exist_ok=True)
        self._check_fingerprint()
        self.vocab_path = os.path.join(self.work, 'vocab.txt')
        tokens = write_vocab(self.vocab_path)
        self.tok = WordPieceTokenizer(tokens, max_len=plan.model['max_text_len'])
        self.specials = {'special_ids': [self.tok.pad, self.tok.unk, self.tok.cls, self.tok.sep],
                         'mask_id': self.tok.mask}
        self.cfg = training_config(plan, len(tokens), args.shared_experts)
        torch.manual_seed(self.seed)
        self.device = torch.device(args.device)
        self.model = tiny_init(MomeModel(self.cfg)).to(self.device)
        self.mim = MimHead(self.model).to(self.device)
        # TagHead, its words and per-image targets: made in load_data once the training captions are known
        self.tags, self.tag_words, self.tag_targets, self.vision_tag_columns = None, None, None, None
        self.vl_tag_columns = None
        self.vision_tag_targets = None
        self.shape_swaps = None   # Plan.shape_swaps: stages.shape_swap_table of the training captions
        self.state = self._read_state()

    def _check_fingerprint(self) -> None:
        # options added later are left out at their defaults, so work folders of runs before them still resume
        later = {'word_tags': 0.0, 'vision_tags': 'caption', 'vision_images': 0.0, 'vl_tags': 'caption',
                 'shape_swaps': False}
        plan = {k: v for k, v in asdict(self.plan).items() if k not in later or v != later[k]}
        fp = {'plan': plan, 'seed': self.seed, 'shared_experts': self.args.shared_experts}
        path = os.path.join(self.work, 'fingerprint.json')
        if os.path.isfile(path):
            with open(path, encoding='utf-8') as fh:
                old = json.load(fh)
            if old != json.loads(json.dumps(fp)):
                raise SystemExit(f'mome train-tiny: {self.work} holds a run with other settings (seed, plan or '
                                 f'--shared-experts); give a new --work folder or delete this one')
        else:
            with open(path, 'w', encoding='utf-8') as fh:
                json.dump(fp, fh, indent=1)

    def _read_state(self) -> dict:
        path = os.path.join(self.work, 'state.json')
        if os.path.isfile(path):
            with open(path, encoding='utf-8') as fh:
                return json.load(fh)
        return {'seconds': {}, 'losses': {}, 'resumed': [], 'data_seconds': 0.0}

    def _resumed(self, entry: str) -> None:
        """Notes a stage loaded finished ('vl') or continued from its checkpoint ('vl@350'), once: a finished run
        exported again loads every stage again."""
        if entry not in self.state['resumed']:
            self.state['resumed'].append(entry)

    def _write_state(self) -> None:
        path = os.path.join(self.work, 'state.json')
        with open(path + '.tmp', 'w', encoding='utf-8') as fh:
            json.dump(self.state, fh, indent=1)
        os.replace(path + '.tmp', path)

    def load_data(self) -> None:
        t0 = time.monotonic()
        size, max_len = self.plan.model['image_size'], self.plan.model['max_text_len']
        data_root = self.args.data or os.path.join(self.work, 'data')
        self.data = {}
        for name, (kind, split, n, offset) in datasets(self.plan).items():
            spec = DataSpec(name, kind, split, n, self.seed * 100 + offset)
            self.data[name] = load_cached(spec, data_root, self.tok, size, max_len)
            emit({'type': 'progress', 'phase': 'data', 'dataset': name, 'items': n}, self.log)
        if self.plan.word_tags > 0:
            self.tag_words, self.tag_targets = caption_word_targets(self.data['coco-train'], self.cfg.vocab_size, 5)
            # the vision stage's images: the same words, marked in the vision set's captions if it has its own
            self.vision_tag_targets = caption_word_targets(self.data['coco-vision'], self.cfg.vocab_size, 5,
                                                           words=self.tag_words)[1] \
                if 'coco-vision' in self.data else self.tag_targets
            torch.manual_seed(self.seed + 1)   # the model's init above is unchanged by the head's
            self.tags = TagHead(self.cfg.embed_dim, len(self.tag_words)).to(self.device)
            columns = attribute_columns(self.tag_words, self.tok)
            self.vision_tag_columns = columns if self.plan.vision_tags == 'attributes' else None
            self.vl_tag_columns = columns if self.plan.vl_tags == 'attributes' else None
        if self.plan.shape_swaps:
            self.shape_swaps = shape_swap_table(self.data['coco-train'], self.tok)
        self.state['data_seconds'] = self.state.get('data_seconds', 0.0) + time.monotonic() - t0

    # Stages ---------------------------------------------------------------------------------------------------
    def _prepare(self, stage: str) -> None:
        unfreeze(self.model)
        if stage == 'language' and not self.cfg.shared_experts:
            freeze_for_language(self.model)
        if stage == 'vl':
            init_vl_expert(self.model)
        if stage == 'finetune':
            init_third_token_type(self.model)

    def _modules(self, stage: str) -> torch.nn.Module:
        """What the optimizer updates: the model, plus the MIM head while a stage uses MIM and the tag head while
        it uses caption-word tags."""
        uses_mim = stage == 'vision' or (self.cfg.shared_experts and stage in ('language', 'vl'))
        parts = {'model': self.model}
        if uses_mim:
            parts['mim'] = self.mim
        if self.tags is not None and stage in ('vision', 'vl'):
            parts['tags'] = self.tags
        return torch.nn.ModuleDict(parts) if len(parts) > 1 else self.model

    def _load(self, ckpt: dict) -> None:   # checkpoints load onto the run's device (load_data maps to the CPU)
        self.model.load_state_dict(ckpt['model'])
        self.mim.load_state_dict(ckpt['mim'])
        if self.tags is not None:
            self.tags.load_state_dict(ckpt['tags'])

    def _heads(self) -> dict:
        return {'mim': self.mim.state_dict(), **({'tags': self.tags.state_dict()} if self.tags is not None else {})}

    def context(self) -> dict:
        """What stage_losses reads: the model, plan, seed, special tokens, training data and device."""
        return {'model': self.model, 'plan': self.plan, 'seed': self.seed, 'specials': self.specials,
                'coco': self.data['coco-train'], 'nlvr2': self.data['nlvr2-train'], 'mim': self.mim,
                'device': self.device, 'tags': self.tags, 'tag_targets': self.tag_targets,
                'vision_tag_columns': self.vision_tag_columns, 'vl_tag_columns': self.vl_tag_columns,
                'vision': self.data.get('coco-vision', self.data['coco-train']),
                'vision_tag_targets': self.vision_tag_targets, 'shape_swaps': self.shape_swaps}

    def prepare(self, stage: str) -> torch.nn.Module:
        """Freezes and initializes for the stage; returns what the stage's optimizer updates."""
        self._prepare(stage)
        return self._modules(stage)

    def run_stage(self, stage: str) -> None:
        final = stage_path(self.work, stage)
        if os.path.isfile(final):
            self._load(load_data(final))
            self._resumed(stage)
            emit({'type': 'stage', 'stage': stage, 'status': 'loaded', 'checkpoint': final}, self.log)
            return
        plan, total = self.plan, self.plan.steps[stage]
        params = self.prepare(stage)
        opt = build_optimizer(params, plan.lr[stage], weight_decay=plan.weight_decay,
                              head_lr_mult=plan.nlvr2_head_lr_mult if stage == 'finetune' else 1.0,
                              head_prefixes=('model.nlvr2_classifier', 'nlvr2_classifier'))
        sched = make_scheduler(opt, total, max(1, int(plan.warmup * total)))
        start, losses = 0, []
        partial = stage_path(self.work, stage, partial=True)
        if os.path.isfile(partial):
            ck = load_data(partial)   # data only (safe_load): state dicts, step, losses
            self._load(ck)
            opt.load_state_dict(ck['optimizer'])
            sched.load_state_dict(ck['scheduler'])
            start, losses = ck['step'], ck['losses']
            self._resumed(f'{stage}@{start}')
            emit({'type': 'stage', 'stage': stage, 'status': 'resumed', 'step': start}, self.log)
        ctx = self.context()
        self.model.train()
        t0 = time.monotonic()
        for step in range(start, total):
            parts = stage_losses(stage, step, ctx)
            loss = sum(parts.values())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for g in opt.param_groups for p in g['params']], 5.0)
            opt.step()
            sched.step()
            losses.append({k: round(float(v.detach()), 5) for k, v in parts.items()})
            done = step + 1
            if done % plan.ckpt_every == 0 or done == total:
                self.state['seconds'][stage] = self.state['seconds'].get(stage, 0.0) + time.monotonic() - t0
                t0 = time.monotonic()
                if done < total:
                    _save({'model': self.model.state_dict(), **self._heads(),
                           'optimizer': opt.state_dict(), 'scheduler': sched.state_dict(), 'step': done,
                           'losses': losses}, partial)
                self.state['losses'][stage] = losses
                self._write_state()
                emit({'type': 'progress', 'stage': stage, 'step': done, 'steps': total,
                      'loss': _mean_losses(losses[-plan.ckpt_every:]),
                      'seconds': round(self.state['seconds'][stage], 1)}, self.log)
            if (stage, done) == (self.args.stop_at_stage, self.args.stop_at_step):
                raise Interrupted(f'stopped at {stage} step {done} (--stop-at)')
        _save({'model': self.model.state_dict(), **self._heads()}, final)
        if os.path.isfile(partial):
            os.remove(partial)
        emit({'type': 'stage', 'stage': stage, 'status': 'done', 'seconds': round(self.state['seconds'][stage], 1)},
             self.log)

    # Evaluation and export ------------------------------------------------------------------------------------
    def evaluate(self) -> dict:
        t0 = time.monotonic()
        q = {'retrieval': {'dataset': 'synthetic COCO-Karpathy-format test split (held out, generator seed '
                                      f'{self.seed * 100 + self.plan.data["coco-test"][3]})',
                           **retrieval_metrics(self.model, self.data['coco-test'])},
             'nlvr2': {'dataset': 'synthetic NLVR2-format dev split (held out, generator seed '
                                  f'{self.seed * 100 + self.plan.data["nlvr2-dev"][3]})',
                       **nlvr2_accuracy(self.model, self.data['nlvr2-dev'])}}
        q['eval_seconds'] = round(time.monotonic() - t0, 1)
        return q

    def export(self, quality: dict, started: float) -> dict:
        cfg = MomeConfig.from_dict({**self.cfg.to_dict(), 'heads': EXPORT_HEADS})
        model = MomeModel(cfg)
        sd = {k: v.cpu() for k, v in self.model.state_dict().items() if k in model.state_dict()}
        model.load_state_dict(sd, strict=True)
        seconds = dict(self.state['seconds'])
        provenance = {
            'trainer': 'mome train-tiny',
            'command': 'npm run -s mome -- train-tiny' + (' --shared-experts' if self.cfg.shared_experts else '')
                       + (' --quick' if self.args.quick else '') + f' --seed {self.seed}'
                       + (f' --recipe {self.args.recipe}' if self.args.recipe != 'shipped' else '')
                       + (f' --device {self.device.type}' if self.device.type != 'cpu' else '')
                       + (f' --threads {self.args.threads}' if self.args.threads != 1 else ''),
            'device': self.device.type if self.device.type == 'cpu' else torch.cuda.get_device_name(self.device),
            'torch': torch.__version__,
            'plan': self.plan_name,
            'recipe': self.args.recipe,
            'seed': self.seed,
            'shared_experts': self.cfg.shared_experts,
            'parameters': count_params(model),
            'parameters_training': count_params(self.model),
            'stage_seconds': {k: round(v, 1) for k, v in seconds.items()},
            'data_seconds': round(self.state.get('data_seconds', 0.0), 1),
            'duration_seconds': round(sum(seconds.values()) + self.state.get('data_seconds', 0.0)
                                      + quality.get('eval_seconds', 0.0), 1),
            'wall_seconds_this_run': round(time.monotonic() - started, 1),
            'resumed': self.state['resumed'],
            'torch_threads': torch.get_num_threads(),
            'steps': self.plan.steps, 'lr': self.plan.lr, 'batch': self.plan.batch,
            'data': {n: {'kind': k, 'split': s, 'size': sz, 'seed': self.seed * 100 + o, 'world': 'tiny'}
                     for n, (k, s, sz, o) in datasets(self.plan).items()},
            'held_out_of_training': HELD_OUT,
            'vocabulary': VOCAB_NOTE,
            'objectives': objectives(self.plan, self.cfg.shared_experts, self._tags_note(' + ')),
            'negatives': f'ITM: {self.plan.itm_uniform_mix:.0%} of the negatives drawn at random, the rest by ITC '
                         'similarity (hard negatives) among the batch, positives excluded'
                         + ('; in the vl stage also each ITM caption with one shape word swapped for a shape the '
                            'image lacks' if self.plan.shape_swaps else ''),
            'quality': quality,
        }
        meta = export_model_dir(model, cfg, self.args.out, self.vocab_path, fp16=self.plan.fp16,
                                provenance=provenance, overwrite=True)
        meta['quality'] = quality
        path = os.path.join(self.args.out, 'mome.json')
        with open(path, 'w', encoding='utf-8', newline='\n') as fh:
            json.dump(meta, fh, indent=2)
            fh.write('\n')
        return meta


    def _tags_note(self, sep: str) -> str:
        if self.tags is None:
            return ''
        return (f'{sep}caption-word tags (weight {self.plan.word_tags:g}: {len(self.tag_words)} words in 1-99% of the '
                'training images\' captions, predicted from the max over the patch tokens)')


class Interrupted(Exception):
    pass


def _mean_losses(rows) -> dict:
    """Mean of each loss over the rows that have it (fine-tuning alternates retrieval and NLVR2 batches)."""
    keys = sorted({k for r in rows for k in r})
    return {k: round(sum(r[k] for r in rows if k in r) / sum(1 for r in rows if k in r), 4) for k in keys}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog='mome train-tiny', description='Train the embedded tiny MoME model from '
                                'scratch on synthetic data and export it as a model directory.')
    p.add_argument('--out', help='model directory to write (default assets/models/mome-tiny, or '
                   'mome-tiny-shared with --shared-experts); replaced if it exists')
    p.add_argument('--work', help='data, caches and checkpoints; rerun with the same --work to resume '
                   '(default ~/.cache/mome/train-tiny[-shared][-quick])')
    p.add_argument('--data', help='where the synthetic datasets and their tensor caches go (default WORK/data); '
                   'runs with the same seed can share it')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--shared-experts', action='store_true', help='the MoMo-style variant: one FFN for every '
                   'modality, image/text/image-text gradients accumulated in one step')
    p.add_argument('--quick', action='store_true', help='a tiny end-to-end run (small data and model, few steps)')
    p.add_argument('--device', default='cpu', choices=('cpu', 'cuda'), help='cuda: train on the first CUDA GPU '
                   'with the longer GPU schedule (same model, data and seed); needs a CUDA build of PyTorch')
    p.add_argument('--threads', type=int, default=1, help='torch CPU threads (default 1: on a shared 2-core '
                   'machine one thread measured several times faster than two)')
    p.add_argument('--recipe', default='shipped', choices=tuple(RECIPES), help='experimental changes to the '
                   'training plan (RECIPES in mome/tiny/train.py; README, Tiny model); default: the shipped recipe')
    p.add_argument('--stop-at', help=argparse.SUPPRESS)   # STAGE:STEP, to test resuming
    return p


def check_args(args) -> Optional[str]:
    """What would fail later, found before any data is written: the device, and the output folder."""
    if args.device == 'cuda' and not torch.cuda.is_available():
        return (f'mome train-tiny: --device cuda, but this PyTorch ({torch.__version__}) sees no CUDA GPU '
                '(torch.cuda.is_available() is False): install a CUDA build of PyTorch on a machine with an NVIDIA '
                'GPU, or leave out --device to train on the CPU')
    for path in (args.out, args.work):
        near = os.path.abspath(path)
        while not os.path.exists(near):
            near = os.path.dirname(near)
        if not os.path.isdir(near) or not os.access(near, os.W_OK):
            return f'mome train-tiny: cannot write {path}: {near} is not a writable folder; give another path'
    return None


def _defaults(args) -> None:
    suffix = ('-shared' if args.shared_experts else '') + ('-quick' if args.quick else '') + (
        '-gpu' if args.device == 'cuda' else '') + ('' if args.recipe == 'shipped' else f'-{args.recipe}')
    if args.work is None:
        args.work = os.path.join(os.path.expanduser('~'), '.cache', 'mome', f'train-tiny{suffix}')
    if args.out is None:
        args.out = os.path.join(REPO, 'assets', 'models', 'mome-tiny' + ('-shared' if args.shared_experts else ''))
    args.stop_at_stage, args.stop_at_step = None, None
    if args.stop_at:
        stage, _, step = args.stop_at.partition(':')
        args.stop_at_stage, args.stop_at_step = stage, int(step)


def main(argv) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    _defaults(args)
    problem = check_args(args)
    if problem:
        emit({'type': 'error', 'message': problem})
        return 2
    torch.set_num_threads(max(1, args.threads))
    started = time.monotonic()
    plan_name = 'quick' if args.quick else ('gpu' if args.device == 'cuda' else 'full')
    trainer = Trainer(args, apply_recipe(PLANS[plan_name], args.recipe))
    trainer.plan_name = plan_name
    emit({'type': 'progress', 'phase': 'start', 'work': args.work, 'out': args.out, 'seed': args.seed,
          'shared_experts': args.shared_experts, 'parameters_training': count_params(trainer.model)}, trainer.log)
    trainer.load_data()
    try:
        for stage in STAGES:
            trainer.run_stage(stage)
            if stage == 'vl' and 'quality_before_finetune' not in trainer.state:
                trainer.state['quality_before_finetune'] = trainer.evaluate()
                emit({'type': 'eval', 'after': 'vl', **trainer.state['quality_before_finetune']}, trainer.log)
            trainer._write_state()
    except Interrupted as e:
        trainer._write_state()
        emit({'type': 'stopped', 'message': str(e)}, trainer.log)
        return 3
    quality = trainer.evaluate()
    quality['before_finetune'] = trainer.state.get('quality_before_finetune')
    emit({'type': 'eval', 'after': 'finetune', **quality}, trainer.log)
    meta = trainer.export(quality, started)
    emit({'type': 'done', 'out': args.out, 'parameters': meta['provenance']['parameters'],
          'duration_seconds': meta['provenance']['duration_seconds'], 'quality': quality}, trainer.log)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
