"""The MoME model against the spec: parameter names, relative-position indices, expert routing by mode, the
three entry points against a slow reference written straight from the spec's formulas, padding, heads and the
shared-experts variant."""
from __future__ import annotations

import unittest

import torch
import torch.nn.functional as F

from mome.config import MomeConfig
from mome.model import MomeModel, fusion_relative_position_index, image_relative_position_index, \
    text_relative_position_index
from tests.model_helpers import inputs, random_model, spec_shapes, tiny


# A slow reference from the spec (§3), sharing no code with mome.model ------------------------------------------

def ref_index(cfg: MomeConfig, n_text: int, with_image: bool, with_text: bool) -> torch.Tensor:
    """The [N, N] relative-position index by the spec's case list, one entry at a time."""
    w = cfg.window
    num_rel = (2 * w - 1) ** 2 + 3
    rows = num_rel + 2 * cfg.max_text_len_of_initckpt + 2
    t0 = cfg.max_text_len_of_initckpt
    kinds = ([('t', i) for i in range(n_text)] if with_text else []) + \
            ([('i', i) for i in range(w * w + 1)] if with_image else [])
    idx = torch.zeros(len(kinds), len(kinds), dtype=torch.long)
    for a, (ka, pa) in enumerate(kinds):
        for b, (kb, pb) in enumerate(kinds):
            if ka == 't' and kb == 'i':
                v = num_rel
            elif ka == 'i' and kb == 't':
                v = num_rel + 1
            elif ka == 'i':
                if pa == 0 and pb == 0:
                    v = num_rel - 1
                elif pa == 0:
                    v = num_rel - 3
                elif pb == 0:
                    v = num_rel - 2
                else:
                    (ha, wa), (hb, wb) = divmod(pa - 1, w), divmod(pb - 1, w)
                    v = (ha - hb + w - 1) * (2 * w - 1) + (wa - wb + w - 1)
            else:
                if pa == 0 and pb == 0:
                    v = rows - 1
                elif pa == 0:
                    v = rows - 3
                elif pb == 0:
                    v = rows - 2
                else:
                    v = (pb - pa) - (2 - t0) + num_rel + 2
            idx[a, b] = v
    return idx


