"""The MoME (VLMo-style Mixture-of-Modality-Experts) transformer, in plain PyTorch.

An independent implementation whose parameter names and shapes are the official ones (spec §2), so an
official checkpoint loads with strict=True once its wrapper and `module.` prefix are removed (checkpoint.py).

One transformer, three ways to run it (spec §3):
- image mode: every block uses the image expert (mlp_imag) -> [I_CLS] -> itc_image_proj -> L2-normalize;
- text mode: every block uses the text expert (mlp_text) -> [T_CLS] -> itc_text_proj -> L2-normalize;
- vl (fusion) mode on [text ; image]: blocks below vl_start send text tokens through the text expert and image
  tokens through the image expert (split by position), blocks from vl_start on use the VL expert for all tokens;
  pooler(token 0) gives `pooled`, itm_score(pooled) the ITM logits, and NLVR2 concatenates two pooled outputs.

Text length: the official loader pads text to max_text_len and splits fusion tokens at max_text_len. Here the
split is at the number of text tokens actually given (L <= max_text_len). For text padded to max_text_len that
is the official computation; for shorter, unpadded text it is the same result, because padded keys are
masked and the relative-position index depends only on (i, j) — so the exported graphs accept any L up to
max_text_len.

Shared-experts variant (config.shared_experts, MoMo-style): each block has ONE feed-forward expert, stored under
the text expert's names (norm2_text, mlp_text), used by every mode; norm2_imag/mlp_imag/mlp_vl do not exist.
"""
from __future__ import annotations

import math
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import MomeConfig

# Masked attention logits are set to the most negative float32 rather than -inf. Whenever a row has at least one
# visible key, softmax gives exactly the same zeros as with -inf (exp underflows); a fully masked row becomes
# uniform instead of NaN, which keeps exported graphs free of NaN. Logits are float32 (official), so the value
# is representable there even in an fp16 export.
MASK_VALUE = torch.finfo(torch.float32).min
TRANSFORMER_EPS = 1e-6   # norm1, norm2_*, final norm
BERT_EPS = 1e-12         # text_embeddings.LayerNorm and the MLM head
HEAD_EPS = 1e-5          # nn.LayerNorm default, as used by nlvr2_classifier / vqa_classifier


# Relative position indices (spec §3.2) ------------------------------------------------------------------------

def image_relative_position_index(window: int) -> torch.Tensor:
    """[W*W+1, W*W+1]: patch pairs by 2-D offset; the [I_CLS] row, column and corner get the last 3 slots."""
    num_rel = (2 * window - 1) ** 2 + 3
    coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing='ij')).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)   # [W², W², 2]: (ha-hb, wa-wb)
    rel = (rel[:, :, 0] + window - 1) * (2 * window - 1) + (rel[:, :, 1] + window - 1)
    n = window * window + 1
    index = torch.zeros(n, n, dtype=torch.long)
    index[1:, 1:] = rel
    index[0, 0:] = num_rel - 3
    index[0:, 0] = num_rel - 2
    index[0, 0] = num_rel - 1
    return index


def text_relative_position_index(max_text_len: int, num_rel: int, t0: int) -> torch.Tensor:
    """[Lt, Lt]: for tokens i, j >= 1, (j - i) - (2 - T0) + num_rel + 2; [T_CLS] entries get the table's last 3."""
    rows = num_rel + 2 * t0 + 2
    pos = torch.arange(max_text_len - 1)
    rel = pos.unsqueeze(-2) - pos.unsqueeze(-1)          # [i, j] = j - i, as the official matrix
    rel = rel - (2 - t0) + num_rel + 2
    index = torch.zeros(max_text_len, max_text_len, dtype=torch.long)
    index[1:, 1:] = rel
    index[0, 0:] = rows - 3
    index[0:, 0] = rows - 2
    index[0, 0] = rows - 1
    return index


def fusion_relative_position_index(text_index: torch.Tensor, image_index: torch.Tensor,
                                   num_rel: int) -> torch.Tensor:
    """[Lt+Ni, Lt+Ni]: text block, image block, text->image = num_rel, image->text = num_rel + 1."""
    lt, ni = text_index.shape[0], image_index.shape[0]
    top = torch.cat([text_index, torch.full((lt, ni), num_rel, dtype=torch.long)], dim=1)
    bottom = torch.cat([torch.full((ni, lt), num_rel + 1, dtype=torch.long), image_index], dim=1)
    return torch.cat([top, bottom], dim=0)


