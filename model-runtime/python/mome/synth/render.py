"""Draws a Scene with PIL: a patterned background, then each object (textured fill, dark outline) in
depth order. Pixel-level details come from the random.Random passed in, never from the scene's
own sampling, so a scene renders identically whether or not images are written."""
from __future__ import annotations

import math
import random

from PIL import Image, ImageDraw

from .lexicon import COLOURS
from .scene import Scene, SceneObject

# Backgrounds are muted and lighter than object colours so shapes stand out after a 128 px resize.
_GRASS = (132, 162, 88)
_SAND = (226, 208, 166)
_SKY_TOP, _SKY_BOTTOM = (146, 186, 232), (214, 232, 250)
_WATER = (104, 152, 186)
_BRICK, _MORTAR = (186, 128, 108), (214, 206, 196)
_WOOD = (196, 152, 104)
_SNOW = (236, 240, 246)
_TILE_A, _TILE_B, _GROUT = (208, 208, 202), (228, 228, 222), (178, 178, 172)


def _mix(c, other, t):
    return tuple(round(a + (b - a) * t) for a, b in zip(c, other))


def _jitter(rng, c, amount):
    d = rng.randint(-amount, amount)
    return tuple(max(0, min(255, v + d)) for v in c)


def _background(scene: Scene, rng: random.Random) -> Image.Image:
    w, h = scene.width, scene.height
    kind = scene.background
    if kind == 'sky':
        mask = Image.linear_gradient('L').resize((w, h))
        img = Image.composite(Image.new('RGB', (w, h), _SKY_BOTTOM), Image.new('RGB', (w, h), _SKY_TOP), mask)
        d = ImageDraw.Draw(img)
        for _ in range(rng.randint(1, 3)):
            cx, cy, s = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.05, 0.1) * max(w, h)
            for _ in range(4):
                ox, oy = rng.uniform(-s, s), rng.uniform(-s / 3, s / 3)
                d.ellipse((cx + ox - s, cy + oy - s / 2, cx + ox + s, cy + oy + s / 2), fill=(242, 246, 252))
        return img
    base = {'grass': _GRASS, 'sand': _SAND, 'water': _WATER, 'wall': _MORTAR, 'wood': _WOOD,
            'snow': _SNOW, 'tiles': _GROUT}[kind]
    img = Image.new('RGB', (w, h), _jitter(rng, base, 6))
    d = ImageDraw.Draw(img)
    if kind == 'grass':
        for _ in range(w * h // 1200):
            x, y, ln = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(5, 12)
            d.line((x, y, x + rng.uniform(-3, 3), y - ln), fill=_jitter(rng, _mix(_GRASS, (60, 90, 40), 0.4), 10), width=1)
    elif kind == 'sand':
        for _ in range(w * h // 900):
            x, y = rng.uniform(0, w), rng.uniform(0, h)
            d.ellipse((x, y, x + 2, y + 2), fill=_jitter(rng, (204, 184, 142), 8))
    elif kind == 'water':
        step = rng.randint(18, 30)
        phase = rng.uniform(0, math.tau)
        for y0 in range(step // 2, h, step):
            pts = [(x, y0 + 3 * math.sin(x / 14.0 + phase + y0)) for x in range(0, w + 8, 8)]
            d.line(pts, fill=(146, 186, 214), width=2)
    elif kind == 'wall':
        bh = rng.randint(18, 28)
        bw = 2 * bh + rng.randint(0, 10)
        for row, y0 in enumerate(range(0, h, bh)):
            off = (bw // 2) * (row % 2)
            for x0 in range(-off, w, bw):
                d.rectangle((x0 + 2, y0 + 2, x0 + bw - 2, y0 + bh - 2), fill=_jitter(rng, _BRICK, 10))
    elif kind == 'wood':
        pw = rng.randint(50, 90)
        for x0 in range(0, w, pw):
            tone = _jitter(rng, _WOOD, 12)
            d.rectangle((x0 + 1, 0, x0 + pw - 2, h), fill=tone)
            for _ in range(3):
                gx = x0 + rng.uniform(6, pw - 6)
                d.line((gx, 0, gx + rng.uniform(-8, 8), h), fill=_mix(tone, (90, 60, 30), 0.25), width=1)
    elif kind == 'snow':
        for _ in range(rng.randint(4, 8)):
            cx, cy, s = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.08, 0.2) * max(w, h)
            d.ellipse((cx - s, cy - s / 3, cx + s, cy + s / 3), fill=(224, 230, 240))
    elif kind == 'tiles':
        t = rng.randint(48, 80)
        for j, y0 in enumerate(range(0, h, t)):
            for i, x0 in enumerate(range(0, w, t)):
                d.rectangle((x0 + 2, y0 + 2, x0 + t - 2, y0 + t - 2), fill=_TILE_A if (i + j) % 2 else _TILE_B)
    return img


def shape_outline(o: SceneObject, ox: float = 0.0, oy: float = 0.0) -> list[tuple[float, float]] | None:
    """Polygon of an object (relative to offset ox, oy); None for a circle (drawn as an ellipse)."""
    r = o.radius
    if o.shape == 'circle':
        return None
    if o.shape == 'square':
        pts = [(-0.8 * r, -0.8 * r), (0.8 * r, -0.8 * r), (0.8 * r, 0.8 * r), (-0.8 * r, 0.8 * r)]
    elif o.shape == 'triangle':
        pts = [(r * math.cos(a), r * math.sin(a) + 0.15 * r) for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]
    elif o.shape == 'star':
        pts = [((r if k % 2 == 0 else 0.45 * r) * math.cos(-math.pi / 2 + k * math.pi / 5),
                (r if k % 2 == 0 else 0.45 * r) * math.sin(-math.pi / 2 + k * math.pi / 5) + 0.08 * r) for k in range(10)]
    elif o.shape == 'hexagon':
        pts = [(r * math.cos(k * math.pi / 3), r * math.sin(k * math.pi / 3)) for k in range(6)]
    elif o.shape == 'diamond':
        pts = [(0, -r), (0.6 * r, 0), (0, r), (-0.6 * r, 0)]
    elif o.shape == 'heart':
        s = r / 17.0
        pts = []
        for k in range(36):
            t = k * math.tau / 36
            pts.append((16 * math.sin(t) ** 3 * s,
                        -(13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)) * s - 0.1 * r))
    elif o.shape == 'cross':
        a, b = 0.32 * r, 0.95 * r
        pts = [(-a, -b), (a, -b), (a, -a), (b, -a), (b, a), (a, a), (a, b), (-a, b), (-a, a), (-b, a), (-b, -a), (-a, -a)]
    else:
        raise ValueError(f'unknown shape "{o.shape}" (known: circle, square, triangle, star, hexagon, diamond, heart, cross)')
    c, s_ = math.cos(math.radians(o.angle)), math.sin(math.radians(o.angle))
    return [(o.x - ox + px * c - py * s_, o.y - oy + px * s_ + py * c) for px, py in pts]


def _fill(o: SceneObject, size: tuple[int, int]) -> Image.Image:
    rgb = COLOURS[o.colour][1]
    img = Image.new('RGB', size, rgb)
    if o.texture == 'solid':
        return img
    d = ImageDraw.Draw(img)
    dark = sum(rgb) < 300
    second = _mix(rgb, (255, 255, 255), 0.55) if dark else _mix(rgb, (0, 0, 0), 0.45)
    step = max(6, round(o.radius / 2.6))
    w, h = size
    if o.texture == 'striped':
        for k in range(-h, w + h, step):
            d.line((k, 0, k + h, h), fill=second, width=max(2, step // 3))
    elif o.texture == 'dotted':
        dot = (30, 30, 30) if o.colour in ('white', 'yellow', 'pink') else (250, 250, 250)
        rad = max(1.5, step / 5)
        for j, y in enumerate(range(step // 2, h, step)):
            for x in range(step // 2 + (step // 2) * (j % 2), w, step):
                d.ellipse((x - rad, y - rad, x + rad, y + rad), fill=dot)
    elif o.texture == 'checkered':
        for j in range(0, h, step):
            for i in range(0, w, step):
                if (i // step + j // step) % 2:
                    d.rectangle((i, j, i + step - 1, j + step - 1), fill=second)
    return img


def _draw_object(canvas: Image.Image, o: SceneObject) -> None:
    pad = 3
    x0, y0 = math.floor(o.x - o.radius) - pad, math.floor(o.y - o.radius) - pad
    size = (math.ceil(2 * o.radius) + 2 * pad, math.ceil(2 * o.radius) + 2 * pad)
    mask = Image.new('L', size, 0)
    md = ImageDraw.Draw(mask)
    poly = shape_outline(o, x0, y0)
    box = (o.x - x0 - 0.95 * o.radius, o.y - y0 - 0.95 * o.radius, o.x - x0 + 0.95 * o.radius, o.y - y0 + 0.95 * o.radius)
    if poly is None:
        md.ellipse(box, fill=255)
    else:
        md.polygon(poly, fill=255)
    canvas.paste(_fill(o, size), (x0, y0), mask)
    rgb = COLOURS[o.colour][1]
    line = (96, 96, 96) if o.colour == 'black' else _mix(rgb, (0, 0, 0), 0.6)
    width = max(2, round(o.radius / 14))
    d = ImageDraw.Draw(canvas)
    if poly is None:
        d.ellipse((box[0] + x0, box[1] + y0, box[2] + x0, box[3] + y0), outline=line, width=width)
    else:
        d.polygon([(px + x0, py + y0) for px, py in poly], outline=line, width=width)


def render(scene: Scene, rng: random.Random) -> Image.Image:
    img = _background(scene, rng)
    for o in sorted(scene.objects, key=lambda o: o.z):
        _draw_object(img, o)
    return img


def save_jpeg(img: Image.Image, path: str) -> None:
    # fixed encoder settings: the same scene gives the same bytes
    img.save(path, 'JPEG', quality=85, optimize=False, progressive=False, subsampling='4:2:0')


def save_png(img: Image.Image, path: str) -> None:
    img.save(path, 'PNG', compress_level=6, optimize=False)
