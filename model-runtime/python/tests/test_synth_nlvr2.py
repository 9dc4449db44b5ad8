"""`mome synth --kind nlvr2`: the published field names (checked against the real dev.json), image
naming and folders, True/False balance, labels that match what the sentence says about the two
scenes, flipped-label noise with an exact answer key, and determinism."""
import contextlib
import hashlib
import io
import json
import os
import re
import tempfile
import unittest

from PIL import Image

from mome.synth.cli import main
from mome.synth.lexicon import BACKGROUNDS, NUMBERS, PHRASES, colour_of_word, shape_of_word
from mome.synth.nlvr2 import example_set
from mome.synth.scene import relation

REAL_DEV = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'shared', 'fixtures', 'nlvr2', 'dev.json')
IDENTIFIER = re.compile(r'^(train|dev|test1)-(\d+)-(\d+)-(\d+)$')


def synth(out, *args):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
        rc = main(['--out', out, *args])
    return rc, [json.loads(line) for line in buf.getvalue().splitlines()]


def digest(path):
    with open(path, 'rb') as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def read_lines(path):
    with open(path) as fh:
        return [json.loads(line) for line in fh]


class Dirs(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.root = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()


class FormatTest(Dirs):
    def test_fields_match_the_real_dev_file_and_images_sit_where_nlvr2_puts_them(self):
        out = os.path.join(self.root, 'nlvr2')
        rc, lines = synth(out, '--kind', 'nlvr2', '--size', '60', '--seed', '2')
        self.assertEqual(rc, 0, lines)
        with open(REAL_DEV) as fh:
            real = json.loads(fh.readline())
        for split in ('train', 'dev', 'test1'):
            records = read_lines(os.path.join(out, f'{split}.json'))
            self.assertTrue(records, split)
            for rec in records:
                expected = set(real) | ({'directory'} if split == 'train' else set())
                self.assertEqual(set(rec), expected, rec)
                for k, v in real.items():
                    self.assertIsInstance(rec[k], type(v), k)
                m = IDENTIFIER.match(rec['identifier'])
                self.assertIsNotNone(m, rec['identifier'])
                self.assertEqual(m.group(1), split)
                self.assertIn(rec['label'], ('True', 'False'))
                self.assertTrue(all(v in ('True', 'False') for v in rec['validation'].values()))
                base = rec['identifier'].rsplit('-', 1)[0]
                if split == 'train':
                    self.assertIsInstance(rec['directory'], int)
                    folder = os.path.join(out, 'images', 'train', str(rec['directory']))
                else:
                    self.assertEqual(len(rec['extra_validations']), len(set(rec['extra_validations'])))
                    folder = os.path.join(out, split)
                for side in ('img0', 'img1'):
                    with Image.open(os.path.join(folder, f'{base}-{side}.png')) as im:
                        self.assertEqual(im.format, 'PNG')
                        self.assertTrue(320 <= max(im.size) <= 640)
            self.assertEqual(len({r['identifier'] for r in records}), len(records))

    def test_named_split_writes_one_file(self):
        out = os.path.join(self.root, 'dev-only')
        rc, _ = synth(out, '--kind', 'nlvr2', '--size', '10', '--split', 'dev', '--no-images')
        self.assertEqual(rc, 0)
        self.assertEqual(sorted(os.listdir(out)), ['dev', 'dev.json'])
        self.assertEqual(len(read_lines(os.path.join(out, 'dev.json'))), 10)

    def test_same_seed_same_bytes(self):
        digests = []
        for name in ('a', 'b'):
            out = os.path.join(self.root, name)
            self.assertEqual(synth(out, '--kind', 'nlvr2', '--size', '8', '--split', 'test1', '--seed', '5')[0], 0)
            digests.append({f: digest(os.path.join(out, d, f)) for d in ('.', 'test1')
                            for f in os.listdir(os.path.join(out, d)) if os.path.isfile(os.path.join(out, d, f))})
        self.assertEqual(digests[0], digests[1])
        self.assertEqual(len(digests[0]), 1 + 8)  # test1.json and four pairs of images
        other = os.path.join(self.root, 'c')
        synth(other, '--kind', 'nlvr2', '--size', '8', '--split', 'test1', '--seed', '6')
        self.assertNotEqual(digest(os.path.join(other, 'test1.json')), digests[0]['test1.json'])


class LabelTest(Dirs):
    def test_true_and_false_are_balanced_within_and_across_sentences(self):
        out = os.path.join(self.root, 'bal')
        rc, lines = synth(out, '--kind', 'nlvr2', '--size', '480', '--seed', '9', '--no-images')
        self.assertEqual(rc, 0)
        records = [r for f in ('train', 'dev', 'test1') for r in read_lines(os.path.join(out, f'{f}.json'))]
        self.assertEqual(len(records), 480)
        true = sum(r['label'] == 'True' for r in records)
        self.assertTrue(0.45 <= true / 480 <= 0.55, true)
        by_sentence = {}
        for r in records:
            by_sentence.setdefault(r['identifier'].rsplit('-', 3)[0] + r['sentence'], set()).add(r['label'])
        mixed = sum(len(v) == 2 for v in by_sentence.values())
        self.assertGreater(mixed / len(by_sentence), 0.85)  # the sentence alone rarely gives the label away

    def test_labels_agree_with_an_independent_reading_of_the_sentence(self):
        families = set()
        for i in range(40):
            es = example_set(4, 'dev', i, i)
            families |= {st.family for st in es.statements}
            for ex in es.examples:
                left, right = es.pairs[ex.pair]
                self.assertEqual(read_statement(ex.sentence, left, right), ex.label,
                                 f'"{ex.sentence}" labelled {ex.label}')
        self.assertGreaterEqual(len(families), 10)  # the reading covered most statement shapes


class NoiseTest(Dirs):
    def test_flipped_labels_are_exactly_the_answer_key(self):
        clean, noisy = os.path.join(self.root, 'clean'), os.path.join(self.root, 'noisy')
        args = ['--kind', 'nlvr2', '--size', '200', '--seed', '1', '--no-images']
        self.assertEqual(synth(clean, *args)[0], 0)
        self.assertEqual(synth(noisy, *args, '--noise', '0.15')[0], 0)
        with open(os.path.join(noisy, 'noise.json')) as fh:
            key = json.load(fh)
        self.assertEqual(key['captions'], [])
        self.assertEqual(len(key['nlvr2']), 30)
        rows = {r['identifier']: r for r in key['nlvr2']}
        flipped = 0
        for split in ('train', 'dev', 'test1'):
            for c, n in zip(read_lines(os.path.join(clean, f'{split}.json')), read_lines(os.path.join(noisy, f'{split}.json'))):
                self.assertEqual(c['identifier'], n['identifier'])
                self.assertEqual(c['sentence'], n['sentence'])
                row = rows.get(n['identifier'])
                if row is None:
                    self.assertEqual(c['label'], n['label'])
                    continue
                flipped += 1
                self.assertEqual(row['true_label'], c['label'])
                self.assertEqual(row['given_label'], n['label'])
                self.assertNotEqual(c['label'], n['label'])
        self.assertEqual(flipped, 30)


# ---- an independent reading of the statements: parses the words, counts objects itself ----

_NUM = {w: i for i, w in enumerate(NUMBERS)}
_REL = {p: name for name in ('left_of', 'right_of', 'above', 'below', 'behind') for p in PHRASES[name]}


def _selector(words):
    """'red circles' / 'circle' / 'blue shapes' / 'objects' -> predicate over objects."""
    colour = shape = None
    for w in words.split():
        colour = colour or colour_of_word(w)
        shape = shape or shape_of_word(w)
    return lambda o: (colour is None or o.colour == colour) and (shape is None or o.shape == shape)


def _n(scene, words):
    sel = _selector(words)
    return sum(1 for o in scene.objects if sel(o))


def read_statement(sentence, left, right):
    s = sentence.rstrip('.').lower()
    side = lambda name: left if name == 'left' else right
    m = (re.fullmatch(r'the (left|right) image contains exactly (\w+) (.+)', s)
         or re.fullmatch(r'there (?:is|are) exactly (\w+) (.+) in the (left|right) image', s)
         or re.fullmatch(r'in the (left|right) image, there (?:is|are) exactly (\w+) (.+)', s))
    if m:
        g = m.groups()
        name, num, what = (g[2], g[0], g[1]) if s.startswith('there') else g
        return _n(side(name), what) == _NUM[num]
    m = re.fullmatch(r'the (left|right) image contains at least (\w+) (.+)', s)
    if m:
        return _n(side(m[1]), m[3]) >= _NUM[m[2]]
    m = re.fullmatch(r'there are at least (\w+) (.+) in the (left|right) image', s)
    if m:
        return _n(side(m[3]), m[2]) >= _NUM[m[1]]
    m = (re.fullmatch(r'both images contain an? (.+)', s) or re.fullmatch(r'each image contains at least one (.+)', s)
         or re.fullmatch(r'there is an? (.+) in each image', s))
    if m and 'same number' not in s:
        return _n(left, m[1]) > 0 and _n(right, m[1]) > 0
    m = re.fullmatch(r'(?:at least one image contains|one of the images shows) an? (.+)', s)
    if m:
        return _n(left, m[1]) > 0 or _n(right, m[1]) > 0
    m = re.fullmatch(r'(?:exactly one image contains|only one of the two images has|only one image contains) an? (.+)', s)
    if m:
        return (_n(left, m[1]) > 0) != (_n(right, m[1]) > 0)
    m = re.fullmatch(r'(?:neither image contains|no image contains) an? (.+)', s)
    if m:
        return _n(left, m[1]) == 0 and _n(right, m[1]) == 0
    m = (re.fullmatch(r'the (left|right) image contains more (.+) than the (left|right) image', s)
         or re.fullmatch(r'there are more (.+) in the (left|right) image than in the (left|right) image', s))
    if m:
        what, a, b = (m[2], m[1], m[3]) if s.startswith('the ') else (m[1], m[2], m[3])
        return _n(side(a), what) > _n(side(b), what)
    m = re.fullmatch(r'the (left|right) image has fewer (.+) than the (left|right) image', s)
    if m:
        return _n(side(m[1]), m[2]) < _n(side(m[3]), m[2])
    m = re.fullmatch(r'(?:both images contain the same number of|the two images contain equal numbers of) (.+)', s)
    if m:
        return _n(left, m[1]) == _n(right, m[1])
    m = (re.fullmatch(r'there are exactly (\w+) (.+) in total', s)
         or re.fullmatch(r'the two images contain (\w+) (.+) altogether', s)
         or re.fullmatch(r'there are exactly (\w+) (.+) across both images', s))
    if m:
        return _n(left, m[2]) + _n(right, m[2]) == _NUM[m[1]]
    m = re.fullmatch(r'(?:all the shapes in the (left|right) image are|every shape in the (left|right) image is) (\w+)', s)
    if m:
        scene = side(m[1] or m[2])
        return bool(scene.objects) and all(o.colour == colour_of_word(m[3]) for o in scene.objects)
    for bg, (phrases, _) in BACKGROUNDS.items():
        for where in phrases:
            if s == f'both images show shapes {where}':
                return left.background == bg and right.background == bg
            if s == f'only one image shows shapes {where}':
                return (left.background == bg) != (right.background == bg)
            m = re.fullmatch(rf'the (left|right) image shows shapes {where}', s)
            if m:
                return side(m[1]).background == bg
    m = re.fullmatch(r'in (the left image|the right image|at least one image|one of the images), an? (.+?) is (.+) an? (.+)', s)
    if m:
        rel = _REL[m[3]]
        a, b = _selector(m[2]), _selector(m[4])
        scenes = {'the left image': [left], 'the right image': [right]}.get(m[1], [left, right])
        return any(relation(x, y) == rel for sc in scenes for x in sc.objects if a(x)
                   for y in sc.objects if y is not x and b(y))
    raise AssertionError(f'the test cannot read "{sentence}": a statement shape it does not know')


if __name__ == '__main__':
    unittest.main()