# Building blocks ----------------------------------------------------------------------------------------------

class DropPath(nn.Module):
    """Stochastic depth for fine-tuning; the identity in eval mode."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0 or not self.training:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()   # exact (erf) GELU, as the official code
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(dim))
        self.v_bias = nn.Parameter(torch.zeros(dim))   # k has no bias
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None,
                rel_bias: Optional[torch.Tensor] = None) -> torch.Tensor:
        b, n, c = x.shape
        qkv_bias = torch.cat((self.q_bias, torch.zeros_like(self.v_bias), self.v_bias))
        qkv = F.linear(x, self.qkv.weight, qkv_bias).reshape(b, n, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        attn = q.float() @ k.float().transpose(-2, -1)      # logits in float32 (official)
        if rel_bias is not None:
            attn = attn + rel_bias.float().unsqueeze(0)
        if mask is not None:
            attn = attn.masked_fill(~mask.bool()[:, None, None, :], MASK_VALUE)
        attn = attn.softmax(dim=-1).type_as(x)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class Block(nn.Module):
    """Pre-norm block: shared attention, then the feed-forward expert chosen by mode (spec §3.3)."""

    def __init__(self, cfg: MomeConfig, with_vl: bool, drop_path: float = 0.0) -> None:
        super().__init__()
        dim, hidden = cfg.embed_dim, cfg.mlp_hidden
        self.shared = cfg.shared_experts
        self.norm1 = nn.LayerNorm(dim, eps=TRANSFORMER_EPS)
        self.attn = Attention(dim, cfg.num_heads)
        self.norm2_text = nn.LayerNorm(dim, eps=TRANSFORMER_EPS)
        self.mlp_text = Mlp(dim, hidden)
        if not self.shared:
            self.norm2_imag = nn.LayerNorm(dim, eps=TRANSFORMER_EPS)
            self.mlp_imag = Mlp(dim, hidden)
        self.has_vl = with_vl and not self.shared
        if self.has_vl:
            self.norm2_vl = nn.LayerNorm(dim, eps=TRANSFORMER_EPS)
            self.mlp_vl = Mlp(dim, hidden)
        if cfg.layer_scale:
            self.gamma_1 = nn.Parameter(cfg.layer_scale_init * torch.ones(dim))
            self.gamma_2 = nn.Parameter(cfg.layer_scale_init * torch.ones(dim))
        else:
            self.gamma_1 = self.gamma_2 = None
        self.drop_path = DropPath(drop_path)

    def _expert(self, name: str, x: torch.Tensor) -> torch.Tensor:
        if self.shared:
            name = 'text'
        y = getattr(self, f'mlp_{name}')(getattr(self, f'norm2_{name}')(x))
        return self.drop_path(y if self.gamma_2 is None else self.gamma_2 * y)

    def forward(self, x: torch.Tensor, mode: str, mask: Optional[torch.Tensor] = None,
                rel_bias: Optional[torch.Tensor] = None, text_len: int = 0) -> torch.Tensor:
        a = self.attn(self.norm1(x), mask=mask, rel_bias=rel_bias)
        x = x + self.drop_path(a if self.gamma_1 is None else self.gamma_1 * a)
        if mode == 'image':
            return x + self._expert('imag', x)
        if mode == 'text':
            return x + self._expert('text', x)
        if self.has_vl:
            return x + self._expert('vl', x)
        x_text, x_imag = x[:, :text_len], x[:, text_len:]
        return torch.cat([x_text + self._expert('text', x_text), x_imag + self._expert('imag', x_imag)], dim=1)


def conv_stem(patch: int, width: int) -> nn.Sequential:
    """log2(patch) stride-2 3x3 convolutions with GELU (32, 64, 128, ... channels, the last one `width`): the same
    grid as a patch x patch convolution, but each patch token is built from local edges and corners."""
    layers: list = []
    n = patch.bit_length() - 1
    c_in = 3
    for i in range(n):
        c_out = width if i == n - 1 else 32 * 2 ** i
        layers += [nn.Conv2d(c_in, c_out, kernel_size=3, stride=2, padding=1), nn.GELU()]
        c_in = c_out
    return nn.Sequential(*layers)


class PatchEmbed(nn.Module):
    """Pixels to patch tokens. 'linear' (ViT, the official checkpoints): one patch x patch convolution. 'conv': a
    convolutional stem, then a 1x1 projection. On the tiny model's synthetic scenes the linear embedding learned
    colour but hardly shape, which NLVR2 statements need; with the stem a supervised probe learned shape several
    times faster (tools/shape_learnability.py, README)."""

    def __init__(self, cfg: MomeConfig) -> None:
        super().__init__()
        self.image_size = cfg.image_size
        if cfg.patch_embed == 'conv':
            self.stem = conv_stem(cfg.patch_size, cfg.embed_dim)
            self.proj = nn.Conv2d(cfg.embed_dim, cfg.embed_dim, kernel_size=1)
        else:
            self.stem = None
            self.proj = nn.Conv2d(3, cfg.embed_dim, kernel_size=cfg.patch_size, stride=cfg.patch_size)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        if pixels.dim() != 4 or pixels.shape[1] != 3 or pixels.shape[2] != self.image_size \
                or pixels.shape[3] != self.image_size:
            raise ValueError(f'pixel_values must be [B, 3, {self.image_size}, {self.image_size}]; '
                             f'got {list(pixels.shape)} (resize images to the model\'s image size)')
        x = pixels if self.stem is None else self.stem(pixels)
        return self.proj(x).flatten(2).transpose(1, 2)


class MultiwayTransformer(nn.Module):
    """The `transformer.*` part of the official module."""

    def __init__(self, cfg: MomeConfig) -> None:
        super().__init__()
        self.patch_embed = PatchEmbed(cfg)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, cfg.embed_dim))
        if cfg.abs_pos_emb:
            self.pos_embed = nn.Parameter(torch.zeros(1, cfg.num_image_tokens, cfg.embed_dim))
        else:
            self.pos_embed = None
        rates = torch.linspace(0, cfg.drop_path_rate, cfg.depth).tolist()
        self.blocks = nn.ModuleList(Block(cfg, i >= cfg.vl_start, rates[i]) for i in range(cfg.depth))
        self.norm = nn.LayerNorm(cfg.embed_dim, eps=TRANSFORMER_EPS)

    def visual_embed(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(pixels)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        return x if self.pos_embed is None else x + self.pos_embed


class TextEmbeddings(nn.Module):
    """BERT's embeddings (`text_embeddings.*`): word + BERT token type 0 (+ position when no rel-pos), LayerNorm."""

    def __init__(self, cfg: MomeConfig) -> None:
        super().__init__()
        self.use_position = not cfg.rel_pos_bias
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.embed_dim)
        self.position_embeddings = nn.Embedding(cfg.max_text_len, cfg.embed_dim)
        self.token_type_embeddings = nn.Embedding(2, cfg.embed_dim)
        self.LayerNorm = nn.LayerNorm(cfg.embed_dim, eps=BERT_EPS)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        x = self.word_embeddings(input_ids) + self.token_type_embeddings.weight[0]
        if self.use_position:
            x = x + self.position_embeddings.weight[: input_ids.shape[1]]
        return self.LayerNorm(x)


