"""Caption grammar: several sentence shapes over a Scene (attributes, counts, spatial relations,
position in the frame, background, colours, textures), with synonyms. Every caption is true of its
scene; five captions of one image each pick different properties, so no single caption gives
the whole scene away and retrieval has to be learnt from several cues."""
from __future__ import annotations

import random

from .lexicon import (BACKGROUNDS, COLOURS, NUMBERS, PHRASES, SHAPES, SIZES, TEXTURES, background_of_word,
                      colour_of_word, shape_of_word, tokenize)
from .scene import Scene, SceneObject, frame_position, relation


def article(word: str) -> str:
    return 'an' if word[0] in 'aeiou' else 'a'


def with_article(phrase: str) -> str:
    return f'{article(phrase)} {phrase}'


def shape_word(rng: random.Random, shape: str, plural: bool = False) -> str:
    sing, plur = SHAPES[shape]
    forms = plur if plural else sing
    # the canonical word most of the time, a synonym sometimes
    return forms[0] if len(forms) == 1 or rng.random() < 0.75 else rng.choice(forms[1:])


def colour_word(rng: random.Random, colour: str) -> str:
    words = COLOURS[colour][0]
    return words[0] if len(words) == 1 or rng.random() < 0.8 else rng.choice(words[1:])


def noun_phrase(rng: random.Random, o: SceneObject, detail: float = 0.45, colour: float = 0.92) -> str:
    """'a big striped red star', 'a red star with stripes', 'a circle' ... (with its article)."""
    words = []
    if rng.random() < detail:
        words.append(rng.choice(SIZES[o.size][0]))
    pre, post = TEXTURES[o.texture]
    tail = ''
    if o.texture != 'solid' and rng.random() < detail:
        if post and rng.random() < 0.35:
            tail = ' ' + rng.choice(post)
        else:
            words.append(rng.choice(pre))
    elif o.texture == 'solid' and rng.random() < 0.04:
        words.append(rng.choice(pre))
    if rng.random() < colour:
        words.append(colour_word(rng, o.colour))
    words.append(shape_word(rng, o.shape))
    return with_article(' '.join(words)) + tail


def count_phrase(rng: random.Random, n: int, noun_sg: str, noun_pl: str) -> str:
    if n == 1:
        return with_article(noun_sg)
    if n == 2 and rng.random() < 0.2:
        return f'a pair of {noun_pl}'
    return f'{NUMBERS[n]} {noun_pl}'


