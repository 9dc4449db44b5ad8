"""The two fine-tuning tasks as the training loop sees them: how many rows, this rank's batches per epoch, a
batch's tensors for the step module, the fast-mode caching pass, and the held-out evaluation (PyTorch, the
same protocol as the app's: retrieval R@1/5/10 in %, NLVR2 accuracy in %)."""
from __future__ import annotations

from typing import Callable, Dict, List, Optional

import torch
from torch.utils.data import DataLoader, Dataset

from ..data import KarpathyImages, Nlvr2Pairs, collate, encode_text, read_karpathy
from . import fast
from .data import FineTuneDataError, RetrievalTrainSet, colocate_hard_negatives, epoch_batches
from .steps import Nlvr2Fast, Nlvr2Full, RetrievalFast, RetrievalFull, local_negative_pairs

Emit = Callable[..., None]
EVAL_BATCH = 64


class _WithRow(Dataset):
    """Adds the row index to every item (to find the user's hard negatives of a batch)."""

    def __init__(self, inner: Dataset) -> None:
        self.inner = inner

    def __len__(self) -> int:
        return len(self.inner)

    def __getitem__(self, k: int):
        return (*self.inner[k], k)


class Task:
    """Shared plumbing; subclasses set self.n, self.train_set and implement the rest."""

    def __init__(self, cfg: dict, model, tokenizer, device: torch.device, world: int, rank: int) -> None:
        self.cfg, self.model, self.tokenizer, self.device = cfg, model, tokenizer, device
        self.world, self.rank = world, rank
        self.fast = cfg['mode'] == 'fast'
        self.top = int(cfg.get('fast_top_layers', 0))
        self.image_size = model.config.image_size
        self.cached: Optional[Dict[str, torch.Tensor]] = None

    def batches(self, epoch: int, batch_size: int) -> List[List[int]]:
        return epoch_batches(self.n, batch_size, self.world, self.rank, self.cfg['seed'], epoch, self.regroup())

    def regroup(self):
        return None

    def loader(self, batches: List[List[int]]):
        if self.fast:
            return (self.cached_batch(b) for b in batches)
        return (self.to_device(b) for b in DataLoader(self.train_set, batch_sampler=batches, collate_fn=collate,
                                                       num_workers=int(self.cfg.get('workers', 0))))

    def check_cache_size(self, items: int, tokens: int) -> None:
        need = items * fast.state_bytes(self.model, self.top, tokens)
        limit = int(self.cfg.get('fast_cache_limit_bytes', 8 << 30))
        if need > limit:
            raise FineTuneDataError(f'fast mode with {self.top} trainable top layers would cache '
                                    f'{need / 2**30:.1f} GiB of features (limit {limit / 2**30:.1f} GiB); set '
                                    f'fast_top_layers to 0 (heads only) or use a GPU with mode "full"')


