"""Bad inputs the Python side handles, each with a clear message naming what is wrong and nothing written or
changed: a checkpoint path that is a folder, tensors that do not fit the model, a model folder whose mome.json
lacks its config or whose listed graph is missing, an export with a vocabulary that does not exist, and the
dataset readers (a missing image, a file that is not a Karpathy file, an entry lacking a field, no image in the
splits asked for)."""
from __future__ import annotations

import json
import os
import shutil
import tempfile

import torch

from mome.checkpoint import CheckpointError, load_checkpoint, load_state_dict_strict, official_state_dict, \
    read_checkpoint
from mome.data import DatasetFormatError, KarpathyCaptions, load_rgb, read_karpathy
from mome.export import ExportError, export_model_dir
from mome.model_dir import ModelDirError, load_model_dir, read_meta
from tests.model_helpers import TempDirTest, random_model, tiny, write_small_vocab


def listing(folder: str) -> dict:
    """Every file under folder with its size and modification time: what "nothing changed" compares."""
    out = {}
    for dirpath, _, files in os.walk(folder):
        for f in files:
            st = os.stat(os.path.join(dirpath, f))
            out[os.path.relpath(os.path.join(dirpath, f), folder)] = (st.st_size, st.st_mtime_ns)
    return out


class CheckpointBadInputTest(TempDirTest):
    def test_checkpoint_path_that_is_a_folder(self):
        folder = self.path('vlmo_base.pt')
        os.makedirs(folder)
        with open(os.path.join(folder, 'data.pkl'), 'wb') as fh:
            fh.write(b'x')
        before = listing(self.tmp)
        with self.assertRaises(CheckpointError) as cm:
            read_checkpoint(folder)
        self.assertEqual(str(cm.exception),
                         f'checkpoint {folder} is a folder; give the .pt/.pth/.ckpt/.safetensors file itself')
        with self.assertRaisesRegex(CheckpointError, 'is a folder'):
            load_checkpoint(folder)
        self.assertEqual(listing(self.tmp), before)

    def test_tensors_that_do_not_fit_the_model(self):
        cfg = tiny(heads=('itc', 'itm'))
        model = random_model(cfg, seed=3)
        original = {k: v.clone() for k, v in model.state_dict().items()}
        sd = official_state_dict(model, with_derived=False)
        sd['itm_score.fc.weight'] = torch.zeros(3, cfg.embed_dim)   # 3 classes where the model has 2
        with self.assertRaises(CheckpointError) as cm:
            load_state_dict_strict(model, sd, '/data/vlmo.pt')
        message = str(cm.exception)
        self.assertTrue(message.startswith('/data/vlmo.pt: tensors do not fit the model read from it:'), message)
        self.assertIn('itm_score.fc.weight', message)
        self.assertIn('torch.Size([3, 64])', message)
        self.assertNotIn('\n', message)   # one line, whitespace collapsed
        self.assertNotIn('Traceback', message)
        # the model keeps its own parameters: the failed load wrote nothing (no other tensor was half-copied)
        for key, value in model.state_dict().items():
            self.assertTrue(torch.equal(value, original[key]), key)


class ModelDirBadInputTest(TempDirTest):
    folder: str
    root: str

    @classmethod
    def setUpClass(cls) -> None:
        cls.root = tempfile.mkdtemp(prefix='mome-test-')
        cfg = tiny(heads=('itc', 'itm', 'nlvr2'))
        vocab = write_small_vocab(os.path.join(cls.root, 'vocab.txt'))
        cls.folder = os.path.join(cls.root, 'model')
        export_model_dir(random_model(cfg, seed=7), cfg, cls.folder, vocab)

    @classmethod
    def tearDownClass(cls) -> None:
        shutil.rmtree(cls.root, True)

    def copy(self) -> str:
        out = self.path('model')
        shutil.copytree(self.folder, out)
        return out

    def test_mome_json_without_config(self):
        folder = self.copy()
        meta_file = os.path.join(folder, 'mome.json')
        with open(meta_file, encoding='utf-8') as fh:
            meta = json.load(fh)
        del meta['config']
        with open(meta_file, 'w', encoding='utf-8') as fh:
            json.dump(meta, fh)
        before = listing(folder)
        for load in (read_meta, load_model_dir):
            with self.assertRaises(ModelDirError) as cm:
                load(folder)
            self.assertEqual(str(cm.exception), f'{meta_file} has no "config" object; re-export the model with '
                                                f'this version of mome')
        # a config that is not an object is the same error
        meta['config'] = ['not', 'an', 'object']
        with open(meta_file, 'w', encoding='utf-8') as fh:
            json.dump(meta, fh)
        with self.assertRaisesRegex(ModelDirError, 'has no "config" object'):
            load_model_dir(folder)
        self.assertEqual(set(listing(folder)), set(before))

    def test_mome_json_that_is_not_json(self):
        folder = self.copy()
        meta_file = os.path.join(folder, 'mome.json')
        with open(meta_file, 'w', encoding='utf-8') as fh:
            fh.write('{"config": {"hidden_size": 64,')
        for load in (read_meta, load_model_dir):
            with self.assertRaisesRegex(ModelDirError, r'mome\.json is not valid JSON \(.+\); re-export'):
                load(folder)

    def test_listed_graph_file_that_is_missing(self):
        folder = self.copy()
        os.remove(os.path.join(folder, 'nlvr2.onnx'))
        before = listing(folder)
        with self.assertRaises(ModelDirError) as cm:
            load_model_dir(folder)
        self.assertEqual(str(cm.exception), f'mome.json lists the graph nlvr2 as nlvr2.onnx, but '
                                            f'{os.path.join(folder, "nlvr2.onnx")} does not exist')
        self.assertEqual(listing(folder), before)


