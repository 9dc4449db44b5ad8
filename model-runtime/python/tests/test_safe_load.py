"""Checkpoints are data, never code (mome.safe_load): a pickle whose payload would run is refused by name and its
payload never runs, on both loaders (torch's weights_only on 2.x, the allow-list unpickler everywhere);
official-format files, our trainer checkpoints and .safetensors files still load."""
from __future__ import annotations

import builtins
import collections
import json
import os
import pickle
import subprocess
import sys
import unittest
from unittest import mock

import torch

from mome.checkpoint import CheckpointError, load_checkpoint, official_state_dict, save_official_checkpoint
from mome.finetune.run import load_checkpoint as load_finetune_checkpoint
from mome.finetune.run import save_checkpoint as save_finetune_checkpoint
from mome.optim import build_optimizer, make_scheduler
from mome.safe_load import UnsafeCheckpointError, load_data, offending_type, weights_only_reads_plain_data
from tests.model_helpers import BERT_VOCAB, PYTHON_DIR, TempDirTest, inputs, random_model, tiny, \
    write_small_vocab

try:
    import safetensors.torch as safetensors_torch
except ImportError:
    safetensors_torch = None

# the allow-list unpickler runs on every torch; torch's own weights_only loader where it reads floats (2.x)
BACKENDS = ('allowlist', 'torch') if weights_only_reads_plain_data() else ('allowlist',)


class SystemCall:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


class Exec:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return builtins.exec, (f'open({self.marker!r}, "w").close()',)


class Open:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return builtins.open, (self.marker, 'w')


# payload class -> the name the refusal must give (os.system pickles as posix.system on Linux)
PAYLOADS = ((SystemCall, f'{os.system.__module__}.system'), (Exec, 'builtins.exec'),
            (Open, f'{builtins.open.__module__}.open'))   # io.open


