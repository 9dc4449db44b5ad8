"""NLVR2 writer: train.json / dev.json / test1.json (json lines, the published field names) and the
image pairs as PNG named <split>-<set>-<pair>-img0.png / -img1.png.

Like the published data, examples come in sets: a set's four image pairs share a theme (as NLVR2
pairs share a synset and query), and each of its two sentences is labelled against every pair.
Each sentence is chosen, among candidates, to be true for about half of its set's pairs, so the
sentence alone does not give the label away and True/False stay balanced."""
from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass

from .lexicon import SHAPES
from .render import render, save_png
from .scene import HELD_OUT, Scene, world_scene, world_sets
from .splits import split_sizes
from .statements import Statement, Theme, finish_statement, sample_statement

PAIRS_PER_SET = 4
SENTENCES_PER_SET = 2
_CANDIDATES = 24


@dataclass(frozen=True)
class Example:
    identifier: str
    sentence: str
    label: bool
    pair: int  # index into the set's pairs
    record: dict


@dataclass(frozen=True)
class ExampleSet:
    split: str
    number: int  # the <a> of identifiers <split>-<a>-<b>-<c>
    theme: Theme
    pairs: tuple[tuple[Scene, Scene], ...]
    directories: tuple[int, ...]  # train only: images/train/<directory>/
    statements: tuple[Statement, ...]
    examples: tuple[Example, ...]


def _balanced_statement(rng: random.Random, theme: Theme, pairs, taken: set[str]) -> tuple[Statement, list[bool]]:
    best = None
    for _ in range(_CANDIDATES):
        st = sample_statement(rng, theme)
        if st.text in taken:
            continue
        labels = [st.truth(l, r) for l, r in pairs]
        score = abs(sum(labels) - len(pairs) / 2)
        if best is None or score < best[0]:
            best = (score, st, labels)
            if score == 0:
                break
    return best[1], best[2]


def _writer_id(rng: random.Random) -> str:
    return str(rng.randint(1, 180))


def example_set(seed: int, split: str, index: int, number: int, world: str = 'all') -> ExampleSet:
    """The generator's ground truth for one set (scenes, statements, labels before any noise)."""
    rng = random.Random(f'{seed}:nlvr2:{split}:set:{index}')
    colours, shapes, backgrounds = world_sets(world)
    theme = Theme(tuple(rng.sample(colours, 3)), tuple(rng.sample(shapes, 3)), tuple(rng.sample(backgrounds, 2)))
    if world == 'shift':   # statements then speak of the held-out colour or shape too
        theme = Theme(tuple(dict.fromkeys(HELD_OUT['colours'][:1] + theme.colours))[:3],
                      tuple(dict.fromkeys(HELD_OUT['shapes'][:1] + theme.shapes))[:3], theme.backgrounds)
    pairs = tuple((world_scene(rng, world, theme.colours, theme.shapes, theme.backgrounds),
                   world_scene(rng, world, theme.colours, theme.shapes, theme.backgrounds))
                  for _ in range(PAIRS_PER_SET))
    directories = tuple(rng.randint(0, 99) for _ in range(PAIRS_PER_SET))
    synset = theme.shapes[0]
    query = f'some {SHAPES[synset][1][0]}{rng.randint(1, 99)}'
    statements, examples, taken = [], [], set()
    for c in range(SENTENCES_PER_SET):
        st, labels = _balanced_statement(rng, theme, pairs, taken)
        taken.add(st.text)
        statements.append(st)
        sentence = finish_statement(st.text)
        writer = _writer_id(rng)
        order = list(range(PAIRS_PER_SET))
        rng.shuffle(order)  # the published files list a sentence's pairs in no fixed order
        for b in order:
            identifier = f'{split}-{number}-{b}-{c}'
            label = 'True' if labels[b] else 'False'
            record = {
                'validation': {_writer_id(rng): label},
                'sentence': sentence,
                'left_url': f'https://img.synth.invalid/{rng.getrandbits(64):016x}.png',
                'writer': writer,
                'label': label,
                'right_url': f'https://img.synth.invalid/{rng.getrandbits(64):016x}.png',
                'synset': synset,
                'query': query,
            }
            if split == 'train':
                record['directory'] = directories[b]
            record['identifier'] = identifier
            # the published dev/test1 carry four extra validations; train examples were validated once
            record['extra_validations'] = {} if split == 'train' else {
                v: label for v in sorted({_writer_id(rng) for _ in range(4)})}
            examples.append(Example(identifier, sentence, labels[b], b, record))
    return ExampleSet(split, number, theme, pairs, directories, tuple(statements), tuple(examples))


