"""Training objectives (losses.py) and the optimizer/schedule (optim.py), on real tensors and a real tiny
MomeModel: ITC separates aligned from random embeddings and treats captions of one image as positives, the
hard-negative sampler never draws a positive and follows the similarities, ITM builds [pos; neg; neg] (+ marked
negatives), BERT masking rates and untouched specials, the gather is the identity without a process group."""
import math
import unittest

import torch
import torch.nn.functional as F

from mome.losses import (IGNORE_INDEX, all_gather_with_grad, itc_loss, itm_loss, mlm_loss, mlm_mask, nlvr2_loss,
                         positive_mask, sample_hard_negatives)
from mome.model import MomeModel
from mome.optim import build_optimizer, make_scheduler, warmup_linear_decay
from tests.model_helpers import inputs, tiny

SCALE = torch.tensor(math.log(1 / 0.07))


def unit(n: int, d: int, seed: int) -> torch.Tensor:
    return F.normalize(torch.randn(n, d, generator=torch.Generator().manual_seed(seed)), dim=-1)


class ItcTest(unittest.TestCase):
    def test_aligned_embeddings_score_far_below_random(self):
        img = unit(16, 32, 0)
        aligned = itc_loss(img, img.clone(), SCALE)
        unrelated = itc_loss(img, unit(16, 32, 1), SCALE)
        self.assertLess(aligned.item(), 0.05)
        self.assertGreater(unrelated.item(), 1.5)   # about log(16) = 2.77 for unrelated vectors

    def test_is_symmetric_and_normalizes_its_inputs(self):
        img, txt = unit(8, 16, 2), unit(8, 16, 3)
        self.assertAlmostEqual(itc_loss(img, txt, SCALE).item(), itc_loss(txt, img, SCALE).item(), places=5)
        self.assertAlmostEqual(itc_loss(img * 7, txt * 0.1, SCALE).item(), itc_loss(img, txt, SCALE).item(), places=5)

    def test_captions_of_the_same_image_are_not_negatives(self):
        # rows 0 and 1 carry two captions of image A (two different crops of it), row 2 a caption of image B
        a, b = unit(2, 16, 4)
        img = torch.stack([a, F.normalize(a + 0.3 * unit(1, 16, 6)[0], dim=0), b])
        txt = unit(3, 16, 5)
        swapped = txt[[1, 0, 2]]
        ids = torch.tensor([7, 7, 9])
        # with ids, which caption of A sits in which row does not matter: both are positives of A
        self.assertAlmostEqual(itc_loss(img, txt, SCALE, ids).item(), itc_loss(img, swapped, SCALE, ids).item(),
                               places=5)
        self.assertNotAlmostEqual(itc_loss(img, txt, SCALE).item(), itc_loss(img, swapped, SCALE).item(), places=3)
        # and the value is cross-entropy against targets spread evenly over the positives
        logits = SCALE.exp() * img @ txt.t()
        target = torch.tensor([[0.5, 0.5, 0], [0.5, 0.5, 0], [0, 0, 1.0]])
        expected = (-(F.log_softmax(logits, 1) * target).sum(1).mean()
                    - (F.log_softmax(logits.t(), 1) * target).sum(1).mean()) / 2
        self.assertAlmostEqual(itc_loss(img, txt, SCALE, ids).item(), expected.item(), places=5)

    def test_gradient_reaches_the_embeddings_and_the_scale(self):
        img = unit(6, 8, 5).requires_grad_()
        txt = unit(6, 8, 6).requires_grad_()
        scale = SCALE.clone().requires_grad_()
        itc_loss(img, txt, scale).backward()
        for t in (img, txt, scale):
            self.assertGreater(t.grad.abs().sum().item(), 0)


class GatherTest(unittest.TestCase):
    def test_identity_without_a_process_group(self):
        self.assertFalse(torch.distributed.is_initialized())
        x = torch.randn(4, 3, requires_grad=True)
        y = all_gather_with_grad(x)
        self.assertIs(y, x)


