"""PyTorch side of `npm run bench -- nlvr2`: the NLVR2 head in PyTorch eager on fixed inputs.

usage: nlvr2_reference.py OUT_DIR VOCAB THREADS BATCH ITERS [MODEL_DIR]
With MODEL_DIR (the shipped tiny model) its weights are loaded; without, a seeded random model of the tiny
configuration is built and exported to OUT_DIR/model. Writes the inputs to OUT_DIR (left.f32, right.f32
[BATCH,3,S,S], ids.i64, mask.i64 [BATCH,L]) and prints JSON {examples_per_s, ...}."""
import json
import os
import sys
import time

import torch

from mome.config import tiny_config
from mome.export import export_model_dir
from mome.model import MomeModel, randomize_
from mome.model_dir import load_model_dir

out, vocab, threads, batch, iters = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
model_dir = sys.argv[6] if len(sys.argv) > 6 else None
torch.set_num_threads(threads)
if model_dir:
    model, cfg, _ = load_model_dir(model_dir)
else:
    cfg = tiny_config()
    model = randomize_(MomeModel(cfg), 0).eval()
    export_model_dir(model, cfg, os.path.join(out, 'model'), vocab, provenance={'source': 'benchmark'})
g = torch.Generator().manual_seed(0)
S, L = cfg.image_size, cfg.max_text_len
left = torch.rand(batch, 3, S, S, generator=g) * 2 - 1
right = torch.rand(batch, 3, S, S, generator=g) * 2 - 1
ids = torch.randint(5, min(cfg.vocab_size, 2000), (batch, L), generator=g)  # words of the model's vocabulary
ids[:, 0] = 101
mask = torch.ones(batch, L, dtype=torch.long)
for name, t in [('left.f32', left), ('right.f32', right)]:
    t.numpy().astype('float32').tofile(os.path.join(out, name))
ids.numpy().astype('int64').tofile(os.path.join(out, 'ids.i64'))
mask.numpy().astype('int64').tofile(os.path.join(out, 'mask.i64'))
with torch.inference_mode():
    for _ in range(2):
        model.nlvr2(left, right, ids, mask)
    t0 = time.perf_counter()
    for _ in range(iters):
        model.nlvr2(left, right, ids, mask)
    secs = time.perf_counter() - t0
print(json.dumps({'examples_per_s': batch * iters / secs, 'seconds': secs, 'batch': batch, 'iters': iters,
                  'threads': threads, 'torch': torch.__version__, 'image_size': S, 'max_text_len': L,
                  'config': {'depth': cfg.depth, 'width': cfg.embed_dim, 'heads': cfg.num_heads}}))