def ref_hidden(m: MomeModel, mode: str, pixels=None, ids=None, mask=None, image_type: int = 1) -> torch.Tensor:
    cfg, p = m.config, dict(m.named_parameters())
    d, h, hd = cfg.embed_dim, cfg.num_heads, cfg.embed_dim // cfg.num_heads
    parts, masks = [], []
    n_text = 0
    if ids is not None:
        t = p['text_embeddings.word_embeddings.weight'][ids] + p['text_embeddings.token_type_embeddings.weight'][0]
        if not cfg.rel_pos_bias:
            t = t + p['text_embeddings.position_embeddings.weight'][: ids.shape[1]]
        t = F.layer_norm(t, (d,), p['text_embeddings.LayerNorm.weight'], p['text_embeddings.LayerNorm.bias'], 1e-12)
        parts.append(t + p['token_type_embeddings.weight'][0])
        masks.append(mask.bool())
        n_text = ids.shape[1]
    if pixels is not None:
        x = F.conv2d(pixels, p['transformer.patch_embed.proj.weight'], p['transformer.patch_embed.proj.bias'],
                     stride=cfg.patch_size).flatten(2).transpose(1, 2)
        x = torch.cat([p['transformer.cls_token'].expand(x.shape[0], 1, d), x], 1)
        if cfg.abs_pos_emb:
            x = x + p['transformer.pos_embed']
        parts.append(x + p['token_type_embeddings.weight'][image_type])
        masks.append(torch.ones(x.shape[:2], dtype=torch.bool))
    x, keep = torch.cat(parts, 1), torch.cat(masks, 1)
    bsz, n = x.shape[:2]
    table = p.get('relative_position_bias_table')
    index = ref_index(cfg, n_text, pixels is not None, ids is not None) if table is not None else None

    def ln(v, name):
        return F.layer_norm(v, (d,), p[name + '.weight'], p[name + '.bias'], 1e-6)

    def expert(v, blk, e):
        e = 'text' if cfg.shared_experts else e
        y = ln(v, f'{blk}norm2_{e}')
        y = F.linear(F.gelu(F.linear(y, p[f'{blk}mlp_{e}.fc1.weight'], p[f'{blk}mlp_{e}.fc1.bias'])),
                     p[f'{blk}mlp_{e}.fc2.weight'], p[f'{blk}mlp_{e}.fc2.bias'])
        return y * p[f'{blk}gamma_2'] if cfg.layer_scale else y

    for layer in range(cfg.depth):
        blk = f'transformer.blocks.{layer}.'
        y = ln(x, blk + 'norm1')
        qkv = y @ p[blk + 'attn.qkv.weight'].t()
        q = (qkv[..., :d] + p[blk + 'attn.q_bias']) * hd ** -0.5
        k = qkv[..., d:2 * d]
        v = qkv[..., 2 * d:] + p[blk + 'attn.v_bias']
        split = lambda z: z.reshape(bsz, n, h, hd).transpose(1, 2)   # noqa: E731
        logits = split(q) @ split(k).transpose(-1, -2)
        if index is not None:
            logits = logits + table[index][:, :, layer * h:(layer + 1) * h].permute(2, 0, 1)
        logits = logits.masked_fill(~keep[:, None, None, :], float('-inf'))
        out = (logits.softmax(-1) @ split(v)).transpose(1, 2).reshape(bsz, n, d)
        out = F.linear(out, p[blk + 'attn.proj.weight'], p[blk + 'attn.proj.bias'])
        x = x + (out * p[blk + 'gamma_1'] if cfg.layer_scale else out)
        if mode == 'vl' and layer >= cfg.vl_start and not cfg.shared_experts:
            x = x + expert(x, blk, 'vl')
        elif mode == 'vl':
            x = torch.cat([x[:, :n_text] + expert(x[:, :n_text], blk, 'text'),
                           x[:, n_text:] + expert(x[:, n_text:], blk, 'imag')], 1)
        else:
            x = x + expert(x, blk, mode)
    return ln(x, 'transformer.norm')


def ref_outputs(m: MomeModel, x: dict) -> dict:
    p = dict(m.named_parameters())
    img = ref_hidden(m, 'imag', pixels=x['pixels'])[:, 0] @ p['itc_image_proj.fc.weight'].t()
    txt = ref_hidden(m, 'text', ids=x['ids'], mask=x['mask'])[:, 0] @ p['itc_text_proj.fc.weight'].t()

    def pooled(px, image_type=1):
        cls = ref_hidden(m, 'vl', pixels=px, ids=x['ids'], mask=x['mask'], image_type=image_type)[:, 0]
        return torch.tanh(F.linear(cls, p['pooler.dense.weight'], p['pooler.dense.bias']))

    pool = pooled(x['pixels'])
    both = torch.cat([pool, pooled(x['pixels2'], 2)], -1)
    c = lambda i: (p[f'nlvr2_classifier.{i}.weight'], p[f'nlvr2_classifier.{i}.bias'])   # noqa: E731
    hidden = F.gelu(F.layer_norm(F.linear(both, *c(0)), (both.shape[-1],), *c(1), 1e-5))
    return {'image': F.normalize(img, dim=-1), 'text': F.normalize(txt, dim=-1), 'pooled': pool,
            'itm': F.linear(pool, p['itm_score.fc.weight'], p['itm_score.fc.bias']),
            'nlvr2': F.linear(hidden, *c(3))}


