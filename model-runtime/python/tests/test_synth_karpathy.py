"""`mome synth --kind coco|flickr30k`: the published Karpathy fields, naming, splits, determinism,
planted caption noise with an exact answer key, and streaming at scale."""
import contextlib
import hashlib
import io
import json
import os
import tempfile
import unittest

from PIL import Image

from mome.synth import describes, image_scene, plan, tokenize
from mome.synth.cli import main
from mome.synth.karpathy import write_karpathy
from mome.synth.splits import split_sizes


def synth(out, *args):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
        rc = main(['--out', out, *args])
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    return rc, lines


def load_images(folder, name):
    with open(os.path.join(folder, name)) as fh:
        return json.load(fh)['images']


def digest(path):
    with open(path, 'rb') as fh:
        return hashlib.sha256(fh.read()).hexdigest()


class Dirs(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.root = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def dir(self, name):
        return os.path.join(self.root, name)


class CocoFormatTest(Dirs):
    def test_every_published_field_with_its_type_and_the_images_on_disk(self):
        out = self.dir('coco')
        rc, lines = synth(out, '--kind', 'coco', '--size', '24', '--seed', '4')
        self.assertEqual(rc, 0, lines)
        self.assertEqual(lines[-1]['type'], 'done')
        with open(os.path.join(out, 'dataset_coco.json')) as fh:
            data = json.load(fh)
        self.assertEqual(set(data), {'images', 'dataset'})
        self.assertEqual(data['dataset'], 'coco')
        self.assertEqual(len(data['images']), 24)
        p = plan('coco', 24, 4, 'all')
        sentids, cocoids = [], []
        for i, img in enumerate(data['images']):
            self.assertEqual(set(img), {'filepath', 'sentids', 'filename', 'imgid', 'split', 'sentences', 'cocoid'})
            self.assertEqual(img['imgid'], i)
            self.assertIn(img['split'], ('train', 'val', 'test', 'restval'))
            self.assertIsInstance(img['cocoid'], int)
            self.assertEqual(img['filepath'], 'train2014' if img['split'] == 'train' else 'val2014')
            self.assertEqual(img['filename'], f"COCO_{img['filepath']}_{img['cocoid']:012d}.jpg")
            self.assertGreaterEqual(len(img['sentences']), 5)
            self.assertEqual(img['sentids'], [s['sentid'] for s in img['sentences']])
            for s in img['sentences']:
                self.assertEqual(set(s), {'tokens', 'raw', 'imgid', 'sentid'})
                self.assertIsInstance(s['raw'], str)
                self.assertIsInstance(s['sentid'], int)
                self.assertEqual(s['imgid'], i)
                self.assertEqual(s['tokens'], tokenize(s['raw']))
                self.assertTrue(all(isinstance(t, str) and t for t in s['tokens']))
                self.assertTrue(describes(image_scene(p, i), s['raw']), s['raw'])
            sentids += img['sentids']
            cocoids.append(img['cocoid'])
            path = os.path.join(out, img['filepath'], img['filename'])
            with Image.open(path) as im:
                scene = image_scene(p, i)
                self.assertEqual(im.format, 'JPEG')
                self.assertEqual(im.size, (scene.width, scene.height))
        self.assertEqual(len(set(sentids)), len(sentids))
        self.assertEqual(len(set(cocoids)), len(cocoids))
        self.assertNotEqual(sentids, list(range(len(sentids))))  # COCO sentids are ids, not positions

    def test_flickr30k_shape_without_filepath_and_cocoid(self):
        out = self.dir('f30k')
        rc, _ = synth(out, '--kind', 'flickr30k', '--size', '12', '--seed', '1')
        self.assertEqual(rc, 0)
        with open(os.path.join(out, 'dataset_flickr30k.json')) as fh:
            data = json.load(fh)
        self.assertEqual(data['dataset'], 'flickr30k')
        sentid = 0
        for i, img in enumerate(data['images']):
            self.assertEqual(set(img), {'sentids', 'imgid', 'sentences', 'split', 'filename'})
            self.assertIn(img['split'], ('train', 'val', 'test'))
            self.assertRegex(img['filename'], r'^\d{10}\.jpg$')
            self.assertTrue(os.path.isfile(os.path.join(out, 'flickr30k-images', img['filename'])))
            self.assertEqual(len(img['sentences']), 5)  # Flickr30K has exactly five
            self.assertEqual(img['sentids'], list(range(sentid, sentid + 5)))  # sequential, as published
            sentid += 5

    def test_refuses_a_non_empty_folder_and_bad_arguments(self):
        out = self.dir('busy')
        os.makedirs(out)
        open(os.path.join(out, 'keep.txt'), 'w').close()
        rc, lines = synth(out, '--kind', 'coco', '--size', '5')
        self.assertEqual(rc, 2)
        self.assertIn('--force', lines[-1]['message'])
        rc, lines = synth(self.dir('x'), '--kind', 'flickr30k', '--size', '5', '--split', 'restval')
        self.assertEqual(rc, 2)
        self.assertIn('restval', lines[-1]['message'])
        rc, lines = synth(self.dir('y'), '--kind', 'coco', '--size', '5', '--noise', '1.5')
        self.assertEqual(rc, 2)
        rc, lines = synth(self.dir('z'), '--kind', 'coco', '--size', '10', '--split', 'train=6,test=3')
        self.assertEqual(rc, 2)
        self.assertIn('adds up to 9, but --size is 10', lines[-1]['message'])
        rc, lines = synth(self.dir('w'), '--kind', 'nlvr2', '--size', '10', '--split', 'train=6,tset=4')
        self.assertEqual(rc, 2)
        self.assertIn('"tset=4" is not SPLIT=COUNT', lines[-1]['message'])
        self.assertEqual(split_sizes('nlvr2', 10, 'dev=4,train=6'), {'train': 6, 'dev': 4})


class DeterminismTest(Dirs):
    def test_same_seed_same_bytes_other_seed_differs(self):
        runs = {}
        for name, seed in (('a', '7'), ('b', '7'), ('c', '8')):
            out = self.dir(name)
            self.assertEqual(synth(out, '--kind', 'coco', '--size', '6', '--seed', seed, '--noise', '0.2')[0], 0)
            files = {}
            for d, _, names in os.walk(out):
                for f in names:
                    files[os.path.relpath(os.path.join(d, f), out)] = digest(os.path.join(d, f))
            runs[name] = files
        self.assertEqual(runs['a'], runs['b'])
        self.assertGreater(len(runs['a']), 6)
        self.assertNotEqual(runs['a']['dataset_coco.json'], runs['c']['dataset_coco.json'])
        self.assertNotEqual(set(runs['a']), set(runs['c']))  # other cocoids, other images


class SplitTest(Dirs):
    def test_published_proportions_at_full_scale(self):
        self.assertEqual(split_sizes('coco', 123_287, 'all'), {'train': 82_783, 'restval': 30_504, 'val': 5_000, 'test': 5_000})
        self.assertEqual(split_sizes('flickr30k', 31_014, 'all'), {'train': 29_000, 'val': 1_014, 'test': 1_000})
        self.assertEqual(split_sizes('nlvr2', 100_322, 'all'), {'train': 86_373, 'dev': 6_982, 'test1': 6_967})
        p = plan('coco', 123_287, 0, 'all')
        self.assertEqual(sum(p.caption_counts), 616_767)  # some images have 6 or 7 captions, as published
        self.assertEqual(max(p.caption_counts), 7)

    def test_small_sizes_fill_every_split(self):
        for n in (4, 12, 50, 300):
            for kind in ('coco', 'flickr30k', 'nlvr2'):
                sizes = split_sizes(kind, n, 'all')
                self.assertEqual(sum(sizes.values()), n)
                self.assertTrue(all(v >= (3 if n >= 40 else 1) for v in sizes.values()), (kind, n, sizes))
        coco = split_sizes('coco', 1000, 'all')
        self.assertTrue(35 <= coco['val'] <= 45 and coco['val'] == coco['test'], coco)

    def test_named_split_takes_all_items(self):
        out = self.dir('test-only')
        rc, _ = synth(out, '--kind', 'coco', '--size', '9', '--split', 'test', '--no-images')
        self.assertEqual(rc, 0)
        with open(os.path.join(out, 'dataset_coco.json')) as fh:
            images = json.load(fh)['images']
        self.assertEqual({i['split'] for i in images}, {'test'})
        self.assertEqual({i['filepath'] for i in images}, {'val2014'})
        self.assertEqual(os.listdir(os.path.join(out, 'val2014')), [])  # --no-images writes no image files


class CaptionNoiseTest(Dirs):
    def test_answer_key_is_exact(self):
        clean, noisy = self.dir('clean'), self.dir('noisy')
        args = ['--kind', 'coco', '--size', '80', '--seed', '3', '--no-images']
        self.assertEqual(synth(clean, *args)[0], 0)
        self.assertEqual(synth(noisy, *args, '--noise', '0.1')[0], 0)
        clean_imgs, noisy_imgs = (load_images(d, 'dataset_coco.json') for d in (clean, noisy))
        with open(os.path.join(noisy, 'noise.json')) as fh:
            key = json.load(fh)
        self.assertEqual(set(key), {'captions', 'nlvr2'})
        self.assertEqual(key['nlvr2'], [])
        total = sum(len(i['sentences']) for i in noisy_imgs)
        self.assertEqual(len(key['captions']), round(0.1 * total))
        rows = {r['sentid']: r for r in key['captions']}
        p = plan('coco', 80, 3, 'all')
        contradicting = 0
        for ci, ni in zip(clean_imgs, noisy_imgs):
            self.assertEqual(ci['sentids'], ni['sentids'])
            for cs, ns in zip(ci['sentences'], ni['sentences']):
                row = rows.get(ns['sentid'])
                if row is None:
                    self.assertEqual(cs, ns)  # noise touches only the sentences it records
                    continue
                self.assertEqual(row['assigned_imgid'], ni['imgid'])
                self.assertEqual(ns['imgid'], ni['imgid'])
                self.assertNotEqual(row['true_imgid'], row['assigned_imgid'])
                self.assertEqual(noisy_imgs[row['true_imgid']]['split'], ni['split'])
                self.assertTrue(describes(image_scene(p, row['true_imgid']), ns['raw']), ns['raw'])
                contradicting += not describes(image_scene(p, ni['imgid']), ns['raw'])
        self.assertGreaterEqual(contradicting, 0.95 * len(rows))


class ScaleTest(Dirs):
    def test_annotation_file_is_streamed(self):
        out = self.dir('scale')
        os.makedirs(out)
        path = os.path.join(out, 'dataset_coco.json')
        sizes_seen = []
        summary = write_karpathy(out, 'coco', 5000, 0, 'all', None, False,
                                 progress=lambda done, n: sizes_seen.append((done, os.path.getsize(path))))
        # written in chunks while generating, not as one string at the end
        self.assertTrue(any(done < 5000 and size > 1000 for done, size in sizes_seen), sizes_seen)
        with open(path) as fh:
            text = fh.read()
        self.assertTrue(text.startswith('{"images": [{') and text.endswith('}], "dataset": "coco"}'))
        data = json.loads(text)
        self.assertEqual(len(data['images']), 5000)
        self.assertEqual(summary['captions'], sum(len(i['sentences']) for i in data['images']))
        self.assertEqual([i['imgid'] for i in data['images']], list(range(5000)))
        self.assertEqual(os.listdir(os.path.join(out, 'train2014')), [])


if __name__ == '__main__':
    unittest.main()
