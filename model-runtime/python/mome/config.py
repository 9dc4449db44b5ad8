"""Every size of a MoME (VLMo-style) model in one dataclass, and how to read it back from a checkpoint.

`config_from_state_dict` derives the whole configuration from the tensors of an official checkpoint, so any
size loads (base, large, base-plus, or a tiny random one), not only the published ones.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Mapping, Optional

import torch

# Every head an official checkpoint may carry (spec §2), in a stable order for mome.json.
KNOWN_HEADS = ('itc', 'itc_vl', 'itm', 'mlm', 'nlvr2', 'vqa')
PATCH_EMBEDS = ('linear', 'conv')

# Head counts of published architectures whose width is not a multiple of 64 (base-plus: 544 = 16 x 34).
KNOWN_HEAD_COUNTS = {(544, 24): 16}


class ConfigError(ValueError):
    """The checkpoint's tensors do not describe a consistent MoME model."""


@dataclass
class MomeConfig:
    embed_dim: int = 768                 # D, the transformer width
    depth: int = 12                      # number of blocks L
    num_heads: int = 12                  # H
    mlp_ratio: float = 4.0
    patch_size: int = 16
    image_size: int = 224
    # 'linear': one patch_size x patch_size convolution (ViT, the official checkpoints); 'conv': log2(patch_size)
    # stride-2 3x3 convolutions and a 1x1 projection to the same patch grid (a convolutional stem, PatchEmbed)
    patch_embed: str = 'linear'
    vl_start: int = 10                   # blocks with index >= vl_start own mlp_vl + norm2_vl
    rel_pos_bias: bool = True            # one shared table [R, H*L] (spec §3.2)
    abs_pos_emb: bool = False            # transformer.pos_embed (base-plus)
    layer_scale: bool = True             # gamma_1 / gamma_2 present
    layer_scale_init: float = 0.1
    vocab_size: int = 30522
    max_text_len: int = 40
    max_text_len_of_initckpt: int = 196  # T0 in the relative-position table layout
    token_types: int = 2                 # modality types: 0 text, 1 image, 2 second NLVR2 image
    heads: tuple = ('itc', 'itm')        # which of KNOWN_HEADS exist
    vqa_labels: int = 3129
    shared_experts: bool = False         # MoMo-style: one FFN (mlp_text/norm2_text) for every modality
    drop_path_rate: float = 0.0          # stochastic depth, fine-tuning only

    def __post_init__(self) -> None:
        unknown = set(self.heads) - set(KNOWN_HEADS)
        if unknown:
            raise ConfigError(f'unknown heads {sorted(unknown)}; known: {KNOWN_HEADS}')
        self.heads = tuple(h for h in KNOWN_HEADS if h in set(self.heads))
        if self.embed_dim % self.num_heads:
            raise ConfigError(f'embed_dim {self.embed_dim} is not divisible by num_heads {self.num_heads}')
        if self.image_size % self.patch_size:
            raise ConfigError(f'image_size {self.image_size} is not a multiple of patch_size {self.patch_size}')
        if self.patch_embed not in PATCH_EMBEDS:
            raise ConfigError(f'unknown patch_embed {self.patch_embed!r}; known: {PATCH_EMBEDS}')
        if self.patch_embed == 'conv' and (self.patch_size < 2 or self.patch_size & (self.patch_size - 1)):
            raise ConfigError(f'a convolutional stem halves the image per layer, so patch_size must be a power of '
                              f'two; got {self.patch_size}')
        if not 0 <= self.vl_start <= self.depth:
            raise ConfigError(f'vl_start {self.vl_start} is outside 0..depth ({self.depth})')
        if self.shared_experts:
            self.vl_start = self.depth  # the shared FFN serves every mode; there is no VL expert
        if self.rel_pos_bias and self.max_text_len > self.max_text_len_of_initckpt:
            raise ConfigError(f'max_text_len {self.max_text_len} exceeds the relative-position table\'s text range '
                              f'(max_text_len_of_initckpt {self.max_text_len_of_initckpt})')

    # Derived sizes -------------------------------------------------------------------------------------------
    @property
    def window(self) -> int:
        """W, patches per image side."""
        return self.image_size // self.patch_size

    @property
    def num_image_tokens(self) -> int:
        return self.window ** 2 + 1

    @property
    def head_dim(self) -> int:
        return self.embed_dim // self.num_heads

    @property
    def mlp_hidden(self) -> int:
        return int(round(self.embed_dim * self.mlp_ratio))

    @property
    def num_relative_distance(self) -> int:
        """num_rel = Rimg + 3 (spec §3.2)."""
        return (2 * self.window - 1) ** 2 + 3

    @property
    def rel_pos_rows(self) -> int:
        """R = num_rel + 2*T0 + 2."""
        return self.num_relative_distance + 2 * self.max_text_len_of_initckpt + 2

    def has(self, head: str) -> bool:
        return head in self.heads

    def to_dict(self) -> dict:
        d = asdict(self)
        d['heads'] = list(self.heads)
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> 'MomeConfig':
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: (tuple(v) if k == 'heads' else v) for k, v in d.items() if k in known})


