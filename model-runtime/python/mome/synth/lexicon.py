"""Every word the scene grammar can say, in one place.

Captions and NLVR2 statements are built only from the strings in this module (the PHRASES table
and the attribute tables), so `vocabulary()` can list the grammar's full word set by tokenizing
them: a tiny model gets a WordPiece vocabulary that covers every synthetic sentence.
"""
from __future__ import annotations

import re

# shape -> (singular forms, plural forms); the first form is the canonical name
SHAPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    'circle': (('circle', 'disc'), ('circles', 'discs')),
    'square': (('square', 'block'), ('squares', 'blocks')),
    'triangle': (('triangle',), ('triangles',)),
    'star': (('star',), ('stars',)),
    'hexagon': (('hexagon',), ('hexagons',)),
    'diamond': (('diamond', 'rhombus'), ('diamonds', 'rhombuses')),
    'heart': (('heart',), ('hearts',)),
    'cross': (('cross',), ('crosses',)),
}

# colour -> (words, RGB); saturated and far apart so they survive a 128 px resize and JPEG
COLOURS: dict[str, tuple[tuple[str, ...], tuple[int, int, int]]] = {
    'red': (('red',), (214, 36, 36)),
    'orange': (('orange',), (246, 138, 22)),
    'yellow': (('yellow',), (246, 218, 38)),
    'green': (('green',), (34, 168, 58)),
    'blue': (('blue',), (36, 78, 222)),
    'purple': (('purple', 'violet'), (132, 46, 182)),
    'pink': (('pink',), (248, 128, 192)),
    'white': (('white',), (250, 250, 250)),
    'black': (('black',), (22, 22, 22)),
    'brown': (('brown',), (128, 78, 36)),
}

# size class -> (adjectives, radius as a fraction of the image's longer side)
SIZES: dict[str, tuple[tuple[str, ...], float]] = {
    'small': (('small', 'little', 'tiny'), 0.085),
    'medium': (('medium-sized', 'mid-sized'), 0.115),
    'large': (('large', 'big'), 0.15),
}

# texture -> (pre-noun adjectives, post-noun phrases)
TEXTURES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    'solid': (('plain', 'solid'), ()),
    'striped': (('striped',), ('with stripes',)),
    'dotted': (('dotted', 'spotted'), ('with dots', 'with polka dots')),
    'checkered': (('checkered', 'checked'), ('with a checkered pattern',)),
}

# background -> (location phrases after a noun phrase, words that name it, RGB tones)
BACKGROUNDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    'grass': (('on the grass', 'on a grassy field', 'on a lawn'), ('grass', 'grassy', 'lawn')),
    'sand': (('on the sand', 'on a sandy beach', 'in the sand'), ('sand', 'sandy', 'beach')),
    'sky': (('against the sky', 'in the sky', 'against a cloudy sky'), ('sky', 'cloudy')),
    'water': (('on the water', 'floating on water', 'on a lake'), ('water', 'lake')),
    'wall': (('in front of a brick wall', 'against a brick wall'), ('brick', 'wall')),
    'wood': (('on a wooden table', 'on a wooden floor', 'on wooden planks'), ('wooden', 'table', 'planks')),
    'snow': (('in the snow', 'on snow', 'on a snowy field'), ('snow', 'snowy')),
    'tiles': (('on a tiled floor', 'on floor tiles', 'on tiles'), ('tiled', 'tiles')),
}

NUMBERS = ('zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten')

# Literal fragments of the sentence templates (captions.py, statements.py use only these).
PHRASES: dict[str, tuple[str, ...]] = {
    'article': ('a', 'an', 'the', 'some'),
    'single': ('a single', 'only one', 'one'),
    'pair': ('a pair of',),
    'generic_sg': ('shape', 'object'),
    'generic_pl': ('shapes', 'objects'),
    'and': ('and', 'with', 'next to', 'beside', 'near'),
    'other': ('other', 'more', 'another'),
    'photo': ('a photo of', 'a picture of', 'an image of', 'a drawing of', 'this is', 'there is',
              'there are', 'this picture shows', 'the image shows', 'we can see', 'you can see', 'in this image'),
    'left_of': ('to the left of', 'on the left of', 'left of'),
    'right_of': ('to the right of', 'on the right of', 'right of'),
    'above': ('above', 'over', 'on top of'),
    'below': ('below', 'under', 'underneath'),
    'behind': ('partly hidden behind', 'behind', 'partly covered by'),
    'front': ('in front of', 'overlapping', 'partly covering'),
    'frame': ('in the top left corner', 'in the top right corner', 'in the bottom left corner',
              'in the bottom right corner', 'at the top', 'at the bottom', 'on the left', 'on the right',
              'in the middle', 'in the centre', 'of the picture', 'of the image', 'side'),
    'only': ('only', 'just', 'alone', 'by itself'),
    'colours': ('shapes in', 'coloured', 'colored', 'in', 'or', 'all', 'are', 'is', 'of', 'them'),
    'count': ('exactly', 'at least', 'at most', 'more', 'fewer', 'than', 'in total', 'the same number of',
              'equal numbers of', 'across both images', 'altogether', 'as many', 'as'),
    'pair_words': ('the left image', 'the right image', 'left', 'right', 'both images', 'each image',
                   'each of the images', 'one image', 'one of the images', 'at least one image', 'neither image',
                   'no image', 'the two images', 'only one image', 'only one of the two images', 'in the',
                   'contains', 'contain', 'has', 'have', 'shows', 'show', 'there', 'image', 'images',
                   'background', 'a background of', 'every shape', 'all the shapes', 'all shapes', 'does',
                   'not', 'no', 'any', 'none', 'it', 'on'),
}


def tokenize(text: str) -> list[str]:
    """Karpathy-style tokens: lower case, punctuation dropped, hyphenated words split."""
    return re.findall(r'[a-z0-9]+', text.lower())


def _strings():
    for forms in SHAPES.values():
        yield from forms[0]
        yield from forms[1]
    for words, _ in COLOURS.values():
        yield from words
    for words, _ in SIZES.values():
        yield from words
    for pre, post in TEXTURES.values():
        yield from pre
        yield from post
    for phrases, words in BACKGROUNDS.values():
        yield from phrases
        yield from words
    yield from NUMBERS
    for fragments in PHRASES.values():
        yield from fragments


def vocabulary() -> list[str]:
    """The full, sorted word list of the caption and NLVR2-statement grammar."""
    return sorted({tok for s in _strings() for tok in tokenize(s)})


def colour_of_word(word: str) -> str | None:
    for name, (words, _) in COLOURS.items():
        if word in words:
            return name
    return None


def shape_of_word(word: str) -> str | None:
    for name, (sing, plur) in SHAPES.items():
        if word in sing or word in plur:
            return name
    return None


def background_of_word(word: str) -> str | None:
    for name, (_, words) in BACKGROUNDS.items():
        if word in words:
            return name
    return None
