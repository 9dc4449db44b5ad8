"""PyTorch side of `npm run bench -- encode`: builds a seeded random MoME model, exports it, and measures the
image encoder in PyTorch eager on fixed inputs with the given thread count.

usage: encode_reference.py OUT_DIR VOCAB THREADS BATCH ITERS
Writes OUT_DIR/model, OUT_DIR/pixels.f32 (the inputs, [BATCH,3,S,S]) and prints JSON {images_per_s, ...}."""
import json
import os
import sys
import time

import torch

from mome.config import MomeConfig
from mome.export import export_model_dir
from mome.model import MomeModel, randomize_

out, vocab, threads, batch, iters = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
cfg = MomeConfig(embed_dim=384, depth=6, num_heads=6, image_size=224, patch_size=16, vl_start=4,
                 vocab_size=sum(1 for _ in open(vocab, encoding='utf-8')), max_text_len=40, heads=('itc', 'itm'))
model = randomize_(MomeModel(cfg), 0).eval()
export_model_dir(model, cfg, os.path.join(out, 'model'), vocab, provenance={'source': 'benchmark'})
g = torch.Generator().manual_seed(0)
pixels = torch.rand(batch, 3, cfg.image_size, cfg.image_size, generator=g) * 2 - 1
pixels.numpy().astype('float32').tofile(os.path.join(out, 'pixels.f32'))
with torch.inference_mode():
    for _ in range(2):
        model.encode_image(pixels)
    t0 = time.perf_counter()
    for _ in range(iters):
        model.encode_image(pixels)
    secs = time.perf_counter() - t0
print(json.dumps({'images_per_s': batch * iters / secs, 'seconds': secs, 'batch': batch, 'iters': iters,
                  'threads': threads, 'torch': torch.__version__,
                  'config': {'depth': cfg.depth, 'width': cfg.embed_dim, 'heads': cfg.num_heads,
                             'image_size': cfg.image_size}}))
