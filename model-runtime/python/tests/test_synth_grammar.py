"""The scene grammar: captions are true of their scenes, use only the published word list, and the
renderer draws what the scene says."""
import random
import unittest

from mome.synth import captions_for, describes, sample_scene, tokenize, vocabulary
from mome.synth.captions import reader_recall
from mome.synth.lexicon import COLOURS, colour_of_word, shape_of_word
from mome.synth.nlvr2 import example_set
from mome.synth.render import render
from mome.synth.scene import Scene, SceneObject, frame_position, relation


def obj(shape='circle', colour='red', x=100.0, y=100.0, radius=40.0, z=0, texture='solid', size='large'):
    return SceneObject(shape, colour, size, texture, x, y, radius, 0.0, z)


class VocabularyTest(unittest.TestCase):
    def test_word_list_is_small_sorted_and_lower_case(self):
        words = vocabulary()
        self.assertEqual(words, sorted(set(words)))
        self.assertTrue(all(w == w.lower() and w.isalnum() for w in words))
        self.assertLess(len(words), 300)  # a tiny model's own WordPiece vocab
        for w in ('red', 'circle', 'circles', 'left', 'exactly', 'striped', 'grass', 'behind'):
            self.assertIn(w, words)

    def test_every_caption_and_statement_token_is_in_the_word_list(self):
        words = set(vocabulary())
        rng = random.Random(7)
        for _ in range(300):
            for text in captions_for(sample_scene(rng), rng, 7):
                unknown = set(tokenize(text)) - words
                self.assertFalse(unknown, f'caption "{text}" uses words outside vocabulary(): {unknown}')
        for i in range(40):
            for ex in example_set(3, 'dev', i, i).examples:
                unknown = set(tokenize(ex.sentence)) - words
                self.assertFalse(unknown, f'statement "{ex.sentence}" uses words outside vocabulary(): {unknown}')


class CaptionTest(unittest.TestCase):
    def test_captions_are_true_of_their_scene_and_distinct(self):
        rng = random.Random(11)
        for _ in range(300):
            scene = sample_scene(rng)
            caps = captions_for(scene, rng, 5)
            self.assertEqual(len(caps), 5)
            self.assertEqual(len({' '.join(tokenize(c)) for c in caps}), 5, caps)
            for c in caps:
                self.assertTrue(describes(scene, c), f'"{c}" names something not in {scene}')

    def test_describes_rejects_a_caption_of_another_scene(self):
        a = Scene(640, 480, 'grass', (obj('circle', 'red'),))
        b = Scene(640, 480, 'snow', (obj('star', 'blue'),))
        self.assertTrue(describes(a, 'A red circle on the grass.'))
        self.assertFalse(describes(b, 'A red circle on the grass.'))
        self.assertFalse(describes(a, 'A red circle in the snow.'))

    def test_captions_separate_images(self):
        # retrieval must be learnable: different scenes almost never share a caption
        rng = random.Random(5)
        seen, dupes, total = set(), 0, 0
        for _ in range(400):
            for c in captions_for(sample_scene(rng), rng, 5):
                key = ' '.join(tokenize(c))
                dupes += key in seen
                seen.add(key)
                total += 1
        self.assertLess(dupes / total, 0.03)

    def test_every_caption_names_every_objects_colour_and_shape(self):
        rng = random.Random(23)
        for _ in range(300):
            scene = sample_scene(rng)
            for c in captions_for(scene, rng, 5):
                toks = tokenize(c)
                colours = {colour_of_word(t) for t in toks}
                shapes = {shape_of_word(t) for t in toks}
                for o in scene.objects:
                    self.assertIn(o.colour, colours, f'"{c}" leaves out the {o.colour} {o.shape}')
                    self.assertIn(o.shape, shapes, f'"{c}" leaves out the {o.colour} {o.shape}')

    def test_a_reader_of_the_words_alone_retrieves_the_image(self):
        # the ceiling of caption-to-image retrieval on this grammar (README, Tiny model): IR R@5 >= 95 on 1K images
        # there; 200 images here keep the test fast, and a smaller gallery only makes it easier, so hold R@1 too
        rng = random.Random(31)
        scenes, caps = [], []
        for i in range(200):
            scenes.append(sample_scene(rng))
            caps += [(i, c) for c in captions_for(scenes[-1], rng, 5)]
        recall = reader_recall(scenes, caps)
        self.assertGreaterEqual(recall['r5'], 95.0, recall)
        self.assertGreaterEqual(recall['r1'], 90.0, recall)


class SceneTest(unittest.TestCase):
    def test_sizes_and_object_counts_are_realistic(self):
        rng = random.Random(2)
        scenes = [sample_scene(rng) for _ in range(300)]
        for s in scenes:
            self.assertTrue(320 <= max(s.width, s.height) <= 640, (s.width, s.height))
            self.assertTrue(1 <= len(s.objects) <= 5)
            for o in s.objects:  # wholly inside the frame
                self.assertTrue(o.radius <= o.x <= s.width - o.radius and o.radius <= o.y <= s.height - o.radius)
        self.assertGreater(len({(s.width, s.height) for s in scenes}), 10)
        self.assertGreater(len({s.background for s in scenes}), 6)
        self.assertTrue(any(relation(a, b) == 'behind' for s in scenes for a in s.objects for b in s.objects))

    def test_relations_follow_geometry(self):
        a, b = obj(x=100, y=200), obj(x=400, y=210, z=1)
        self.assertEqual(relation(a, b), 'left_of')
        self.assertEqual(relation(b, a), 'right_of')
        c = obj(x=120, y=400, z=2)
        self.assertEqual(relation(a, c), 'above')
        front = obj(x=150, y=200, z=3)  # overlaps a and is drawn later
        self.assertEqual(relation(a, front), 'behind')
        self.assertEqual(relation(front, a), 'front')
        scene = Scene(600, 600, 'sand', (a,))
        self.assertEqual(frame_position(scene, obj(x=60, y=60)), 'in the top left corner')
        self.assertEqual(frame_position(scene, obj(x=300, y=300)), 'in the middle')


class RenderTest(unittest.TestCase):
    def test_pixels_show_the_scene(self):
        circle = obj('circle', 'red', x=320, y=240, radius=90)
        square = obj('square', 'blue', x=100, y=100, radius=50, z=1)
        scene = Scene(640, 480, 'snow', (circle, square))
        img = render(scene, random.Random(0))
        self.assertEqual(img.size, (640, 480))
        for (x, y), colour in (((320, 240), 'red'), ((100, 100), 'blue')):
            px = img.getpixel((x, y))
            self.assertLess(max(abs(p - q) for p, q in zip(px, COLOURS[colour][1])), 10, (colour, px))
        corner = img.getpixel((630, 470))
        self.assertGreater(min(corner), 200)  # snow is near-white

    def test_same_seed_same_pixels(self):
        scene = sample_scene(random.Random(9))
        a = render(scene, random.Random(1)).tobytes()
        self.assertEqual(a, render(scene, random.Random(1)).tobytes())


if __name__ == '__main__':
    unittest.main()
