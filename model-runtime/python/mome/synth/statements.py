"""NLVR2-style statements about an image pair (left, right): counts, comparisons, colours, relations,
backgrounds. Each Statement carries its own truth function over the two scenes, so a label is
computed, never sampled."""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

from .captions import colour_word, shape_word, with_article
from .lexicon import BACKGROUNDS, NUMBERS, PHRASES
from .scene import Scene, SceneObject, count, relation

Truth = Callable[[Scene, Scene], bool]


@dataclass(frozen=True)
class Selector:
    """Which objects a statement counts: by colour, by shape, both, or any."""
    colour: str | None
    shape: str | None

    def count(self, scene: Scene) -> int:
        return count(scene, self.colour, self.shape)

    def matches(self, o: SceneObject) -> bool:
        return (self.colour is None or o.colour == self.colour) and (self.shape is None or o.shape == self.shape)

    def words(self, rng: random.Random, plural: bool) -> str:
        noun = shape_word(rng, self.shape, plural) if self.shape else rng.choice(
            PHRASES['generic_pl'] if plural else PHRASES['generic_sg'])
        return f'{colour_word(rng, self.colour)} {noun}' if self.colour else noun


@dataclass(frozen=True)
class Statement:
    text: str
    truth: Truth
    family: str


@dataclass(frozen=True)
class Theme:
    """What a set of image pairs has in common (as NLVR2 pairs share a synset and query)."""
    colours: tuple[str, ...]
    shapes: tuple[str, ...]
    backgrounds: tuple[str, ...]


def _selector(rng: random.Random, theme: Theme, specific: bool = False) -> Selector:
    r = rng.random()
    if r < 0.4:
        return Selector(None, rng.choice(theme.shapes))
    if r < 0.75:
        return Selector(rng.choice(theme.colours), rng.choice(theme.shapes))
    if r < 0.92 or specific:
        return Selector(rng.choice(theme.colours), None)
    return Selector(None, None)


def _side(rng):
    return ('left', 'right') if rng.random() < 0.5 else ('right', 'left')


def _pick(scenes: tuple[Scene, Scene], side: str) -> Scene:
    return scenes[0] if side == 'left' else scenes[1]


def _is_are(n: int) -> str:
    return 'is' if n == 1 else 'are'


def count_exact(rng, theme):
    sel, (side, _) = _selector(rng, theme), _side(rng)
    n = rng.randint(1, 4)
    what = f'{NUMBERS[n]} {sel.words(rng, n != 1)}'
    text = rng.choice((
        f'the {side} image contains exactly {what}',
        f'there {_is_are(n)} exactly {what} in the {side} image',
        f'in the {side} image, there {_is_are(n)} exactly {what}',
    ))
    return text, lambda l, r: sel.count(_pick((l, r), side)) == n


def count_at_least(rng, theme):
    sel, (side, _) = _selector(rng, theme), _side(rng)
    n = rng.randint(2, 4)
    what = f'{NUMBERS[n]} {sel.words(rng, True)}'
    text = rng.choice((f'the {side} image contains at least {what}', f'there are at least {what} in the {side} image'))
    return text, lambda l, r: sel.count(_pick((l, r), side)) >= n


def both(rng, theme):
    sel = _selector(rng, theme, specific=True)
    one = with_article(sel.words(rng, False))
    text = rng.choice((f'both images contain {one}', f'each image contains at least one {sel.words(rng, False)}',
                       f'there is {one} in each image'))
    return text, lambda l, r: sel.count(l) > 0 and sel.count(r) > 0


def at_least_one(rng, theme):
    sel = _selector(rng, theme, specific=True)
    one = with_article(sel.words(rng, False))
    text = rng.choice((f'at least one image contains {one}', f'one of the images shows {one}'))
    return text, lambda l, r: sel.count(l) > 0 or sel.count(r) > 0


def exactly_one(rng, theme):
    sel = _selector(rng, theme, specific=True)
    one = with_article(sel.words(rng, False))
    text = rng.choice((f'exactly one image contains {one}', f'only one of the two images has {one}',
                       f'only one image contains {one}'))
    return text, lambda l, r: (sel.count(l) > 0) != (sel.count(r) > 0)


def neither(rng, theme):
    sel = _selector(rng, theme, specific=True)
    one = with_article(sel.words(rng, False))
    text = rng.choice((f'neither image contains {one}', f'no image contains {one}'))
    return text, lambda l, r: sel.count(l) == 0 and sel.count(r) == 0