def lightning_checkpoint(model, extra=None) -> dict:
    """What a PyTorch Lightning 1.5 checkpoint of VLMo holds besides the state dict (safe_load's docstring)."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0)
    ckpt = {
        'epoch': 3, 'global_step': 1500, 'pytorch-lightning_version': '1.5.5',
        'state_dict': collections.OrderedDict(official_state_dict(model)),
        'callbacks': {"ModelCheckpoint{'monitor': 'val/the_metric', 'mode': 'max'}": {
            'monitor': 'val/the_metric', 'best_model_score': torch.tensor(0.81), 'best_model_path': '/x/e=3.ckpt',
            'current_score': torch.tensor(0.81), 'dirpath': '/x', 'best_k_models': {'/x/e=3.ckpt': torch.tensor(.81)},
            'kth_best_model_path': '', 'kth_value': torch.tensor(float('-inf')), 'last_model_path': '/x/last.ckpt'}},
        'loops': {'fit_loop': {'state_dict': {}, 'epoch_progress': {'total': {'ready': 4, 'started': 4,
                                                                               'processed': 3, 'completed': 3}}}},
        'optimizer_states': [opt.state_dict()], 'lr_schedulers': [sched.state_dict()],
        'native_amp_scaling_state': {'scale': 65536.0, 'growth_factor': 2.0, 'backoff_factor': 0.5,
                                     'growth_interval': 2000, '_growth_tracker': 17},
        'hparams_name': 'kwargs',
        'hyper_parameters': {'config': {'exp_name': 'finetune_irtr_f30k', 'seed': 1, 'learning_rate': 3e-5,
                                        'datasets': ['f30k'], 'loss_names': {'irtr': 1, 'itm': 0},
                                        'load_path': '', 'max_steps': None, 'drop_path_rate': 0.15,
                                        'betas': (0.9, 0.98), 'precision': 16, 'fast_dev_run': False}},
    }
    ckpt.update(extra or {})
    return ckpt


class HostileCheckpointTest(TempDirTest):
    def hostile(self, name: str, payload, legacy: bool = False) -> str:
        m = random_model(tiny(), seed=1)
        path = self.path(name)
        torch.save(lightning_checkpoint(m, {'hyper_parameters': {'config': {'seed': payload}}}), path,
                   _use_new_zipfile_serialization=not legacy)
        return path

    def test_payload_really_runs_under_plain_torch_load(self):
        # the test's premise: without the restriction this file runs its payload (in a child, on purpose)
        marker = self.path('ran')
        path = self.hostile('vlmo.pt', SystemCall(marker))
        code = f'import torch; torch.load({path!r}, weights_only=False)'
        subprocess.run([sys.executable, '-c', code], capture_output=True, timeout=120)
        self.assertTrue(os.path.exists(marker))

    def test_every_payload_is_refused_by_name_and_never_runs(self):
        for backend in BACKENDS:
            for payload, name in PAYLOADS:
                for legacy in (False, True):
                    with self.subTest(backend=backend, payload=payload.__name__, legacy=legacy):
                        marker = self.path(f'marker-{backend}-{payload.__name__}-{legacy}')
                        path = self.hostile(f'vlmo-{payload.__name__}-{legacy}.pt', payload(marker), legacy)
                        with self.assertRaises(UnsafeCheckpointError) as caught:
                            load_data(path, backend=backend)
                        msg = str(caught.exception)
                        self.assertIn(f'{path} cannot be loaded as data: it contains a pickled `{name}`', msg)
                        self.assertIn('torch.save(model.state_dict()', msg)
                        self.assertNotIn('weights_only` set to `False` will likely succeed', msg)
                        self.assertFalse(os.path.exists(marker))

    def test_load_checkpoint_refuses_with_a_checkpoint_error(self):
        marker = self.path('marker')
        path = self.hostile('vlmo.pt', SystemCall(marker))
        with self.assertRaisesRegex(CheckpointError, r'vlmo\.pt cannot be loaded as data: it contains a pickled '
                                                     r'`posix\.system`'):
            load_checkpoint(path)
        self.assertFalse(os.path.exists(marker))

    def test_convert_cli_refuses_and_leaves_nothing(self):
        marker = self.path('marker')
        path = self.hostile('vlmo.pt', SystemCall(marker))
        proc = subprocess.run([sys.executable, '-m', 'mome', 'convert', '--checkpoint', path, '--out',
                               self.path('model'), '--vocab', BERT_VOCAB], capture_output=True, text=True,
                              env={**os.environ, 'PYTHONPATH': PYTHON_DIR}, timeout=300)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        message = json.loads(proc.stderr.strip().splitlines()[-1])['message']
        self.assertIn('vlmo.pt cannot be loaded as data: it contains a pickled `posix.system`', message)
        self.assertFalse(os.path.exists(marker))
        self.assertFalse(os.path.exists(self.path('model')))

    def test_other_classes_are_refused_too(self):
        torch.save({'state_dict': {}, 'counts': collections.defaultdict(int)}, self.path('dd.pt'))
        for backend in BACKENDS:
            with self.subTest(backend=backend):
                with self.assertRaisesRegex(UnsafeCheckpointError, 'pickled `collections.defaultdict`'):
                    load_data(self.path('dd.pt'), backend=backend)

    def test_torchscript_archives_are_refused(self):
        torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), self.path('scripted.pt'))
        with self.assertRaisesRegex(CheckpointError, 'scripted.pt cannot be loaded as data: it is a TorchScript'):
            load_checkpoint(self.path('scripted.pt'))

    def test_damaged_pickle_is_unreadable_not_unsafe(self):
        with open(self.path('junk.pt'), 'wb') as fh:
            fh.write(b'\x80\x02}q\x00X\x01\x00\x00\x00a')   # a pickle cut short
        with self.assertRaisesRegex(CheckpointError, r'junk\.pt \(\d+ bytes\) could not be read'):
            load_checkpoint(self.path('junk.pt'))

    def test_type_names_from_torch_messages(self):
        cases = {   # torch 1.13, torch 2.x (blocked module; not allow-listed; builtins), AllowListUnpickler
            'WeightsUnpickler error: Unsupported class posix.system': 'posix.system',
            'Trying to load unsupported GLOBAL posix.system whose module posix is blocked.': 'posix.system',
            'WeightsUnpickler error: Unsupported global: GLOBAL collections.defaultdict was not an allowed global '
            'by default.': 'collections.defaultdict',
            'Unsupported global: GLOBAL exec was not an allowed global by default.': 'builtins.exec',
            'Unsupported class __builtin__.eval': 'builtins.eval',
            "Can only SETITEM for dict, but got <class 'pytorch_lightning.utilities.parsing.AttributeDict'>":
                'pytorch_lightning.utilities.parsing.AttributeDict',
            'Unsupported operand 71': None,
        }
        for message, name in cases.items():
            self.assertEqual(offending_type(message), name, message)


class DataStillLoadsTest(TempDirTest):
    def test_lightning_checkpoint_with_hyper_parameters_converts(self):
        cfg = tiny()
        m = random_model(cfg, seed=3)
        torch.save(lightning_checkpoint(m), self.path('epoch=3.ckpt'))
        for backend in BACKENDS:
            with self.subTest(backend=backend):
                obj = load_data(self.path('epoch=3.ckpt'), backend=backend)
                self.assertEqual(obj['hyper_parameters']['config']['learning_rate'], 3e-5)
                self.assertEqual(obj['optimizer_states'][0]['param_groups'][0]['betas'], (0.9, 0.98))
        loaded = load_checkpoint(self.path('epoch=3.ckpt'))
        self.assertEqual((loaded.wrapper, loaded.config), ('state_dict', cfg))
        x = inputs(cfg)
        with torch.no_grad():
            self.assertTrue(torch.equal(loaded.model.fusion(x['pixels'], x['ids'], x['mask'])[1],
                                        m.fusion(x['pixels'], x['ids'], x['mask'])[1]))

    def test_every_wrapper_with_both_loaders(self):
        m = random_model(tiny(), seed=4)
        for wrapper in ('state_dict', 'module', 'model', None):
            path = save_official_checkpoint(m, self.path(f'{wrapper}.pt'), wrapper)
            for backend in BACKENDS:
                with self.subTest(wrapper=wrapper, backend=backend):
                    with mock.patch('mome.checkpoint.load_data', lambda p: load_data(p, backend=backend)):
                        self.assertEqual(load_checkpoint(path).wrapper, wrapper)

    def test_finetune_checkpoint_round_trips(self):
        model = random_model(tiny(), seed=2).train()
        opt = build_optimizer(model, 1e-4, 0.01)
        sched = make_scheduler(opt, 100, 10)
        model.text_embeddings.word_embeddings.weight.sum().backward()
        opt.step()
        sched.step()
        state = {'key': 'k1', 'model': model.state_dict(), 'optimizer': opt.state_dict(),
                 'scheduler': sched.state_dict(), 'step': 1, 'epoch': 0, 'batch': 1}
        save_finetune_checkpoint(self.path('ft.ckpt'), state)
        back = load_finetune_checkpoint(self.path('ft.ckpt'), 'k1')
        opt2 = build_optimizer(model, 1e-4, 0.01)   # in FineTune.resume's order
        sched2 = make_scheduler(opt2, 100, 10)
        opt2.load_state_dict(back['optimizer'])
        sched2.load_state_dict(back['scheduler'])
        self.assertEqual(opt2.param_groups[0]['lr'], opt.param_groups[0]['lr'])
        for backend in BACKENDS:
            with self.subTest(backend=backend):
                again = load_data(self.path('ft.ckpt'), backend=backend)
                self.assertEqual(again['scheduler'], state['scheduler'])
                self.assertEqual(again['optimizer']['param_groups'], state['optimizer']['param_groups'])

    def test_train_tiny_stage_checkpoint_and_data_cache_load(self):
        model = random_model(tiny(), seed=2)
        opt = build_optimizer(model, 1e-3, 0.01)
        sched = make_scheduler(opt, 10, 1)
        stage = {'model': model.state_dict(), 'mim': {}, 'optimizer': opt.state_dict(),
                 'scheduler': sched.state_dict(), 'step': 5, 'losses': [{'itc': 0.5, 'itm': 0.69}]}
        cache = {'images': torch.zeros(2, 3, 4, 4, dtype=torch.uint8), 'label': torch.tensor([0, 1]),
                 'identifier': ['dev-1-0-0', 'dev-2-1-1']}
        torch.save(stage, self.path('vl.partial.pt'))
        torch.save(cache, self.path('cache.pt'))
        for backend in BACKENDS:
            with self.subTest(backend=backend):
                self.assertEqual(load_data(self.path('vl.partial.pt'), backend=backend)['losses'], stage['losses'])
                self.assertEqual(load_data(self.path('cache.pt'), backend=backend)['identifier'],
                                 cache['identifier'])


class SafetensorsTest(TempDirTest):
    @unittest.skipIf(safetensors_torch is None, 'the safetensors package is not installed in this Python '
                                                '(pip install safetensors); its round trip is not tested here')
    def test_round_trip_converts_like_a_state_dict(self):
        cfg = tiny()
        m = random_model(cfg, seed=6)
        safetensors_torch.save_file({k: v.contiguous() for k, v in official_state_dict(m).items()},
                                    self.path('vlmo.safetensors'))
        loaded = load_checkpoint(self.path('vlmo.safetensors'))
        self.assertEqual((loaded.wrapper, loaded.config), (None, cfg))
        self.assertIn('relative_position_index', loaded.ignored_keys)
        x = inputs(cfg)
        with torch.no_grad():
            self.assertTrue(torch.equal(loaded.model.fusion(x['pixels'], x['ids'], x['mask'])[1],
                                        m.fusion(x['pixels'], x['ids'], x['mask'])[1]))
        # the CLI, and a file of that format under another name is recognised by its header
        os.rename(self.path('vlmo.safetensors'), self.path('vlmo.bin'))
        proc = subprocess.run([sys.executable, '-m', 'mome', 'convert', '--checkpoint', self.path('vlmo.bin'),
                               '--out', self.path('model'), '--vocab', write_small_vocab(self.path('vocab.txt'))],
                              capture_output=True, text=True, env={**os.environ, 'PYTHONPATH': PYTHON_DIR}, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(self.path('model', 'mome.json')) as fh:
            self.assertEqual(json.load(fh)['provenance']['source_wrapper'], None)

    def test_missing_package_says_how_to_install_it(self):
        with open(self.path('vlmo.safetensors'), 'wb') as fh:
            fh.write(b'\x02\x00\x00\x00\x00\x00\x00\x00{}')
        with mock.patch.dict(sys.modules, {'safetensors': None, 'safetensors.torch': None}):
            with self.assertRaisesRegex(CheckpointError, r'vlmo\.safetensors is a \.safetensors file.*'
                                                         r'pip install safetensors'):
                load_checkpoint(self.path('vlmo.safetensors'))

    def test_pickle_named_safetensors_is_not_unpickled(self):
        marker = self.path('marker')
        with open(self.path('evil.safetensors'), 'wb') as fh:
            pickle.dump(SystemCall(marker), fh)
        if safetensors_torch is not None:
            with self.assertRaisesRegex(CheckpointError, r'evil\.safetensors .* could not be read as safetensors'):
                load_checkpoint(self.path('evil.safetensors'))
        self.assertFalse(os.path.exists(marker))


if __name__ == '__main__':
    unittest.main()