def join_list(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ', '.join(items[:-1]) + ' and ' + items[-1]


def background_phrase(rng: random.Random, scene: Scene) -> str:
    return rng.choice(BACKGROUNDS[scene.background][0])


def _groups(scene: Scene, key) -> list[tuple[tuple, int]]:
    counts: dict[tuple, int] = {}
    for o in scene.objects:
        k = key(o)
        counts[k] = counts.get(k, 0) + 1
    return sorted(counts.items())


def _main_object(scene: Scene) -> SceneObject:
    return max(scene.objects, key=lambda o: (o.radius, o.z))


# ---- sentence shapes; each returns None where it does not apply ----
# Every shape names every object by its colour and shape (with synonyms, sizes, textures, counts, relations and
# positions varying around them) and the background most of the time: a caption then fits its own scene and
# almost no other, so retrieval is learnable, while the sentence shapes keep the grammar varied.

BACKGROUND_RATE = 0.7


def _maybe_background(rng, scene: Scene, rate: float = BACKGROUND_RATE) -> str:
    return f' {background_phrase(rng, scene)}' if rng.random() < rate else ''


def _named(rng, objs, detail: float = 0.3) -> str:
    """Every object of objs as a noun phrase with its colour, in a list ('a red star, a blue disc and ...'), or
    grouped by colour and shape with counts ('two red stars and a blue circle')."""
    if len(objs) > 1 and rng.random() < 0.4:
        groups: dict[tuple, int] = {}
        for o in objs:
            groups[(o.colour, o.shape)] = groups.get((o.colour, o.shape), 0) + 1
        parts = [count_phrase(rng, c, f'{colour_word(rng, col)} {shape_word(rng, s)}',
                              f'{colour_word(rng, col)} {shape_word(rng, s, True)}') for (col, s), c in groups.items()]
        rng.shuffle(parts)
        return join_list(parts)
    return join_list([noun_phrase(rng, o, detail=detail, colour=1.0) for o in objs])


def _others(rng, scene: Scene, named) -> list:
    others = [o for o in scene.objects if all(o is not n for n in named)]
    rng.shuffle(others)
    return others


def t_main(rng, scene):
    main = _main_object(scene)
    np = noun_phrase(rng, main, detail=0.7, colour=1.0)
    rest = _others(rng, scene, [main])
    if not rest:
        lead = rng.choice(('', 'a photo of ', 'a picture of ', 'an image of ', 'a drawing of '))
        alone = rng.choice(('', ' alone', ' by itself')) if rng.random() < 0.3 else ''
        return f'{lead}{np}{alone}{_maybe_background(rng, scene)}'
    return f'{np} {rng.choice(PHRASES["and"])} {_named(rng, rest)}{_maybe_background(rng, scene)}'


def t_count(rng, scene):
    n = len(scene.objects)
    groups = _groups(scene, lambda o: (o.colour, o.shape))
    parts = [count_phrase(rng, c, f'{colour_word(rng, col)} {shape_word(rng, s)}',
                          f'{colour_word(rng, col)} {shape_word(rng, s, True)}') for (col, s), c in groups]
    rng.shuffle(parts)
    tail = _maybe_background(rng, scene)
    if n > 1 and rng.random() < 0.35:
        total = f'{NUMBERS[n]} {rng.choice(("shapes", "objects"))}'
        return f'{total}{tail}: {join_list(parts)}'
    if rng.random() < 0.3:
        verb = 'is' if len(parts) == 1 and parts[0].startswith(('a ', 'an ')) else 'are'
        return f'there {verb} {join_list(parts)}{tail}'
    return f'{join_list(parts)}{tail}'


_REL_WORDS = {k: PHRASES[k] for k in ('left_of', 'right_of', 'above', 'below', 'behind', 'front')}


def t_relation(rng, scene):
    pairs = []
    for a in scene.objects:
        for b in scene.objects:
            if a is not b:
                rel = relation(a, b)
                if rel is not None:
                    pairs.append((a, b, rel))
    if not pairs:
        return None
    a, b, rel = rng.choice(pairs)
    phrase = rng.choice(_REL_WORDS[rel])
    np_a, np_b = noun_phrase(rng, a, detail=0.35, colour=1.0), noun_phrase(rng, b, detail=0.35, colour=1.0)
    rest = _others(rng, scene, [a, b])
    tail = f' {rng.choice(PHRASES["and"][:2])} {_named(rng, rest)}' if rest else ''
    bg = _maybe_background(rng, scene, 0.5)
    shape = rng.random()
    if shape < 0.4:
        return f'{np_a} {phrase} {np_b}{tail}{bg}'
    if shape < 0.7:
        return f'{np_a} is {phrase} {np_b}{bg}{tail}'
    return f'there is {np_a} {phrase} {np_b}{tail}{bg}'


def t_list(rng, scene):
    objs = list(scene.objects)
    rng.shuffle(objs)
    nps = [noun_phrase(rng, o, detail=0.3, colour=1.0) for o in objs]
    bg = _maybe_background(rng, scene)
    if len(nps) == 1:
        return f'there is only one {rng.choice(("shape", "object"))}{bg}: {nps[0]}'
    lead = rng.choice(('this picture shows', 'the image shows', 'we can see', 'you can see', 'there is',
                       'in this image there is', 'a picture of'))
    return f'{lead} {join_list(nps)}{bg}'


def t_background(rng, scene):
    parts = _named(rng, list(scene.objects))
    bg = background_phrase(rng, scene)
    verb = 'is' if len(scene.objects) == 1 else 'are'
    if rng.random() < 0.5:
        return f'{bg} there {verb} {parts}'
    return f'{parts} {bg}'


def t_colours(rng, scene):
    colours = sorted({o.colour for o in scene.objects})
    rng.shuffle(colours)
    words = [colour_word(rng, c) for c in colours]
    n = len(scene.objects)
    bg = _maybe_background(rng, scene)
    if n == 1:
        o = scene.objects[0]
        return f'a single {words[0]} {rng.choice(("shape", "object"))}{bg}: {with_article(shape_word(rng, o.shape))}'
    objs = sorted(scene.objects, key=lambda o: colours.index(o.colour))
    if len(colours) == 1:
        shapes = join_list([with_article(shape_word(rng, o.shape)) for o in objs])
        if rng.random() < 0.5:
            return f'all the shapes are {words[0]}{bg}: {shapes}'
        return f'{NUMBERS[n]} {words[0]} {rng.choice(("shapes", "objects"))}{bg}: {shapes}'
    lead = f'{NUMBERS[n]} shapes in {join_list(words)}' if rng.random() < 0.5 else f'{join_list(words)} shapes'
    return f'{lead}{bg}: {_named(rng, objs, detail=0.0)}'


def t_texture(rng, scene):
    textured = [o for o in scene.objects if o.texture != 'solid']
    if not textured:
        return None
    o = rng.choice(textured)
    pre, post = TEXTURES[o.texture]
    desc = f'{rng.choice(pre)} {colour_word(rng, o.colour)} {shape_word(rng, o.shape)}'
    if post and rng.random() < 0.3:
        desc = f'{colour_word(rng, o.colour)} {shape_word(rng, o.shape)} {rng.choice(post)}'
    desc = with_article(desc)
    rest = _others(rng, scene, [o])
    if rest:
        return f'{desc} {rng.choice(PHRASES["and"][1:])} {_named(rng, rest, detail=0.5)}{_maybe_background(rng, scene)}'
    return f'{desc}{_maybe_background(rng, scene)}'


def t_frame(rng, scene):
    placed = [(o, frame_position(scene, o)) for o in scene.objects]
    placed = [(o, p) for o, p in placed if p is not None]
    if not placed:
        return None
    rng.shuffle(placed)
    parts = []
    for o, p in placed[:2]:
        if p == 'in the middle' and rng.random() < 0.3:
            p = 'in the centre'
        parts.append(f'{noun_phrase(rng, o, detail=0.4, colour=1.0)} {p}')
    rest = _others(rng, scene, [o for o, _ in placed[:2]])
    if len(parts) == 1 and not rest and rng.random() < 0.5:
        return f'{parts[0]} of the {rng.choice(("picture", "image"))}{_maybe_background(rng, scene)}'
    text = ' and '.join(parts)
    if rest:
        text += f', {rng.choice(("with", "and"))} {_named(rng, rest)}'
    return f'{text}{_maybe_background(rng, scene, 0.5)}'


TEMPLATES = {
    'main': t_main, 'count': t_count, 'relation': t_relation, 'list': t_list,
    'background': t_background, 'colours': t_colours, 'texture': t_texture, 'frame': t_frame,
}


def finish(rng: random.Random, text: str) -> str:
    """Human-looking surface: usually capitalised, usually a full stop."""
    if rng.random() < 0.88:
        text = text[0].upper() + text[1:]
    if rng.random() < 0.7:
        text += '.'
    return text


def captions_for(scene: Scene, rng: random.Random, n: int = 5) -> list[str]:
    """n distinct captions of a scene, each from a different sentence shape where possible."""
    names = list(TEMPLATES)
    rng.shuffle(names)
    out: list[str] = []
    seen: set[str] = set()
    tries = 0
    while len(out) < n and tries < 60:
        name = names[tries % len(names)]
        tries += 1
        text = TEMPLATES[name](rng, scene)
        if text is None:
            continue
        key = ' '.join(tokenize(text))
        if key in seen and tries < 40:
            continue
        seen.add(key)
        out.append(finish(rng, text))
    while len(out) < n:  # scenes are never so poor, but the count is a contract
        out.append(finish(rng, t_main(rng, scene)))
    return out


def describes(scene: Scene, text: str) -> bool:
    """True when every colour, shape and background the text names is in the scene. A check on the
    answer key: a caption attached to the wrong image by --noise names things its image lacks."""
    colours = {o.colour for o in scene.objects}
    shapes = {o.shape for o in scene.objects}
    for tok in tokenize(text):
        c = colour_of_word(tok)
        if c is not None and c not in colours:
            return False
        s = shape_of_word(tok)
        if s is not None and s not in shapes:
            return False
        b = background_of_word(tok)
        if b is not None and b != scene.background:
            return False
    return True


def reader_score(scene: Scene, text: str) -> float:
    """How well a reader that sees only the caption's words would match it to a scene: -inf unless the scene
    has every colour, shape and background the text names (`describes`), then minus the scene's colours and
    shapes the text leaves unnamed (captions name every object, so an image with more is a worse fit). The
    ceiling of caption-to-image retrieval on this grammar: `reader_recall`."""
    if not describes(scene, text):
        return float('-inf')
    toks = tokenize(text)
    colours = {c for c in map(colour_of_word, toks) if c is not None}
    shapes = {s for s in map(shape_of_word, toks) if s is not None}
    return -float(len({o.colour for o in scene.objects} - colours) + len({o.shape for o in scene.objects} - shapes))


def reader_recall(scenes: list[Scene], captions: list[tuple[int, str]], ks=(1, 5, 10)) -> dict:
    """Image-retrieval recall@k of `reader_score` (captions as (scene index, text)); ties are broken at random,
    counted exactly as the chance the true scene lands within k: (k - better) / tied, clamped to [0, 1]."""
    hits = {k: 0.0 for k in ks}
    for truth, text in captions:
        scores = [reader_score(s, text) for s in scenes]
        mine = scores[truth]
        better = sum(1 for v in scores if v > mine)
        tied = sum(1 for v in scores if v == mine)
        for k in ks:
            hits[k] += min(1.0, max(0.0, (k - better) / tied))
    return {f'r{k}': round(100.0 * hits[k] / len(captions), 2) for k in ks}