def set_numbers(seed: int, split: str, count: int) -> list[int]:
    """Set numbers increase with small gaps (published numbers are not contiguous)."""
    rng = random.Random(f'{seed}:nlvr2:{split}:numbers')
    nums, a = [], rng.randint(0, 40)
    for _ in range(count):
        nums.append(a)
        a += rng.randint(1, 3)
    return nums


def iter_sets(seed: int, split: str, n: int, world: str = 'all'):
    """(set, examples taken from it) until n examples."""
    per_set = PAIRS_PER_SET * SENTENCES_PER_SET
    count = -(-n // per_set)
    left = n
    for index, number in enumerate(set_numbers(seed, split, count)):
        es = example_set(seed, split, index, number, world)
        yield es, es.examples[:min(left, per_set)]
        left -= per_set


def image_dir(split: str, directory: int | None = None) -> str:
    return os.path.join('images', 'train', str(directory)) if split == 'train' else split


def write_nlvr2(out: str, n: int, seed: int, split: str, noise_rate: float | None, images: bool, progress=None,
                world: str = 'all') -> dict:
    sizes = split_sizes('nlvr2', n, split)
    flips = set(random.Random(f'{seed}:nlvr2:noise').sample(range(n), round((noise_rate or 0.0) * n)))
    noise_rows = []
    labels = {'True': 0, 'False': 0}
    g = 0  # global example index over the splits in file order
    done_images = 0
    for sp, count in sizes.items():
        # the split's image folder exists even with --no-images (empty), as for COCO / Flickr30K
        os.makedirs(os.path.join(out, os.path.join('images', 'train') if sp == 'train' else sp), exist_ok=True)
        with open(os.path.join(out, f'{sp}.json'), 'w', encoding='utf-8', newline='\n') as fh:
            for es, examples in iter_sets(seed, sp, count, world):
                pairs_used = sorted({e.pair for e in examples})
                for e in examples:
                    rec = e.record
                    if g in flips:
                        given = 'False' if e.label else 'True'
                        rec = dict(rec, label=given, validation={k: given for k in rec['validation']},
                                   extra_validations={k: given for k in rec['extra_validations']})
                        noise_rows.append({'identifier': e.identifier, 'true_label': e.record['label'],
                                           'given_label': given})
                    labels[rec['label']] += 1
                    fh.write(json.dumps(rec) + '\n')
                    g += 1
                if images:
                    for b in pairs_used:
                        folder = os.path.join(out, image_dir(sp, es.directories[b]))
                        os.makedirs(folder, exist_ok=True)
                        for side, scene in enumerate(es.pairs[b]):
                            px = random.Random(f'{seed}:nlvr2:{sp}:pixels:{es.number}:{b}:{side}')
                            save_png(render(scene, px), os.path.join(folder, f'{sp}-{es.number}-{b}-img{side}.png'))
                            done_images += 1
                if progress is not None:
                    progress(g, n)
    return {'files': [f'{sp}.json' for sp in sizes], 'examples': n, 'splits': sizes, 'labels': labels,
            'images': done_images, 'noise': {'captions': [], 'nlvr2': noise_rows}}
