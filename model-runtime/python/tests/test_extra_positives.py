"""An "also a match" pair (a caption marked as matching another image) is never a negative of the fine-tune:
the ITM hard-negative sampler never draws it (a constructed batch where it is the only candidate), a marked hard
negative that contradicts it is dropped, ITC counts it as a positive (soft target) instead of a denominator
negative, and the pairs the app writes reach the step module (RetrievalTrainSet.positives_of, the batch's
caption ids)."""
import math
import os
import unittest

import torch
import torch.nn.functional as F

from mome.finetune.data import RetrievalTrainSet
from mome.finetune.steps import RetrievalFull
from mome.losses import itc_loss, itm_loss, positive_mask, sample_hard_negatives
from mome.model import MomeModel
from tests.model_helpers import REPO, inputs, tiny

SCALE = torch.tensor(math.log(1 / 0.07))
COCO = os.path.join(REPO, 'assets', 'datasets', 'coco-sample')

# Row 0: image 0 with caption 10; row 1: image 1 with caption 20. Caption 10 was marked "also a match" with
# image 1, so for text row 0 the only other image (row 1's) is a positive, and for image row 1 the only other
# text (row 0's) is one too.
IMAGE_IDS = torch.tensor([0, 1])
TEXT_IDS = torch.tensor([10, 20])
POSITIVES_OF = {10: [0, 1]}


class MaskTest(unittest.TestCase):
    def test_the_extra_pair_is_positive(self):
        pos = positive_mask(IMAGE_IDS, 2, text_ids=TEXT_IDS, positives_of=POSITIVES_OF)
        self.assertEqual(pos.tolist(), [[True, False], [True, True]])   # [image row, text row]
        self.assertEqual(positive_mask(IMAGE_IDS, 2).tolist(), [[True, False], [False, True]])

    def test_random_batches_never_draw_a_positive(self):
        g = torch.Generator().manual_seed(0)
        for trial in range(50):
            n = 12
            image_ids = torch.randint(0, 6, (n,), generator=g)
            text_ids = torch.arange(100, 100 + n)
            positives_of = {100 + t: sorted({int(image_ids[t]), int(torch.randint(0, 6, (1,), generator=g))})
                            for t in range(0, n, 2)}
            pos = positive_mask(image_ids, n, text_ids=text_ids, positives_of=positives_of)
            # the extra positive's image is most similar: the official sampler would favour it most
            sim = torch.where(pos, torch.full((n, n), 30.0), torch.randn(n, n, generator=g))
            for _ in range(20):
                neg_txt, neg_img = sample_hard_negatives(sim, pos, g)
                for i, t in enumerate(neg_txt.tolist()):
                    self.assertTrue(t < 0 or not pos[i, t], (trial, i, t))
                for t, i in enumerate(neg_img.tolist()):
                    self.assertTrue(i < 0 or not pos[i, t], (trial, i, t))


