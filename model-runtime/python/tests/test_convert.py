"""`python3 -m mome convert` end to end (a real child process, the real bert-base-uncased vocabulary), vocabulary
discovery, its error messages and exit codes, and the `python3 -m mome` dispatcher."""
from __future__ import annotations

import filecmp
import hashlib
import json
import os
import subprocess
import sys
import unittest

from mome.convert import ConvertError, find_vocab
from tests.model_helpers import BERT_VOCAB, PYTHON_DIR, TempDirTest, random_model, tiny

from mome.checkpoint import save_official_checkpoint


def run_mome(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, 'PYTHONPATH': PYTHON_DIR, **(env or {})}
    full_env.pop('MOME_DEBUG', None)
    return subprocess.run([sys.executable, '-m', 'mome', *args], capture_output=True, text=True, env=full_env,
                          timeout=300)


def error_of(proc: subprocess.CompletedProcess) -> str:
    lines = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith('{')]
    assert lines and lines[-1]['type'] == 'error', proc.stderr
    return lines[-1]['message']


class ConvertCliTest(TempDirTest):
    def test_round_trip_with_the_real_bert_vocabulary(self):
        self.assertTrue(os.path.isfile(BERT_VOCAB), f'fixture missing: {BERT_VOCAB}')
        ckpt = save_official_checkpoint(random_model(tiny(vocab_size=30522)), self.path('ckpt', 'vlmo.pt'), 'module')
        proc = run_mome('convert', '--checkpoint', ckpt, '--out', self.path('model'), '--vocab', BERT_VOCAB)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        events = [json.loads(line) for line in proc.stdout.splitlines()]
        self.assertEqual(events[-1]['type'], 'done')
        self.assertIn({'type': 'progress', 'stage': 'export', 'graph': 'nlvr2'}, events)
        with open(ckpt, 'rb') as fh:
            sha = hashlib.sha256(fh.read()).hexdigest()
        self.assertEqual(events[-1]['source_sha256'], sha)
        with open(self.path('model', 'mome.json')) as fh:
            meta = json.load(fh)
        self.assertEqual(meta['provenance']['source_sha256'], sha)
        self.assertEqual(meta['provenance']['source_wrapper'], 'module')
        self.assertEqual(meta['vocab_size'], 30522)
        self.assertTrue(filecmp.cmp(self.path('model', 'vocab.txt'), BERT_VOCAB, shallow=False))
        self.assertEqual(sorted(os.listdir(self.path('model'))),
                         ['fusion.onnx', 'image_encoder.onnx', 'mome.json', 'nlvr2.onnx', 'text_encoder.onnx',
                          'vocab.txt', 'weights.bin'])
        # a second conversion into the same folder is refused and leaves it as it is
        before = {f: os.path.getmtime(self.path('model', f)) for f in os.listdir(self.path('model'))}
        again = run_mome('convert', '--checkpoint', ckpt, '--out', self.path('model'), '--vocab', BERT_VOCAB)
        self.assertEqual(again.returncode, 1)
        self.assertIn('already exists', error_of(again))
        self.assertEqual(before, {f: os.path.getmtime(self.path('model', f)) for f in os.listdir(self.path('model'))})

    def test_missing_vocabulary_names_the_file_needed(self):
        ckpt = save_official_checkpoint(random_model(tiny()), self.path('c.pt'))
        proc = run_mome('convert', '--checkpoint', ckpt, '--out', self.path('m'),
                        env={'HOME': self.path('home'), 'MOME_BERT_VOCAB': '', 'HF_HOME': '',
                             'HUGGINGFACE_HUB_CACHE': ''})
        self.assertEqual(proc.returncode, 1)
        msg = error_of(proc)
        self.assertIn("bert-base-uncased's vocab.txt (30522 lines", msg)
        self.assertIn('--vocab', msg)
        self.assertIn(self.path('home', '.cache', 'huggingface', 'hub', 'models--bert-base-uncased'), msg)
        self.assertFalse(os.path.exists(self.path('m')))

    def test_not_a_checkpoint_fails_with_a_json_error(self):
        with open(self.path('notes.pt'), 'w') as fh:
            fh.write('not a checkpoint')
        proc = run_mome('convert', '--checkpoint', self.path('notes.pt'), '--out', self.path('m'), '--vocab',
                        BERT_VOCAB)
        self.assertEqual(proc.returncode, 1)
        self.assertIn('notes.pt', error_of(proc))
        self.assertIn('could not be read', error_of(proc))
        self.assertEqual(sorted(os.listdir(self.tmp)), ['notes.pt'])   # no model, no partial folder

    def test_not_a_checkpoint_is_reported_before_a_missing_vocabulary(self):
        with open(self.path('notes.pt'), 'w') as fh:
            fh.write('not a checkpoint')
        proc = run_mome('convert', '--checkpoint', self.path('notes.pt'), '--out', self.path('m'),
                        env={'HOME': self.path('home'), 'MOME_BERT_VOCAB': '', 'HF_HOME': '',
                             'HUGGINGFACE_HUB_CACHE': ''})
        self.assertEqual(proc.returncode, 1)
        self.assertIn('could not be read', error_of(proc))
        self.assertNotIn('vocab', error_of(proc))

    def test_bad_arguments_exit_2(self):
        proc = run_mome('convert', '--out', self.path('m'))
        self.assertEqual(proc.returncode, 2)
        self.assertIn('--checkpoint', proc.stderr)


class FindVocabTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.ckpt = self.path('ckpts', 'c.pt')
        os.makedirs(self.path('ckpts'))

    def write(self, *parts: str) -> str:
        path = self.path(*parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as fh:
            fh.write('[PAD]\n')
        return path

    def test_search_order(self):
        env = {'HOME': self.path('home')}
        with self.assertRaisesRegex(ConvertError, 'no vocabulary found'):
            find_vocab(None, self.ckpt, env)
        hub = self.write('home', '.cache', 'huggingface', 'hub', 'models--bert-base-uncased', 'snapshots', 'abc123',
                         'vocab.txt')
        self.assertEqual(find_vocab(None, self.ckpt, env), hub)
        beside = self.write('ckpts', 'vocab.txt')
        self.assertEqual(find_vocab(None, self.ckpt, env), beside)
        chosen = self.write('elsewhere', 'bert.txt')
        self.assertEqual(find_vocab(None, self.ckpt, {**env, 'MOME_BERT_VOCAB': chosen}), chosen)
        self.assertEqual(find_vocab(chosen, self.ckpt, env), chosen)
        with self.assertRaisesRegex(ConvertError, r'--vocab .*nope\.txt does not exist'):
            find_vocab(self.path('nope.txt'), self.ckpt, env)


class DispatcherTest(unittest.TestCase):
    def test_unknown_command_and_usage(self):
        proc = run_mome('frobnicate')
        self.assertEqual(proc.returncode, 2)
        self.assertIn('unknown command "frobnicate"', proc.stderr)
        for name in ('convert', 'synth', 'finetune', 'train-tiny'):
            self.assertIn(name, proc.stderr)

    def test_synth_is_dispatched(self):
        proc = run_mome('synth', '--help')
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn('mome synth', proc.stdout)


if __name__ == '__main__':
    unittest.main()