def tiny_config(**overrides) -> MomeConfig:
    """A small random-size model for tests and the embedded demo model."""
    base = dict(embed_dim=64, depth=4, num_heads=4, image_size=32, patch_size=16, vl_start=2, vocab_size=30522,
                max_text_len=12, heads=('itc', 'itm', 'mlm', 'nlvr2'), token_types=3)
    base.update(overrides)
    return MomeConfig(**base)


# Reading a config back from checkpoint tensors -------------------------------------------------------------

def _shape(sd: Mapping[str, torch.Tensor], key: str) -> Optional[tuple]:
    t = sd.get(key)
    return tuple(t.shape) if t is not None else None


def _require(sd: Mapping[str, torch.Tensor], key: str) -> tuple:
    s = _shape(sd, key)
    if s is None:
        raise ConfigError(f'the checkpoint has no tensor {key}; it is needed to tell the model size')
    return s


def _window_from_table(rows: int, t0: int) -> Optional[int]:
    """W such that R = (2W-1)^2 + 3 + 2*T0 + 2, or None."""
    rimg = rows - 5 - 2 * t0
    if rimg <= 0:
        return None
    side = math.isqrt(rimg)
    if side * side != rimg or side % 2 == 0:
        return None
    return (side + 1) // 2


def checkpoint_window(sd: Mapping[str, torch.Tensor], patch: int, image_size: Optional[int] = None,
                      t0: int = 196) -> tuple[int, int]:
    """(W, T0) the checkpoint's position tensors were built for.

    Relative position bias: R = (2W-1)^2 + 5 + 2*T0. Official checkpoints all use T0 = 196, so W is solved with
    T0 = 196 first; if that has no solution and an image size is given, W comes from it and T0 from R.
    Absolute position embedding (base-plus): W*W + 1 = pos_embed rows.
    """
    if 'relative_position_bias_table' in sd:
        rows = sd['relative_position_bias_table'].shape[0]
        w = _window_from_table(rows, t0)
        if w is not None:
            return w, t0
        if image_size is not None:
            w = image_size // patch
            rest = rows - 5 - (2 * w - 1) ** 2
            if rest > 0 and rest % 2 == 0:
                return w, rest // 2
        raise ConfigError(
            f'relative_position_bias_table has {rows} rows, which fits no image size with '
            f'max_text_len_of_initckpt {t0} (R = (2W-1)^2 + 5 + 2*T0); pass --image-size with the size the '
            f'checkpoint was trained at')
    if 'transformer.pos_embed' in sd:
        n = sd['transformer.pos_embed'].shape[1] - 1
        w = math.isqrt(n)
        if w * w != n:
            raise ConfigError(f'transformer.pos_embed has {n + 1} rows, not W*W+1 for a square patch grid')
        return w, t0
    if image_size is None:
        raise ConfigError('the checkpoint has neither relative_position_bias_table nor transformer.pos_embed, so '
                          'its image size is unknown; pass --image-size')
    return image_size // patch, t0


def _num_heads(sd: Mapping[str, torch.Tensor], dim: int, depth: int, num_heads: Optional[int]) -> int:
    """Heads: the rel-pos table has H*L columns; otherwise a known architecture, else head dim 64."""
    if 'relative_position_bias_table' in sd:
        cols = sd['relative_position_bias_table'].shape[1]
        if cols % depth:
            raise ConfigError(f'relative_position_bias_table has {cols} columns, not a multiple of the depth {depth}')
        h = cols // depth
        if num_heads is not None and num_heads != h:
            raise ConfigError(f'num_heads {num_heads} was asked for but the checkpoint\'s table says {h}')
        return h
    if num_heads is not None:
        return num_heads
    if (dim, depth) in KNOWN_HEAD_COUNTS:
        return KNOWN_HEAD_COUNTS[(dim, depth)]
    if dim % 64 == 0:
        return dim // 64
    raise ConfigError(f'cannot tell the number of attention heads of a width-{dim} model without a relative '
                      f'position table; pass --num-heads')