class RetrievalTask(Task):
    def __init__(self, cfg, model, tokenizer, device, world, rank) -> None:
        super().__init__(cfg, model, tokenizer, device, world, rank)
        self.data = RetrievalTrainSet(cfg['data'], tokenizer, self.image_size, cfg['pairs'], cfg['seed'],
                                      train_transform=not self.fast)
        self.train_set = _WithRow(self.data.dataset)
        self.n = len(self.data)
        self.counts = dict(self.data.counts, examples=self.n)
        self.use_itm = bool(cfg.get('itm', True)) and model.config.has('itm') and not self.fast
        self.generator = torch.Generator().manual_seed(cfg['seed'] + rank)

    def regroup(self):
        d = self.data
        if not d.negatives:
            return None
        return lambda batches, rng: colocate_hard_negatives(batches, d.negatives, d.rows_of_image, d.image_index,
                                                            rng)

    def step_module(self):
        if self.fast:
            return RetrievalFast(self.model, self.top, self.data.positives_of)
        return RetrievalFull(self.model, self.use_itm, self.generator, self.data.positives_of)

    def to_device(self, batch):
        pixels, ids, mask, image_ids, sentids, rows = batch
        pairs = local_negative_pairs(image_ids.tolist(), self.data.negatives, rows.tolist())
        dev = self.device
        return (pixels.to(dev), ids.to(dev), mask.to(dev), image_ids.to(dev), pairs, sentids.to(dev)), len(rows)

    def prepare(self, emit: Emit) -> None:
        if not self.fast:
            return
        captions = self.data.dataset.captions
        images = self.data.dataset.images
        self.check_cache_size(len(images) + len(captions), max(self.model.config.num_image_tokens,
                                                                self.model.config.max_text_len))
        m, top, dev = self.model, self.top, self.device
        total = len(images) + len(captions)
        img_loader = DataLoader(KarpathyImages(images, self.image_size), batch_size=EVAL_BATCH,
                                num_workers=int(self.cfg.get('workers', 0)))
        img = fast.cache_states(((px,) for px, _ in img_loader),
                                lambda px: {'image': fast.image_state(m, px.to(dev), top)},
                                lambda k: emit('progress', stage='caching', done=k, total=total))
        texts = [encode_text(self.tokenizer, raw) for _, _, raw in captions]
        ids = torch.stack([t[0] for t in texts])
        mask = torch.stack([t[1] for t in texts])
        chunks = ((ids[s:s + EVAL_BATCH], mask[s:s + EVAL_BATCH]) for s in range(0, len(texts), EVAL_BATCH))
        txt = fast.cache_states(chunks, lambda i, k: {'text': fast.text_state(m, i.to(dev), k.to(dev), top)},
                                lambda k: emit('progress', stage='caching', done=len(images) + k, total=total))
        self.cached = {'image': img['image'], 'text': txt['text'], 'mask': mask,
                       'image_of_row': torch.tensor([c[0] for c in captions], dtype=torch.long),
                       'sentid_of_row': torch.tensor([c[1] for c in captions], dtype=torch.long)}

    def cached_batch(self, rows: List[int]):
        c, dev = self.cached, self.device
        r = torch.tensor(rows, dtype=torch.long)
        image_ids = c['image_of_row'][r]
        return (c['image'][image_ids].to(dev), c['text'][r].to(dev), c['mask'][r].to(dev), image_ids.to(dev),
                c['sentid_of_row'][r].to(dev)), len(rows)

    @torch.no_grad()
    def evaluate(self, split: str) -> Dict[str, float]:
        m, dev = self.model, self.device
        images = read_karpathy(self.cfg['data'], [split])
        if not images:
            raise FineTuneDataError(f'the data folder has no images in split "{split}" to evaluate on')
        img = torch.cat([m.encode_image(px.to(dev)).cpu()
                         for px, _ in DataLoader(KarpathyImages(images, self.image_size), batch_size=EVAL_BATCH)])
        owner, texts = [], []
        for i, im in enumerate(images):
            for _, raw in im.sentences:
                owner.append(i)
                texts.append(encode_text(self.tokenizer, raw))
        ids = torch.stack([t[0] for t in texts])
        mask = torch.stack([t[1] for t in texts])
        txt = torch.cat([m.encode_text(ids[s:s + EVAL_BATCH].to(dev), mask[s:s + EVAL_BATCH].to(dev)).cpu()
                         for s in range(0, len(texts), EVAL_BATCH)])
        return retrieval_recall(img @ txt.t(), torch.tensor(owner))


def retrieval_recall(scores: torch.Tensor, owner: torch.Tensor) -> Dict[str, float]:
    """scores [images, captions]; owner[c] = the image of caption c. TR: per image, a hit when any of its captions
    is in the top k; IR: per caption, a hit when its image is in the top k (spec §6), in %."""
    out = {}
    for k in (1, 5, 10):
        kt = min(k, scores.shape[1])
        top_c = scores.topk(kt, dim=1).indices                       # [I, k] captions
        tr = (owner[top_c] == torch.arange(scores.shape[0])[:, None]).any(dim=1).float().mean()
        ki = min(k, scores.shape[0])
        top_i = scores.t().topk(ki, dim=1).indices                   # [C, k] images
        ir = (top_i == owner[:, None]).any(dim=1).float().mean()
        out[f'tr_r{k}'], out[f'ir_r{k}'] = round(100 * tr.item(), 4), round(100 * ir.item(), 4)
    # mean reciprocal rank of the truth: finer than R@k on small splits (one caption moves it by 1/captions)
    true_score = scores.gather(0, owner[None, :])[0]                          # [C] score of each caption's image
    ir_rank = (scores > true_score[None, :]).sum(dim=0)                       # images above the truth
    own = owner[None, :] == torch.arange(scores.shape[0])[:, None]            # [I, C] caption belongs to image
    best = scores.masked_fill(~own, float('-inf')).max(dim=1).values          # best own caption per image
    tr_rank = (scores.masked_fill(own, float('-inf')) > best[:, None]).sum(dim=1)
    out['ir_mrr'] = round(100 * (1.0 / (ir_rank + 1).float()).mean().item(), 4)
    out['tr_mrr'] = round(100 * (1.0 / (tr_rank + 1).float()).mean().item(), 4)
    return out