class ItmTest(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.model = MomeModel(tiny())
        x = inputs(self.model.config, batch=2)
        self.px, self.ids, self.mask = x['pixels'], x['ids'], x['mask']
        self.fed = []   # every (pixels, ids) the fusion encoder saw, with the ITM labels' order
        fusion = self.model.fusion

        def spy(px, ids, mask):
            self.fed.append((px.detach().clone(), ids.detach().clone()))
            return fusion(px, ids, mask)
        self.model.fusion = spy

    def pairs_fed(self):
        """(image row, text row) of each pair fed, found by comparing tensors with the batch."""
        px, ids = self.fed[-1]
        out = []
        for p, t in zip(px, ids):
            i = next(k for k in range(2) if torch.equal(p, self.px[k]))
            j = next(k for k in range(2) if torch.equal(t, self.ids[k]))
            out.append((i, j))
        return out

    def run_itm(self, seed, **kw):
        ie, te = self.model.encode_image(self.px), self.model.encode_text(self.ids, self.mask)
        return itm_loss(self.model, self.px, self.ids, self.mask, ie, te, image_ids=IMAGE_IDS,
                        generator=torch.Generator().manual_seed(seed), **kw)

    def test_the_only_hard_negative_candidate_is_the_extra_positive_so_none_is_drawn(self):
        # without the mark: two positives, a negative image per text, a negative text per image
        self.run_itm(0)
        self.assertEqual(self.pairs_fed(), [(0, 0), (1, 1), (1, 0), (0, 1), (0, 1), (1, 0)])
        for seed in range(20):
            loss = self.run_itm(seed, text_ids=TEXT_IDS, positives_of=POSITIVES_OF)
            fed = self.pairs_fed()
            self.assertEqual(fed[:2], [(0, 0), (1, 1)])          # the positives (label 1)
            self.assertNotIn((1, 0), fed[2:])                    # image 1 × caption 10: never a negative
            self.assertEqual(sorted(fed[2:]), [(0, 1), (0, 1)])  # image 0 × caption 20, from both sides
            self.assertTrue(math.isfinite(loss.item()))

    def test_a_marked_hard_negative_on_an_extra_positive_is_dropped(self):
        self.run_itm(0, text_ids=TEXT_IDS, positives_of=POSITIVES_OF, extra_negatives=[(1, 0), (0, 1)])
        fed = self.pairs_fed()
        self.assertNotIn((1, 0), fed[2:])
        self.assertEqual(fed[2:].count((0, 1)), 3)   # the sampled two and the marked (0, 1)


class ItcTest(unittest.TestCase):
    def test_the_extra_pair_is_a_positive_not_a_denominator_negative(self):
        g = torch.Generator().manual_seed(1)
        img, txt = torch.randn(2, 16, generator=g), torch.randn(2, 16, generator=g)
        loss = itc_loss(img, txt, SCALE, IMAGE_IDS, TEXT_IDS, POSITIVES_OF)
        logits = SCALE.exp() * F.normalize(img, dim=-1) @ F.normalize(txt, dim=-1).t()
        # i2t: image 0 → caption 10 only; image 1 → captions 10 and 20 (half each)
        li = F.log_softmax(logits, dim=1)
        i2t = -(li[0, 0] + (li[1, 0] + li[1, 1]) / 2) / 2
        # t2i: caption 10 → images 0 and 1 (half each); caption 20 → image 1
        lt = F.log_softmax(logits.t(), dim=1)
        t2i = -((lt[0, 0] + lt[0, 1]) / 2 + lt[1, 1]) / 2
        self.assertAlmostEqual(loss.item(), ((i2t + t2i) / 2).item(), places=5)
        self.assertNotAlmostEqual(loss.item(), itc_loss(img, txt, SCALE, IMAGE_IDS).item(), places=3)

    def test_without_marks_the_loss_is_unchanged(self):
        g = torch.Generator().manual_seed(2)
        img, txt = torch.randn(6, 16, generator=g), torch.randn(6, 16, generator=g)
        ids = torch.tensor([0, 0, 1, 2, 2, 2])
        self.assertAlmostEqual(itc_loss(img, txt, SCALE, ids, torch.arange(6), {}).item(),
                               itc_loss(img, txt, SCALE, ids).item(), places=6)


class PlumbingTest(unittest.TestCase):
    def test_pairs_file_to_step_module(self):
        plain = RetrievalTrainSet(COCO, None, 32, [], seed=0, train_transform=False)
        caps = plain.dataset.captions
        (own, sid, _), other = caps[0], caps[-1][0]
        self.assertNotEqual(own, other)
        imgid = plain.dataset.images[other].imgid
        data = RetrievalTrainSet(COCO, None, 32, [{'sentid': sid, 'imgid': imgid, 'relation': 'also_match'}],
                                 seed=0, train_transform=False)
        self.assertEqual(data.counts['extra_positives'], 1)
        self.assertEqual(data.positives_of, {sid: sorted([own, other])})
        # a batch of the caption's own row and a row of the other image: ITM never pairs them as a negative
        torch.manual_seed(0)
        model = MomeModel(tiny())
        x = inputs(model.config, batch=2)
        fed = []
        fusion = model.fusion
        model.fusion = lambda px, ids, mask: (fed.append(ids.detach().clone()), fusion(px, ids, mask))[1]
        step = RetrievalFull(model, True, torch.Generator().manual_seed(0), data.positives_of)
        other_sid = next(s for i, s, _ in caps if i == other)
        step(x['pixels'], x['ids'], x['mask'], torch.tensor([own, other]), [], torch.tensor([sid, other_sid]))
        # 2 positives + image of row 0 with caption of row 1 (from both sides); never row 1's image × row 0's text
        self.assertEqual(fed[-1].shape[0], 4)


if __name__ == '__main__':
    unittest.main()
