"""COCO-Karpathy and Flickr30K-Karpathy writers: dataset_coco.json / dataset_flickr30k.json with every
published field, streamed image by image (the 123,287-image file is never held in memory), and the
images as JPEG under the published folder and file names."""
from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass

from .captions import captions_for, describes
from .lexicon import tokenize
from .render import render, save_jpeg
from .scene import Scene, world_scene
from .splits import split_sizes

# Ids are scattered like the published ones (a sentid is not an index): x -> (f*x)^e mod p, with
# e coprime to p-1, permutes 1..p-1, so ids are unique without a lookup table and show no stride.
_SENTID_PRIME, _SENTID_EXP = 1_000_003, 5  # p > any caption count written (COCO sentids reach ~830K)
_COCOID_PRIME, _COCOID_EXP = 581_941, 7  # COCO image ids lie in 1..581,929
_FLICKR_PRIME, _FLICKR_EXP = 2_147_483_647, 5  # Flickr photo ids: 10 digits


def _scatter(i: int, factor: int, prime: int, exp: int) -> int:
    return pow(i * factor % prime, exp, prime)
# Real COCO: 616,767 captions for 123,287 images, i.e. 332 images' worth of 6th/7th captions.
_EXTRA_CAPTIONS_PER_IMAGE = 332 / 123_287


@dataclass(frozen=True)
class KarpathyPlan:
    kind: str
    seed: int
    splits: list[str]  # per imgid
    caption_counts: list[int]  # per imgid
    sentid_factor: int
    image_factor: int
    world: str = 'all'   # scene.WORLDS


def plan(kind: str, n: int, seed: int, split: str, world: str = 'all') -> KarpathyPlan:
    sizes = split_sizes(kind, n, split)
    rng = random.Random(f'{seed}:{kind}:plan')
    labels = [s for s, k in sizes.items() for _ in range(k)]
    rng.shuffle(labels)  # the published files interleave splits
    counts = [5] * n
    if kind == 'coco':
        extra = round(n * _EXTRA_CAPTIONS_PER_IMAGE)
        sevens = extra // 12
        chosen = rng.sample(range(n), min(n, extra - sevens))
        for i, imgid in enumerate(chosen):
            counts[imgid] += 2 if i < sevens else 1
    return KarpathyPlan(kind, seed, labels, counts, rng.randrange(2, _SENTID_PRIME - 1),
                        rng.randrange(2, _COCOID_PRIME - 1 if kind == 'coco' else _FLICKR_PRIME - 1), world)


def sentid(p: KarpathyPlan, k: int) -> int:
    """The sentid of the k-th caption in file order (Flickr30K: sequential, as published)."""
    return k if p.kind == 'flickr30k' else _scatter(k + 1, p.sentid_factor, _SENTID_PRIME, _SENTID_EXP)


def image_file(p: KarpathyPlan, imgid: int) -> tuple[str, str, int]:
    """(folder, filename, cocoid or Flickr id) with the published naming."""
    if p.kind == 'coco':
        cocoid = _scatter(imgid + 1, p.image_factor, _COCOID_PRIME, _COCOID_EXP)
        folder = 'train2014' if p.splits[imgid] == 'train' else 'val2014'  # Karpathy val/test/restval come from val2014
        return folder, f'COCO_{folder}_{cocoid:012d}.jpg', cocoid
    photo = 1_000_000_000 + _scatter(imgid + 1, p.image_factor, _FLICKR_PRIME, _FLICKR_EXP)
    return 'flickr30k-images', f'{photo}.jpg', photo


def _image_rng(p: KarpathyPlan, imgid: int) -> random.Random:
    return random.Random(f'{p.seed}:{p.kind}:image:{imgid}')


def image_scene(p: KarpathyPlan, imgid: int) -> Scene:
    """The generator's ground truth for an image (what its captions and pixels show)."""
    return world_scene(_image_rng(p, imgid), p.world)


def image_captions(p: KarpathyPlan, imgid: int) -> tuple[Scene, list[str]]:
    rng = _image_rng(p, imgid)
    scene = world_scene(rng, p.world)
    return scene, captions_for(scene, rng, p.caption_counts[imgid])