class ExportBadInputTest(TempDirTest):
    def test_export_with_a_vocabulary_that_does_not_exist(self):
        cfg = tiny(heads=('itc',))
        out = self.path('models', 'new')
        vocab = self.path('nowhere', 'vocab.txt')
        with self.assertRaises(ExportError) as cm:
            export_model_dir(random_model(cfg), cfg, out, vocab)
        self.assertEqual(str(cm.exception), f'vocabulary {vocab} does not exist')
        self.assertFalse(os.path.exists(out))
        # no partial folder beside it either: the check comes before anything is written
        self.assertEqual(os.listdir(self.tmp), [])


class DataReaderBadInputTest(TempDirTest):
    def karpathy(self, images) -> str:
        root = self.path('coco')
        os.makedirs(root, exist_ok=True)
        with open(os.path.join(root, 'dataset_coco.json'), 'w', encoding='utf-8') as fh:
            json.dump({'images': images, 'dataset': 'coco'}, fh)
        return root

    @staticmethod
    def entry(imgid: int, split: str = 'test') -> dict:
        return {'filepath': 'val2014', 'filename': f'{imgid}.jpg', 'imgid': imgid, 'split': split,
                'sentences': [{'raw': f'a picture {imgid}', 'sentid': imgid * 5}]}

    def test_missing_image_names_the_file(self):
        missing = self.path('val2014', 'COCO_val2014_000000000042.jpg')
        with self.assertRaises(DatasetFormatError) as cm:
            load_rgb(missing)
        self.assertEqual(str(cm.exception), f"image {missing} does not exist; check the dataset's image folder")
        self.assertIsNone(cm.exception.__cause__)   # raised from None: no chained FileNotFoundError traceback
        self.assertFalse(os.path.exists(self.path('val2014')))

    def test_not_a_karpathy_file(self):
        for text, why in (('{"images": [', 'Expecting value'), ('{"annotations": []}', "'images'"),
                          ('[1, 2, 3]', 'list indices')):
            root = self.path('coco')
            os.makedirs(root, exist_ok=True)
            path = os.path.join(root, 'dataset_coco.json')
            with open(path, 'w', encoding='utf-8') as fh:
                fh.write(text)
            before = listing(root)
            with self.assertRaises(DatasetFormatError) as cm:
                read_karpathy(root)
            message = str(cm.exception)
            self.assertTrue(message.startswith(f'{path} is not a Karpathy annotation file ('), message)
            self.assertIn(why, message)
            self.assertIn('{"images": [{filename, imgid, split, sentences: [{raw, sentid}]}]}', message)
            self.assertEqual(listing(root), before)

    def test_an_entry_lacking_a_field(self):
        images = [self.entry(0), self.entry(1), self.entry(2)]
        del images[1]['imgid']
        root = self.karpathy(images)
        with self.assertRaises(DatasetFormatError) as cm:
            read_karpathy(root)
        self.assertEqual(str(cm.exception),
                         f"{os.path.join(root, 'dataset_coco.json')}: image entry 1 lacks a field ('imgid'); each "
                         f"needs filename, imgid, split and sentences with raw and sentid")
        # a sentence without its sentid is the same error, naming the field
        images[1] = self.entry(1)
        del images[2]['sentences'][0]['sentid']
        root = self.karpathy(images)
        with self.assertRaisesRegex(DatasetFormatError, r"image entry 2 lacks a field \('sentid'\)"):
            read_karpathy(root)

    def test_no_image_in_the_splits_asked_for(self):
        root = self.karpathy([self.entry(0, 'train'), self.entry(1, 'val')])
        with self.assertRaises(DatasetFormatError) as cm:
            KarpathyCaptions(root, ['test'], tokenizer=None, image_size=32, train=False)
        self.assertEqual(str(cm.exception), f"{os.path.join(root, 'dataset_coco.json')} has no image in splits "
                                            f"['test']")


if __name__ == '__main__':
    import unittest
    unittest.main()
