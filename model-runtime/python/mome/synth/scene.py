"""Procedural scenes: 1-5 shapes with colour, size, texture, position and occlusion on a background.

A Scene is the generator's ground truth: captions and NLVR2 labels are computed from it, and the
renderer draws it. Sampling uses only the random.Random it is given, so a scene is a pure function
of its seed.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace

from .lexicon import BACKGROUNDS, COLOURS, SHAPES, SIZES

# Realistic photo sizes: longer side 320-640 px (mostly 480-640, like COCO), common aspect ratios.
_LONG_SIDES = (640, 640, 640, 612, 600, 576, 500, 500, 480, 427, 400, 375, 333, 320)
_ASPECTS = ((4, 3), (4, 3), (4, 3), (3, 2), (3, 2), (16, 9), (5, 4), (1, 1))
_OBJECT_COUNTS = (1, 2, 2, 3, 3, 3, 4, 4, 5)
_SIZE_WEIGHTS = (('small', 3), ('medium', 4), ('large', 3))
_TEXTURE_WEIGHTS = (('solid', 5), ('striped', 2), ('dotted', 2), ('checkered', 2))

SHAPE_NAMES = tuple(SHAPES)
COLOUR_NAMES = tuple(COLOURS)
BACKGROUND_NAMES = tuple(BACKGROUNDS)

# Worlds: what scenes are drawn from.
# - 'all': every colour, shape and background of the lexicon (the synth command's default, the bundled samples);
# - 'tiny': all but HELD_OUT, the world train-tiny learns (its vocabulary still holds the held-out words);
# - 'shift': every scene shows a held-out colour or shape: a shift the shipped model has not mastered, for the
#   corrections bench (`npm run bench -- corrections`), where a fine-tune has something to learn.
HELD_OUT = {'colours': ('brown',), 'shapes': ('heart',), 'backgrounds': ('tiles',)}
WORLDS = ('all', 'tiny', 'shift')


def world_sets(world: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(colours, shapes, backgrounds) a world draws from."""
    if world not in WORLDS:
        raise ValueError(f'unknown world {world!r}; one of {", ".join(WORLDS)}')
    if world != 'tiny':
        return COLOUR_NAMES, SHAPE_NAMES, BACKGROUND_NAMES
    return tuple(tuple(n for n in names if n not in HELD_OUT[key]) for names, key in (
        (COLOUR_NAMES, 'colours'), (SHAPE_NAMES, 'shapes'), (BACKGROUND_NAMES, 'backgrounds')))


def world_scene(rng: random.Random, world: str = 'all', colours=None, shapes=None, backgrounds=None) -> Scene:
    """A scene of the world (within the given subsets, e.g. an NLVR2 theme); in 'shift', one object takes a
    held-out colour or shape when none has one."""
    wc, ws, wb = world_sets(world)
    scene = sample_scene(rng, colours or wc, shapes or ws, backgrounds or wb)
    if world != 'shift' or not scene.objects or any(
            o.colour in HELD_OUT['colours'] or o.shape in HELD_OUT['shapes'] for o in scene.objects):
        return scene
    objs = list(scene.objects)
    i = rng.randrange(len(objs))
    if rng.random() < 0.5:
        objs[i] = replace(objs[i], colour=rng.choice(HELD_OUT['colours']))
    else:
        objs[i] = replace(objs[i], shape=rng.choice(HELD_OUT['shapes']))
    return replace(scene, objects=tuple(objs))


@dataclass(frozen=True)
class SceneObject:
    shape: str
    colour: str
    size: str
    texture: str
    x: float  # centre, pixels
    y: float
    radius: float  # pixels
    angle: float  # degrees, small tilt so shapes are not all axis-aligned
    z: int  # drawing order: higher is in front


@dataclass(frozen=True)
class Scene:
    width: int
    height: int
    background: str
    objects: tuple[SceneObject, ...]


def _weighted(rng: random.Random, pairs) -> str:
    total = sum(w for _, w in pairs)
    r = rng.random() * total
    for value, w in pairs:
        r -= w
        if r < 0:
            return value
    return pairs[-1][0]


def sample_size(rng: random.Random) -> tuple[int, int]:
    long_side = rng.choice(_LONG_SIDES)
    a, b = rng.choice(_ASPECTS)
    short_side = round(long_side * b / a)
    # three of four photos are landscape
    return (long_side, short_side) if rng.random() < 0.75 else (short_side, long_side)


