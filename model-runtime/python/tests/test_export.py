"""Model directories out: the files, mome.json, weights stored once in weights.bin, fp16, which graphs a model
gets, and DIR untouched when anything fails. (ONNX Runtime parity: test/integration/onnx-parity.test.ts.)"""
from __future__ import annotations

import json
import os
import unittest
from unittest import mock

import numpy as np
import onnx
from onnx import numpy_helper

from mome import export as export_module
from mome.export import ExportError, WeightsFile, export_graph, export_model_dir, share_weights
from tests.model_helpers import TempDirTest, random_model, tiny, write_small_vocab


def external(t: onnx.TensorProto) -> dict:
    return {e.key: e.value for e in t.external_data}


class ExportDirTest(TempDirTest):
    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.shared = tempfile.mkdtemp(prefix='mome-export-')
        cls.cfg = tiny()
        cls.model = random_model(cls.cfg, seed=11)
        cls.vocab = write_small_vocab(os.path.join(cls.shared, 'vocab.txt'))
        cls.out = os.path.join(cls.shared, 'model')
        cls.meta = export_model_dir(cls.model, cls.cfg, cls.out, cls.vocab, provenance={'source_sha256': 'abc'})

    @classmethod
    def tearDownClass(cls):
        import shutil
        shutil.rmtree(cls.shared, True)

    def test_files_and_mome_json(self):
        self.assertEqual(sorted(os.listdir(self.out)), ['fusion.onnx', 'image_encoder.onnx', 'mome.json',
                                                        'nlvr2.onnx', 'text_encoder.onnx', 'vocab.txt',
                                                        'weights.bin'])
        with open(os.path.join(self.out, 'mome.json')) as fh:
            meta = json.load(fh)
        self.assertEqual(meta, json.loads(json.dumps(self.meta)))
        for key, want in {'format_version': 1, 'embed_dim': 64, 'hidden_size': 64, 'num_layers': 4, 'num_heads': 4,
                          'vl_start': 2, 'image_size': 32, 'patch_size': 16, 'mean': [0.5] * 3, 'std': [0.5] * 3,
                          'resize': 'bicubic', 'max_text_len': 10, 'vocab_file': 'vocab.txt',
                          'shared_experts': False, 'precision': 'fp32', 'weights_file': 'weights.bin',
                          'heads': ['itc', 'itm', 'mlm', 'nlvr2'], 'tasks': ['retrieval', 'itm', 'nlvr2']}.items():
            self.assertEqual(meta[key], want, key)
        self.assertEqual(meta['graphs'], {'image_encoder': 'image_encoder.onnx', 'text_encoder': 'text_encoder.onnx',
                                          'fusion': 'fusion.onnx', 'nlvr2': 'nlvr2.onnx'})
        self.assertEqual(meta['provenance']['source_sha256'], 'abc')
        self.assertEqual(oct(os.stat(self.out).st_mode & 0o777), oct(0o777 & ~_umask()))

    def test_graph_inputs_and_outputs(self):
        want = {'image_encoder': (['pixel_values'], ['image_embeds']),
                'text_encoder': (['input_ids', 'attention_mask'], ['text_embeds']),
                'fusion': (['pixel_values', 'input_ids', 'attention_mask'], ['pooled', 'itm_logits']),
                'nlvr2': (['pixel_values_left', 'pixel_values_right', 'input_ids', 'attention_mask'],
                          ['nlvr2_logits'])}
        for name, (ins, outs) in want.items():
            g = onnx.load(os.path.join(self.out, f'{name}.onnx'), load_external_data=False).graph
            self.assertEqual([i.name for i in g.input], ins)
            self.assertEqual([o.name for o in g.output], outs)
            for i in g.input:
                dims = [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]
                self.assertEqual(dims[0], 'batch')
                if i.name in ('input_ids', 'attention_mask'):
                    self.assertEqual((dims[1], i.type.tensor_type.elem_type), ('text_len', onnx.TensorProto.INT64))
                else:
                    self.assertEqual((dims[1:], i.type.tensor_type.elem_type), ([3, 32, 32], onnx.TensorProto.FLOAT))

    def test_weights_are_stored_once_in_weights_bin(self):
        size = os.path.getsize(os.path.join(self.out, 'weights.bin'))
        regions, per_graph_bytes = {}, 0
        for name in ('image_encoder', 'text_encoder', 'fusion', 'nlvr2'):
            path = os.path.join(self.out, f'{name}.onnx')
            self.assertLess(os.path.getsize(path), 400_000)          # graph only, no tensor data
            g = onnx.load(path, load_external_data=False).graph
            for t in g.initializer:
                ext = external(t)
                self.assertEqual((t.data_location, ext['location']), (onnx.TensorProto.EXTERNAL, 'weights.bin'))
                self.assertFalse(t.raw_data)
                offset, length = int(ext['offset']), int(ext['length'])
                self.assertLessEqual(offset + length, size)
                regions.setdefault(t.name, set()).add((offset, length))
                per_graph_bytes += length
        # one parameter used by several graphs sits at one place
        self.assertEqual(len(regions['model.transformer.cls_token']), 1)
        self.assertEqual(len(regions['model.transformer.blocks.0.attn.qkv.weight']), 1)
        unique = {r for rs in regions.values() for r in rs}
        self.assertEqual(len(unique), sum(len(rs) for rs in regions.values()))
        stored = sum(length for _, length in unique)
        self.assertGreater(per_graph_bytes, 2 * stored)              # four graphs, each tensor written once
        spans = sorted(unique)
        for (o1, l1), (o2, _) in zip(spans, spans[1:]):
            self.assertLessEqual(o1 + l1, o2)                        # no overlaps
        large = sum(1 for _, length in unique if length >= 4096)
        self.assertLessEqual(size, stored + 4096 * large + 64 * len(unique))   # only alignment padding
        self.assertTrue(all(o % 4096 == 0 for o, length in unique if length >= 4096))
        self.assertTrue(all(o % 64 == 0 for o, _ in unique))

    def test_external_data_resolves_to_the_model_parameters(self):
        model = onnx.load(os.path.join(self.out, 'nlvr2.onnx'))     # loads weights.bin
        tensors = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        params = dict(self.model.named_parameters())
        for name in ('transformer.cls_token', 'relative_position_bias_table', 'nlvr2_classifier.3.weight',
                     'transformer.blocks.3.mlp_vl.fc2.weight'):
            np.testing.assert_array_equal(tensors[f'model.{name}'], params[name].detach().numpy())


class ExportVariantsTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.vocab = write_small_vocab(self.path('vocab.txt'))

    def test_graphs_follow_the_heads(self):
        cfg = tiny(heads=('itc',), token_types=2)
        meta = export_model_dir(random_model(cfg), cfg, self.path('m'), self.vocab)
        self.assertEqual(sorted(meta['graphs']), ['image_encoder', 'text_encoder'])   # no ITM -> no fusion
        self.assertFalse(os.path.exists(self.path('m', 'fusion.onnx')))
        self.assertEqual(meta['tasks'], ['retrieval'])

    def test_fp16_keeps_float32_io_and_attention(self):
        cfg = tiny(heads=('itc', 'itm'))
        meta = export_model_dir(random_model(cfg), cfg, self.path('h'), self.vocab, fp16=True)
        self.assertEqual(meta['precision'], 'fp16')
        g = onnx.load(self.path('h', 'fusion.onnx'), load_external_data=False).graph
        self.assertEqual({t.data_type for t in g.initializer if t.dims and len(t.dims) >= 2 and
                          not t.name.endswith('rel_index')}, {onnx.TensorProto.FLOAT16})
        for v in list(g.input[:1]) + list(g.output):
            self.assertEqual(v.type.tensor_type.elem_type, onnx.TensorProto.FLOAT)
        casts = [a.i for n in g.node if n.op_type == 'Cast' for a in n.attribute if a.name == 'to']
        self.assertIn(onnx.TensorProto.FLOAT, casts)        # attention logits / softmax in float32
        self.assertIn(onnx.TensorProto.FLOAT16, casts)
        self.assertNotIn(onnx.TensorProto.DOUBLE, casts)
        self.assertEqual(sum(n.op_type == 'Softmax' for n in g.node), cfg.depth)

    def test_torch_external_data_is_repacked(self):
        """Models over 2 GB come out of torch.onnx with their tensors in side files; those are read too."""
        cfg = tiny(heads=('itc',), token_types=2)
        m = random_model(cfg)
        os.makedirs(self.path('raw'))
        export_graph(m, 'image_encoder', self.path('raw', 'g.onnx'))
        proto = onnx.load(self.path('raw', 'g.onnx'))
        onnx.save_model(proto, self.path('raw', 'g.onnx'), save_as_external_data=True, all_tensors_to_one_file=False,
                        size_threshold=0)
        self.assertGreater(len(os.listdir(self.path('raw'))), 10)
        os.makedirs(self.path('out'))
        w = WeightsFile(self.path('out', 'weights.bin'))
        share_weights(self.path('raw', 'g.onnx'), self.path('out', 'image_encoder.onnx'), w)
        w.close()
        loaded = onnx.load(self.path('out', 'image_encoder.onnx'))
        got = {t.name: numpy_helper.to_array(t) for t in loaded.graph.initializer}
        np.testing.assert_array_equal(got['model.transformer.patch_embed.proj.weight'],
                                      m.transformer.patch_embed.proj.weight.detach().numpy())


class UntouchedOnFailureTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.vocab = write_small_vocab(self.path('vocab.txt'))
        self.cfg = tiny(heads=('itc', 'itm'))
        self.model = random_model(self.cfg)
        os.makedirs(self.path('models', 'mine'))
        with open(self.path('models', 'mine', 'keep.txt'), 'w') as fh:
            fh.write('precious')

    def assert_untouched(self):
        self.assertEqual(os.listdir(self.path('models')), ['mine'])     # no partial folders left behind
        self.assertEqual(os.listdir(self.path('models', 'mine')), ['keep.txt'])

    def test_existing_folder_is_refused(self):
        with self.assertRaisesRegex(ExportError, 'already exists and is not empty'):
            export_model_dir(self.model, self.cfg, self.path('models', 'mine'), self.vocab)
        self.assert_untouched()

    def test_failure_midway_leaves_the_folder_as_it_was(self):
        real = export_module.export_graph

        def crash_on_fusion(model, name, path):
            if name == 'fusion':
                raise RuntimeError('disk full')
            return real(model, name, path)

        with mock.patch.object(export_module, 'export_graph', crash_on_fusion):
            with self.assertRaisesRegex(RuntimeError, 'disk full'):
                export_model_dir(self.model, self.cfg, self.path('models', 'mine'), self.vocab, overwrite=True)
        self.assert_untouched()

    def test_vocab_of_the_wrong_size_is_refused(self):
        small = write_small_vocab(self.path('v50.txt'), 50)
        with self.assertRaisesRegex(ExportError, r'v50\.txt has 50 lines but the model.*120 rows'):
            export_model_dir(self.model, self.cfg, self.path('models', 'new'), small)
        self.assert_untouched()

    def test_overwrite_replaces_the_folder_when_it_succeeds(self):
        export_model_dir(self.model, self.cfg, self.path('models', 'mine'), self.vocab, overwrite=True)
        self.assertNotIn('keep.txt', os.listdir(self.path('models', 'mine')))
        self.assertEqual(os.listdir(self.path('models')), ['mine'])


def _umask() -> int:
    u = os.umask(0)
    os.umask(u)
    return u


if __name__ == '__main__':
    unittest.main()
