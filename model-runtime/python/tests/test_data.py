"""Dataset readers (data.py) on real files in the published formats, written by the synthetic generator: the
Karpathy captions and NLVR2 pairs come back with the right images, labels, ids and padding; the eval transform
is the official one (checked against an independent numpy computation); the train crop is seeded and keeps
left and right; broken inputs fail with the file named."""
import json
import os
import random
import shutil
import tempfile
import unittest

import numpy as np
import torch
from PIL import Image

from mome.data import (DatasetFormatError, KarpathyCaptions, KarpathyImages, Nlvr2Pairs, collate, eval_transform,
                       random_resized_box, read_karpathy, read_nlvr2, train_transform)
from mome.synth import vocabulary, write_karpathy, write_nlvr2
from mome.tokenizer import WordPieceTokenizer, build_vocab

SIZE = 48
MAX_LEN = 40


class DataTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='mome-data-')
        cls.coco = os.path.join(cls.tmp, 'coco')
        cls.flickr = os.path.join(cls.tmp, 'flickr')
        cls.nlvr2 = os.path.join(cls.tmp, 'nlvr2')
        write_karpathy(cls.coco, 'coco', 60, 3, 'all', None, True)
        write_karpathy(cls.flickr, 'flickr30k', 40, 3, 'all', None, True)
        write_nlvr2(cls.nlvr2, 60, 3, 'all', None, True)
        cls.tok = WordPieceTokenizer(build_vocab(vocabulary()), max_len=MAX_LEN)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def annotations(self, root, name):
        with open(os.path.join(root, name), encoding='utf-8') as fh:
            return json.load(fh)['images']

    def test_karpathy_captions_carry_their_image_and_sentid(self):
        entries = [e for e in self.annotations(self.coco, 'dataset_coco.json') if e['split'] in ('train', 'restval')]
        ds = KarpathyCaptions(self.coco, ['train', 'restval'], self.tok, SIZE, train=False)
        self.assertEqual(len(ds.images), len(entries))
        self.assertEqual(len(ds), sum(len(e['sentences']) for e in entries))
        k = 7
        pixels, ids, mask, image_index, sentid = ds[k]
        entry = entries[image_index]
        sentence = next(s for s in entry['sentences'] if s['sentid'] == sentid)
        expected = self.tok.encode(sentence['raw'], pad=True)
        self.assertEqual(ids.tolist(), expected.input_ids)
        self.assertEqual(mask.tolist(), expected.attention_mask)
        self.assertEqual((ids.shape, ids[0].item()), ((MAX_LEN,), self.tok.cls))   # padded to max_text_len
        path = os.path.join(self.coco, entry['filepath'], entry['filename'])
        self.assertTrue(torch.equal(pixels, eval_transform(Image.open(path).convert('RGB'), SIZE)))

    def test_flickr_images_are_found_in_their_folder(self):
        images = read_karpathy(self.flickr, ['test'])
        self.assertTrue(images)
        for im in images:
            self.assertTrue(os.path.isfile(im.path), im.path)
            self.assertIn('flickr30k-images', im.path)
        pixels, index = KarpathyImages(images, SIZE)[0]
        self.assertEqual((tuple(pixels.shape), index), ((3, SIZE, SIZE), 0))

    def test_eval_transform_is_the_official_square_transform(self):
        img = Image.open(read_karpathy(self.coco)[0].path).convert('RGB')
        ours = eval_transform(img, SIZE)
        ref = np.asarray(img.resize((SIZE, SIZE), Image.BICUBIC), dtype=np.float32) / 255.0
        ref = (ref - 0.5) / 0.5
        self.assertTrue(np.allclose(ours.permute(1, 2, 0).numpy(), ref, atol=1e-6))
        self.assertGreaterEqual(ours.min().item(), -1.0)
        self.assertLessEqual(ours.max().item(), 1.0)

    def test_train_crop_is_seeded_within_the_scale_and_never_mirrors(self):
        img = Image.open(read_karpathy(self.coco)[0].path).convert('RGB')
        a = train_transform(img, SIZE, random.Random(5))
        b = train_transform(img, SIZE, random.Random(5))
        self.assertTrue(torch.equal(a, b))
        w, h = img.size
        for seed in range(50):
            left, top, right, bottom = random_resized_box(w, h, random.Random(seed))
            area = (right - left) * (bottom - top) / (w * h)
            self.assertGreaterEqual(area, 0.45)   # scale 0.5 up to rounding (or the centred fallback)
            self.assertTrue(0 <= left < right <= w and 0 <= top < bottom <= h)
        # a full-image box is the eval resize: the crop is a crop, not a flip
        full = torch.tensor(np.asarray(img.resize((SIZE, SIZE), Image.BICUBIC, box=(0, 0, w, h)), dtype=np.float32))
        self.assertTrue(torch.allclose(eval_transform(img, SIZE), (full.permute(2, 0, 1) / 255 - 0.5) / 0.5))

    def test_nlvr2_pairs_labels_and_image_naming(self):
        for split in ('train', 'dev', 'test1'):
            with open(os.path.join(self.nlvr2, f'{split}.json'), encoding='utf-8') as fh:
                records = [json.loads(line) for line in fh]
            examples = read_nlvr2(self.nlvr2, split)
            self.assertEqual([e.identifier for e in examples], [r['identifier'] for r in records])
            self.assertEqual([e.label for e in examples], [1 if r['label'] == 'True' else 0 for r in records])
            for e, r in zip(examples, records):
                prefix = r['identifier'].rsplit('-', 1)[0]
                self.assertTrue(e.left.endswith(f'{prefix}-img0.png') and e.right.endswith(f'{prefix}-img1.png'))
                folder = os.path.join('images', 'train', str(r['directory'])) if split == 'train' else split
                self.assertEqual(os.path.dirname(e.left), os.path.join(self.nlvr2, folder))
                self.assertTrue(os.path.isfile(e.left) and os.path.isfile(e.right))
        ds = Nlvr2Pairs(self.nlvr2, 'dev', self.tok, SIZE, train=False)
        left, right, ids, mask, label, ident = collate([ds[0], ds[1]])
        self.assertEqual(tuple(left.shape), (2, 3, SIZE, SIZE))
        self.assertEqual(tuple(ids.shape), (2, MAX_LEN))
        self.assertEqual(label.tolist(), [e.label for e in ds.examples[:2]])
        self.assertEqual(ident, [e.identifier for e in ds.examples[:2]])
        self.assertFalse(torch.equal(left[0], right[0]))

    def test_errors_name_the_file(self):
        empty = tempfile.mkdtemp(dir=self.tmp)
        with self.assertRaisesRegex(DatasetFormatError, 'dataset_coco.json'):
            read_karpathy(empty)
        with self.assertRaisesRegex(DatasetFormatError, 'dev.json'):
            read_nlvr2(empty, 'dev')
        with open(os.path.join(empty, 'dev.json'), 'w') as fh:
            fh.write('{"identifier": "dev-1-0-0", "sentence": "x", "label": "Maybe"}\n')
        with self.assertRaisesRegex(DatasetFormatError, r'dev.json:1'):
            read_nlvr2(empty, 'dev')


if __name__ == '__main__':
    unittest.main()
