"""Fine-tuning: the fast path computes what the full model computes, batches keep hard negatives together, heads
are added when missing, and `python3 -m mome finetune` runs end to end on the shipped samples (JSON lines,
lineage in mome.json, SIGTERM -> checkpoint -> resume to the same weights, the app gone (stdout closed or the
parent dead) -> checkpoint, clean exit and resume, DDP with two CPU processes)."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import shutil
import time
import unittest

import torch

from mome.finetune import fast
from mome.export import export_model_dir
from mome.finetune.data import colocate_hard_negatives, epoch_batches
from mome.finetune.run import pick_mode
from mome.finetune.steps import ensure_heads, local_negative_pairs
from mome.finetune.tasks import retrieval_recall
from mome.model_dir import load_model_dir
from tests.model_helpers import BERT_VOCAB, PYTHON_DIR, REPO, TempDirTest, inputs, random_model, tiny

NLVR2 = os.path.join(REPO, 'assets', 'datasets', 'nlvr2-sample')
COCO = os.path.join(REPO, 'assets', 'datasets', 'coco-sample')


class FastPathTest(unittest.TestCase):
    def test_cached_states_through_the_top_equal_the_full_model(self):
        cfg = tiny()
        model = random_model(cfg, seed=2)
        x = inputs(cfg, batch=3)
        with torch.no_grad():
            for top in (0, 1, 2):
                img = fast.image_upper(model, fast.image_state(model, x['pixels'], top), top)
                torch.testing.assert_close(img, model.image_features(x['pixels']), msg=f'image, top {top}')
                txt = fast.text_upper(model, fast.text_state(model, x['ids'], x['mask'], top), x['mask'], top)
                torch.testing.assert_close(txt, model.text_features(x['ids'], x['mask']), msg=f'text, top {top}')
                a = fast.fusion_upper(model, fast.fusion_state(model, x['pixels'], x['ids'], x['mask'], 1, top),
                                      x['mask'], top)
                b = fast.fusion_upper(model, fast.fusion_state(model, x['pixels2'], x['ids'], x['mask'], 2, top),
                                      x['mask'], top)
                torch.testing.assert_close(model.nlvr2_classifier(torch.cat([a, b], -1)),
                                           model.nlvr2(x['pixels'], x['pixels2'], x['ids'], x['mask']),
                                           msg=f'nlvr2, top {top}')

    def test_auto_mode(self):
        cpu, gpu = torch.device('cpu'), torch.device('cuda', 0)
        self.assertEqual(pick_mode('auto', cpu, 12, 768)[0], 'fast')
        self.assertEqual(pick_mode('auto', cpu, 24, 1024)[0], 'fast')
        self.assertEqual(pick_mode('auto', cpu, 4, 64)[0], 'full')
        self.assertEqual(pick_mode('auto', gpu, 12, 768)[0], 'full')
        self.assertEqual(pick_mode('full', cpu, 12, 768)[0], 'full')
        self.assertIn('no GPU and a large model', pick_mode('auto', cpu, 12, 768)[1])


class BatchesTest(unittest.TestCase):
    def test_ranks_get_disjoint_slices_of_the_same_global_batches(self):
        a = epoch_batches(50, 4, 2, 0, seed=1, epoch=3)
        b = epoch_batches(50, 4, 2, 1, seed=1, epoch=3)
        self.assertEqual(len(a), 50 // 8)
        self.assertEqual(a, epoch_batches(50, 4, 2, 0, seed=1, epoch=3))
        self.assertNotEqual(a, epoch_batches(50, 4, 2, 0, seed=1, epoch=4))
        rows = [r for batch in a + b for r in batch]
        self.assertEqual(len(rows), len(set(rows)))
        self.assertTrue(all(len(x) == 4 for x in a + b))

    def test_hard_negative_images_join_their_caption_in_the_batch(self):
        image_of = [r // 2 for r in range(40)]            # 20 images, two captions each
        rows_of_image = {i: [2 * i, 2 * i + 1] for i in range(20)}
        negatives = {0: [13], 7: [19, 5]}
        rng = random.Random(0)
        order = list(range(40))
        rng.shuffle(order)
        batches = [order[s:s + 8] for s in range(0, 40, 8)]
        colocate_hard_negatives(batches, negatives, rows_of_image, lambda r: image_of[r], rng)
        self.assertEqual(sorted(r for b in batches for r in b), list(range(40)))
        for row, images in negatives.items():
            batch = next(b for b in batches if row in b)
            for image in images:
                self.assertIn(image, {image_of[r] for r in batch}, (row, image))
        self.assertEqual(local_negative_pairs([3, 13, 13], {0: [13]}, [0, 26, 27]), [(1, 0), (2, 0)])


class RecallTest(unittest.TestCase):
    def test_recall_at_k_follows_the_official_protocol(self):
        # 3 images, 4 captions; caption c belongs to image owner[c]
        owner = torch.tensor([0, 0, 1, 2])
        scores = torch.tensor([[0.9, 0.1, 0.8, 0.0],     # image 0: its caption 0 first -> TR hit at 1
                               [0.7, 0.2, 0.1, 0.6],     # image 1: its caption 2 last -> TR miss at 1
                               [0.3, 0.5, 0.4, 0.2]])    # image 2: its caption 3 last -> TR miss at 1
        m = retrieval_recall(scores, owner)
        self.assertAlmostEqual(m['tr_r1'], 100 / 3, places=3)
        self.assertEqual(m['tr_r10'], 100.0)
        # IR: caption 0 -> image 0 first (hit); 1 -> image 2 first (miss); 2 -> image 0 first (miss);
        # 3 -> image 1 first (miss)
        self.assertEqual(m['ir_r1'], 25.0)
        self.assertEqual(m['ir_r5'], 100.0)
        # IR ranks of the truth: 0, 2, 2, 1 -> MRR (1 + 1/3 + 1/3 + 1/2) / 4; TR: image 0 rank 0, images 1 and 2
        # rank 3 (three other captions above their own) -> (1 + 1/4 + 1/4) / 3
        self.assertAlmostEqual(m['ir_mrr'], 100 * (1 + 1 / 3 + 1 / 3 + 1 / 2) / 4, places=3)
        self.assertAlmostEqual(m['tr_mrr'], 100 * (1 + 1 / 4 + 1 / 4) / 3, places=3)


class EnsureHeadsTest(unittest.TestCase):
    def test_nlvr2_head_and_third_token_type_are_added(self):
        cfg = tiny(heads=('itc', 'itm'), token_types=2)
        model = random_model(cfg, seed=4)
        new, new_cfg, added = ensure_heads(model, cfg, 'nlvr2')
        self.assertEqual(added, ['nlvr2', 'token_type 2'])
        self.assertTrue(new_cfg.has('nlvr2'))
        tt = new.token_type_embeddings.weight
        self.assertTrue(torch.equal(tt[:2], model.token_type_embeddings.weight))
        self.assertTrue(torch.equal(tt[2], tt[1]))
        self.assertTrue(torch.equal(new.itc_text_proj.fc.weight, model.itc_text_proj.fc.weight))
        same, _, none = ensure_heads(model, cfg, 'retrieval')
        self.assertIs(same, model)
        self.assertEqual(none, [])


def _base_model(folder: str) -> str:
    cfg = tiny(vocab_size=30522, max_text_len=16)
    out = os.path.join(folder, 'base')
    export_model_dir(random_model(cfg, seed=3), cfg, out, BERT_VOCAB)
    return out


def _env(**extra) -> dict:
    return dict(os.environ, PYTHONPATH=PYTHON_DIR, OMP_NUM_THREADS='1', **extra)


def _running(pid: int) -> bool:
    """Whether a process that is not our child still runs (a zombie its new parent has not reaped counts as ended)."""
    try:
        with open(f'/proc/{pid}/stat') as fh:
            return fh.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def _lines(text: str) -> list:
    out = []
    for line in text.splitlines():
        line = line.split(']:', 1)[1] if line.startswith('[default') else line   # torchrun's rank prefix
        if line.startswith('{'):
            out.append(json.loads(line))
    return out


class FineTuneCliTest(TempDirTest):
    @classmethod
    def setUpClass(cls):
        cls.shared = tempfile.mkdtemp(prefix='mome-ft-')
        cls.base = _base_model(cls.shared)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.shared, True)

    def job(self, name: str, **cfg) -> str:
        cfg = {'task': 'nlvr2', 'base_model': self.base, 'data': NLVR2, 'out': self.path(name), 'max_steps': 4,
               'batch_size': 8, 'lr': 1e-4, 'device': 'cpu', 'seed': 7, **cfg}
        path = self.path(f'{name}.json')
        with open(path, 'w') as fh:
            json.dump(cfg, fh)
        return path

    def run_cli(self, job: str):
        p = subprocess.run([sys.executable, '-m', 'mome', 'finetune', '--config', job], capture_output=True,
                           text=True, env=_env(), timeout=300)
        return p.returncode, _lines(p.stdout), p.stderr

    def test_nlvr2_end_to_end(self):
        code, lines, err = self.run_cli(self.job('n'))
        self.assertEqual(code, 0, err)
        types = [m['type'] for m in lines]
        self.assertEqual(types[0], 'start')
        self.assertLess(types.index('eval'), types.index('done'))
        self.assertEqual(types[-1], 'done')
        start = lines[0]
        self.assertEqual((start['mode'], start['counts']['examples'], start['steps']), ('full', 258, 4))
        train = [m for m in lines if m['type'] == 'progress' and m.get('stage') == 'train']
        self.assertEqual([m['step'] for m in train], [1, 2, 3, 4])
        for m in train:
            self.assertTrue({'loss', 'lr', 'samples_per_s', 'eta_s', 'total'} <= set(m))
        model, _, meta = load_model_dir(self.path('n'))
        lineage = meta['provenance']['lineage']
        self.assertEqual(lineage['parent']['dir'], self.base)
        self.assertEqual(lineage['data_snapshot'], start['data_snapshot'])
        self.assertEqual(lineage['finetune']['lr'], 1e-4)
        self.assertIn('accuracy', lineage['metrics']['dev'])
        base, _, _ = load_model_dir(self.base)
        self.assertFalse(torch.equal(model.nlvr2_classifier[3].weight, base.nlvr2_classifier[3].weight))
        self.assertFalse(os.path.exists(self.path('n') + '.checkpoint.pt'))
        code, lines, _ = self.run_cli(self.job('n'))   # the folder exists now: models are immutable
        self.assertEqual(code, 2)
        self.assertIn('already exists', lines[-1]['message'])

    def test_a_missing_eval_split_an_empty_training_split_or_an_unknown_kind_fail_before_training(self):
        def karpathy(name, splits):
            folder = self.path(name)
            os.makedirs(folder)
            images = [{'filepath': 'x', 'filename': f'{i}.jpg', 'imgid': i, 'split': sp, 'cocoid': i,
                       'sentids': [i], 'sentences': [{'raw': 'a red circle', 'tokens': ['a', 'red', 'circle'],
                                                      'imgid': i, 'sentid': i}]} for i, sp in enumerate(splits)]
            with open(os.path.join(folder, 'dataset_coco.json'), 'w') as fh:
                json.dump({'images': images, 'dataset': 'coco'}, fh)
            return folder

        nlvr2_train_only = self.path('nlvr2-train-only')
        os.makedirs(nlvr2_train_only)
        shutil.copy(os.path.join(NLVR2, 'train.json'), nlvr2_train_only)
        cases = (
            (dict(task='retrieval', data=karpathy('no-test', ['train', 'train', 'val'])),
             'no "test" split to evaluate on (splits found: train 2, val 1)'),
            (dict(task='retrieval', data=karpathy('no-train', ['val', 'test'])), 'has no training images'),
            (dict(task='retrieval', data=karpathy('k', ['train', 'test']), kind='cifar'),
             "unknown dataset kind 'cifar'"),
            (dict(data=nlvr2_train_only), 'no "dev" split to evaluate on (splits found: train '),
        )
        for i, (cfg, message) in enumerate(cases):
            code, lines, err = self.run_cli(self.job(f'bad{i}', **cfg))
            self.assertEqual(code, 2, err)
            self.assertIn(message, lines[-1]['message'])
            self.assertNotIn('start', [m['type'] for m in lines])   # refused before the model was loaded

    def test_retrieval_with_judged_pairs(self):
        pairs = self.path('pairs.jsonl')
        with open(pairs, 'w') as fh:
            fh.write(json.dumps({'sentid': 237323, 'imgid': 4, 'relation': 'hard_negative'}) + '\n')
            fh.write(json.dumps({'sentid': 237323, 'imgid': 6, 'relation': 'also_match'}) + '\n')
            fh.write(json.dumps({'sentid': 237323, 'imgid': 5, 'relation': 'hard_negative'}) + '\n')   # val
        code, lines, err = self.run_cli(self.job('r', task='retrieval', data=COCO, pairs=pairs, max_steps=2,
                                                 batch_size=12))
        self.assertEqual(code, 0, err)
        counts = lines[0]['counts']
        self.assertEqual((counts['hard_negatives'], counts['extra_positives'], counts['pairs_outside_train']),
                         (1, 1, 1))
        self.assertTrue(lines[0]['itm'])
        self.assertEqual(set(lines[-1]['metrics']), {'tr_r1', 'tr_r5', 'tr_r10', 'ir_r1', 'ir_r5', 'ir_r10', 'ir_mrr',
                                                     'tr_mrr'})
        self.assertEqual(lines[-1]['eval_split'], 'test')

    def test_sigterm_checkpoint_and_resume_match_an_uninterrupted_run(self):
        common = dict(mode='fast', fast_top_layers=1, max_steps=300, batch_size=4, log_every=1)
        code, _, err = self.run_cli(self.job('whole', **common))
        self.assertEqual(code, 0, err)
        job = self.job('parts', resume=True, checkpoint=self.path('parts.ckpt'), **common)
        child = subprocess.Popen([sys.executable, '-m', 'mome', 'finetune', '--config', job], stdout=subprocess.PIPE,
                                 text=True, env=_env())
        for line in child.stdout:
            if '"stage": "train"' in line:
                child.send_signal(signal.SIGTERM)
                break
        rest = child.stdout.read()
        child.stdout.close()
        self.assertEqual(child.wait(timeout=60), 3)
        stopped = _lines(rest)
        self.assertEqual([m['type'] for m in stopped][-2:], ['checkpoint', 'stopped'])
        self.assertLess(stopped[-1]['step'], 300)
        self.assertTrue(os.path.isfile(self.path('parts.ckpt')))
        code, lines, err = self.run_cli(job)
        self.assertEqual(code, 0, err)
        resumed = next(m for m in lines if m['type'] == 'resumed')
        self.assertEqual(resumed['step'], stopped[-1]['step'])
        first = [m for m in lines if m.get('stage') == 'train'][0]
        self.assertEqual(first['step'], resumed['step'] + 1)
        whole, _, meta = load_model_dir(self.path('whole'))
        parts, _, _ = load_model_dir(self.path('parts'))
        b = parts.state_dict()
        for name, a in whole.state_dict().items():
            if name not in meta['missing_parameters']:
                torch.testing.assert_close(a, b[name], rtol=0, atol=1e-6, msg=name)

    def _log(self, name: str) -> list:
        if not os.path.exists(self.path(name)):
            return []
        with open(self.path(name), encoding='utf-8') as fh:
            text = fh.read()
        self.assertNotIn('Traceback', text)
        return _lines(text)

    def _stopped_then_resumed(self, job: str, log: str) -> None:
        """The log ends with checkpoint, stopped, exit 3; the run resumes from that step."""
        lines = self._log(log)
        self.assertEqual([m['type'] for m in lines][-3:], ['checkpoint', 'stopped', 'exit'])
        self.assertEqual(lines[-1]['code'], 3)
        stopped = lines[-2]
        self.assertIn('the app is gone', stopped['reason'])
        self.assertTrue(os.path.isfile(stopped['checkpoint']))
        seen = [m['step'] for m in lines if m.get('stage') == 'train']
        self.assertEqual(stopped['step'], seen[-1])
        code, out, err = self.run_cli(job)
        self.assertEqual(code, 0, err)
        self.assertEqual(next(m for m in out if m['type'] == 'resumed')['step'], stopped['step'])
        self.assertEqual([m for m in out if m.get('stage') == 'train'][0]['step'], stopped['step'] + 1)
        last = self._log(log)[-1]
        self.assertEqual((last['type'], last['code']), ('exit', 0))

    def test_closed_stdout_means_the_app_is_gone_checkpoint_and_clean_exit(self):
        # the app killed with SIGKILL: the pipes it read close, the next JSON line meets EPIPE
        job = self.job('gone', max_steps=100, batch_size=4, resume=True, log=self.path('gone.log'),
                       checkpoint=self.path('g.pt'))
        child = subprocess.Popen([sys.executable, '-m', 'mome', 'finetune', '--config', job], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=_env())
        for line in child.stdout:
            if '"stage": "train"' in line:
                break
        child.stdout.close()
        child.stderr.close()
        self.assertEqual(child.wait(timeout=60), 3)
        self.assertIn('app_gone', [m['type'] for m in self._log('gone.log')])
        self._stopped_then_resumed(job, 'gone.log')

    def test_parent_dying_without_a_closed_pipe_stops_with_a_checkpoint(self):
        # stdout is a file here, so no write fails: the trainer sees that it was re-parented
        job = self.job('orphan', max_steps=100, batch_size=4, resume=True, log=self.path('orphan.log'),
                       checkpoint=self.path('o.pt'))
        starter = ('import subprocess, sys, time\n'
                   'out = open(sys.argv[2], "w")\n'
                   'p = subprocess.Popen([sys.executable, "-m", "mome", "finetune", "--config", sys.argv[1]], '
                   'stdout=out, stderr=out)\n'
                   'print(p.pid, flush=True)\n'
                   'time.sleep(600)\n')
        parent = subprocess.Popen([sys.executable, '-c', starter, job, self.path('orphan.out')],
                                  stdout=subprocess.PIPE, text=True, env=_env())
        pid = int(parent.stdout.readline())
        self.addCleanup(lambda: _running(pid) and os.kill(pid, signal.SIGKILL))
        self.addCleanup(lambda: parent.poll() is None and parent.kill())
        deadline = time.time() + 120
        while not any(m.get('stage') == 'train' for m in self._log('orphan.log')):
            self.assertLess(time.time(), deadline, 'no training step')
            time.sleep(0.1)
        parent.kill()
        parent.wait()
        parent.stdout.close()
        while _running(pid):
            self.assertLess(time.time(), deadline, 'the orphaned trainer did not stop')
            time.sleep(0.1)
        self.assertIn('its process ended', self._log('orphan.log')[-2]['reason'])
        self._stopped_then_resumed(job, 'orphan.log')

    def test_ddp_with_two_cpu_processes(self):
        job = self.job('ddp', task='retrieval', data=COCO, max_steps=2, batch_size=6)
        # --redirects/--tee: torch 1.13's default ("0") is misparsed on Python 3.11; these values parse everywhere.
        cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--redirects', '2', '--tee',
               '1', '--master_port', str(29500 + os.getpid() % 1000), '-m', 'mome', 'finetune', '--config', job]
        p = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        lines = _lines(p.stdout)
        self.assertEqual(lines[0]['world_size'], 2)
        self.assertEqual(lines[-1]['type'], 'done')
        self.assertEqual(len([m for m in lines if m['type'] == 'start']), 1)   # rank 0 speaks for the group
        model, _, meta = load_model_dir(self.path('ddp'))
        self.assertEqual(meta['provenance']['lineage']['finetune']['batch_size'], 6)