def plan_noise(p: KarpathyPlan, rate: float) -> dict[int, tuple[int, str]]:
    """Caption slots (global caption index) that receive a caption of another image of the same
    split: {k: (true_imgid, raw)}. The planted caption is chosen to contradict the image it is
    attached to (it names a colour, shape or background that image lacks) where such exists."""
    total = sum(p.caption_counts)
    n = len(p.splits)
    if rate <= 0 or n < 2:
        return {}
    by_split: dict[str, list[int]] = {}
    owner = []
    for imgid, s in enumerate(p.splits):
        by_split.setdefault(s, []).append(imgid)
        owner.extend([imgid] * p.caption_counts[imgid])
    picked = random.Random(f'{p.seed}:{p.kind}:noise').sample(range(total), round(rate * total))
    noise = {}
    for k in sorted(picked):
        assigned = owner[k]
        rng = random.Random(f'{p.seed}:{p.kind}:noise:{k}')
        pool = by_split[p.splits[assigned]]
        if len(pool) < 2:
            pool = range(n)
        assigned_scene = image_scene(p, assigned)
        for _ in range(30):
            donor = rng.choice(pool)
            if donor == assigned:
                continue
            raw = captions_for(image_scene(p, donor), rng, 1)[0]
            if not describes(assigned_scene, raw):
                break
        else:
            while donor == assigned:
                donor = rng.randrange(n)
            raw = captions_for(image_scene(p, donor), rng, 1)[0]
        noise[k] = (donor, raw)
    return noise


def write_karpathy(out: str, kind: str, n: int, seed: int, split: str, noise_rate: float | None,
                   images: bool, progress=None, world: str = 'all') -> dict:
    p = plan(kind, n, seed, split, world)
    noise = plan_noise(p, noise_rate or 0.0)
    folders = ('train2014', 'val2014') if kind == 'coco' else ('flickr30k-images',)
    for f in folders:
        os.makedirs(os.path.join(out, f), exist_ok=True)
    name = 'dataset_coco.json' if kind == 'coco' else 'dataset_flickr30k.json'
    noise_rows = []
    k = 0
    chunk: list[str] = []
    with open(os.path.join(out, name), 'w', encoding='utf-8', newline='\n') as fh:
        fh.write('{"images": [')
        for imgid in range(n):
            scene, raws = image_captions(p, imgid)
            folder, filename, photo = image_file(p, imgid)
            sentences, sentids = [], []
            for raw in raws:
                sid = sentid(p, k)
                if k in noise:
                    true_imgid, raw = noise[k]
                    noise_rows.append({'sentid': sid, 'true_imgid': true_imgid, 'assigned_imgid': imgid})
                sentences.append({'tokens': tokenize(raw), 'raw': raw, 'imgid': imgid, 'sentid': sid})
                sentids.append(sid)
                k += 1
            if kind == 'coco':
                entry = {'filepath': folder, 'sentids': sentids, 'filename': filename, 'imgid': imgid,
                         'split': p.splits[imgid], 'sentences': sentences, 'cocoid': photo}
            else:
                entry = {'sentids': sentids, 'imgid': imgid, 'sentences': sentences, 'split': p.splits[imgid],
                         'filename': filename}
            chunk.append(json.dumps(entry))
            if len(chunk) >= 2000:
                fh.write((', ' if imgid >= len(chunk) else '') + ', '.join(chunk))
                chunk = []
            if images:
                img = render(scene, random.Random(f'{seed}:{kind}:pixels:{imgid}'))
                save_jpeg(img, os.path.join(out, folder, filename))
            if progress is not None and (imgid + 1) % (100 if images else 1000) == 0:
                progress(imgid + 1, n)
        if chunk:
            fh.write((', ' if n > len(chunk) else '') + ', '.join(chunk))
        fh.write(f'], "dataset": "{kind}"}}')
    counts = split_sizes(kind, n, split)
    return {'file': name, 'images': n, 'captions': k, 'splits': counts, 'noise': {'captions': noise_rows, 'nlvr2': []}}
