"""What a fine-tune trains on: the corrected dataset folder the app exports (real format), the user's judged
pairs (hard negatives, extra positives), the order of batches, and a hash that names this data snapshot.

Batches: `epoch_batches` shuffles the training rows with a seed per epoch, cuts global batches of
batch_size x world rows, and gives each rank its slice (the job DistributedSampler does, with batches formed
before sharding). For retrieval it first co-locates the user's hard negatives: when a caption in a global
batch has a hard-negative image, a row of that image is swapped into the same batch, so ITC (gathered over
ranks) contrasts the caption with it and ITM scores it as a non-match.
"""
from __future__ import annotations

import hashlib
import os
import random
import re
from typing import Dict, Iterable, List, Optional, Sequence

from ..data import KarpathyCaptions, karpathy_file, read_json_lines

RETRIEVAL_TRAIN_SPLITS = ('train', 'restval')   # Karpathy's train for training (spec §6)
SNAPSHOT_FILES = ('dataset_coco.json', 'dataset_flickr30k.json', 'train.json', 'dev.json', 'test1.json')


class FineTuneDataError(ValueError):
    """The data folder or pairs file cannot be used for this fine-tune."""


def detect_kind(data_dir: str) -> str:
    for name, kind in (('dataset_coco.json', 'coco'), ('dataset_flickr30k.json', 'flickr30k'),
                       ('train.json', 'nlvr2')):
        if os.path.isfile(os.path.join(data_dir, name)):
            return kind
    raise FineTuneDataError(f'{data_dir} holds no dataset_coco.json, dataset_flickr30k.json or NLVR2 train.json; '
                            f'give the folder the app exported (the corrected dataset)')


_SPLIT = re.compile(rb'"split"\s*:\s*"([^"]*)"')


def split_sizes(data_dir: str, kind: str) -> Dict[str, int]:
    """Images per Karpathy split, or examples per NLVR2 split file, read without parsing the dataset (a
    regular-expression pass over the Karpathy JSON, a line count of each NLVR2 file): a second at COCO scale."""
    sizes: Dict[str, int] = {}
    if kind == 'nlvr2':
        for split in ('train', 'dev', 'test1'):
            path = os.path.join(data_dir, f'{split}.json')
            if os.path.isfile(path):
                with open(path, 'rb') as fh:
                    sizes[split] = sum(1 for line in fh if line.strip())
        return sizes
    try:
        path = karpathy_file(data_dir)
    except ValueError as e:   # the format reader's own error, as this module's
        raise FineTuneDataError(str(e)) from None
    with open(path, 'rb') as fh:
        for m in _SPLIT.finditer(fh.read()):
            name = m.group(1).decode('utf-8', 'replace')
            sizes[name] = sizes.get(name, 0) + 1
    return sizes


def check_splits(data_dir: str, kind: str, eval_split: str) -> Dict[str, int]:
    """What the fine-tune will read, checked before any model or image is loaded: training examples exist, and so
    does the split it evaluates on."""
    sizes = split_sizes(data_dir, kind)
    found = ', '.join(f'{k} {v}' for k, v in sorted(sizes.items())) or 'none'
    train = ('train',) if kind == 'nlvr2' else RETRIEVAL_TRAIN_SPLITS
    what = 'examples' if kind == 'nlvr2' else 'images'
    if sum(sizes.get(s, 0) for s in train) == 0:
        raise FineTuneDataError(f'{data_dir} has no training {what} (split {" or ".join(train)}; splits found: '
                                f'{found}); export a dataset with a training split to fine-tune on')
    if sizes.get(eval_split, 0) == 0:
        raise FineTuneDataError(f'{data_dir} has no "{eval_split}" split to evaluate on (splits found: {found}); '
                                f'set "eval_split" to one of them, or export the dataset with a {eval_split} split')
    return sizes


def snapshot_hash(data_dir: str, extra_files: Iterable[Optional[str]] = ()) -> str:
    """sha256 over the annotation files (not the images, which are never edited) and the pairs file: the same
    corrected data gives the same hash, any correction a different one."""
    h = hashlib.sha256()
    paths = [os.path.join(data_dir, f) for f in SNAPSHOT_FILES] + [p for p in extra_files if p]
    for path in paths:
        if not os.path.isfile(path):
            continue
        h.update(os.path.basename(path).encode() + b'\0')
        with open(path, 'rb') as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b''):
                h.update(chunk)
    return h.hexdigest()


def read_pairs(path: Optional[str]) -> List[dict]:
    """The judged pairs: JSON lines {"sentid": int, "imgid": int, "relation": "hard_negative"|"also_match"}."""
    if not path:
        return []
    if not os.path.isfile(path):
        raise FineTuneDataError(f'the pairs file {path} does not exist')

    def parse(rec: dict) -> dict:
        pair = {'sentid': int(rec['sentid']), 'imgid': int(rec['imgid']), 'relation': rec['relation']}
        if pair['relation'] not in ('hard_negative', 'also_match'):
            raise FineTuneDataError(f'relation must be hard_negative or also_match, not {pair["relation"]!r}')
        return pair

    return read_json_lines(path, parse, FineTuneDataError, 'a pair line',
                           '{"sentid": N, "imgid": N, "relation": "hard_negative"|"also_match"}')


