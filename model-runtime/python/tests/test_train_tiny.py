"""`python3 -m mome train-tiny --quick`, end to end in real subprocesses: synthetic data in the published formats,
the four stages, held-out evaluation and the exported model directory (loaded back into PyTorch with the
quality figures in mome.json); a run stopped mid-stage resumes from its checkpoint and ends exactly where an
uninterrupted run ends; training losses go down. The same pipeline as the shipped model, only smaller."""
import json
import os
import subprocess
import sys
import unittest

import torch

from mome.model_dir import load_model_dir
from mome.tiny.stages import STAGES
from mome.safe_load import load_data
from tests.model_helpers import PYTHON_DIR, TempDirTest


def train(work: str, out: str, *extra: str):
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, '-m', 'mome', 'train-tiny', '--quick', '--work', work, '--out', out,
                           *extra], capture_output=True, text=True, env=env, timeout=600)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith('{')]
    return proc.returncode, events, proc.stderr


def read_state(work: str) -> dict:
    with open(os.path.join(work, 'state.json'), encoding='utf-8') as fh:
        return json.load(fh)


def mean(rows, key):
    return sum(r[key] for r in rows) / len(rows)


class StagePartsTest(unittest.TestCase):
    def setUp(self):
        from tests.model_helpers import tiny
        from mome.model import MomeModel
        torch.manual_seed(0)
        self.model = MomeModel(tiny())

    def test_language_stage_freezes_attention_and_the_vision_expert_only(self):
        from mome.tiny.stages import freeze_for_language
        freeze_for_language(self.model)
        frozen = {n for n, p in self.model.named_parameters() if not p.requires_grad}
        for n, _ in self.model.named_parameters():
            # the final norm and the layer scales are shared by every expert: they stay as vision left them
            vision_or_attention = any(k in n for k in ('.attn.', '.norm1.', 'mlp_imag', 'norm2_imag', 'patch_embed',
                                                       'cls_token', 'gamma_', 'transformer.norm.'))
            self.assertEqual(n in frozen, vision_or_attention, n)
        self.assertNotIn('text_embeddings.word_embeddings.weight', frozen)
        self.assertNotIn('transformer.blocks.0.mlp_text.fc1.weight', frozen)

    def test_vl_expert_and_third_token_type_start_as_copies(self):
        from mome.tiny.stages import init_third_token_type, init_vl_expert
        init_vl_expert(self.model)
        init_third_token_type(self.model)
        top = self.model.transformer.blocks[-1]
        self.assertTrue(torch.equal(top.mlp_vl.fc1.weight, top.mlp_text.fc1.weight))
        self.assertTrue(torch.equal(top.norm2_vl.weight, top.norm2_text.weight))
        tt = self.model.token_type_embeddings.weight
        self.assertTrue(torch.equal(tt[2], tt[1]))

    def test_batches_hold_distinct_images_with_one_of_their_captions_and_repeat_per_step(self):
        from mome.tiny.stages import caption_batch, step_generator
        counts = torch.tensor([5, 6, 5, 7, 5])
        starts = torch.cumsum(counts, 0) - counts
        owner = torch.repeat_interleave(torch.arange(5), counts)
        ids = torch.stack([torch.tensor([2, 10 + int(o), 3, 0]) for o in owner])
        data = {'images': torch.arange(5, dtype=torch.uint8).view(5, 1, 1, 1).expand(5, 3, 2, 2).clone(),
                'caption_start': starts, 'caption_count': counts, 'input_ids': ids,
                'attention_mask': (ids != 0).long()}
        px, b_ids, mask, imgs = caption_batch(data, 4, step_generator(0, 'vl', 3))
        self.assertEqual(len(set(imgs.tolist())), 4)
        self.assertEqual((b_ids[:, 1] - 10).tolist(), imgs.tolist())   # each caption belongs to its image
        self.assertEqual(b_ids.shape[1], 3)                               # trimmed to the longest row
        again = caption_batch(data, 4, step_generator(0, 'vl', 3))[3]
        self.assertEqual(again.tolist(), imgs.tolist())

    def test_caption_word_targets_mark_the_words_of_every_caption_of_each_image_and_drop_constant_ones(self):
        from mome.tiny.stages import caption_word_targets
        # captions stored out of image order: image 1's two captions come first
        ids = torch.tensor([[2, 7, 9, 3], [2, 7, 3, 0], [2, 7, 8, 3], [2, 7, 6, 3], [2, 7, 3, 0]])
        data = {'caption_start': torch.tensor([2, 0, 4]), 'caption_count': torch.tensor([2, 2, 1]),
                'image_index': torch.tensor([1, 1, 0, 0, 2]), 'input_ids': ids, 'attention_mask': (ids != 0).long()}
        words, targets = caption_word_targets(data, 12, 5)
        # 7 is in every image's captions, 10 and 11 in none, 2 and 3 are below first_word_id
        self.assertEqual(words.tolist(), [6, 8, 9])
        # given words: the same columns for another image set, whatever their share there
        self.assertEqual(caption_word_targets(data, 12, 5, words=torch.tensor([7, 9]))[1].tolist(),
                         [[1, 0], [1, 1], [1, 0]])
        self.assertEqual(targets.tolist(), [[1, 1, 0], [0, 0, 1], [0, 0, 0]])

    def test_recipes_change_only_what_they_name(self):
        from dataclasses import asdict
        from mome.tiny.train import PLANS, apply_recipe
        full = PLANS['full']
        self.assertEqual(asdict(apply_recipe(full, 'shipped')), asdict(full))
        stem = apply_recipe(full, 'tags-stem')
        self.assertEqual(asdict(stem), {**asdict(full), 'model': {**full.model, 'patch_embed': 'conv',
                                                                  'layer_scale_init': 0.1}})
        before = apply_recipe(full, 'no-tags')
        self.assertEqual(before.word_tags, 0.0)
        self.assertEqual(before.steps, {**full.steps, 'vision': 100})
        self.assertEqual(full.word_tags, 1.0)   # the plan itself is untouched
        # steps scale to whole numbers, at least one
        self.assertEqual(apply_recipe(PLANS['quick'], 'no-tags').steps['vision'], 2)
        attributes = apply_recipe(full, 'attributes-stem')
        self.assertEqual(asdict(attributes), {**asdict(stem), 'vision_tags': 'attributes',
                                              'steps': {**full.steps, 'vision': 3000}})
        self.assertEqual(asdict(apply_recipe(full, 'attributes-stem-60k')), {**asdict(attributes), 'vision_images': 7.5})
        from mome.tiny.train import vision_set
        self.assertEqual(vision_set(apply_recipe(full, 'attributes-stem-60k')), ('coco', 'train', 60000, 5))
        self.assertEqual(asdict(apply_recipe(full, 'attributes-stem-60k-vl')),
                         {**asdict(apply_recipe(full, 'attributes-stem-60k')), 'vl_tags': 'attributes'})
        self.assertEqual(asdict(apply_recipe(full, 'attributes-stem-60k-vl-swaps')),
                         {**asdict(apply_recipe(full, 'attributes-stem-60k-vl')), 'shape_swaps': True})

    def test_the_vision_stage_can_tag_only_the_words_naming_a_shape_or_a_colour(self):
        import torch.nn.functional as F
        from mome.tiny.data import write_vocab
        from mome.tiny.stages import TagHead, _tags, attribute_columns
        from mome.tiny.train import PLANS
        from mome.tokenizer import WordPieceTokenizer
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            tok = WordPieceTokenizer(write_vocab(os.path.join(d, 'vocab.txt')))
        words = torch.tensor([tok.vocab[w] for w in ('red', 'striped', 'disc', 'left', 'violet', 'stars', 'sand')])
        columns = attribute_columns(words, tok)
        self.assertEqual(columns.tolist(), [0, 2, 4, 5])
        torch.manual_seed(0)
        ctx = {'plan': PLANS['quick'], 'tags': TagHead(8, len(words)), 'tag_targets': (torch.rand(3, 7) > 0.5).float()}
        hidden, imgs = torch.randn(2, 5, 8), torch.tensor([2, 0])
        logits = ctx['tags'](hidden)
        self.assertAlmostEqual(float(_tags(ctx, hidden, imgs, columns)), float(F.binary_cross_entropy_with_logits(
            logits[:, columns], ctx['tag_targets'][imgs][:, columns])), places=6)
        self.assertAlmostEqual(float(_tags(ctx, hidden, imgs)), float(F.binary_cross_entropy_with_logits(
            logits, ctx['tag_targets'][imgs])), places=6)

    def test_the_vision_stage_reads_its_own_images_and_their_targets_when_given(self):
        from mome.mim import MimHead
        from mome.tiny.stages import TagHead, stage_losses
        from mome.tiny.train import PLANS
        counts = torch.tensor([1, 1, 1, 1])
        ids = torch.tensor([[2, 7, 3]] * 4)
        vision = {'images': torch.randint(0, 255, (4, 3, 32, 32), dtype=torch.uint8), 'caption_start': torch.arange(4),
                  'caption_count': counts, 'input_ids': ids, 'attention_mask': torch.ones_like(ids)}
        ctx = {'model': self.model, 'plan': PLANS['quick'], 'seed': 0, 'specials': {}, 'coco': {}, 'nlvr2': {},
               'mim': MimHead(self.model), 'tags': TagHead(64, 3), 'tag_targets': torch.zeros(0, 3),
               'vision': vision, 'vision_tag_targets': torch.ones(4, 3)}
        # 'coco' and the training captions' targets are empty: the stage must not touch them
        out = stage_losses('vision', 0, ctx)
        self.assertEqual(sorted(out), ['mim', 'tags'])
        self.assertTrue(torch.isfinite(out['tags']))

    def test_the_vl_stage_tags_only_the_given_columns(self):
        from mome.mim import MimHead
        from mome.tiny.stages import TagHead, stage_losses
        from mome.tiny.train import PLANS
        n = 20
        ids = torch.tensor([[2, 7, 8, 3]] * n)
        coco = {'images': torch.randint(0, 255, (n, 3, 32, 32), dtype=torch.uint8), 'caption_start': torch.arange(n),
                'caption_count': torch.ones(n, dtype=torch.long), 'input_ids': ids,
                'attention_mask': torch.ones_like(ids)}
        torch.manual_seed(0)
        ctx = {'model': self.model, 'plan': PLANS['quick'], 'seed': 0, 'specials': {'special_ids': [0, 1, 2, 3],
               'mask_id': 4}, 'coco': coco, 'nlvr2': {}, 'mim': MimHead(self.model), 'tags': TagHead(64, 3)}
        targets = torch.zeros(n, 3)
        loss = {}
        for other in (0.0, 1.0):   # the targets of the column left out change; with columns the loss must not
            targets[:, 1:] = other
            for columns in (None, torch.tensor([0])):
                torch.manual_seed(1)
                out = stage_losses('vl', 0, {**ctx, 'tag_targets': targets, 'vl_tag_columns': columns})
                loss[other, columns is None] = float(out['tags'])
        self.assertAlmostEqual(loss[0.0, False], loss[1.0, False], places=6)
        self.assertNotAlmostEqual(loss[0.0, True], loss[1.0, True], places=3)

    def test_shape_swaps_replace_one_shape_word_with_an_absent_shape_of_the_same_number(self):
        import tempfile
        from mome.synth.lexicon import SHAPES
        from mome.tiny.data import write_vocab
        from mome.tiny.stages import shape_swap_table, shape_swaps
        from mome.tokenizer import WordPieceTokenizer
        with tempfile.TemporaryDirectory() as d:
            tok = WordPieceTokenizer(write_vocab(os.path.join(d, 'vocab.txt')))
        v = tok.vocab
        row = lambda *words: [tok.cls, *(v[w] for w in words), tok.sep]   # noqa: E731
        # image 0: a red disc and two blue stars; image 1: every shape but the heart and the cross; image 2: no
        # shape word; image 3: the heart. No image has a cross (as the world leaves out the heart): never swapped in
        others = [s for s in SHAPES if s not in ('heart', 'cross')]
        caps = [row('a', 'red', 'disc', 'and', 'two', 'blue', 'stars'),
                row(*[SHAPES[s][0][0] for s in others]), row('a', 'red', 'shape', 'on', 'sand'), row('a', 'heart')]
        width = max(map(len, caps))
        ids = torch.tensor([c + [tok.pad] * (width - len(c)) for c in caps])
        data = {'input_ids': ids, 'attention_mask': (ids != tok.pad).long(), 'image_index': torch.arange(4),
                'caption_count': torch.ones(4, dtype=torch.long)}
        table = shape_swap_table(data, tok)
        names = list(SHAPES)
        self.assertEqual(table['image_shapes'][0].nonzero().flatten().tolist(),
                         sorted([names.index('circle'), names.index('star')]))
        self.assertEqual(table['image_shapes'][1].sum().item(), len(SHAPES) - 2)
        self.assertEqual(table['seen'].sum().item(), len(SHAPES) - 1)
        ids = ids[:3]
        seen = set()
        for seed in range(40):
            rows, out = shape_swaps(ids, torch.arange(3), table, torch.Generator().manual_seed(seed))
            self.assertEqual(rows.tolist(), [0, 1])   # the caption without a shape word gets no negative
            changed = (out != ids[rows]).nonzero().tolist()
            self.assertEqual([r for r, _ in changed], [0, 1])   # one word each
            (_, p0), (_, p1) = changed
            self.assertIn(p0, (3, 7))
            word0 = tok.id_to_token[int(out[0, p0])]
            shape0 = next(s for s in SHAPES if word0 in SHAPES[s][0] + SHAPES[s][1])
            self.assertNotIn(shape0, ('circle', 'star', 'cross'))
            self.assertIn(word0, SHAPES[shape0][1] if p0 == 7 else SHAPES[shape0][0])   # same number
            self.assertIn(tok.id_to_token[int(out[1, p1])], SHAPES['heart'][0])   # the only absent shape
            seen.add(word0)
        self.assertGreater(len(seen), 4)
        # the same generator state gives the same swaps
        a = shape_swaps(ids, torch.arange(3), table, torch.Generator().manual_seed(3))
        b = shape_swaps(ids, torch.arange(3), table, torch.Generator().manual_seed(3))
        self.assertTrue(torch.equal(a[1], b[1]))

    def test_itm_adds_the_given_text_negatives_with_label_zero(self):
        import torch.nn.functional as F
        from mome.losses import itm_loss
        torch.manual_seed(0)
        px, ids = torch.randn(3, 3, 32, 32), torch.randint(5, 30, (3, 6))
        mask, emb = torch.ones_like(ids), torch.randn(3, 8)
        swapped = ids[[0, 2]].clone()
        swapped[:, 2] = 4
        g = lambda: torch.Generator().manual_seed(0)   # noqa: E731
        self.model.eval()
        with torch.no_grad():
            plain = itm_loss(self.model, px, ids, mask, emb, emb, torch.arange(3), generator=g())
            more = itm_loss(self.model, px, ids, mask, emb, emb, torch.arange(3), generator=g(),
                            text_negatives=(torch.tensor([0, 2]), swapped, mask[[0, 2]]))
            _, extra = self.model.fusion(px[[0, 2]], swapped, mask[[0, 2]])
        # plain is the mean over 9 rows (3 positives, 6 negatives); the two added rows are label 0
        expected = (9 * plain + F.cross_entropy(extra.float(), torch.zeros(2, dtype=torch.long), reduction='sum')) / 11
        self.assertAlmostEqual(float(more), float(expected), places=5)

    def test_provenance_objectives_name_what_each_variant_trains(self):
        from mome.tiny.train import PLANS, objectives
        mome = objectives(PLANS['full'], False, ' + tags')
        self.assertIn('vl: ITC + ITC-VL + ITM + MLM + tags;', mome)
        self.assertIn('(SimMIM-style, no dVAE) + tags;', mome)
        from mome.tiny.train import apply_recipe
        attributes = objectives(apply_recipe(PLANS['full'], 'attributes-stem'), False, ' + tags')
        self.assertIn('(SimMIM-style, no dVAE) + tags, only the words naming a shape or a colour;', attributes)
        self.assertIn('vl: ITC + ITC-VL + ITM + MLM + tags;', attributes)
        both = objectives(apply_recipe(PLANS['full'], 'attributes-stem-60k-vl'), False, ' + tags')
        self.assertIn('vl: ITC + ITC-VL + ITM + MLM + tags, only the words naming a shape or a colour;', both)
        self.assertIn('attention and vision expert frozen', mome)
        shared = objectives(PLANS['full'], True)
        self.assertNotIn('ITC-VL', shared)
        self.assertIn('language: MLM text-only + MIM image-only, nothing frozen;', shared)
        self.assertIn('vl: ITC + ITM + MLM + MIM image-only + MLM text-only;', shared)


