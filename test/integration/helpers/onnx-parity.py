"""Reference side of test/integration/onnx-parity.test.ts.

usage: onnx-parity.py OUT_DIR VOCAB_SIZE

For each variant writes OUT_DIR/<variant>/checkpoint.pt (a random model in the official key layout) and
OUT_DIR/<variant>/reference.json: inputs for several batch sizes and text lengths and PyTorch's outputs for
them (image_embeds, text_embeds, pooled, itm_logits, nlvr2_logits). The test converts the checkpoint with
`mome convert` and runs the graphs in ONNX Runtime.
"""
import json
import os
import sys

import torch

from mome.checkpoint import save_official_checkpoint
from mome.config import MomeConfig
from mome.model import MomeModel, randomize_

VARIANTS = {
    # rel-pos bias, layer scale, VL experts in the top half, every exported head
    'full': dict(heads=('itc', 'itm', 'mlm', 'nlvr2'), token_types=3),
    # MoMo-style: one FFN per block for every modality
    'shared': dict(heads=('itc', 'itm', 'nlvr2'), token_types=3, shared_experts=True),
    # base-plus style: absolute position embeddings, no relative table, no layer scale (64 wide -> 1 head by rule)
    'baseplus': dict(heads=('itc', 'itm'), rel_pos_bias=False, abs_pos_emb=True, layer_scale=False, num_heads=1),
}
CASES = [(1, None), (3, None), (2, 5)]   # (batch, text length; None = padded to max_text_len)


def make_inputs(cfg, batch, text_len, seed):
    g = torch.Generator().manual_seed(seed)
    n = text_len or cfg.max_text_len
    ids = torch.randint(1000, cfg.vocab_size, (batch, n), generator=g)
    ids[:, 0] = 101
    mask = torch.ones(batch, n, dtype=torch.long)
    for b in range(batch):
        real = max(2, n - 3 * b)
        ids[b, real - 1] = 102
        ids[b, real:] = 0
        mask[b, real:] = 0
    s = cfg.image_size
    px = lambda: torch.rand(batch, 3, s, s, generator=g) * 2 - 1   # noqa: E731
    return {'pixel_values': px(), 'pixel_values_left': px(), 'pixel_values_right': px(), 'input_ids': ids,
            'attention_mask': mask}


@torch.no_grad()
def outputs(m, x):
    out = {'image_embeds': m.encode_image(x['pixel_values']),
           'text_embeds': m.encode_text(x['input_ids'], x['attention_mask'])}
    pooled, itm = m.fusion(x['pixel_values'], x['input_ids'], x['attention_mask'])
    out['pooled'] = pooled
    if itm is not None:
        out['itm_logits'] = itm
    if m.config.has('nlvr2'):
        out['nlvr2_logits'] = m.nlvr2(x['pixel_values_left'], x['pixel_values_right'], x['input_ids'],
                                      x['attention_mask'])
    return out


def main(out_dir, vocab_size):
    for i, (name, extra) in enumerate(VARIANTS.items()):
        cfg = MomeConfig(**{**dict(embed_dim=64, depth=4, num_heads=4, image_size=32, patch_size=16, vl_start=2,
                                   vocab_size=vocab_size, max_text_len=12), **extra})
        torch.manual_seed(i)
        model = randomize_(MomeModel(cfg), seed=100 + i).eval()
        folder = os.path.join(out_dir, name)
        save_official_checkpoint(model, os.path.join(folder, 'checkpoint.pt'), 'state_dict')
        cases = []
        for j, (batch, text_len) in enumerate(CASES):
            x = make_inputs(cfg, batch, text_len, seed=10 * i + j)
            cases.append({'batch': batch, 'text_len': x['input_ids'].shape[1],
                          'inputs': {k: v.tolist() for k, v in x.items()},
                          'outputs': {k: v.tolist() for k, v in outputs(model, x).items()}})
        with open(os.path.join(folder, 'reference.json'), 'w') as fh:
            json.dump({'variant': name, 'config': cfg.to_dict(), 'cases': cases}, fh)


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]))
