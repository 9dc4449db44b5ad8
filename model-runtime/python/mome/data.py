"""Readers of the datasets on disk in their published formats (design.md, "Datasets on disk"; spec §6) and the
torch Datasets that training and fine-tuning draw from. PIL + torch only (no torchvision).

- Karpathy (COCO / Flickr30K): dataset_coco.json or dataset_flickr30k.json at the root; COCO images at
  <root>/<filepath>/<filename> (train2014/, val2014/), Flickr30K images at <root>/flickr30k-images/<filename>.
  COCO's "train" for training is train + restval (spec §6), which `splits` expresses.
- NLVR2: json-lines <split>.json; the images of identifier `split-a-b-c` are `split-a-b-img0.png` /
  `-img1.png`, in <root>/<split>/ for dev and test1 and <root>/images/train/<directory>/ for train.

Images: the eval transform is the official one exactly (spec §4). The train transform is a light
RandomResizedCrop (scale 0.5-1, bicubic) only: no horizontal flip and no RandAugment, because captions and
NLVR2 statements speak of left and right (a flip would make them false); the official recipe flips (its
pipeline swaps "left"/"right" in the text when it does).
"""
from __future__ import annotations

import json
import math
import os
import random
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple, Type, TypeVar

import torch
from PIL import Image
from torch.utils.data import Dataset


class DatasetFormatError(ValueError):
    """A dataset file is missing or not in the published format."""


# Images ---------------------------------------------------------------------------------------------------

def load_rgb(path: str) -> Image.Image:
    """PIL open + convert('RGB') as the official loader (alpha dropped, no EXIF rotation)."""
    try:
        with Image.open(path) as im:
            return im.convert('RGB')
    except FileNotFoundError:
        raise DatasetFormatError(f'image {path} does not exist; check the dataset\'s image folder') from None


def to_tensor(img: Image.Image) -> torch.Tensor:
    """[3, H, W] float in [-1, 1]: /255 then (x - 0.5) / 0.5."""
    w, h = img.size
    data = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8).view(h, w, 3)
    return (data.permute(2, 0, 1).float() / 255.0 - 0.5) / 0.5


def eval_transform(img: Image.Image, size: int) -> torch.Tensor:
    """The official square_transform: resize to (S, S) bicubic, aspect ratio not kept, no crop."""
    return to_tensor(img.resize((size, size), Image.BICUBIC))


def random_resized_box(width: int, height: int, rng: random.Random, scale=(0.5, 1.0),
                       ratio=(3 / 4, 4 / 3)) -> Tuple[int, int, int, int]:
    """torchvision's RandomResizedCrop box: area fraction in `scale`, log-uniform aspect in `ratio`, ten tries,
    then the largest centred box within the ratio range."""
    area = width * height
    for _ in range(10):
        target = area * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(math.log(ratio[0]), math.log(ratio[1])))
        w = int(round(math.sqrt(target * aspect)))
        h = int(round(math.sqrt(target / aspect)))
        if 0 < w <= width and 0 < h <= height:
            left, top = rng.randint(0, width - w), rng.randint(0, height - h)
            return left, top, left + w, top + h
    in_ratio = width / height
    if in_ratio < ratio[0]:
        w, h = width, int(round(width / ratio[0]))
    elif in_ratio > ratio[1]:
        w, h = int(round(height * ratio[1])), height
    else:
        w, h = width, height
    left, top = (width - w) // 2, (height - h) // 2
    return left, top, left + w, top + h


def train_transform(img: Image.Image, size: int, rng: random.Random, scale=(0.5, 1.0)) -> torch.Tensor:
    """RandomResizedCrop(size, scale) with bicubic resampling; no flip (see the module note)."""
    box = random_resized_box(img.size[0], img.size[1], rng, scale)
    return to_tensor(img.resize((size, size), Image.BICUBIC, box=box))