def more(rng, theme):
    sel, (side, other) = _selector(rng, theme), _side(rng)
    many = sel.words(rng, True)
    if rng.random() < 0.3:
        text = f'the {side} image has fewer {many} than the {other} image'
        return text, lambda l, r: sel.count(_pick((l, r), side)) < sel.count(_pick((l, r), other))
    text = rng.choice((f'the {side} image contains more {many} than the {other} image',
                       f'there are more {many} in the {side} image than in the {other} image'))
    return text, lambda l, r: sel.count(_pick((l, r), side)) > sel.count(_pick((l, r), other))


def same_number(rng, theme):
    sel = _selector(rng, theme)
    many = sel.words(rng, True)
    text = rng.choice((f'both images contain the same number of {many}',
                       f'the two images contain equal numbers of {many}'))
    return text, lambda l, r: sel.count(l) == sel.count(r)


def total(rng, theme):
    sel = _selector(rng, theme)
    n = rng.randint(2, 8)
    what = f'{NUMBERS[n]} {sel.words(rng, True)}'
    text = rng.choice((f'there are exactly {what} in total', f'the two images contain {what} altogether',
                       f'there are exactly {what} across both images'))
    return text, lambda l, r: sel.count(l) + sel.count(r) == n


_REL = ('left_of', 'right_of', 'above', 'below', 'behind')


def related(rng, theme):
    a, b = _selector(rng, theme, specific=True), _selector(rng, theme, specific=True)
    rel = rng.choice(_REL)
    phrase = rng.choice(PHRASES[rel])
    pair = f'{with_article(a.words(rng, False))} is {phrase} {with_article(b.words(rng, False))}'

    def holds(scene: Scene) -> bool:
        return any(relation(x, y) == rel for x in scene.objects if a.matches(x)
                   for y in scene.objects if y is not x and b.matches(y))

    if rng.random() < 0.5:
        side, _ = _side(rng)
        return f'in the {side} image, {pair}', lambda l, r: holds(_pick((l, r), side))
    text = rng.choice((f'in at least one image, {pair}', f'in one of the images, {pair}'))
    return text, lambda l, r: holds(l) or holds(r)


def background(rng, theme):
    bg = rng.choice(theme.backgrounds)
    where = rng.choice(BACKGROUNDS[bg][0])
    r = rng.random()
    if r < 0.4:
        return f'both images show shapes {where}', lambda l, r_: l.background == bg and r_.background == bg
    if r < 0.7:
        side, _ = _side(rng)
        return f'the {side} image shows shapes {where}', lambda l, r_: _pick((l, r_), side).background == bg
    return f'only one image shows shapes {where}', lambda l, r_: (l.background == bg) != (r_.background == bg)


def all_one_colour(rng, theme):
    colour, (side, _) = rng.choice(theme.colours), _side(rng)
    word = colour_word(rng, colour)
    text = rng.choice((f'all the shapes in the {side} image are {word}', f'every shape in the {side} image is {word}'))

    def holds(l, r):
        s = _pick((l, r), side)
        return bool(s.objects) and all(o.colour == colour for o in s.objects)

    return text, holds


# (name, maker, weight, level): level 0 asks whether something is there (presence, colour, background), level 1
# counts or compares. The weights favour level 0 two to one, as a small model learns to see what is there before
# it learns to count it; tiny training orders its NLVR2 batches by level (a curriculum, mome.tiny.stages).
FAMILIES: tuple[tuple[str, Callable, int, int], ...] = (
    ('both', both, 4, 0), ('at_least_one', at_least_one, 3, 0), ('exactly_one', exactly_one, 3, 0),
    ('neither', neither, 2, 0), ('background', background, 2, 0), ('all_one_colour', all_one_colour, 2, 0),
    ('count_exact', count_exact, 2, 1), ('count_at_least', count_at_least, 2, 1), ('more', more, 2, 1),
    ('same_number', same_number, 1, 1), ('total', total, 1, 1), ('related', related, 1, 1),
)
LEVEL = {name: level for name, _, _, level in FAMILIES}


def sample_statement(rng: random.Random, theme: Theme) -> Statement:
    weights = sum(w for _, _, w, _ in FAMILIES)
    r = rng.random() * weights
    for name, make, w, _ in FAMILIES:
        r -= w
        if r < 0:
            break
    text, truth = make(rng, theme)
    return Statement(text, truth, name)


def finish_statement(text: str) -> str:
    return text[0].upper() + text[1:] + '.'