def sample_scene(
    rng: random.Random,
    colours: tuple[str, ...] = COLOUR_NAMES,
    shapes: tuple[str, ...] = SHAPE_NAMES,
    backgrounds: tuple[str, ...] = BACKGROUND_NAMES,
) -> Scene:
    """Draws a scene. Objects are either clearly apart or deliberately overlapping one other object
    (occlusion), so relations and "behind" claims made from the scene are visibly true."""
    width, height = sample_size(rng)
    background = rng.choice(backgrounds)
    long_side = max(width, height)
    wanted = rng.choice(_OBJECT_COUNTS)
    placed: list[SceneObject] = []
    for _ in range(wanted):
        size = _weighted(rng, _SIZE_WEIGHTS)
        radius = SIZES[size][1] * long_side * rng.uniform(0.92, 1.08)
        overlap_with = rng.randrange(len(placed)) if placed and rng.random() < 0.2 else -1
        spot = _place(rng, width, height, radius, placed, overlap_with)
        if spot is None and size != 'small':
            size = 'small'
            radius = SIZES[size][1] * long_side * rng.uniform(0.92, 1.08)
            spot = _place(rng, width, height, radius, placed, -1)
        if spot is None:
            continue  # no room: the scene has fewer objects, and captions say so
        placed.append(
            SceneObject(
                shape=rng.choice(shapes),
                colour=rng.choice(colours),
                size=size,
                texture=_weighted(rng, _TEXTURE_WEIGHTS),
                x=spot[0],
                y=spot[1],
                radius=radius,
                angle=rng.uniform(-12.0, 12.0),
                z=len(placed),
            )
        )
    return Scene(width, height, background, tuple(placed))


def _place(rng, width, height, radius, placed, overlap_with, tries=40):
    margin = radius * 1.05
    if width <= 2 * margin or height <= 2 * margin:
        return None
    for _ in range(tries):
        x = rng.uniform(margin, width - margin)
        y = rng.uniform(margin, height - margin)
        ok = True
        for i, o in enumerate(placed):
            d = math.hypot(x - o.x, y - o.y)
            reach = radius + o.radius
            if i == overlap_with:
                ok = 0.55 * reach <= d <= 0.8 * reach
            else:
                ok = d >= 1.08 * reach
            if not ok:
                break
        if ok:
            return (x, y)
    return None


# ---- relations the grammar may state (all computed from geometry, never sampled) ----

def occludes(front: SceneObject, back: SceneObject) -> bool:
    """front is drawn over part of back (placement guarantees overlap is either deliberate or absent)."""
    return front.z > back.z and math.hypot(front.x - back.x, front.y - back.y) < 0.85 * (front.radius + back.radius)


def relation(a: SceneObject, b: SceneObject) -> str | None:
    """'left_of' | 'right_of' | 'above' | 'below' | 'behind' | 'front' for a relative to b, or None when
    no relation is clear enough to state."""
    if occludes(b, a):
        return 'behind'
    if occludes(a, b):
        return 'front'
    dx, dy = a.x - b.x, a.y - b.y
    gap = max(a.radius, b.radius)
    if abs(dx) > 1.5 * abs(dy) and abs(dx) > gap:
        return 'left_of' if dx < 0 else 'right_of'
    if abs(dy) > 1.5 * abs(dx) and abs(dy) > gap:
        return 'above' if dy < 0 else 'below'
    return None


def frame_position(scene: Scene, o: SceneObject) -> str | None:
    """Where an object sits in the picture, by thirds; None when it is between regions."""
    fx, fy = o.x / scene.width, o.y / scene.height

    def third(f):
        if f < 0.3:
            return 0
        if f > 0.7:
            return 2
        if 0.38 < f < 0.62:
            return 1
        return None

    col, row = third(fx), third(fy)
    if col is None or row is None:
        return None
    names = {
        (0, 0): 'in the top left corner', (2, 0): 'in the top right corner',
        (0, 2): 'in the bottom left corner', (2, 2): 'in the bottom right corner',
        (1, 0): 'at the top', (1, 2): 'at the bottom', (0, 1): 'on the left', (2, 1): 'on the right',
        (1, 1): 'in the middle',
    }
    return names[(col, row)]


def count(scene: Scene, colour: str | None = None, shape: str | None = None) -> int:
    return sum(1 for o in scene.objects if (colour is None or o.colour == colour) and (shape is None or o.shape == shape))