def encode_text(tokenizer, text: str, max_len: Optional[int] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """[CLS] ... [SEP] padded to max_text_len with mask 0 (the official padding='max_length', truncation)."""
    enc = tokenizer.encode(text, max_len=max_len, pad=True)
    return torch.tensor(enc.input_ids, dtype=torch.long), torch.tensor(enc.attention_mask, dtype=torch.long)


# Karpathy -------------------------------------------------------------------------------------------------

KARPATHY_FILES = ('dataset_coco.json', 'dataset_flickr30k.json')


@dataclass(frozen=True)
class KarpathyImage:
    imgid: int
    path: str
    split: str
    sentences: Tuple[Tuple[int, str], ...]   # (sentid, raw)


def karpathy_file(root: str) -> str:
    for name in KARPATHY_FILES:
        path = os.path.join(root, name)
        if os.path.isfile(path):
            return path
    raise DatasetFormatError(f'{root} holds neither {" nor ".join(KARPATHY_FILES)}; give the folder of a '
                             f'COCO- or Flickr30K-Karpathy dataset')


def _image_path(root: str, entry: dict, flickr: bool) -> str:
    if flickr:
        return os.path.join(root, 'flickr30k-images', entry['filename'])
    return os.path.join(root, entry.get('filepath', ''), entry['filename'])


def read_karpathy(root: str, splits: Optional[Sequence[str]] = None) -> List[KarpathyImage]:
    """The images of the given splits (all when None), in file order, with their captions."""
    path = karpathy_file(root)
    flickr = path.endswith('dataset_flickr30k.json')
    try:
        with open(path, encoding='utf-8') as fh:
            data = json.load(fh)
        entries = data['images']
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise DatasetFormatError(f'{path} is not a Karpathy annotation file ({e}); it must be '
                                 f'{{"images": [{{filename, imgid, split, sentences: [{{raw, sentid}}]}}]}}') from None
    wanted = set(splits) if splits is not None else None
    out = []
    for i, e in enumerate(entries):
        try:
            if wanted is not None and e['split'] not in wanted:
                continue
            sents = tuple((int(s['sentid']), s['raw']) for s in e['sentences'])
            out.append(KarpathyImage(int(e['imgid']), _image_path(root, e, flickr), e['split'], sents))
        except (KeyError, TypeError) as err:
            raise DatasetFormatError(f'{path}: image entry {i} lacks a field ({err}); each needs filename, imgid, '
                                     f'split and sentences with raw and sentid') from None
    return out


class KarpathyImages(Dataset):
    """Images only, eval transform: (pixels, image_index) — for embedding a test split once."""

    def __init__(self, images: Sequence[KarpathyImage], image_size: int) -> None:
        self.images, self.image_size = list(images), image_size

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        return eval_transform(load_rgb(self.images[i].path), self.image_size), i


class KarpathyCaptions(Dataset):
    """One item per caption: (pixels, input_ids, attention_mask, image_index, sentid); image_index is the
    image's position in `self.images` (the selected splits), so captions of one image share it."""

    def __init__(self, root: str, splits: Sequence[str], tokenizer, image_size: int, train: bool,
                 seed: int = 0, crop_scale=(0.5, 1.0)) -> None:
        self.images = read_karpathy(root, splits)
        if not self.images:
            raise DatasetFormatError(f'{karpathy_file(root)} has no image in splits {list(splits)}')
        self.captions: List[Tuple[int, int, str]] = [
            (i, sid, raw) for i, im in enumerate(self.images) for sid, raw in im.sentences]
        self.tokenizer, self.image_size, self.train = tokenizer, image_size, train
        self.crop_scale = crop_scale
        self.rng = random.Random(seed)

    def __len__(self) -> int:
        return len(self.captions)

    def pixels(self, image_index: int) -> torch.Tensor:
        img = load_rgb(self.images[image_index].path)
        if self.train:
            return train_transform(img, self.image_size, self.rng, self.crop_scale)
        return eval_transform(img, self.image_size)

    def __getitem__(self, k: int):
        i, sid, raw = self.captions[k]
        ids, mask = encode_text(self.tokenizer, raw)
        return self.pixels(i), ids, mask, i, sid


# NLVR2 ----------------------------------------------------------------------------------------------------

NLVR2_SPLITS = ('train', 'dev', 'test1')


@dataclass(frozen=True)
class Nlvr2Example:
    identifier: str
    sentence: str
    label: int   # 1 = "True"
    left: str
    right: str


def nlvr2_image_paths(root: str, split: str, record: dict) -> Tuple[str, str]:
    ident = record['identifier']
    prefix = ident.rsplit('-', 1)[0]
    if split == 'train':
        folder = os.path.join(root, 'images', 'train', str(record['directory']))
    else:
        folder = os.path.join(root, split)
    return os.path.join(folder, f'{prefix}-img0.png'), os.path.join(folder, f'{prefix}-img1.png')


T = TypeVar('T')


def read_json_lines(path: str, parse: Callable[[dict], T], error: Type[ValueError], what: str,
                    shape: str) -> List[T]:
    """Each non-blank line of a JSON-lines file through `parse`. A line that is not JSON or lacks what `parse`
    reads raises `error` as "path:line: not <what> (...); each line is <shape>"; an `error` that `parse` raises
    itself gets the path and line in front."""
    out: List[T] = []
    with open(path, encoding='utf-8') as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                out.append(parse(json.loads(line)))
            except error as e:
                raise error(f'{path}:{n}: {e}') from None
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
                raise error(f'{path}:{n}: not {what} ({e!r}); each line is {shape}') from None
    return out


def read_nlvr2(root: str, split: str) -> List[Nlvr2Example]:
    path = os.path.join(root, f'{split}.json')
    if not os.path.isfile(path):
        raise DatasetFormatError(f'{path} does not exist; an NLVR2 folder holds train.json, dev.json, test1.json')

    def parse(rec: dict) -> Nlvr2Example:
        label = {'True': 1, 'False': 0}[str(rec['label'])]
        left, right = nlvr2_image_paths(root, split, rec)
        return Nlvr2Example(rec['identifier'], rec['sentence'], label, left, right)

    return read_json_lines(path, parse, DatasetFormatError, 'an NLVR2 record',
                           'a JSON object with identifier, sentence, label "True"|"False" (and directory in train)')


class Nlvr2Pairs(Dataset):
    """(left, right, input_ids, attention_mask, label, identifier)."""

    def __init__(self, root: str, split: str, tokenizer, image_size: int, train: bool, seed: int = 0,
                 crop_scale=(0.5, 1.0)) -> None:
        self.examples = read_nlvr2(root, split)
        self.tokenizer, self.image_size, self.train = tokenizer, image_size, train
        self.crop_scale = crop_scale
        self.rng = random.Random(seed)

    def __len__(self) -> int:
        return len(self.examples)

    def _pixels(self, path: str) -> torch.Tensor:
        img = load_rgb(path)
        if self.train:
            return train_transform(img, self.image_size, self.rng, self.crop_scale)
        return eval_transform(img, self.image_size)

    def __getitem__(self, k: int):
        e = self.examples[k]
        ids, mask = encode_text(self.tokenizer, e.sentence)
        return self._pixels(e.left), self._pixels(e.right), ids, mask, e.label, e.identifier


def collate(rows: List[tuple]) -> tuple:
    """Stacks tensors and ints column by column; other columns (identifiers) stay lists."""
    out = []
    for col in zip(*rows):
        if isinstance(col[0], torch.Tensor):
            out.append(torch.stack(col))
        elif isinstance(col[0], int):
            out.append(torch.tensor(col, dtype=torch.long))
        else:
            out.append(list(col))
    return tuple(out)
