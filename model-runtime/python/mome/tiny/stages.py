"""One training step of each stage of the tiny model, stage-wise as VLMo (spec §5), scaled down:

- vision: masked image modeling on image-only mode (mim.py: SimMIM-style pixel targets instead of BEiT's dVAE);
- language: MLM on text-only mode, with self-attention and the vision expert frozen (freeze_for_language);
- vl: ITC on the retrieval features, ITC on the VL-expert features (logit_vl_scale), ITM with negatives drawn
  half by ITC similarity and half at random (Plan.itm_uniform_mix), MLM on the fusion encoder;
- finetune: retrieval batches (ITC, plus ITM on a few rows so the shipped ITM head, which the app uses to
  re-rank, keeps matching the fine-tuned encoders) interleaved with NLVR2 batches (every `nlvr2_every`-th step;
  cross-entropy, the classifier at the official 10x learning-rate multiplier), because the app ships ONE model
  for both tasks; fine-tuning them one after the other would let the NLVR2 pass overwrite what retrieval needs
  in the shared attention. NLVR2 batches follow a curriculum: for the first `nlvr2_curriculum` share of the
  steps only presence statements (synth.statements level 0), then every family.

Shared-experts variant (MoMo-style): one FFN for every modality, so there is nothing to freeze; the language
stage adds the image-only MIM loss and the vl stage adds both MIM and text-only MLM, accumulated into the same
update step as MoMo does.

Caption-word tags (`Plan.word_tags` > 0; on in the shipped plans): a linear head on the max over the image
encoder's patch tokens predicts which informative words (in 1-99% of the training images' captions) any caption
of the image uses, with binary cross-entropy, in the vision stage beside MIM and in the vl stage beside ITC/ITM.
With `Plan.vision_tags` 'attributes' the vision stage's tag loss reads only the words that name a shape or a
colour: among every tag word, shape is learnt far more slowly (README, Tiny model); `Plan.vl_tags` makes the same
choice for the vl stage. With `Plan.vision_images` the vision stage draws its images from a separate, larger set
of fresh training images: 3,000 vision steps on the 8,000 training images memorize them (shape AUC 0.97 on them,
0.72 held out).
It gives shape a gradient: colour and background already tell the images apart for ITC and random-negative ITM,
and the captions name every object's shape (README, Tiny model).

Shape-swap ITM negatives (`Plan.shape_swaps`): in the vl stage each ITM caption that names a shape also comes as a
negative with one shape word swapped for a shape the image lacks, so the fusion encoder's match must read shape
(after vl, its ITM score ranked shape phrases below chance in every recipe: tools/encoder_probe.py).

Batches are drawn from a generator seeded by (seed, stage, step), so a resumed stage sees the same batches it
would have seen without the interruption.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F

from ..losses import itc_loss, itm_loss, mlm_loss, mlm_mask, nlvr2_loss
from ..mim import MimHead, mim_loss, random_patch_mask
from ..model import MomeModel
from ..synth.lexicon import SHAPES, colour_of_word, shape_of_word
from .data import pixels, trim

STAGES = ('vision', 'language', 'vl', 'finetune')
MIM_RATIO = 0.5


def step_generator(seed: int, stage: str, step: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + STAGES.index(stage) * 10_000_019 + step)


# Batches ------------------------------------------------------------------------------------------------------

def caption_batch(data: dict, batch: int, g: torch.Generator, device=None):
    """`batch` distinct images, one random caption of each: (pixels, ids, mask, image_index), on `device`.
    Sampling runs on the CPU with the step's generator, so a run draws the same batches on any device."""
    n = len(data['images'])
    imgs = torch.randperm(n, generator=g)[:batch]
    pick = (torch.rand(len(imgs), generator=g) * data['caption_count'][imgs]).long()
    caps = data['caption_start'][imgs] + pick
    ids, mask = trim(data['input_ids'][caps], data['attention_mask'][caps])
    return tuple(t.to(device) for t in (pixels(data['images'][imgs]), ids, mask, imgs))


def nlvr2_batch(data: dict, batch: int, g: torch.Generator, device=None, max_level: Optional[int] = None):
    """A random NLVR2 batch; with max_level, only statements of that level or below (the curriculum's start)."""
    pool = torch.arange(len(data['label']))
    if max_level is not None and 'level' in data:
        pool = pool[data['level'] <= max_level]
    ex = pool[torch.randperm(len(pool), generator=g)[:batch]]
    ids, mask = trim(data['input_ids'][ex], data['attention_mask'][ex])
    return tuple(t.to(device) for t in (pixels(data['images'][data['left'][ex]]),
                                        pixels(data['images'][data['right'][ex]]), ids, mask, data['label'][ex]))


