"""Model directories back into PyTorch: an exported random model loads with an identical state dict (fp32), within
fp16 rounding (fp16), computes the same outputs, and broken folders give clear errors."""
from __future__ import annotations

import json
import os

import torch

from mome.export import export_model_dir
from mome.model_dir import ModelDirError, load_model_dir
from tests.model_helpers import TempDirTest, inputs, random_model, tiny, write_small_vocab

# Parameters that no exported graph uses (position embeddings: this config has a relative-position table).
NOT_IN_GRAPHS = {'logit_scale', 'text_embeddings.position_embeddings.weight'}


class LoadModelDirTest(TempDirTest):
    def export(self, fp16: bool = False, **cfg_overrides):
        cfg = tiny(**cfg_overrides)
        model = random_model(cfg, seed=5)
        vocab = write_small_vocab(self.path('vocab.txt'))
        out = self.path('fp16' if fp16 else 'fp32')
        export_model_dir(model, cfg, out, vocab, fp16=fp16)
        return model, cfg, out

    def test_fp32_round_trip_is_identical(self):
        self.check_fp32_round_trip()

    def test_conv_stem_round_trip_is_identical(self):
        # the tiny model's convolutional stem: its parameters travel through the graphs like the linear one's
        self.check_fp32_round_trip(patch_embed='conv')

    def check_fp32_round_trip(self, **cfg_overrides):
        model, cfg, out = self.export(**cfg_overrides)
        loaded, cfg2, meta = load_model_dir(out)
        self.assertEqual(cfg2, cfg)
        want, got = model.state_dict(), loaded.state_dict()
        self.assertEqual(set(want), set(got))
        missing = set(meta['missing_parameters'])
        self.assertEqual(missing, NOT_IN_GRAPHS | {k for k in want if k.startswith('mlm_score.')})
        for key in want:
            if key not in missing:
                self.assertTrue(torch.equal(want[key], got[key]), key)
        x = inputs(cfg)
        with torch.no_grad():
            self.assertTrue(torch.equal(model.encode_image(x['pixels']), loaded.encode_image(x['pixels'])))
            self.assertTrue(torch.equal(model.nlvr2(x['pixels'], x['pixels2'], x['ids'], x['mask']),
                                        loaded.nlvr2(x['pixels'], x['pixels2'], x['ids'], x['mask'])))
        self.assertFalse(loaded.training)

    def test_fp16_loads_as_float32_within_rounding(self):
        model, _, out = self.export(fp16=True, heads=('itc', 'itm'))
        loaded, _, meta = load_model_dir(out)
        self.assertEqual(meta['precision'], 'fp16')
        got = loaded.state_dict()
        for key, value in model.state_dict().items():
            if key in meta['missing_parameters']:
                continue
            self.assertEqual(got[key].dtype, torch.float32, key)
            torch.testing.assert_close(got[key], value.half().float(), rtol=0, atol=0, msg=key)

    def test_folder_without_mome_json(self):
        os.makedirs(self.path('empty'))
        with self.assertRaisesRegex(ModelDirError, 'has no mome.json'):
            load_model_dir(self.path('empty'))

    def test_config_and_weights_disagree(self):
        _, _, out = self.export()
        with open(os.path.join(out, 'mome.json')) as fh:
            meta = json.load(fh)
        meta['config']['embed_dim'] = 32
        meta['config']['num_heads'] = 2
        with open(os.path.join(out, 'mome.json'), 'w') as fh:
            json.dump(meta, fh)
        with self.assertRaisesRegex(ModelDirError, 'the folder is inconsistent'):
            load_model_dir(out)

    def test_truncated_weights_file(self):
        _, _, out = self.export()
        path = os.path.join(out, 'weights.bin')
        size = os.path.getsize(path)
        with open(path, 'r+b') as fh:
            fh.truncate(size // 2)
        with self.assertRaisesRegex(ModelDirError, 'beyond the end'):
            load_model_dir(out)


class DeduplicatedWeightsTest(TempDirTest):
    def test_parameters_with_identical_values_are_recovered(self):
        # A freshly initialized model has many equal tensors (zero biases, unit norms, equal layer scales), which
        # torch.onnx stores once under one name; they still load, each under its own name.
        cfg = tiny(heads=('itc', 'itm', 'nlvr2'))
        torch.manual_seed(0)
        model = random_model(cfg, seed=1)
        with torch.no_grad():
            model.transformer.blocks[1].attn.proj.bias.fill_(0.25)
            model.transformer.blocks[2].mlp_text.fc2.bias.fill_(0.25)
            model.nlvr2_classifier[1].bias.copy_(model.nlvr2_classifier[0].bias)
        vocab = write_small_vocab(self.path('vocab.txt'))
        export_model_dir(model, cfg, self.path('m'), vocab)
        loaded, _, meta = load_model_dir(self.path('m'))
        self.assertEqual(set(meta['missing_parameters']), NOT_IN_GRAPHS)
        got = loaded.state_dict()
        for key, value in model.state_dict().items():
            if key not in NOT_IN_GRAPHS:
                self.assertTrue(torch.equal(value, got[key]), key)