class Linear1(nn.Module):
    """A head that is one linear layer named `fc` (itc_*_proj without bias, itm_score with)."""

    def __init__(self, d_in: int, d_out: int, bias: bool) -> None:
        super().__init__()
        self.fc = nn.Linear(d_in, d_out, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


class Pooler(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dense = nn.Linear(dim, dim)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.dense(hidden[:, 0]))


class MlmTransform(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dense = nn.Linear(dim, dim)
        self.LayerNorm = nn.LayerNorm(dim, eps=BERT_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(F.gelu(self.dense(x)))


class MlmHead(nn.Module):
    def __init__(self, dim: int, vocab: int) -> None:
        super().__init__()
        self.transform = MlmTransform(dim)
        self.decoder = nn.Linear(dim, vocab, bias=False)
        self.bias = nn.Parameter(torch.zeros(vocab))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.transform(x)) + self.bias


def classifier(d_in: int, d_hidden: int, d_out: int) -> nn.Sequential:
    """nlvr2_classifier / vqa_classifier: Linear, LayerNorm (eps 1e-5), GELU, Linear (indices 0, 1, 3)."""
    return nn.Sequential(nn.Linear(d_in, d_hidden), nn.LayerNorm(d_hidden, eps=HEAD_EPS), nn.GELU(),
                         nn.Linear(d_hidden, d_out))


# The model ----------------------------------------------------------------------------------------------------

class MomeModel(nn.Module):
    def __init__(self, cfg: MomeConfig) -> None:
        super().__init__()
        self.config = cfg
        d = cfg.embed_dim
        self.transformer = MultiwayTransformer(cfg)
        if cfg.rel_pos_bias:
            self.relative_position_bias_table = nn.Parameter(
                torch.zeros(cfg.rel_pos_rows, cfg.num_heads * cfg.depth))
            image_index = image_relative_position_index(cfg.window)
            text_index = text_relative_position_index(cfg.max_text_len, cfg.num_relative_distance,
                                                      cfg.max_text_len_of_initckpt)
            # Derived, so not part of the state dict (official checkpoints may carry them; the loader drops them).
            self.register_buffer('image_rel_index', image_index, persistent=False)
            self.register_buffer('text_rel_index', text_index, persistent=False)
            self.register_buffer('fusion_rel_index', fusion_relative_position_index(
                text_index, image_index, cfg.num_relative_distance), persistent=False)
        else:
            self.relative_position_bias_table = None
        self.text_embeddings = TextEmbeddings(cfg)
        self.token_type_embeddings = nn.Embedding(cfg.token_types, d)
        self.pooler = Pooler(d)
        if cfg.has('itc'):
            self.itc_text_proj = Linear1(d, d, bias=False)
            self.itc_image_proj = Linear1(d, d, bias=False)
            self.logit_scale = nn.Parameter(torch.ones([]) * math.log(1 / 0.07))
        if cfg.has('itc_vl'):
            self.itc_vl_text_proj = Linear1(d, d, bias=False)
            self.itc_vl_image_proj = Linear1(d, d, bias=False)
            self.logit_vl_scale = nn.Parameter(torch.ones([]) * math.log(1 / 0.07))
        if cfg.has('itm'):
            self.itm_score = Linear1(d, 2, bias=True)
        if cfg.has('mlm'):
            self.mlm_score = MlmHead(d, cfg.vocab_size)
        if cfg.has('nlvr2'):
            self.nlvr2_classifier = classifier(2 * d, 2 * d, 2)
        if cfg.has('vqa'):
            self.vqa_classifier = classifier(d, 2 * d, cfg.vqa_labels)
        self.apply(_init_official)

    # Relative position bias: one table [R, H*L]; layer l uses columns l*H..(l+1)*H of table[index].
    def rel_biases(self, index: Optional[torch.Tensor]) -> List[Optional[torch.Tensor]]:
        """Each block's relative position bias [H, N, N] for the position pairs `index` (one of the
        *_rel_index buffers, or `fusion_index`); all None without relative position bias."""
        if self.relative_position_bias_table is None or index is None:
            return [None] * self.config.depth
        bias = F.embedding(index, self.relative_position_bias_table).permute(2, 0, 1)   # [H*L, N, N]
        return list(bias.chunk(self.config.depth, dim=0))

    def fusion_index(self, text_len: int) -> Optional[torch.Tensor]:
        """The fusion sequence's position pairs for `text_len` text tokens (then the image's); None without
        relative position bias."""
        if self.relative_position_bias_table is None:
            return None
        lt, idx = self.config.max_text_len, self.fusion_rel_index
        rows = torch.cat([idx[:text_len], idx[lt:]], dim=0)
        return torch.cat([rows[:, :text_len], rows[:, lt:]], dim=1)

    def _check_text(self, input_ids: torch.Tensor) -> None:
        if input_ids.shape[1] > self.config.max_text_len:
            raise ValueError(f'text has {input_ids.shape[1]} tokens; this model takes at most '
                             f'{self.config.max_text_len} (truncate to max_text_len)')

    # Embeddings with modality types (spec §3.1)
    def embed_image(self, pixels: torch.Tensor, token_type: int = 1) -> torch.Tensor:
        return self.transformer.visual_embed(pixels) + self.token_type_embeddings.weight[token_type]

    def embed_text(self, input_ids: torch.Tensor) -> torch.Tensor:
        self._check_text(input_ids)
        return self.text_embeddings(input_ids) + self.token_type_embeddings.weight[0]

    def run_blocks(self, x: torch.Tensor, mode: str, mask: Optional[torch.Tensor], biases: list,
                   text_len: int = 0, blocks: Optional[range] = None) -> torch.Tensor:
        """x through the transformer blocks `blocks` (default: all) with the `mode` expert ('image', 'text' or
        'vl'), before the final norm: the pieces that the fine-tune's cached features, MIM and the tiny
        model's stages assemble."""
        for i in blocks if blocks is not None else range(self.config.depth):
            x = self.transformer.blocks[i](x, mode, mask=mask, rel_bias=biases[i], text_len=text_len)
        return x

    # Hidden states (after the final norm) ---------------------------------------------------------------------
    def image_hidden(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.embed_image(pixels)
        index = self.image_rel_index if self.config.rel_pos_bias else None
        return self.transformer.norm(self.run_blocks(x, 'image', None, self.rel_biases(index)))

    def text_hidden(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        x = self.embed_text(input_ids)
        n = input_ids.shape[1]
        index = self.text_rel_index[:n, :n] if self.config.rel_pos_bias else None
        return self.transformer.norm(self.run_blocks(x, 'text', attention_mask, self.rel_biases(index)))

    def fusion_hidden(self, pixels: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                      image_token_type: int = 1) -> torch.Tensor:
        """[B, L + Ni, D]: text tokens first, then image tokens (official `infer`)."""
        text = self.embed_text(input_ids)
        image = self.embed_image(pixels, image_token_type)
        n = input_ids.shape[1]
        mask = torch.cat([attention_mask, torch.ones_like(image[:, :, 0], dtype=attention_mask.dtype)], dim=1)
        x = torch.cat([text, image], dim=1)
        return self.transformer.norm(self.run_blocks(x, 'vl', mask, self.rel_biases(self.fusion_index(n)), text_len=n))

    # Entry points ---------------------------------------------------------------------------------------------
    def image_features(self, pixels: torch.Tensor) -> torch.Tensor:
        """Un-normalized retrieval feature: itc_image_proj([I_CLS]) (the [I_CLS] itself without an ITC head)."""
        cls = self.image_hidden(pixels)[:, 0]
        return self.itc_image_proj(cls) if self.config.has('itc') else cls

    def text_features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        cls = self.text_hidden(input_ids, attention_mask)[:, 0]
        return self.itc_text_proj(cls) if self.config.has('itc') else cls

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        """[B, E] L2-normalized image embeddings (official infer_image_ft + cls_feats)."""
        return F.normalize(self.image_features(pixels).float(), dim=-1)   # float32: see fp16.py

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """[B, E] L2-normalized text embeddings (official infer_text_ft + cls_feats)."""
        return F.normalize(self.text_features(input_ids, attention_mask).float(), dim=-1)

    def pooled(self, pixels: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor,
               image_token_type: int = 1) -> torch.Tensor:
        return self.pooler(self.fusion_hidden(pixels, input_ids, attention_mask, image_token_type))

    def fusion(self, pixels: torch.Tensor, input_ids: torch.Tensor,
               attention_mask: torch.Tensor) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """(pooled [B, D], itm_logits [B, 2] — None without an ITM head). Index 1 of the logits = match."""
        pooled = self.pooled(pixels, input_ids, attention_mask)
        return pooled, (self.itm_score(pooled) if self.config.has('itm') else None)

    def nlvr2(self, left: torch.Tensor, right: torch.Tensor, input_ids: torch.Tensor,
              attention_mask: torch.Tensor) -> torch.Tensor:
        """[B, 2] logits; class 1 = "True". Left image has token type 1, right image 2."""
        if not self.config.has('nlvr2'):
            raise ValueError('this model has no NLVR2 head (nlvr2_classifier)')
        a = self.pooled(left, input_ids, attention_mask, image_token_type=1)
        b = self.pooled(right, input_ids, attention_mask, image_token_type=2)
        return self.nlvr2_classifier(torch.cat([a, b], dim=-1))

    def mlm_logits(self, pixels: torch.Tensor, input_ids: torch.Tensor,
                   attention_mask: torch.Tensor) -> torch.Tensor:
        """[B, L, vocab] MLM logits over the text part of the fusion encoder."""
        hidden = self.fusion_hidden(pixels, input_ids, attention_mask)
        return self.mlm_score(hidden[:, : input_ids.shape[1]])

    def itc_logits(self, image_embeds: torch.Tensor, text_embeds: torch.Tensor) -> torch.Tensor:
        """[Bi, Bt] exp(logit_scale) * image @ text^T on normalized embeddings."""
        return self.logit_scale.exp() * image_embeds @ text_embeds.t()

    def encode_image_vl(self, pixels: torch.Tensor) -> torch.Tensor:
        """Pre-training only: blocks >= vl_start re-run in vl mode from block vl_start-1 (cls_vlffn_feats)."""
        cfg = self.config
        x = self.embed_image(pixels)
        biases = self.rel_biases(self.image_rel_index if cfg.rel_pos_bias else None)
        x = self.run_blocks(x, 'image', None, biases, blocks=range(cfg.vl_start))
        x = self.run_blocks(x, 'vl', None, biases, blocks=range(cfg.vl_start, cfg.depth))
        return F.normalize(self.itc_vl_image_proj(self.transformer.norm(x)[:, 0]), dim=-1)

    def encode_text_vl(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        cfg = self.config
        x = self.embed_text(input_ids)
        n = input_ids.shape[1]
        biases = self.rel_biases(self.text_rel_index[:n, :n] if cfg.rel_pos_bias else None)
        x = self.run_blocks(x, 'text', attention_mask, biases, blocks=range(cfg.vl_start))
        x = self.run_blocks(x, 'vl', attention_mask, biases, text_len=n, blocks=range(cfg.vl_start, cfg.depth))
        return F.normalize(self.itc_vl_text_proj(self.transformer.norm(x)[:, 0]), dim=-1)


def _init_official(m: nn.Module) -> None:
    """The official init: Linear/Embedding N(0, 0.02), LayerNorm 1/0, zero biases."""
    if isinstance(m, (nn.Linear, nn.Embedding)):
        m.weight.data.normal_(0.0, 0.02)
    if isinstance(m, nn.Linear) and m.bias is not None:
        m.bias.data.zero_()
    if isinstance(m, nn.LayerNorm):
        m.weight.data.fill_(1.0)
        m.bias.data.zero_()
    if isinstance(m, MultiwayTransformer):
        nn.init.trunc_normal_(m.cls_token, std=0.02)
        if m.pos_embed is not None:
            nn.init.trunc_normal_(m.pos_embed, std=0.02)
    if isinstance(m, MomeModel) and m.relative_position_bias_table is not None:
        nn.init.trunc_normal_(m.relative_position_bias_table, std=0.02)


@torch.no_grad()
def randomize_(model: MomeModel, seed: int = 0) -> MomeModel:
    """Every parameter random and of a telling size, for tests and parity checks: no part of the forward pass
    (norm weights, biases, layer scale, position tables, token types) hides behind zeros or ones."""
    g = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        r = torch.randn(p.shape, generator=g)
        if name.endswith('LayerNorm.weight') or '.norm' in name and name.endswith('.weight') \
                or name.startswith('nlvr2_classifier.1.') and name.endswith('weight'):
            p.copy_(1.0 + 0.1 * r)
        elif 'gamma_' in name:
            p.copy_(0.5 + 0.1 * r)
        elif name == 'relative_position_bias_table':
            p.copy_(0.5 * r)
        elif name.startswith('logit'):
            p.fill_(math.log(1 / 0.07))
        elif p.dim() >= 2:
            fan_in = p[0].numel()
            p.copy_(r / math.sqrt(fan_in) if 'embeddings' not in name and 'cls_token' not in name
                    and 'pos_embed' not in name else 0.5 * r)
        else:
            p.copy_(0.05 * r)
    return model