# Freezing -----------------------------------------------------------------------------------------------------

_FROZEN_FOR_LANGUAGE = ('transformer.patch_embed.', 'transformer.cls_token', 'transformer.pos_embed',
                        'transformer.norm.', '.norm1.', '.attn.', '.gamma_1', '.gamma_2', '.norm2_imag.',
                        '.mlp_imag.')


def freeze_for_language(model: MomeModel) -> None:
    """VLMo's language stage: self-attention and the vision expert stay as the vision stage left them. The
    relative position table stays trainable: text mode only reads (and so only updates) its text rows."""
    for name, p in model.named_parameters():
        p.requires_grad = not any(part in name for part in _FROZEN_FOR_LANGUAGE)


def unfreeze(model: MomeModel) -> None:
    for p in model.parameters():
        p.requires_grad = True


@torch.no_grad()
def init_vl_expert(model: MomeModel) -> None:
    """The VL experts start as copies of the text experts (fusion pools the [T_CLS] token)."""
    for block in model.transformer.blocks:
        if getattr(block, 'has_vl', False):
            block.mlp_vl.load_state_dict(block.mlp_text.state_dict())
            block.norm2_vl.load_state_dict(block.norm2_text.state_dict())


@torch.no_grad()
def init_third_token_type(model: MomeModel) -> None:
    """NLVR2's right image has token type 2; its row starts as a copy of row 1 (spec §5)."""
    model.token_type_embeddings.weight[2].copy_(model.token_type_embeddings.weight[1])


# Losses per stage ---------------------------------------------------------------------------------------------

class TagHead(torch.nn.Module):
    """Caption-word logits from the max over the image encoder's patch tokens (after the final norm)."""

    def __init__(self, width: int, words: int) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(width, max(1, words))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.proj(hidden[:, 1:].max(dim=1).values)


