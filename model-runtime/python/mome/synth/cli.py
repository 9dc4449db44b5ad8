"""`python3 -m mome synth`: writes a synthetic dataset in a published format.

Prints JSON lines on stdout ({"type": "progress"|"done"|"error", ...}) like the other mome commands.

Scale test (full COCO-Karpathy annotation file, no images):
  python3 -m mome synth --out /tmp/coco-full --kind coco --size 123287 --seed 0 --no-images
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from ..jsonl import emit as _emit
from .karpathy import write_karpathy
from .nlvr2 import write_nlvr2
from .scene import WORLDS
from .splits import SplitError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog='mome synth', description='Write a synthetic scene dataset in the COCO-Karpathy, '
                                'Flickr30K-Karpathy or NLVR2 format.')
    p.add_argument('--out', required=True, help='output folder (created; must be empty unless --force)')
    p.add_argument('--kind', required=True, choices=('coco', 'flickr30k', 'nlvr2'))
    p.add_argument('--size', required=True, type=int, help='images (COCO, Flickr30K) or examples (NLVR2)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--split', default='all',
                   help='all (published proportions), one split that gets every item: '
                        'train|restval|val|test (COCO), train|val|test (Flickr30K), train|dev|test1 (NLVR2), or '
                        'sizes per split adding up to --size, e.g. train=3000,test=1000')
    p.add_argument('--noise', type=float, default=None, metavar='R',
                   help='plant label noise at rate R in [0, 1): captions on the wrong image, NLVR2 labels flipped; '
                        'the answer key goes to noise.json')
    p.add_argument('--images', choices=('render', 'none'), default='render',
                   help='none: annotation files only (scale tests); the image folders are created empty')
    p.add_argument('--no-images', dest='images', action='store_const', const='none', help='same as --images none')
    p.add_argument('--world', choices=WORLDS, default='all', help='what scenes are drawn from: all (default), tiny '
                   '(without the held-out colour, shape and background: train-tiny\'s world) or shift (every scene shows a '
                   'held-out colour or shape: the corrections bench\'s data)')
    p.add_argument('--force', action='store_true', help='write into a non-empty --out (files are overwritten)')
    return p


def _fail(message: str) -> int:
    sys.stderr.write(f'mome synth: {message}\n')
    _emit({'type': 'error', 'message': message})
    return 2


def main(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:  # argparse has already printed usage and the problem
        return int(e.code or 0)
    if args.noise is not None and not 0.0 <= args.noise < 1.0:
        return _fail(f'--noise {args.noise} is out of range; give a rate R with 0 <= R < 1 (e.g. 0.05)')
    if os.path.isdir(args.out) and os.listdir(args.out) and not args.force:
        return _fail(f'--out {args.out} is not empty; choose a new folder or add --force to overwrite its files')
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        return _fail(f'cannot create --out {args.out}: {e.strerror}; choose a writable folder')
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        _emit({'type': 'progress', 'done': done, 'total': total})

    images = args.images == 'render'
    try:
        if args.kind == 'nlvr2':
            summary = write_nlvr2(args.out, args.size, args.seed, args.split, args.noise, images, progress, args.world)
        else:
            summary = write_karpathy(args.out, args.kind, args.size, args.seed, args.split, args.noise, images, progress,
                                     args.world)
    except SplitError as e:
        return _fail(str(e))
    noise = summary.pop('noise')
    if args.noise is not None:
        with open(os.path.join(args.out, 'noise.json'), 'w', encoding='utf-8', newline='\n') as fh:
            json.dump(noise, fh)
        summary['noisy'] = len(noise['captions']) + len(noise['nlvr2'])
    _emit({'type': 'done', 'kind': args.kind, 'out': args.out, 'seed': args.seed,
           'seconds': round(time.monotonic() - started, 2), **summary})
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