class RetrievalTrainSet:
    """The captions of the training splits plus extra positives as rows, and each row's hard-negative images."""

    def __init__(self, data_dir: str, tokenizer, image_size: int, pairs: Sequence[dict], seed: int,
                 train_transform: bool = True) -> None:
        karpathy_file(data_dir)   # a clear error when the folder is not a Karpathy dataset
        self.dataset = KarpathyCaptions(data_dir, RETRIEVAL_TRAIN_SPLITS, tokenizer, image_size,
                                        train=train_transform, seed=seed)
        image_of = {im.imgid: i for i, im in enumerate(self.dataset.images)}
        raw_of = {sid: raw for _, sid, raw in self.dataset.captions}
        self.counts = {'captions': len(self.dataset.captions), 'extra_positives': 0, 'hard_negatives': 0,
                       'pairs_outside_train': 0}
        self.negatives: Dict[int, List[int]] = {}   # row -> image indices that do not match it
        rows_of_sentid: Dict[int, List[int]] = {}
        for row, (_, sid, _) in enumerate(self.dataset.captions):
            rows_of_sentid.setdefault(sid, []).append(row)
        for p in pairs:
            if p['relation'] != 'also_match':
                continue
            if p['sentid'] not in raw_of or p['imgid'] not in image_of:
                self.counts['pairs_outside_train'] += 1
                continue
            rows_of_sentid[p['sentid']].append(len(self.dataset.captions))
            self.dataset.captions.append((image_of[p['imgid']], p['sentid'], raw_of[p['sentid']]))
            self.counts['extra_positives'] += 1
        for p in pairs:
            if p['relation'] != 'hard_negative':
                continue
            if p['sentid'] not in rows_of_sentid or p['imgid'] not in image_of:
                self.counts['pairs_outside_train'] += 1
                continue
            for row in rows_of_sentid[p['sentid']]:
                self.negatives.setdefault(row, []).append(image_of[p['imgid']])
            self.counts['hard_negatives'] += 1
        # caption id -> every image it matches (its own and its extra positives), for the captions with extra
        # positives: the losses never treat such a pair as a negative (losses.positive_mask)
        self.positives_of: Dict[int, List[int]] = {
            sid: sorted({self.dataset.captions[r][0] for r in rows}) for sid, rows in rows_of_sentid.items()
            if len(rows) > 1}
        self.rows_of_image: Dict[int, List[int]] = {}
        for row, (i, _, _) in enumerate(self.dataset.captions):
            self.rows_of_image.setdefault(i, []).append(row)

    def __len__(self) -> int:
        return len(self.dataset)

    def image_index(self, row: int) -> int:
        return self.dataset.captions[row][0]


def colocate_hard_negatives(batches: List[List[int]], negatives: Dict[int, List[int]],
                            rows_of_image: Dict[int, List[int]], image_of_row, rng: random.Random) -> None:
    """In place: for each row with hard-negative images, swap a row of each such image into the row's batch,
    taking the place of a row that has no hard negatives of its own. Every row still appears exactly once."""
    where = {row: (b, k) for b, batch in enumerate(batches) for k, row in enumerate(batch)}
    for b, batch in enumerate(batches):
        for row in [r for r in batch if r in negatives]:
            for image in negatives[row]:
                present = {image_of_row(r) for r in batch}
                if image in present:
                    continue
                free = [k for k, r in enumerate(batch) if r not in negatives and image_of_row(r) != image_of_row(row)]
                outside = [r for r in rows_of_image.get(image, []) if where[r][0] != b]
                if not free or not outside:
                    continue
                k, incoming = rng.choice(free), rng.choice(outside)
                ob, ok = where[incoming]
                outgoing = batch[k]
                batch[k], batches[ob][ok] = incoming, outgoing
                where[incoming], where[outgoing] = (b, k), (ob, ok)


def epoch_batches(n: int, batch_size: int, world: int, rank: int, seed: int, epoch: int,
                  regroup=None) -> List[List[int]]:
    """This rank's batches of one epoch. Full global batches only (DDP gathers need equal shapes on every rank,
    and a tiny last batch would give ITC almost no negatives)."""
    rng = random.Random(seed * 1_000_003 + epoch)
    order = list(range(n))
    rng.shuffle(order)
    global_size = batch_size * world
    batches = [order[s:s + global_size] for s in range(0, n - global_size + 1, global_size)]
    if regroup is not None:
        regroup(batches, rng)
    return [b[rank * batch_size:(rank + 1) * batch_size] for b in batches]


def fit_batch_size(n: int, batch_size: int, world: int) -> int:
    """The batch size actually used: at most what the data fills at least once across every rank."""
    fitted = min(batch_size, n // world)
    if fitted < 2:
        raise FineTuneDataError(f'only {n} training examples for {world} process(es); a fine-tune needs at least '
                                f'2 per process')
    return fitted