def caption_word_targets(data: dict, vocab_size: int, first_word_id: int, low: float = 0.01,
                         high: float = 0.99, words: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """(word ids, [images, words] 0/1 targets): the token ids from `first_word_id` on that appear in the captions
    of between `low` and `high` of the images (or the given `words`), and for each image whether any of its
    captions uses each."""
    ids, keep = data['input_ids'], data['attention_mask'].bool()
    has = torch.zeros(len(data['caption_count']), vocab_size, dtype=torch.bool)
    has[data['image_index'][:, None].expand_as(ids)[keep], ids[keep]] = True   # image_index: each caption's image
    if words is None:
        share = has.float().mean(dim=0)
        words = torch.nonzero((share >= low) & (share <= high)).flatten()
        words = words[words >= first_word_id]
    return words, has[:, words].float()


def attribute_columns(words: torch.Tensor, tok) -> torch.Tensor:
    """The positions in `words` (tag word ids) of the words that name a shape or a colour (synth.lexicon)."""
    names = [tok.id_to_token[w] for w in words.tolist()]
    return torch.tensor([j for j, w in enumerate(names) if shape_of_word(w) or colour_of_word(w)], dtype=torch.long)


def shape_swap_table(data: dict, tok) -> dict:
    """What shape-swap ITM negatives (Plan.shape_swaps) read: each vocabulary word's shape (index into SHAPES,
    -1 for none) and number, each shape's words by number, which shapes each image's captions name (the captions
    name every object's shape, so a shape none of them names is not in the image), and which shapes some image
    has: a shape the training world leaves out (synth.scene.HELD_OUT) is never swapped in, else its words would
    only ever be seen in negatives and ITM would learn to reject them without looking at the image."""
    names = list(SHAPES)
    word_shape = torch.full((len(tok),), -1, dtype=torch.long)
    plural = torch.zeros(len(tok), dtype=torch.bool)
    forms = [([], []) for _ in names]
    for i, w in enumerate(tok.id_to_token):
        shape = shape_of_word(w)
        if shape is not None:
            s, many = names.index(shape), w in SHAPES[shape][1]
            word_shape[i], plural[i] = s, many
            forms[s][int(many)].append(i)
    shape_words = torch.nonzero(word_shape >= 0).flatten()
    _, uses = caption_word_targets(data, len(tok), 0, words=shape_words)   # [images, shape words]
    has = torch.zeros(len(uses), len(names)).index_add_(1, word_shape[shape_words], uses) > 0
    return {'word_shape': word_shape, 'plural': plural, 'forms': forms, 'image_shapes': has, 'seen': has.any(dim=0)}


def shape_swaps(ids: torch.Tensor, imgs: torch.Tensor, table: dict,
                g: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
    """(rows, ids): for each caption that names a shape, a copy with one of its shape words (drawn at random)
    replaced by a word, of the same number, for a shape the image does not have and other training images do: a
    negative that only the shape tells apart. Draws three numbers a row from `g` whatever the captions hold."""
    draw = torch.rand(ids.shape[0], 3, generator=g)
    cpu = ids.cpu()
    shape = table['word_shape'][cpu]
    rows, out = [], []
    for b in range(cpu.shape[0]):
        where = torch.nonzero(shape[b] >= 0).flatten()
        absent = torch.nonzero(table['seen'] & ~table['image_shapes'][int(imgs[b])]).flatten()
        if not len(where) or not len(absent):
            continue
        p = int(where[int(draw[b, 0] * len(where))])
        words = table['forms'][int(absent[int(draw[b, 1] * len(absent))])][int(table['plural'][cpu[b, p]])]
        if not words:
            continue
        swapped = cpu[b].clone()
        swapped[p] = words[int(draw[b, 2] * len(words))]
        rows.append(b)
        out.append(swapped)
    rows_t = torch.tensor(rows, dtype=torch.long)
    return rows_t.to(ids.device), (torch.stack(out) if out else cpu[:0]).to(ids.device)


def _tags(ctx: dict, hidden: torch.Tensor, imgs: torch.Tensor, columns: Optional[torch.Tensor] = None,
          targets: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The tag loss of a batch; `columns`: only these tag words (Plan.vision_tags 'attributes'); `targets`: of
    another image set than the training captions' (the vision stage's own images, Plan.vision_images)."""
    targets = ctx['tag_targets'] if targets is None else targets
    target, logits = targets[imgs.cpu()].to(hidden.device), ctx['tags'](hidden)
    if columns is not None:
        target, logits = target[:, columns.to(target.device)], logits[:, columns.to(logits.device)]
    return ctx['plan'].word_tags * F.binary_cross_entropy_with_logits(logits, target)


def _mim(model: MomeModel, head: MimHead, px: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    mask = random_patch_mask(px.shape[0], model.config.window ** 2, MIM_RATIO, g).to(px.device)
    return mim_loss(model, head, px, mask)


def _mlm_text(model: MomeModel, ids, mask, specials, g) -> torch.Tensor:
    masked, labels = mlm_mask(ids, mask, model.config.vocab_size, specials['special_ids'], generator=g,
                              mask_id=specials['mask_id'])
    return mlm_loss(model.mlm_score(model.text_hidden(masked, mask)), labels)


def _branches(model: MomeModel, x: torch.Tensor, mode: str, mask, n: int,
              with_vl: bool) -> Tuple[torch.Tensor, Optional[torch.Tensor], torch.Tensor]:
    """[CLS] of the retrieval path and of the VL-expert path, and the retrieval path's hidden states, sharing the
    blocks below vl_start (model.py's encode_*_vl re-runs them; sharing them gives the same values for less
    compute)."""
    cfg = model.config
    index = None
    if cfg.rel_pos_bias:
        index = model.image_rel_index if mode == 'image' else model.text_rel_index[:n, :n]
    biases = model.rel_biases(index)
    low = model.run_blocks(x, mode, mask, biases, blocks=range(cfg.vl_start))
    top = model.transformer.norm(model.run_blocks(low, mode, mask, biases, blocks=range(cfg.vl_start, cfg.depth)))
    if not (with_vl and cfg.has('itc_vl')):
        return top[:, 0], None, top
    vl = model.run_blocks(low, 'vl', mask, biases, text_len=n if mode == 'text' else 0,
                          blocks=range(cfg.vl_start, cfg.depth))
    return top[:, 0], model.transformer.norm(vl)[:, 0], top


def vl_losses(model: MomeModel, px, ids, mask, img_ids, g, itm_rows: int, specials,
              pretraining: bool = True, itm_uniform_mix: float = 0.0, tags=None,
              swaps: Optional[dict] = None) -> Dict[str, torch.Tensor]:
    """Pre-training: ITC + ITC on VL features + ITM + fusion MLM. Fine-tuning (`pretraining` False): ITC + ITM.
    `tags`: a function of the image hidden states that returns the caption-word tag loss (added as 'tags').
    `swaps`: shape_swap_table's table: ITM also gets each ITM caption's shape-swapped copy as a negative."""
    i_cls, i_vl, i_top = _branches(model, model.embed_image(px), 'image', None, 0, pretraining)
    t_cls, t_vl, _ = _branches(model, model.embed_text(ids), 'text', mask, ids.shape[1], pretraining)
    ie, te = F.normalize(model.itc_image_proj(i_cls), dim=-1), F.normalize(model.itc_text_proj(t_cls), dim=-1)
    out = {'itc': itc_loss(ie, te, model.logit_scale, img_ids)}
    if i_vl is not None:
        out['itc_vl'] = itc_loss(model.itc_vl_image_proj(i_vl), model.itc_vl_text_proj(t_vl), model.logit_vl_scale,
                                 img_ids)
    k = itm_rows
    if k > 0:
        negatives = None
        if swaps is not None:   # its own generator: the other draws of the step stay those of the plan without
            own = torch.Generator().manual_seed(g.initial_seed() ^ 0x5DEECE66D)
            rows, swapped = shape_swaps(ids[:k], img_ids[:k], swaps, own)
            negatives = (rows, swapped, mask[:k][rows])
        out['itm'] = itm_loss(model, px[:k], ids[:k], mask[:k], ie[:k], te[:k], img_ids[:k], generator=g,
                              uniform_mix=itm_uniform_mix, text_negatives=negatives)
    if pretraining and model.config.has('mlm'):
        masked, labels = mlm_mask(ids[:k], mask[:k], model.config.vocab_size, specials['special_ids'],
                                  generator=g, mask_id=specials['mask_id'])
        out['mlm'] = mlm_loss(model.mlm_logits(px[:k], masked, mask[:k]), labels)
    if tags is not None:
        out['tags'] = tags(i_top)
    return out


def stage_losses(stage: str, step: int, ctx: dict) -> Dict[str, torch.Tensor]:
    """The named losses of one step; their sum is back-propagated (gradients accumulate into one update)."""
    model, plan, seed = ctx['model'], ctx['plan'], ctx['seed']
    g = step_generator(seed, stage, step)
    shared = model.config.shared_experts
    specials, coco, head, dev = ctx['specials'], ctx['coco'], ctx['mim'], ctx.get('device')
    tagging = plan.word_tags > 0 and stage in ('vision', 'vl')
    if stage == 'vision':
        px, _, _, img = caption_batch(ctx.get('vision', coco), plan.batch, g, dev)
        out = {'mim': _mim(model, head, px, g)}
        if tagging:
            out['tags'] = _tags(ctx, model.image_hidden(px), img, ctx.get('vision_tag_columns'),
                                ctx.get('vision_tag_targets'))
        return out
    if stage == 'language':
        px, ids, mask, _ = caption_batch(coco, plan.batch, g, dev)
        out = {'mlm_text': _mlm_text(model, ids, mask, specials, g)}
        if shared:
            out['mim'] = _mim(model, head, px, g)
        return out
    if stage == 'vl':
        px, ids, mask, img = caption_batch(coco, plan.batch, g, dev)
        out = vl_losses(model, px, ids, mask, img, g, plan.itm_rows, specials, itm_uniform_mix=plan.itm_uniform_mix,
                        tags=(lambda hidden: _tags(ctx, hidden, img, ctx.get('vl_tag_columns'))) if tagging else None,
                        swaps=ctx.get('shape_swaps'))
        if shared:
            px2, ids2, mask2, _ = caption_batch(coco, plan.batch, g, dev)
            out['mim'] = _mim(model, head, px2, g)
            out['mlm_text'] = _mlm_text(model, ids2, mask2, specials, g)
        return out
    if step % plan.nlvr2_every == plan.nlvr2_every - 1:
        early = step < plan.nlvr2_curriculum * plan.steps['finetune']
        left, right, ids, mask, label = nlvr2_batch(ctx['nlvr2'], plan.nlvr2_batch, g, dev, 0 if early else None)
        return {'nlvr2': nlvr2_loss(model.nlvr2(left, right, ids, mask), label)}
    px, ids, mask, img = caption_batch(coco, plan.batch, g, dev)
    return vl_losses(model, px, ids, mask, img, g, plan.finetune_itm_rows, specials, pretraining=False,
                     itm_uniform_mix=plan.itm_uniform_mix)
