"""The tiny model's training data: synthetic datasets written in the published formats (mome.synth), read back
through the format readers of data.py, and cached as tensors so training does not decode images every step.

Cache: images as uint8 [N, 3, S, S] after the official eval resize (PIL bicubic to S x S); `pixels()` applies
/255 and (x - 0.5) / 0.5, so a cached image is exactly data.eval_transform of the file. Text is tokenized and
padded to max_text_len once. Training uses no augmentation: the generator can draw as many fresh scenes as
wanted, and random crops would cut objects out of the picture and make counting captions false.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Dict, List

import torch
from PIL import Image

from ..data import load_rgb, read_karpathy, read_nlvr2
from ..safe_load import load_data
from ..synth import write_karpathy, write_nlvr2
from ..synth.nlvr2 import iter_sets
from ..synth.statements import LEVEL
from ..synth.lexicon import vocabulary
from ..tokenizer import WordPieceTokenizer, build_vocab

VOCAB_NOTE = ('WordPiece vocabulary built from the synthetic grammar\'s words (mome.synth.lexicon.vocabulary) by '
              'mome.tokenizer.build_vocab: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4, ASCII punctuation and '
              'digits, every grammar word, then a-z with ## continuations so any lower-case word can be spelled')


def write_vocab(path: str) -> List[str]:
    tokens = build_vocab(vocabulary())
    with open(path, 'w', encoding='utf-8', newline='\n') as fh:
        fh.write('\n'.join(tokens) + '\n')
    return tokens


@dataclass(frozen=True)
class DataSpec:
    """One synthetic dataset: kind, split written, size (images or examples), generator seed."""
    name: str
    kind: str   # 'coco' | 'nlvr2'
    split: str
    size: int
    seed: int
    world: str = 'tiny'   # synth.scene.WORLDS: train-tiny learns all but the held-out colour, shape and background


def generate(spec: DataSpec, root: str) -> str:
    """Writes the dataset under root/<name> unless a finished copy is there (a `.complete` marker)."""
    out = os.path.join(root, f'{spec.name}-{spec.size}-seed{spec.seed}-{spec.world}')
    marker = os.path.join(out, '.complete')
    if os.path.isfile(marker):
        return out
    os.makedirs(out, exist_ok=True)
    if spec.kind == 'nlvr2':
        write_nlvr2(out, spec.size, spec.seed, spec.split, None, True, world=spec.world)
    else:
        write_karpathy(out, spec.kind, spec.size, spec.seed, spec.split, None, True, world=spec.world)
    with open(marker, 'w') as fh:
        fh.write(f'{spec}\n')
    return out


def resize_u8(path: str, size: int) -> torch.Tensor:
    img = load_rgb(path).resize((size, size), Image.BICUBIC)
    return torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8).view(size, size, 3).permute(2, 0, 1)


def pixels(u8: torch.Tensor) -> torch.Tensor:
    """uint8 cache -> the model's input: /255, then (x - 0.5) / 0.5."""
    return (u8.float() / 255.0 - 0.5) / 0.5


def _encode(tok: WordPieceTokenizer, texts: List[str], max_len: int) -> Dict[str, torch.Tensor]:
    enc = tok.encode_batch(texts, max_len=max_len, pad='max_length', as_tensors=True)
    return {'input_ids': enc.input_ids, 'attention_mask': enc.attention_mask}


def cache_karpathy(folder: str, split: str, tok: WordPieceTokenizer, size: int, max_len: int) -> dict:
    images = read_karpathy(folder, [split])
    u8 = torch.stack([resize_u8(im.path, size) for im in images])
    caps = [(i, sid, raw) for i, im in enumerate(images) for sid, raw in im.sentences]
    out = {'images': u8, 'image_index': torch.tensor([c[0] for c in caps]),
           'sentid': torch.tensor([c[1] for c in caps]), **_encode(tok, [c[2] for c in caps], max_len)}
    # per image: the range of its captions (captions are stored image by image)
    counts = torch.bincount(out['image_index'], minlength=len(images))
    out['caption_start'] = torch.cumsum(counts, 0) - counts
    out['caption_count'] = counts
    return out


def cache_nlvr2(folder: str, split: str, tok: WordPieceTokenizer, size: int, max_len: int) -> dict:
    examples = read_nlvr2(folder, split)
    paths: Dict[str, int] = {}
    for e in examples:
        for p in (e.left, e.right):
            paths.setdefault(p, len(paths))
    u8 = torch.stack([resize_u8(p, size) for p in paths])
    return {'images': u8, 'left': torch.tensor([paths[e.left] for e in examples]),
            'right': torch.tensor([paths[e.right] for e in examples]),
            'label': torch.tensor([e.label for e in examples]),
            'identifier': [e.identifier for e in examples],
            **_encode(tok, [e.sentence for e in examples], max_len)}


def statement_levels(spec: DataSpec, identifiers: List[str]) -> torch.Tensor:
    """Each example's statement level (synth.statements.LEVEL: 0 presence, 1 counting or comparison), from the
    generator's ground truth for the same seed (the published format has no such field)."""
    level: Dict[str, int] = {}
    for es, examples in iter_sets(spec.seed, spec.split, spec.size, spec.world):
        for e in examples:
            level[e.identifier] = LEVEL[es.statements[int(e.identifier.rsplit('-', 1)[1])].family]
    return torch.tensor([level[i] for i in identifiers])


def load_cached(spec: DataSpec, root: str, tok: WordPieceTokenizer, size: int, max_len: int) -> dict:
    """The dataset's tensors, generating and caching on first use (cache file written atomically)."""
    path = os.path.join(root, 'cache', f'{spec.name}-{spec.size}-seed{spec.seed}-{spec.world}-{size}px-{max_len}.pt')
    if os.path.isfile(path):
        return load_data(path)   # data only (safe_load): tensors and identifier strings
    folder = generate(spec, root)
    data = (cache_nlvr2 if spec.kind == 'nlvr2' else cache_karpathy)(folder, spec.split, tok, size, max_len)
    if spec.kind == 'nlvr2':
        data['level'] = statement_levels(spec, data['identifier'])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(data, path + '.tmp')
    os.replace(path + '.tmp', path)
    return data


def trim(ids: torch.Tensor, mask: torch.Tensor):
    """Drops padding columns beyond the longest row: the model gives the same result for shorter unpadded text
    (model.py), and training is faster."""
    n = int(mask.sum(dim=1).max())
    return ids[:, :n], mask[:, :n]