def _block_indices(sd: Mapping[str, torch.Tensor]) -> list[int]:
    idx = set()
    for k in sd:
        if k.startswith('transformer.blocks.'):
            part = k.split('.')[2]
            if part.isdigit():
                idx.add(int(part))
    return sorted(idx)


def _heads(sd: Mapping[str, torch.Tensor]) -> tuple:
    present = []
    if 'itc_text_proj.fc.weight' in sd or 'itc_image_proj.fc.weight' in sd:
        present.append('itc')
    if 'itc_vl_text_proj.fc.weight' in sd or 'itc_vl_image_proj.fc.weight' in sd:
        present.append('itc_vl')
    if 'itm_score.fc.weight' in sd:
        present.append('itm')
    if any(k.startswith('mlm_score.') for k in sd):
        present.append('mlm')
    if any(k.startswith('nlvr2_classifier.') for k in sd):
        present.append('nlvr2')
    if any(k.startswith('vqa_classifier.') for k in sd):
        present.append('vqa')
    return tuple(present)


def config_from_state_dict(sd: Mapping[str, torch.Tensor], image_size: Optional[int] = None,
                           num_heads: Optional[int] = None) -> MomeConfig:
    """Reads every size from the tensors of an (unwrapped, prefix-stripped) official state dict.

    - depth: 1 + the largest `transformer.blocks.{i}` index; width D: cls_token; patch: the conv kernel, or
      2^(stride-2 convolutions) for a convolutional stem (`transformer.patch_embed.stem.*`).
    - heads: columns of relative_position_bias_table / depth; without that table (base-plus) a known
      architecture (544 wide, 24 deep: 16), else D / 64 (the usual head dim), else `num_heads` must be given.
    - vl_start: the first block with mlp_vl (depth when none, e.g. text-only pre-training).
    - image size: W from R assuming T0 = 196 (or from pos_embed), i.e. the size the checkpoint was built for.
      `image_size`, when given and different, is the size to run at: the loader interpolates (see checkpoint.py).
    - vocab from word_embeddings, max_text_len from position_embeddings, token types from token_type_embeddings.
    - shared_experts: blocks have mlp_text but no mlp_imag.
    """
    blocks = _block_indices(sd)
    if not blocks:
        raise ConfigError('the checkpoint has no transformer.blocks.* tensors')
    depth = blocks[-1] + 1
    if blocks != list(range(depth)):
        missing = sorted(set(range(depth)) - set(blocks))
        raise ConfigError(f'transformer blocks {missing} are missing (found up to block {depth - 1})')
    dim = _require(sd, 'transformer.cls_token')[-1]
    stem = [k for k in sd if k.startswith('transformer.patch_embed.stem.') and k.endswith('.weight')]
    patch = 2 ** len(stem) if stem else _require(sd, 'transformer.patch_embed.proj.weight')[-1]
    shared = ('transformer.blocks.0.mlp_text.fc1.weight' in sd
              and 'transformer.blocks.0.mlp_imag.fc1.weight' not in sd)
    mlp_hidden = _require(sd, 'transformer.blocks.0.mlp_text.fc1.weight')[0]
    vl_blocks = [i for i in blocks if f'transformer.blocks.{i}.mlp_vl.fc1.weight' in sd]
    vl_start = vl_blocks[0] if vl_blocks else depth
    window, t0 = checkpoint_window(sd, patch, image_size)
    heads = _heads(sd)
    vqa = _shape(sd, 'vqa_classifier.3.weight')
    return MomeConfig(
        embed_dim=dim,
        depth=depth,
        num_heads=_num_heads(sd, dim, depth, num_heads),
        mlp_ratio=mlp_hidden / dim,
        patch_size=patch,
        patch_embed='conv' if stem else 'linear',
        image_size=image_size if image_size is not None else window * patch,
        vl_start=vl_start,
        rel_pos_bias='relative_position_bias_table' in sd,
        abs_pos_emb='transformer.pos_embed' in sd,
        layer_scale='transformer.blocks.0.gamma_1' in sd,
        vocab_size=_require(sd, 'text_embeddings.word_embeddings.weight')[0],
        max_text_len=_require(sd, 'text_embeddings.position_embeddings.weight')[0],
        max_text_len_of_initckpt=t0,
        token_types=_require(sd, 'token_type_embeddings.weight')[0],
        heads=heads,
        vqa_labels=vqa[0] if vqa else 3129,
        shared_experts=shared,
    )
