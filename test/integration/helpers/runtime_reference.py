"""A random MoME model exported to a model folder, and the official PYTHON path on real inputs, for the
TypeScript runtime's end-to-end check (tokenizer + image pre-processing + ONNX Runtime sessions).

usage: runtime_reference.py OUT_DIR VOCAB IMAGE... -- TEXT...
Writes OUT_DIR/model (the exported folder) and OUT_DIR/reference.json:
{image_embeds, text_embeds, itm_probs (image i with text i), nlvr2_probs (images 0,1 with text 0)}.
"""
import json
import os
import sys

import torch
from PIL import Image

from mome.config import MomeConfig
from mome.export import export_model_dir
from mome.model import MomeModel, randomize_
from mome.tokenizer import WordPieceTokenizer

out, vocab = sys.argv[1], sys.argv[2]
sep = sys.argv.index('--')
images, texts = sys.argv[3:sep], sys.argv[sep + 1:]

torch.manual_seed(0)
cfg = MomeConfig(embed_dim=64, depth=4, num_heads=4, image_size=64, patch_size=16, vl_start=2,
                 vocab_size=sum(1 for _ in open(vocab, encoding='utf-8')), max_text_len=16, token_types=3,
                 heads=('itc', 'itm', 'mlm', 'nlvr2'))
model = randomize_(MomeModel(cfg), 3).eval()
export_model_dir(model, cfg, os.path.join(out, 'model'), vocab, provenance={'source': 'random test model'})


def pixels(path):
    # the official loader and eval transform: PIL convert('RGB'), Resize((S, S), BICUBIC), ToTensor, Normalize(0.5)
    img = Image.open(path).convert('RGB').resize((cfg.image_size, cfg.image_size), Image.BICUBIC)
    t = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8).reshape(cfg.image_size, cfg.image_size, 3)
    t = t.permute(2, 0, 1).float().div(255)
    return (t - 0.5) / 0.5


tok = WordPieceTokenizer.from_file(vocab, max_len=cfg.max_text_len)
with torch.no_grad():
    px = torch.stack([pixels(p) for p in images])
    ids, mask = tok.encode_batch(texts, cfg.max_text_len)
    img = model.encode_image(px)
    txt = model.encode_text(ids, mask)
    n = min(len(images), len(texts))
    _, itm = model.fusion(px[:n], ids[:n], mask[:n])
    nl = model.nlvr2(px[0:1], px[1:2], ids[0:1], mask[0:1])
json.dump({
    'image_embeds': img.tolist(),
    'text_embeds': txt.tolist(),
    'itm_probs': itm.softmax(-1)[:, 1].tolist(),
    'nlvr2_probs': nl.softmax(-1)[:, 1].tolist(),
}, open(os.path.join(out, 'reference.json'), 'w'))
