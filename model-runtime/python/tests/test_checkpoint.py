"""Official checkpoints in: config inference from tensors (any size), the four wrappers, derived keys, strict
loading and its errors, and running at another image size."""
from __future__ import annotations

import json
import os
import unittest

import numpy as np
import torch

from mome.checkpoint import CheckpointError, load_checkpoint, official_state_dict, save_official_checkpoint, \
    unwrap_state_dict
from mome.config import ConfigError, MomeConfig, config_from_state_dict
from mome.interpolate import resize_relative_position_table, spline_resample_grid
from mome.model import MomeModel
from mome.safe_load import load_data
from tests.model_helpers import TempDirTest, inputs, random_model, shape_only, spec_shapes, tiny


class ConfigTest(unittest.TestCase):
    def test_inconsistent_sizes_are_refused(self):
        with self.assertRaisesRegex(ConfigError, 'unknown heads'):
            MomeConfig(heads=('itc', 'bogus'))
        with self.assertRaisesRegex(ConfigError, 'not divisible'):
            MomeConfig(embed_dim=100, num_heads=3)
        with self.assertRaisesRegex(ConfigError, 'multiple of patch_size'):
            MomeConfig(image_size=200)
        with self.assertRaisesRegex(ConfigError, 'exceeds'):
            MomeConfig(max_text_len=200)

    def test_round_trips_through_json(self):
        cfg = tiny(heads=('nlvr2', 'itc'))
        self.assertEqual(cfg.heads, ('itc', 'nlvr2'))
        self.assertEqual(MomeConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))), cfg)


class ConfigFromStateDictTest(unittest.TestCase):
    def read(self, **spec):
        return config_from_state_dict(shape_only(spec_shapes(**spec)))

    def test_base_224(self):
        c = self.read(d=768, depth=12, heads=12, window=14, vl_start=10, head_names=('itc', 'itc_vl', 'itm', 'mlm'))
        self.assertEqual((c.embed_dim, c.depth, c.num_heads, c.vl_start, c.image_size, c.patch_size),
                         (768, 12, 12, 10, 224, 16))
        self.assertEqual((c.vocab_size, c.max_text_len, c.token_types, c.max_text_len_of_initckpt),
                         (30522, 40, 2, 196))
        self.assertEqual(c.rel_pos_rows, 1126)
        self.assertTrue(c.rel_pos_bias and c.layer_scale and not c.abs_pos_emb and not c.shared_experts)
        self.assertEqual(c.heads, ('itc', 'itc_vl', 'itm', 'mlm'))
        self.assertEqual(c.mlp_ratio, 4.0)

    def test_large_384_nlvr2(self):
        c = self.read(d=1024, depth=24, heads=16, window=24, vl_start=21, token_types=3, head_names=('nlvr2',))
        self.assertEqual((c.embed_dim, c.depth, c.num_heads, c.vl_start, c.image_size), (1024, 24, 16, 21, 384))
        self.assertEqual((c.token_types, c.heads), (3, ('nlvr2',)))

    def test_base_plus_without_relative_positions(self):
        c = self.read(d=544, depth=24, heads=16, window=14, vl_start=21, rel_pos=False, abs_pos=True,
                      layer_scale=False)
        self.assertEqual((c.embed_dim, c.num_heads, c.image_size), (544, 16, 224))
        self.assertTrue(c.abs_pos_emb and not c.rel_pos_bias and not c.layer_scale)

    def test_odd_sizes_and_text_only_pretraining(self):
        c = self.read(d=96, depth=5, heads=3, window=7, vl_start=5, mlp_ratio=2, patch=8, max_text_len=196,
                      head_names=('mlm',))
        self.assertEqual((c.embed_dim, c.depth, c.num_heads, c.image_size, c.patch_size, c.mlp_hidden),
                         (96, 5, 3, 56, 8, 192))
        self.assertEqual(c.vl_start, 5)      # no mlp_vl anywhere: text-only stage
        self.assertEqual(c.max_text_len, 196)

    def test_conv_stem_detected(self):
        sd = MomeModel(MomeConfig(embed_dim=64, depth=2, num_heads=2, image_size=48, vl_start=1,
                                  patch_embed='conv')).state_dict()
        c = config_from_state_dict(sd)
        self.assertEqual((c.patch_embed, c.patch_size, c.image_size), ('conv', 16, 48))
        self.assertEqual(MomeModel(c).state_dict().keys(), sd.keys())

    def test_conv_stem_needs_a_power_of_two_patch(self):
        with self.assertRaisesRegex(ConfigError, 'power of two'):
            MomeConfig(embed_dim=64, depth=2, num_heads=2, image_size=48, patch_size=12, patch_embed='conv')
        with self.assertRaisesRegex(ConfigError, 'unknown patch_embed'):
            MomeConfig(patch_embed='hexagonal')

    def test_shared_experts_detected(self):
        c = self.read(d=64, depth=3, heads=2, window=2, vl_start=3, shared=True)
        self.assertTrue(c.shared_experts)

    def test_heads_without_a_table_default_to_head_dim_64_or_must_be_given(self):
        self.assertEqual(self.read(d=256, depth=2, heads=4, window=2, vl_start=2, rel_pos=False,
                                   abs_pos=True).num_heads, 4)
        sd = shape_only(spec_shapes(d=96, depth=2, heads=4, window=2, vl_start=2, rel_pos=False, abs_pos=True))
        with self.assertRaisesRegex(ConfigError, '--num-heads'):
            config_from_state_dict(sd)
        self.assertEqual(config_from_state_dict(sd, num_heads=4).num_heads, 4)

    def test_table_of_another_text_range_needs_the_image_size(self):
        sd = shape_only(spec_shapes(d=64, depth=2, heads=2, window=3, vl_start=2, t0=50))
        with self.assertRaisesRegex(ConfigError, 'image-size'):
            config_from_state_dict(sd)
        c = config_from_state_dict(sd, image_size=48)
        self.assertEqual((c.window, c.max_text_len_of_initckpt, c.rel_pos_rows), (3, 50, 25 + 3 + 100 + 2))

    def test_missing_block_is_named(self):
        sd = shape_only(spec_shapes(d=64, depth=4, heads=2, window=2, vl_start=4))
        for k in [k for k in sd if k.startswith('transformer.blocks.2.')]:
            del sd[k]
        with self.assertRaisesRegex(ConfigError, r'blocks \[2\] are missing'):
            config_from_state_dict(sd)


