"""Masked image modeling (mim.py): exact mask counts, patch order, the loss over masked patches only, and under
the convolutional stem, masked patches hidden from their neighbours' tokens (the stem sees past a patch's border)."""
import unittest

import torch
import torch.nn.functional as F

from mome.mim import MimHead, mim_loss, patchify, random_patch_mask
from mome.model import MomeModel
from tests.model_helpers import tiny


def predictions(model, head, pixels, mask):
    """mim_loss's loss and the decoder's output it was computed from."""
    seen = {}
    hook = head.decoder.register_forward_hook(lambda _m, _i, out: seen.setdefault('pred', out))
    try:
        loss = mim_loss(model, head, pixels, mask)
    finally:
        hook.remove()
    return loss, seen['pred']


class MimTest(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.pixels = torch.randn(2, 3, 64, 64)
        self.mask = torch.zeros(2, 16, dtype=torch.bool)
        self.mask[0, [5, 6]] = True
        self.mask[1, [0, 15]] = True

    def model(self, patch_embed: str):
        torch.manual_seed(1)
        model = MomeModel(tiny(image_size=64, patch_embed=patch_embed)).eval()
        return model, MimHead(model)

    def test_masks_have_exactly_the_ratio_of_patches(self):
        mask = random_patch_mask(5, 36, 0.5, torch.Generator().manual_seed(0))
        self.assertEqual(mask.sum(dim=1).tolist(), [18] * 5)
        self.assertFalse(torch.equal(mask[0], mask[1]))
        self.assertEqual(random_patch_mask(2, 4, 0.01).sum(dim=1).tolist(), [1, 1])   # at least one

    def test_patches_come_in_the_patch_embedding_order(self):
        px = torch.arange(2 * 2 * 3, dtype=torch.float).reshape(1, 3, 2, 2)
        rows = patchify(px, 1)[0]
        # patch (row, col) in row-major order, its channels last
        self.assertEqual(rows.tolist(), [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]])

    def test_the_loss_is_the_l1_of_the_masked_patches_only(self):
        model, head = self.model('linear')
        loss, pred = predictions(model, head, self.pixels, self.mask)
        per_patch = F.l1_loss(pred, patchify(self.pixels, 16), reduction='none').mean(dim=-1)
        self.assertAlmostEqual(float(loss), float(per_patch[self.mask].mean()), places=5)

    def test_masked_pixels_reach_no_prediction_under_either_patch_embedding(self):
        changed = self.pixels.clone()
        changed[0, :, 16:32, 16:48] = 5.0   # image 0's patches 5 and 6 (masked)
        changed[1, :, :16, :16] = -5.0      # image 1's patch 0 (masked)
        for kind in ('linear', 'conv'):
            model, head = self.model(kind)
            with torch.no_grad():
                _, a = predictions(model, head, self.pixels, self.mask)
                _, b = predictions(model, head, changed, self.mask)
            self.assertTrue(torch.allclose(a, b, atol=1e-6), kind)
        # the stem alone carries them into the next token (patch 7 sees into patch 6): hiding them is
        # what keeps them out
        model, _ = self.model('conv')
        with torch.no_grad():
            near = model.transformer.patch_embed(changed)[0, 7] - model.transformer.patch_embed(self.pixels)[0, 7]
        self.assertGreater(float(near.abs().max()), 1e-3)


if __name__ == '__main__':
    unittest.main()