class HardNegativeTest(unittest.TestCase):
    def test_never_picks_a_positive(self):
        ids = torch.tensor([0, 0, 1, 2, 2, 2, 3, 4])
        pos = positive_mask(ids, 8)
        g = torch.Generator().manual_seed(0)
        for trial in range(200):
            sim = torch.randn(8, 8, generator=g) * 5
            sim[pos] += 50   # positives are by far the most similar: the sampler must still skip them
            neg_t, neg_i = sample_hard_negatives(sim, pos, generator=g)
            self.assertFalse(pos[torch.arange(8), neg_t].any(), f'trial {trial}: a positive text was drawn')
            self.assertFalse(pos.t()[torch.arange(8), neg_i].any(), f'trial {trial}: a positive image was drawn')

    def test_follows_the_similarities(self):
        sim = torch.zeros(4, 4)
        sim[0, 3] = 30.0   # image 0 is very close to text 3
        sim[2, 1] = 30.0
        pos = torch.eye(4, dtype=torch.bool)
        g = torch.Generator().manual_seed(1)
        for _ in range(20):
            neg_t, neg_i = sample_hard_negatives(sim, pos, generator=g)
            self.assertEqual(int(neg_t[0]), 3)
            self.assertEqual(int(neg_i[1]), 2)   # text 1's hardest image is 2

    def test_uniform_mix_draws_that_share_at_random(self):
        sim = torch.zeros(4, 4)
        sim[0, 3] = 30.0   # the similarity sampler alone always gives image 0 text 3
        pos = torch.eye(4, dtype=torch.bool)
        g = torch.Generator().manual_seed(2)
        picks = torch.stack([sample_hard_negatives(sim, pos, generator=g, uniform_mix=0.5)[0][0] for _ in range(3000)])
        share = {t: float((picks == t).float().mean()) for t in (1, 2, 3)}
        # half the draws by similarity (all text 3), half uniform over texts 1-3: 1/6, 1/6, 2/3
        self.assertAlmostEqual(share[1], 1 / 6, delta=0.03)
        self.assertAlmostEqual(share[2], 1 / 6, delta=0.03)
        self.assertAlmostEqual(share[3], 2 / 3, delta=0.03)
        self.assertFalse((picks == 0).any())   # never the positive
        with self.assertRaises(ValueError):
            sample_hard_negatives(sim, pos, uniform_mix=1.5)

    def test_a_row_without_negatives_gets_minus_one(self):
        pos = positive_mask(torch.tensor([5, 5]), 2)
        neg_t, neg_i = sample_hard_negatives(torch.zeros(2, 2), pos)
        self.assertEqual(neg_t.tolist(), [-1, -1])
        self.assertEqual(neg_i.tolist(), [-1, -1])