class LoadTest(TempDirTest):
    def test_every_wrapper_loads_strictly_and_gives_the_same_outputs(self):
        cfg = tiny()
        m = random_model(cfg, seed=5)
        x = inputs(cfg)
        with torch.no_grad():
            want = m.fusion(x['pixels'], x['ids'], x['mask'])[1]
        for wrapper in ('state_dict', 'module', 'model', None):
            with self.subTest(wrapper=wrapper):
                path = save_official_checkpoint(m, self.path(f'{wrapper}.pt'), wrapper)
                loaded = load_checkpoint(path)
                self.assertEqual(loaded.wrapper, wrapper)
                self.assertEqual(loaded.config, cfg)
                self.assertIn('relative_position_index', loaded.ignored_keys)
                self.assertIn('text_embeddings.position_ids', loaded.ignored_keys)
                with torch.no_grad():
                    got = loaded.model.fusion(x['pixels'], x['ids'], x['mask'])[1]
                self.assertTrue(torch.equal(got, want))

    def test_deepspeed_keys_carry_the_module_prefix(self):
        m = random_model(tiny())
        obj = load_data(save_official_checkpoint(m, self.path('ds.pt'), 'module'))
        self.assertTrue(all(k.startswith('module.') for k in obj['module']))
        sd, wrapper = unwrap_state_dict(obj)
        self.assertEqual(wrapper, 'module')
        self.assertIn('transformer.cls_token', sd)

    def test_variants_round_trip(self):
        # without a relative-position table the head count is read by the head-dim-64 rule: 64 wide -> 1 head
        for cfg in (tiny(shared_experts=True), tiny(rel_pos_bias=False, abs_pos_emb=True, layer_scale=False,
                                                    num_heads=1),
                    tiny(heads=('itc', 'itc_vl', 'itm', 'mlm', 'vqa'), vqa_labels=11, token_types=2)):
            with self.subTest(cfg=cfg):
                loaded = load_checkpoint(save_official_checkpoint(random_model(cfg), self.path('v.pt')))
                self.assertEqual(loaded.config, cfg)

    def test_not_a_vlmo_checkpoint(self):
        torch.save({'state_dict': {'encoder.layer.0.weight': torch.zeros(2)}}, self.path('bert.pt'))
        with self.assertRaisesRegex(CheckpointError, r'bert\.pt is not a VLMo checkpoint: it has no transformer'):
            load_checkpoint(self.path('bert.pt'))
        torch.save([1, 2, 3], self.path('list.pt'))
        with self.assertRaisesRegex(CheckpointError, 'holds a list'):
            load_checkpoint(self.path('list.pt'))

    def test_truncated_file_names_the_file(self):
        path = save_official_checkpoint(random_model(tiny()), self.path('full.pt'))
        with open(path, 'rb') as fh:
            head = fh.read(os.path.getsize(path) // 2)
        with open(self.path('cut.pt'), 'wb') as fh:
            fh.write(head)
        with self.assertRaisesRegex(CheckpointError, r'cut\.pt \(\d+ bytes\) could not be read.*truncated'):
            load_checkpoint(self.path('cut.pt'))
        open(self.path('empty.pt'), 'wb').close()
        with self.assertRaisesRegex(CheckpointError, 'empty'):
            load_checkpoint(self.path('empty.pt'))
        with self.assertRaisesRegex(CheckpointError, 'does not exist'):
            load_checkpoint(self.path('nowhere.pt'))

    def test_missing_keys_are_listed(self):
        sd = official_state_dict(random_model(tiny()))
        del sd['transformer.blocks.1.norm1.weight']
        del sd['pooler.dense.bias']
        torch.save({'state_dict': sd}, self.path('holes.pt'))
        with self.assertRaises(CheckpointError) as ctx:
            load_checkpoint(self.path('holes.pt'))
        msg = str(ctx.exception)
        self.assertIn('holes.pt is incomplete: 2 tensors are missing', msg)
        self.assertIn('transformer.blocks.1.norm1.weight', msg)
        self.assertIn('pooler.dense.bias', msg)

    def test_unknown_tensors_are_listed(self):
        sd = official_state_dict(random_model(tiny()))
        sd['transformer.blocks.0.attn.extra'] = torch.zeros(3)
        torch.save(sd, self.path('extra.pt'))
        with self.assertRaisesRegex(CheckpointError, r'1 tensors this model does not know: transformer\.blocks\.0'):
            load_checkpoint(self.path('extra.pt'))


class OtherImageSizeTest(TempDirTest):
    def test_same_size_is_untouched(self):
        t = torch.randn(25 + 397, 6)
        self.assertIs(resize_relative_position_table(t, 3, 3), t)

    def test_not_a_knot_spline_reproduces_cubics_exactly(self):
        x = np.array([-7.0, -4.0, -2.5, -1.0, 0.0, 1.0, 2.5, 4.0, 7.0])
        xq = np.arange(-6.0, 6.5, 1.0)
        f = lambda u, v: 0.3 * u ** 3 - u * v ** 2 + 2 * v ** 3 - v + 1   # noqa: E731 — bicubic polynomial
        z = f(x[None, :], x[:, None])
        got = spline_resample_grid(z, x, xq)
        self.assertLess(np.abs(got - f(xq[None, :], xq[:, None])).max(), 1e-9)

    def test_table_resize_keeps_the_extra_rows_and_grows_the_image_part(self):
        src = torch.randn(7 ** 2 + 3 + 392 + 2, 8)   # W=4 -> W=6
        dst = resize_relative_position_table(src, 4, 6)
        self.assertEqual(tuple(dst.shape), (11 ** 2 + 3 + 392 + 2, 8))
        self.assertTrue(torch.equal(dst[121:], src[49:]))
        centre_src, centre_dst = src[:49].reshape(7, 7, 8)[3, 3], dst[:121].reshape(11, 11, 8)[5, 5]
        self.assertLess((centre_src - centre_dst).abs().max().item(), 1e-5)   # offset 0 is a data point

    def test_checkpoint_runs_at_a_larger_image_size(self):
        m = random_model(tiny(image_size=64))
        path = save_official_checkpoint(m, self.path('c.pt'))
        loaded = load_checkpoint(path, image_size=96)
        self.assertEqual((loaded.config.image_size, loaded.resized_from), (96, 64))
        self.assertEqual(loaded.model.relative_position_bias_table.shape[0], 11 ** 2 + 397)
        x = inputs(loaded.config)
        with torch.no_grad():
            self.assertTrue(torch.isfinite(loaded.model.encode_image(x['pixels'])).all())

    def test_base_plus_pos_embed_is_resized(self):
        m = random_model(tiny(rel_pos_bias=False, abs_pos_emb=True, layer_scale=False))
        loaded = load_checkpoint(save_official_checkpoint(m, self.path('bp.pt')), image_size=64)
        self.assertEqual(tuple(loaded.model.transformer.pos_embed.shape), (1, 17, 64))
        self.assertTrue(torch.equal(loaded.model.transformer.pos_embed[0, 0], m.transformer.pos_embed[0, 0]))
        self.assertEqual(loaded.resized_from, 32)


if __name__ == '__main__':
    unittest.main()