class TrainTinyTest(TempDirTest):
    def test_quick_run_writes_a_loadable_model_with_its_quality(self):
        rc, events, err = train(self.path('work'), self.path('model'))
        self.assertEqual(rc, 0, err)
        done = events[-1]
        self.assertEqual(done['type'], 'done')
        model, cfg, meta = load_model_dir(self.path('model'))
        # only what no graph reads: the ITC temperature and BERT positions (unused with relative positions)
        self.assertLessEqual(set(meta['missing_parameters']),
                             {'logit_scale', 'text_embeddings.position_embeddings.weight'})
        self.assertEqual(list(cfg.heads), ['itc', 'itm', 'nlvr2'])
        self.assertEqual(set(meta['graphs']), {'image_encoder', 'text_encoder', 'fusion', 'nlvr2'})
        q = meta['quality']
        for key in ('tr_r1', 'tr_r5', 'tr_r10', 'ir_r1', 'ir_r5', 'ir_r10'):
            self.assertTrue(0.0 <= q['retrieval'][key] <= 100.0, key)
        self.assertEqual(q['retrieval']['images'], 16)
        self.assertEqual(q['nlvr2']['examples'], 16)
        prov = meta['provenance']
        self.assertEqual(prov['seed'], 0)
        self.assertEqual(prov['parameters'], sum(p.numel() for p in model.parameters()))
        self.assertIn('train-tiny', prov['command'])
        # the caption-word tags: a training head of the vision and vl stages, recorded, never exported
        self.assertEqual(prov['recipe'], 'shipped')
        self.assertNotIn('--recipe', prov['command'])
        self.assertIn('caption-word tags', prov['objectives'])
        self.assertNotIn('tags', ''.join(meta.get('graphs', {})))
        self.assertEqual(set(prov['stage_seconds']), set(STAGES))
        self.assertEqual(prov['quality'], q)
        # the vocabulary ships with the model and is the one it was trained with
        with open(self.path('model', 'vocab.txt'), encoding='utf-8') as fh:
            vocab = fh.read().splitlines()
        self.assertEqual(vocab[:5], ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'])
        self.assertEqual(len(vocab), cfg.vocab_size)
        # the exported weights are the trained ones: the model in the folder reproduces the reported recall
        from mome.tiny.eval import retrieval_metrics
        cache = [f for f in os.listdir(self.path('work', 'data', 'cache')) if f.startswith('coco-test')]
        data = load_data(self.path('work', 'data', 'cache', cache[0]))
        again = retrieval_metrics(model, data)
        for key in ('tr_r5', 'ir_r5'):
            self.assertAlmostEqual(again[key], q['retrieval'][key], delta=100.0 / 16 + 0.01)   # fp16 export

        # tools/encoder_probe.py follows the encoder through the run's stage checkpoints
        tools = os.path.join(PYTHON_DIR, '..', '..', 'tools')
        probe = subprocess.run([sys.executable, os.path.join(tools, 'encoder_probe.py'), '--checkpoint',
                                self.path('work', 'ckpt', 'vl.pt'), '--plan', 'quick', '--sets', '6'],
                               capture_output=True, text=True, timeout=300,
                               env=dict(os.environ, PYTHONPATH=PYTHON_DIR, OMP_NUM_THREADS='1'))
        self.assertEqual(probe.returncode, 0, probe.stderr)
        out = json.loads(probe.stdout)
        self.assertEqual(out['images'], 48)
        for key in ('probe_auc', 'probe_auc_patch_max'):
            self.assertTrue(all(0.0 <= v <= 1.0 for v in out[key].values()), out)
        self.assertEqual(set(out['itm_phrase_auc']), {'colour', 'shape', 'colour+shape'})

        # training losses go down (vision: masked-pixel L1, language: MLM)
        state = read_state(self.path('work'))
        for stage in ('vision', 'vl'):
            self.assertTrue(all('tags' in row for row in state['losses'][stage]), stage)
        self.assertFalse(any('tags' in row for row in state['losses']['finetune']))
        for stage, key in (('vision', 'mim'), ('language', 'mlm_text')):
            rows = state['losses'][stage]
            self.assertLess(mean(rows[-3:], key), mean(rows[:3], key), stage)
        # fine-tuning: every nlvr2_every-th step is an NLVR2 batch, the others retrieval (ITC + ITM)
        from mome.tiny.train import PLANS
        every = PLANS['quick'].nlvr2_every
        for i, row in enumerate(state['losses']['finetune']):
            self.assertEqual('nlvr2' in row, i % every == every - 1, row)
            self.assertEqual('itc' in row and 'itm' in row, i % every != every - 1, row)

    def test_a_stopped_run_resumes_and_ends_like_an_uninterrupted_one(self):
        rc, events, err = train(self.path('a'), self.path('a-model'))
        self.assertEqual(rc, 0, err)
        rc, events, err = train(self.path('b'), self.path('b-model'), '--stop-at', 'vl:5')
        self.assertEqual(rc, 3, err)
        self.assertEqual(events[-1]['type'], 'stopped')
        self.assertTrue(os.path.isfile(self.path('b', 'ckpt', 'language.pt')))
        self.assertIn('tags', load_data(self.path('b', 'ckpt', 'vl.partial.pt')))   # the tag head resumes too
        self.assertFalse(os.path.exists(self.path('b-model')))
        rc, events, err = train(self.path('b'), self.path('b-model'))
        self.assertEqual(rc, 0, err)
        stages = [(e['stage'], e['status']) for e in events if e['type'] == 'stage']
        self.assertEqual(stages[:3], [('vision', 'loaded'), ('language', 'loaded'), ('vl', 'resumed')])
        resumed = next(e for e in events if e['type'] == 'stage' and e['status'] == 'resumed')
        self.assertEqual(resumed['step'], 5)
        a, b = read_state(self.path('a')), read_state(self.path('b'))
        for stage in STAGES:
            self.assertEqual(len(a['losses'][stage]), len(b['losses'][stage]), stage)
            for ra, rb in zip(a['losses'][stage], b['losses'][stage]):
                for k in ra:
                    self.assertAlmostEqual(ra[k], rb[k], places=3, msg=f'{stage} {k}')
        # exported again from the finished work folder: provenance names each resume once
        rc, events, err = train(self.path('b'), self.path('b-again'))
        self.assertEqual(rc, 0, err)
        with open(self.path('b-again', 'mome.json'), encoding='utf-8') as fh:
            resumed = json.load(fh)['provenance']['resumed']
        self.assertEqual(resumed, ['vision', 'language', 'vl@5', 'vl', 'finetune'])

    def test_the_recipe_before_tags_trains_without_the_head_and_says_so(self):
        rc, _, err = train(self.path('w'), self.path('m'), '--recipe', 'no-tags')
        self.assertEqual(rc, 0, err)
        state = read_state(self.path('w'))
        self.assertFalse(any('tags' in row for rows in state['losses'].values() for row in rows))
        self.assertNotIn('tags', load_data(self.path('w', 'ckpt', 'vl.pt')))
        prov = load_model_dir(self.path('m'))[2]['provenance']
        self.assertEqual(prov['recipe'], 'no-tags')
        self.assertEqual(prov['steps']['vision'], 2)   # a fifth of the quick plan's 12
        self.assertIn('--recipe no-tags', prov['command'])
        self.assertNotIn('caption-word tags', prov['objectives'])

    def test_the_vision_stage_can_draw_from_its_own_larger_image_set(self):
        rc, _, err = train(self.path('w'), self.path('m'), '--recipe', 'attributes-stem-60k', '--threads', '2')
        self.assertEqual(rc, 0, err)
        prov = load_model_dir(self.path('m'))[2]['provenance']
        # two threads reproduce bit for bit only with two threads: the command says so
        self.assertTrue(prov['command'].endswith('--recipe attributes-stem-60k --threads 2'), prov['command'])
        # 7.5 times the quick plan's 48 training images, from a seed no other split uses
        self.assertEqual(prov['data']['coco-vision'], {'kind': 'coco', 'split': 'train', 'size': 360, 'seed': 5,
                                                       'world': 'tiny'})
        self.assertEqual(len({d['seed'] for d in prov['data'].values()}), len(prov['data']))
        self.assertIn('only the words naming a shape or a colour, on 360 other training images;', prov['objectives'])
        self.assertTrue(os.path.isfile(self.path('w', 'data', 'coco-vision-360-seed5-tiny', '.complete')))
        state = read_state(self.path('w'))
        self.assertTrue(all('tags' in row for row in state['losses']['vision']))

    def test_a_work_folder_of_other_settings_is_refused(self):
        rc, _, err = train(self.path('w'), self.path('m'), '--stop-at', 'vision:2')
        self.assertEqual(rc, 3, err)
        rc, _, err = train(self.path('w'), self.path('m'), '--seed', '1')
        self.assertNotEqual(rc, 0)
        self.assertIn('other settings', err)

    @unittest.skipIf(torch.cuda.is_available(), 'this machine has a CUDA GPU')
    def test_cuda_without_a_gpu_and_an_unwritable_output_fail_before_any_data_is_written(self):
        rc, events, _ = train(self.path('w'), self.path('m'), '--device', 'cuda')
        self.assertEqual(rc, 2)
        self.assertIn('sees no CUDA GPU', events[-1]['message'])
        self.assertFalse(os.path.exists(self.path('w')))
        os.makedirs(self.path('ro'))
        os.chmod(self.path('ro'), 0o500)
        try:
            if os.access(self.path('ro'), os.W_OK):
                self.skipTest('running as a user who can write anywhere')
            rc, events, _ = train(self.path('w'), self.path('ro', 'model'))
            self.assertEqual(rc, 2)
            self.assertIn('not a writable folder', events[-1]['message'])
            self.assertFalse(os.path.exists(self.path('w')))
        finally:
            os.chmod(self.path('ro'), 0o700)

    def test_nlvr2_levels_follow_the_generator_and_the_curriculum_starts_with_presence(self):
        from mome.tiny.data import DataSpec, statement_levels
        from mome.tiny.stages import nlvr2_batch
        from mome.synth.nlvr2 import iter_sets
        from mome.synth.statements import LEVEL
        spec = DataSpec('n', 'nlvr2', 'train', 40, 9)
        ids = [e.identifier for _, ex in iter_sets(9, 'train', 40) for e in ex]
        levels = statement_levels(spec, ids)
        self.assertEqual(len(levels), 40)
        self.assertEqual(set(levels.tolist()) <= {0, 1}, True)
        self.assertIn(0, levels.tolist())
        first = next(iter_sets(9, 'train', 40))[0]
        self.assertEqual(int(levels[0]), LEVEL[first.statements[int(ids[0].rsplit('-', 1)[1])].family])
        data = {'label': torch.zeros(40, dtype=torch.long), 'level': levels, 'left': torch.zeros(40, dtype=torch.long),
                'right': torch.zeros(40, dtype=torch.long), 'images': torch.zeros(1, 3, 8, 8, dtype=torch.uint8),
                'input_ids': torch.arange(40)[:, None].repeat(1, 4), 'attention_mask': torch.ones(40, 4, dtype=torch.long)}
        g = torch.Generator().manual_seed(0)
        *_, ids_batch, _, _ = nlvr2_batch(data, 8, g, None, 0)
        self.assertTrue(all(int(levels[int(row[0])]) == 0 for row in ids_batch))


if __name__ == '__main__':
    unittest.main()
