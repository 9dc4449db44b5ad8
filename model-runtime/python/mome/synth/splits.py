"""Split sizes in the published proportions, scaled to --size."""
from __future__ import annotations

# Published sizes: COCO Karpathy (82,783 train + 30,504 restval + 5,000 val + 5,000 test = 123,287),
# Flickr30K Karpathy (29,000 / 1,014 / 1,000), NLVR2 (86,373 train / 6,982 dev / 6,967 test1 examples).
PUBLISHED: dict[str, dict[str, int]] = {
    'coco': {'train': 82_783, 'restval': 30_504, 'val': 5_000, 'test': 5_000},
    'flickr30k': {'train': 29_000, 'val': 1_014, 'test': 1_000},
    'nlvr2': {'train': 86_373, 'dev': 6_982, 'test1': 6_967},
}
# --split names accepted per kind (NLVR2 also takes val/test for dev/test1)
ALIASES: dict[str, dict[str, str]] = {
    'coco': {'train': 'train', 'restval': 'restval', 'val': 'val', 'test': 'test'},
    'flickr30k': {'train': 'train', 'val': 'val', 'test': 'test'},
    'nlvr2': {'train': 'train', 'dev': 'dev', 'val': 'dev', 'test1': 'test1', 'test': 'test1'},
}


class SplitError(ValueError):
    pass


def split_sizes(kind: str, n: int, split: str) -> dict[str, int]:
    """How many items each split gets. 'all' scales the published proportions (the largest split,
    train, takes the rounding); each smaller split gets at least a few items so a tiny dataset still
    has every split. A named split gets all n."""
    if n < 1:
        raise SplitError(f'--size must be at least 1 (got {n})')
    if '=' in split:
        return explicit_sizes(kind, n, split)
    if split != 'all':
        name = ALIASES[kind].get(split)
        if name is None:
            raise SplitError(f'--split {split} does not exist for {kind}; use all or one of '
                             f'{", ".join(sorted(ALIASES[kind]))}')
        return {name: n}
    published = PUBLISHED[kind]
    total = sum(published.values())
    others = [s for s in published if s != 'train']
    floor = 3 if n >= 40 else 2 if n >= 12 else 1
    if n < floor * len(others) + 1:
        raise SplitError(f'--size {n} is too small to fill every {kind} split with --split all '
                         f'(need at least {floor * len(others) + 1}); give a larger --size or a named --split')
    sizes = {s: max(floor, round(n * published[s] / total)) for s in others}
    sizes['train'] = n - sum(sizes.values())
    return {s: sizes[s] for s in published}


def explicit_sizes(kind: str, n: int, spec: str) -> dict[str, int]:
    """'train=3000,test=1000': these splits with these sizes, in the published order; they must add up to n."""
    sizes: dict[str, int] = {}
    for part in spec.split(','):
        name, _, count = part.partition('=')
        split = ALIASES[kind].get(name.strip())
        if split is None or not count.strip().isdigit() or int(count) < 1:
            raise SplitError(f'--split {spec}: "{part}" is not SPLIT=COUNT with a {kind} split ('
                             f'{", ".join(sorted(ALIASES[kind]))}) and a count of at least 1')
        sizes[split] = sizes.get(split, 0) + int(count)
    if sum(sizes.values()) != n:
        raise SplitError(f'--split {spec} adds up to {sum(sizes.values())}, but --size is {n}; make them equal')
    return {s: sizes[s] for s in PUBLISHED[kind] if s in sizes}