def outputs(m: MomeModel, x: dict) -> dict:
    pooled, itm = m.fusion(x['pixels'], x['ids'], x['mask'])
    return {'image': m.encode_image(x['pixels']), 'text': m.encode_text(x['ids'], x['mask']), 'pooled': pooled,
            'itm': itm, 'nlvr2': m.nlvr2(x['pixels'], x['pixels2'], x['ids'], x['mask'])}


class RelativePositionIndexTest(unittest.TestCase):
    def test_base_224_table_has_1126_rows(self):
        cfg = MomeConfig()
        self.assertEqual(cfg.window, 14)
        self.assertEqual(cfg.num_relative_distance, 732)
        self.assertEqual(cfg.rel_pos_rows, 729 + 3 + 392 + 2)
        self.assertEqual(MomeConfig(image_size=384).rel_pos_rows, 47 ** 2 + 3 + 392 + 2)

    def test_image_index_spot_values(self):
        idx = image_relative_position_index(14)
        self.assertEqual(tuple(idx.shape), (197, 197))
        self.assertEqual(idx[0, 0].item(), 731)                     # cls -> cls = num_rel - 1
        self.assertEqual(idx[0, 5].item(), 729)                     # cls -> patch = num_rel - 3
        self.assertEqual(idx[5, 0].item(), 730)                     # patch -> cls = num_rel - 2
        self.assertEqual(idx[1, 1].item(), 13 * 27 + 13)            # same patch: centre of the grid
        self.assertEqual(idx[1, 2].item(), 13 * 27 + 12)            # (0,0) -> (0,1)
        self.assertEqual(idx[1, 15].item(), 12 * 27 + 13)           # (0,0) -> (1,0)
        self.assertEqual(idx[196, 1].item(), 26 * 27 + 26)          # (13,13) -> (0,0): the largest offset
        self.assertEqual(idx[1:, 1:].max().item(), 728)

    def test_text_index_spot_values(self):
        idx = text_relative_position_index(40, 732, 196)
        self.assertEqual(idx[0, 0].item(), 1125)
        self.assertEqual(idx[0, 3].item(), 1123)
        self.assertEqual(idx[3, 0].item(), 1124)
        self.assertEqual(idx[1, 1].item(), 194 + 734)               # j - i = 0
        self.assertEqual(idx[2, 1].item(), -1 + 194 + 734)
        self.assertEqual(idx[1, 39].item(), 38 + 194 + 734)
        full = text_relative_position_index(196, 732, 196)          # the widest text still fits the table
        self.assertEqual(full[1:, 1:].max().item(), 1126 - 4)
        self.assertEqual(full[1:, 1:].min().item(), 732 + 2)

    def test_fusion_index_blocks(self):
        text, image = text_relative_position_index(40, 732, 196), image_relative_position_index(14)
        idx = fusion_relative_position_index(text, image, 732)
        self.assertEqual(tuple(idx.shape), (237, 237))
        self.assertTrue(torch.equal(idx[:40, :40], text))
        self.assertTrue(torch.equal(idx[40:, 40:], image))
        self.assertTrue((idx[:40, 40:] == 732).all() and (idx[40:, :40] == 733).all())

    def test_index_matches_the_spec_case_by_case(self):
        cfg = tiny(image_size=64, max_text_len=7)
        m = MomeModel(cfg)
        self.assertTrue(torch.equal(m.image_rel_index, ref_index(cfg, 0, True, False)))
        self.assertTrue(torch.equal(m.text_rel_index, ref_index(cfg, 7, False, True)))
        self.assertTrue(torch.equal(m.fusion_rel_index, ref_index(cfg, 7, True, True)))


