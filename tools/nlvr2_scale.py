"""How far more synthetic NLVR2 data takes a model's pair classifier: fine-tunes a model folder's NLVR2 path on N
generated train examples (rendered in parallel straight into tensors, no files) and prints its accuracy on a
held-out dev split (by statement level) as it goes, as JSON lines.

    PYTHONPATH=model-runtime/python python3 tools/nlvr2_scale.py --model assets/models/mome-tiny \
        --train 64000 --dev 1000 --steps 6000 --batch 128 --device cuda --workers 15

Seeds default to ones no other run of the project uses (train 8821, dev 8822); the world is train-tiny's.
Every weight is trained (the retrieval figures of the result are not kept: this measures NLVR2 alone)."""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import random
import sys
import time

import torch
from PIL import Image

from mome.export import export_model_dir
from mome.losses import nlvr2_loss
from mome.model_dir import load_model_dir
from mome.synth.nlvr2 import PAIRS_PER_SET, SENTENCES_PER_SET, example_set, set_numbers
from mome.synth.render import render
from mome.synth.statements import LEVEL
from mome.tiny.data import pixels, trim
from mome.tiny.eval import nlvr2_accuracy
from mome.tokenizer import WordPieceTokenizer


def vl_only(name: str) -> bool:
    """Whether only the image-text pair path runs this parameter, never the image-only or text-only passes that
    retrieval embeds with: the vision-language FFN expert, the pooler and the NLVR2 classifier."""
    return name.startswith(('nlvr2_classifier.', 'pooler.')) or '.mlp_vl.' in name or '.norm2_vl.' in name


def _one_set(args):
    seed, split, index, number, world, size = args
    es = example_set(seed, split, index, number, world)
    images = []
    for b in range(PAIRS_PER_SET):
        for side, scene in enumerate(es.pairs[b]):
            px = random.Random(f'{seed}:nlvr2:{split}:pixels:{es.number}:{b}:{side}')
            # bytes, not tensors: a forked worker must not run torch ops (OpenMP in the parent can hang it)
            images.append(render(scene, px).convert('RGB').resize((size, size), Image.BICUBIC).tobytes())
    rows = [(e.sentence, int(e.label), 2 * e.pair, 2 * e.pair + 1,
             LEVEL[es.statements[int(e.identifier.rsplit('-', 1)[1])].family]) for e in es.examples]
    return images, rows