class Nlvr2Task(Task):
    def __init__(self, cfg, model, tokenizer, device, world, rank) -> None:
        super().__init__(cfg, model, tokenizer, device, world, rank)
        self.train_set = Nlvr2Pairs(cfg['data'], 'train', tokenizer, self.image_size, train=not self.fast,
                                    seed=cfg['seed'])
        self.n = len(self.train_set)
        labels = [e.label for e in self.train_set.examples]
        self.counts = {'examples': self.n, 'true': sum(labels), 'false': self.n - sum(labels)}

    def step_module(self):
        return Nlvr2Fast(self.model, self.top) if self.fast else Nlvr2Full(self.model)

    def to_device(self, batch):
        left, right, ids, mask, labels, _ = batch
        dev = self.device
        return (left.to(dev), right.to(dev), ids.to(dev), mask.to(dev), labels.to(dev)), len(labels)

    def prepare(self, emit: Emit) -> None:
        if not self.fast:
            return
        cfg = self.model.config
        self.check_cache_size(2 * self.n, cfg.num_image_tokens + cfg.max_text_len)
        m, top, dev = self.model, self.top, self.device
        loader = DataLoader(self.train_set, batch_size=EVAL_BATCH, collate_fn=collate,
                            num_workers=int(self.cfg.get('workers', 0)))

        def encode(left, right, ids, mask, labels, _):
            ids, mask = ids.to(dev), mask.to(dev)
            return {'left': fast.fusion_state(m, left.to(dev), ids, mask, 1, top),
                    'right': fast.fusion_state(m, right.to(dev), ids, mask, 2, top), 'mask': mask, 'label': labels}

        self.cached = fast.cache_states(loader, encode, lambda k: emit('progress', stage='caching', done=k,
                                                                       total=self.n))
        self.cached['mask'] = self.cached['mask'].long()
        self.cached['label'] = self.cached['label'].long()

    def cached_batch(self, rows: List[int]):
        c, dev = self.cached, self.device
        r = torch.tensor(rows, dtype=torch.long)
        return tuple(c[k][r].to(dev) for k in ('left', 'right', 'mask', 'label')), len(rows)

    @torch.no_grad()
    def evaluate(self, split: str) -> Dict[str, float]:
        ds = Nlvr2Pairs(self.cfg['data'], split, self.tokenizer, self.image_size, train=False)
        if len(ds) == 0:
            raise FineTuneDataError(f'the data folder has no NLVR2 examples in split "{split}" to evaluate on')
        correct, loss_sum = 0, 0.0
        for left, right, ids, mask, labels, _ in DataLoader(ds, batch_size=EVAL_BATCH, collate_fn=collate):
            dev = self.device
            logits = self.model.nlvr2(left.to(dev), right.to(dev), ids.to(dev), mask.to(dev)).float().cpu()
            correct += int((logits.argmax(dim=1) == labels).sum())
            loss_sum += float(torch.nn.functional.cross_entropy(logits, labels, reduction='sum'))
        return {'accuracy': round(100 * correct / len(ds), 4), 'loss': round(loss_sum / len(ds), 6)}


def make_task(cfg: dict, model, tokenizer, device, world: int, rank: int) -> Task:
    cls = RetrievalTask if cfg['task'] == 'retrieval' else Nlvr2Task
    return cls(cfg, model, tokenizer, device, world, rank)