class ItmTest(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.cfg = tiny()
        self.model = MomeModel(self.cfg)
        x = inputs(self.cfg, batch=4)
        self.px, self.ids, self.mask = x['pixels'], x['ids'], x['mask']
        self.rows = []
        self.model.itm_score.register_forward_hook(lambda m, i, o: self.rows.append(o.shape[0]))

    def embeds(self):
        return self.model.encode_image(self.px), self.model.encode_text(self.ids, self.mask)

    def test_positives_then_two_negatives_per_pair_and_marked_negatives(self):
        ie, te = self.embeds()
        loss = itm_loss(self.model, self.px, self.ids, self.mask, ie, te, generator=torch.Generator().manual_seed(0))
        self.assertEqual(self.rows, [12])
        self.assertTrue(math.isfinite(loss.item()))
        itm_loss(self.model, self.px, self.ids, self.mask, ie, te, extra_negatives=[(0, 1), (2, 3)])
        self.assertEqual(self.rows[-1], 14)

    def test_rows_of_one_image_yield_no_negatives_among_themselves(self):
        ie, te = self.embeds()
        ids = torch.tensor([1, 1, 2, 2])
        itm_loss(self.model, self.px, self.ids, self.mask, ie, te, image_ids=ids, extra_negatives=[(0, 1)])
        self.assertEqual(self.rows, [12])   # the marked pair (0, 1) shows one image: skipped

    def test_trains_the_itm_head_and_the_encoder(self):
        ie, te = self.embeds()
        itm_loss(self.model, self.px, self.ids, self.mask, ie, te).backward()
        self.assertGreater(self.model.itm_score.fc.weight.grad.abs().sum().item(), 0)
        self.assertGreater(self.model.transformer.blocks[-1].mlp_vl.fc1.weight.grad.abs().sum().item(), 0)


class MlmTest(unittest.TestCase):
    SPECIALS = [0, 1, 2, 3]
    MASK = 4

    def batch(self):
        g = torch.Generator().manual_seed(3)
        ids = torch.randint(5, 100, (64, 40), generator=g)
        ids[:, 0] = 2
        mask = torch.ones_like(ids)
        for r in range(64):
            n = 10 + r % 25
            ids[r, n] = 3
            ids[r, n + 1:] = 0
            mask[r, n + 1:] = 0
        return ids, mask

    def test_rates_and_untouched_specials(self):
        ids, mask = self.batch()
        masked, labels = mlm_mask(ids, mask, 100, self.SPECIALS, prob=0.15,
                                  generator=torch.Generator().manual_seed(0), mask_id=self.MASK)
        chosen = labels != IGNORE_INDEX
        eligible = (mask == 1) & (ids > 4)
        self.assertFalse((chosen & ~eligible).any(), 'a special or padding token was chosen')
        self.assertTrue(torch.equal(masked[~chosen], ids[~chosen]), 'a token that was not chosen changed')
        self.assertTrue(torch.equal(labels[chosen], ids[chosen]))
        rate = chosen.sum().item() / eligible.sum().item()
        self.assertAlmostEqual(rate, 0.15, delta=0.02)
        n = chosen.sum().item()
        to_mask = (masked[chosen] == self.MASK).sum().item() / n
        kept = (masked[chosen] == ids[chosen]).sum().item() / n
        self.assertAlmostEqual(to_mask, 0.8, delta=0.05)
        self.assertAlmostEqual(kept, 0.1, delta=0.04)   # ~10% kept (+ the rare random draw of the same id)
        self.assertFalse(torch.isin(masked[chosen & (masked != self.MASK)], torch.tensor(self.SPECIALS)).any())

    def test_loss_counts_only_masked_positions_and_survives_an_empty_mask(self):
        logits = torch.randn(2, 5, 11, requires_grad=True)
        labels = torch.full((2, 5), IGNORE_INDEX)
        empty = mlm_loss(logits, labels)
        self.assertEqual(empty.item(), 0.0)
        empty.backward()
        labels[0, 2], labels[1, 4] = 3, 7
        expected = F.cross_entropy(torch.stack([logits[0, 2], logits[1, 4]]), torch.tensor([3, 7]))
        self.assertAlmostEqual(mlm_loss(logits, labels).item(), expected.item(), places=5)

    def test_nlvr2_loss_is_cross_entropy_with_true_as_class_1(self):
        logits = torch.tensor([[0.0, 5.0], [5.0, 0.0]])
        self.assertLess(nlvr2_loss(logits, torch.tensor([1, 0])).item(), 0.01)
        self.assertGreater(nlvr2_loss(logits, torch.tensor([0, 1])).item(), 4.9)


class OptimTest(unittest.TestCase):
    def test_no_decay_on_biases_norms_and_tables(self):
        model = MomeModel(tiny())
        opt = build_optimizer(model, 1e-3, head_lr_mult=10.0)
        for g in opt.param_groups:
            for name, p in zip(g['names'], g['params']):
                flat = p.dim() <= 1 or name.endswith('bias') or 'relative_position' in name or 'cls_token' in name
                self.assertEqual(g['weight_decay'] == 0.0, flat, name)
                self.assertEqual(g['lr'], 1e-2 if name.startswith(('itm_score', 'mlm_score', 'nlvr2_classifier'))
                                 else 1e-3, name)
        self.assertEqual(opt.defaults['betas'], (0.9, 0.98))

    def test_frozen_parameters_are_left_out(self):
        model = MomeModel(tiny())
        for p in model.transformer.parameters():
            p.requires_grad = False
        opt = build_optimizer(model, 1e-3)
        names = [n for g in opt.param_groups for n in g['names']]
        self.assertFalse(any(n.startswith('transformer.') for n in names))

    def test_warmup_then_linear_decay(self):
        self.assertEqual([warmup_linear_decay(s, 100, 10) for s in (0, 5, 10, 55, 100, 120)],
                         [0.0, 0.5, 1.0, 0.5, 0.0, 0.0])
        model = torch.nn.Linear(2, 2)
        opt = build_optimizer(model, 1.0)
        sched = make_scheduler(opt, 4, 2)
        seen = []
        for _ in range(4):
            seen.append(opt.param_groups[0]['lr'])
            opt.step()
            sched.step()
        self.assertEqual(seen, [0.0, 0.5, 1.0, 0.5])


if __name__ == '__main__':
    unittest.main()