def make_data(n: int, seed: int, split: str, world: str, size: int, tok, max_len: int, workers: int) -> dict:
    per_set = PAIRS_PER_SET * SENTENCES_PER_SET
    count = -(-n // per_set)
    jobs = [(seed, split, i, num, world, size) for i, num in enumerate(set_numbers(seed, split, count))]
    with mp.get_context('fork').Pool(workers) as pool:
        parts = pool.map(_one_set, jobs, chunksize=16)
    images, sentences, label, left, right, level = [], [], [], [], [], []
    for k, (raw, rows) in enumerate(parts):
        base = k * 2 * PAIRS_PER_SET
        images.extend(torch.frombuffer(bytearray(b), dtype=torch.uint8).view(size, size, 3).permute(2, 0, 1)
                      for b in raw)
        for s, y, l, r, lv in rows:
            sentences.append(s)
            label.append(y)
            left.append(base + l)
            right.append(base + r)
            level.append(lv)
    enc = tok.encode_batch(sentences[:n], max_len=max_len, pad='max_length', as_tensors=True)
    return {'images': torch.stack(images), 'left': torch.tensor(left[:n]), 'right': torch.tensor(right[:n]),
            'label': torch.tensor(label[:n]), 'level': torch.tensor(level[:n]),
            'input_ids': enc.input_ids, 'attention_mask': enc.attention_mask}


def main(argv) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--model', required=True)
    p.add_argument('--train', type=int, default=64000)
    p.add_argument('--dev', type=int, default=1000)
    p.add_argument('--seed-train', type=int, default=8821)
    p.add_argument('--seed-dev', type=int, default=8822)
    p.add_argument('--world', default='tiny')
    p.add_argument('--steps', type=int, default=6000)
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--lr', type=float, default=2e-4)
    p.add_argument('--head-mult', type=float, default=10.0)
    p.add_argument('--warmup', type=float, default=0.05)
    p.add_argument('--eval-every', type=int, default=500)
    p.add_argument('--device', default='cpu')
    p.add_argument('--workers', type=int, default=max(1, (os.cpu_count() or 2) - 1))
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--max-seconds', type=float, default=0,
                   help='a time budget for training: after 50 steps the schedule shrinks to fit it (0: none)')
    p.add_argument('--data-cache', help='a .pt file: the generated tensors are read from it, or written to it')
    p.add_argument('--train-subset', type=int, default=0, help='train on the first N examples only (0: all)')
    p.add_argument('--generate-only', action='store_true', help='write --data-cache and stop')
    p.add_argument('--tag', default='', help='a label printed on every line')
    p.add_argument('--scope', default='all', choices=('all', 'vl'),
                   help="vl: train only what retrieval never runs (the top layers' vision-language FFN expert, the "
                        'pooler and the NLVR2 classifier), so the retrieval embeddings stay bit-for-bit the same '
                        '(in PyTorch)')
    p.add_argument('--threads', type=int, default=0, help='torch threads (0: the default)')
    p.add_argument('--save', help='export the trained model to this new folder (fp32), e.g. for encoder_probe.py')
    a = p.parse_args(argv)
    t0 = time.time()

    def out(kind, **f):
        print(json.dumps({'type': kind, 'tag': a.tag, 'seconds': round(time.time() - t0, 1), **f}), flush=True)

    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model, config, meta = load_model_dir(a.model)
    size, max_len = meta['image_size'], meta['max_text_len']
    tok = WordPieceTokenizer.from_file(os.path.join(a.model, meta.get('vocab_file', 'vocab.txt')), max_len=max_len)
    if a.data_cache and os.path.isfile(a.data_cache):
        train, dev = torch.load(a.data_cache)
    else:
        train = make_data(a.train, a.seed_train, 'train', a.world, size, tok, max_len, a.workers)
        dev = make_data(a.dev, a.seed_dev, 'dev', a.world, size, tok, max_len, a.workers)
        if a.data_cache:
            torch.save((train, dev), a.data_cache + '.tmp')
            os.replace(a.data_cache + '.tmp', a.data_cache)
    if a.generate_only:
        return 0
    if a.train_subset:
        train = {k: (v[:a.train_subset] if k not in ('images',) else v) for k, v in train.items()}
    out('data', train=len(train['label']), dev=len(dev['label']), images=len(train['images']),
        true_share=round(float(train['label'].float().mean()), 3))
    device = torch.device(a.device)
    model.to(device).train()
    out('eval', step=0, **nlvr2_accuracy(model, dev))
    if a.scope == 'vl':
        for n, p_ in model.named_parameters():
            p_.requires_grad_(vl_only(n))
    head = [p_ for n, p_ in model.named_parameters() if n.startswith('nlvr2_classifier.')]
    rest = [p_ for n, p_ in model.named_parameters() if not n.startswith('nlvr2_classifier.') and p_.requires_grad]
    out('trainable', parameters=sum(p_.numel() for p_ in head + rest))
    opt = torch.optim.AdamW([{'params': rest, 'lr': a.lr}, {'params': head, 'lr': a.lr * a.head_mult}],
                            weight_decay=0.01)
    plan = {'total': a.steps}

    def lr_at(s: int) -> float:
        warm = max(1, int(a.warmup * plan['total']))
        if s < warm:
            return (s + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (s - warm) / max(1, plan['total'] - warm))))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    t_train = time.time()
    g = torch.Generator().manual_seed(a.seed)
    n = len(train['label'])
    losses = []
    step = 0
    while step < plan['total']:
        step += 1
        if step == 51 and a.max_seconds:
            per_step = (time.time() - t_train) / 50
            plan['total'] = max(51, min(a.steps, int((a.max_seconds - (time.time() - t0)) / per_step) + 50))
            out('plan', steps=plan['total'], step_seconds=round(per_step, 4))
        ex = torch.randint(0, n, (a.batch,), generator=g)
        ids, mask = trim(train['input_ids'][ex], train['attention_mask'][ex])
        left = pixels(train['images'][train['left'][ex]]).to(device, non_blocking=True)
        right = pixels(train['images'][train['right'][ex]]).to(device, non_blocking=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == 'cuda'):
            logits = model.nlvr2(left, right, ids.to(device), mask.to(device))
        loss = nlvr2_loss(logits, train['label'][ex])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if step % a.eval_every == 0 or step == plan['total']:
            out('eval', step=step, loss=round(sum(losses) / len(losses), 4), **nlvr2_accuracy(model, dev))
            losses = []
    if a.save:
        model.cpu().eval()
        export_model_dir(model, config, a.save, os.path.join(a.model, meta.get('vocab_file', 'vocab.txt')),
                         provenance={'trainer': 'tools/nlvr2_scale.py', 'from': a.model, 'args': vars(a),
                                     'note': 'an experiment, not a shipped model'})
        out('saved', folder=a.save)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