class ParameterNamesTest(unittest.TestCase):
    def assert_official(self, cfg: MomeConfig, **spec) -> None:
        got = {k: tuple(v.shape) for k, v in MomeModel(cfg).state_dict().items()}
        self.assertEqual(got, spec_shapes(cfg.embed_dim, cfg.depth, cfg.num_heads, cfg.window, cfg.vl_start,
                                          vocab=cfg.vocab_size, max_text_len=cfg.max_text_len,
                                          token_types=cfg.token_types, head_names=cfg.heads, **spec))

    def test_names_and_shapes_are_the_official_ones(self):
        self.assert_official(tiny(heads=('itc', 'itc_vl', 'itm', 'mlm', 'nlvr2', 'vqa'), vqa_labels=7),
                             vqa_labels=7)

    def test_base_plus_style_has_pos_embed_and_no_table_or_layer_scale(self):
        self.assert_official(tiny(rel_pos_bias=False, abs_pos_emb=True, layer_scale=False),
                             rel_pos=False, abs_pos=True, layer_scale=False)

    def test_shared_experts_keep_only_the_text_expert_names(self):
        self.assert_official(tiny(shared_experts=True), shared=True)


class ForwardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.set_grad_enabled(False)

    @classmethod
    def tearDownClass(cls):
        torch.set_grad_enabled(True)

    def assert_close(self, a: dict, b: dict, tol: float = 2e-5) -> None:
        for k in b:
            self.assertLess((a[k] - b[k]).abs().max().item(), tol, k)

    def test_every_entry_point_matches_the_spec_reference(self):
        for cfg in (tiny(image_size=48), tiny(rel_pos_bias=False, abs_pos_emb=True, layer_scale=False),
                    tiny(shared_experts=True), tiny(vl_start=4), tiny(vl_start=0)):
            m = random_model(cfg, seed=3)
            x = inputs(cfg, batch=3)
            with self.subTest(cfg=cfg):
                self.assert_close(outputs(m, x), ref_outputs(m, x))

    def test_image_embeddings_are_unit_vectors(self):
        m = random_model(tiny())
        e = m.encode_image(inputs(m.config)['pixels'])
        self.assertTrue(torch.allclose(e.norm(dim=-1), torch.ones(2), atol=1e-6))

    def perturbed(self, m: MomeModel, prefix: str) -> MomeModel:
        for name, p in m.named_parameters():
            if name.startswith(prefix):
                p.add_(torch.randn_like(p))
        return m

    def test_each_mode_uses_its_own_expert(self):
        cfg = tiny()
        x = inputs(cfg)
        base = outputs(random_model(cfg), x)
        # (perturbed expert, outputs that must change, outputs that must not)
        cases = [('transformer.blocks.0.mlp_imag', {'image', 'pooled'}, {'text'}),
                 ('transformer.blocks.0.mlp_text', {'text', 'pooled'}, {'image'}),
                 ('transformer.blocks.3.mlp_vl', {'pooled', 'itm', 'nlvr2'}, {'image', 'text'}),
                 ('transformer.blocks.3.mlp_imag', {'image'}, {'text', 'pooled', 'itm', 'nlvr2'}),
                 ('transformer.blocks.3.mlp_text', {'text'}, {'image', 'pooled', 'itm', 'nlvr2'})]
        for prefix, changed, same in cases:
            got = outputs(self.perturbed(random_model(cfg), prefix), x)
            for k in changed:
                self.assertGreater((got[k] - base[k]).abs().max().item(), 1e-4, f'{prefix} should change {k}')
            for k in same:
                self.assertTrue(torch.equal(got[k], base[k]), f'{prefix} should not change {k}')

    def test_shared_experts_serve_every_mode(self):
        cfg = tiny(shared_experts=True)
        x = inputs(cfg)
        base = outputs(random_model(cfg), x)
        got = outputs(self.perturbed(random_model(cfg), 'transformer.blocks.3.mlp_text'), x)
        for k in ('image', 'text', 'pooled'):
            self.assertGreater((got[k] - base[k]).abs().max().item(), 1e-4, k)
        self.assertEqual(cfg.vl_start, cfg.depth)

    def test_padding_is_invisible_and_short_text_equals_padded(self):
        cfg = tiny()
        m = random_model(cfg)
        x = inputs(cfg, batch=3)
        y = dict(x, ids=x['ids'].clone())
        y['ids'][x['mask'] == 0] = 7                      # other tokens under the padding
        self.assert_close(outputs(m, x), outputs(m, y), tol=1e-6)
        n = int(x['mask'][2].sum())                       # row 2 as short, unpadded text
        short = {'pixels': x['pixels'][2:], 'pixels2': x['pixels2'][2:], 'ids': x['ids'][2:, :n],
                 'mask': x['mask'][2:, :n]}
        self.assert_close(outputs(m, short), {k: v[2:] for k, v in outputs(m, x).items()}, tol=1e-5)

    def test_text_longer_than_max_text_len_is_refused(self):
        m = random_model(tiny())
        with self.assertRaisesRegex(ValueError, 'at most 10'):
            m.encode_text(torch.zeros(1, 11, dtype=torch.long), torch.ones(1, 11, dtype=torch.long))

    def test_wrong_image_size_is_refused(self):
        m = random_model(tiny())
        with self.assertRaisesRegex(ValueError, r'\[B, 3, 32, 32\]'):
            m.encode_image(torch.zeros(1, 3, 48, 48))

    def test_fully_masked_text_gives_no_nan(self):
        m = random_model(tiny())
        x = inputs(m.config)
        mask = torch.zeros_like(x['mask'])
        self.assertTrue(torch.isfinite(m.encode_text(x['ids'], mask)).all())
        self.assertTrue(torch.isfinite(m.fusion(x['pixels'], x['ids'], mask)[0]).all())

    def test_nlvr2_gives_the_right_image_token_type_2(self):
        cfg = tiny()
        x = inputs(cfg)
        m = random_model(cfg)
        before = outputs(m, x)
        m.token_type_embeddings.weight[2].add_(torch.randn(64))   # (a constant shift would vanish in LayerNorm)
        after = outputs(m, x)
        self.assertTrue(torch.equal(after['pooled'], before['pooled']))
        self.assertGreater((after['nlvr2'] - before['nlvr2']).abs().max().item(), 1e-4)
        swapped = m.nlvr2(x['pixels2'], x['pixels'], x['ids'], x['mask'])
        self.assertGreater((swapped - after['nlvr2']).abs().max().item(), 1e-4)

    def test_heads_present_only_when_configured(self):
        m = random_model(tiny(heads=('itc',)))
        x = inputs(m.config)
        pooled, itm = m.fusion(x['pixels'], x['ids'], x['mask'])
        self.assertIsNone(itm)
        self.assertEqual(tuple(pooled.shape), (2, 64))
        with self.assertRaisesRegex(ValueError, 'no NLVR2 head'):
            m.nlvr2(x['pixels'], x['pixels2'], x['ids'], x['mask'])
        # without ITC projections the embeddings are the normalized [CLS] states
        bare = random_model(tiny(heads=()))
        cls = bare.image_hidden(x['pixels'])[:, 0]
        self.assertTrue(torch.allclose(bare.encode_image(x['pixels']), F.normalize(cls, dim=-1)))

    def test_pretraining_heads(self):
        m = random_model(tiny(heads=('itc', 'itc_vl', 'mlm')))
        x = inputs(m.config)
        self.assertEqual(tuple(m.mlm_logits(x['pixels'], x['ids'], x['mask']).shape), (2, 10, 120))
        img, txt = m.encode_image_vl(x['pixels']), m.encode_text_vl(x['ids'], x['mask'])
        self.assertTrue(torch.allclose(img.norm(dim=-1), torch.ones(2), atol=1e-6))
        self.assertGreater((img - m.encode_image(x['pixels'])).abs().max().item(), 1e-4)
        logits = m.itc_logits(m.encode_image(x['pixels']), txt)
        self.assertEqual(tuple(logits.shape), (2, 2))


if __name__ == '__main__':
    unittest.main()
