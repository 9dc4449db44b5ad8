"""`python3 -m mome convert`: an official VLMo checkpoint -> a MoME model directory.

    python3 -m mome convert --checkpoint vlmo_base_patch16_384_coco.pt --out models/vlmo-base-coco \\
        [--vocab vocab.txt] [--image-size 384] [--fp16] [--num-heads H] [--force]

stdout: JSON lines {"type": "progress", "stage": ...} and a final {"type": "done", ...}.
stderr: on failure one JSON line {"type": "error", "message": ...}; exit code 1 (2 for bad arguments).
"""
from __future__ import annotations

import argparse
import glob
import os
import sys
import time
from typing import List, Optional

from .jsonl import emit

VOCAB_LINES = 30522
VOCAB_HELP = (f"bert-base-uncased's vocab.txt ({VOCAB_LINES} lines; "
              'https://huggingface.co/bert-base-uncased/resolve/main/vocab.txt)')


class ConvertError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog='mome convert',
                                description='Convert an official VLMo checkpoint into a MoME model folder '
                                            '(mome.json, vocab.txt, ONNX graphs sharing one weights.bin).')
    p.add_argument('--checkpoint', required=True,
                   help='.pt/.pth/.ckpt file (Lightning, DeepSpeed or bare; read as data only: a pickle that would '
                        'run code is refused) or .safetensors (needs pip install safetensors)')
    p.add_argument('--out', required=True, help='model folder to create (must not exist or be empty)')
    p.add_argument('--vocab', help=f'WordPiece vocabulary; default: searched locally ({VOCAB_HELP})')
    p.add_argument('--image-size', type=int, help='run at this image size (position tables are interpolated); '
                                                  "default: the checkpoint's own")
    p.add_argument('--num-heads', type=int, help='attention heads, only for checkpoints without a relative '
                                                 'position table whose width is not a multiple of 64')
    p.add_argument('--fp16', action='store_true', help='fp16 weights and compute (float32 inputs/outputs, '
                                                       'float32 attention softmax); for GPUs')
    p.add_argument('--force', action='store_true', help='replace --out if it exists')
    return p


def vocab_candidates(checkpoint: str, env: Optional[dict] = None) -> List[str]:
    """Where bert-base-uncased's vocab.txt usually is on a researcher's machine, in order (glob patterns for the
    Hugging Face cache)."""
    env = os.environ if env is None else env
    places: List[str] = []
    if env.get('MOME_BERT_VOCAB'):
        places.append(env['MOME_BERT_VOCAB'])
    places.append(os.path.join(os.path.dirname(os.path.abspath(checkpoint)), 'vocab.txt'))
    hubs = []
    if env.get('HUGGINGFACE_HUB_CACHE'):
        hubs.append(env['HUGGINGFACE_HUB_CACHE'])
    if env.get('HF_HOME'):
        hubs.append(os.path.join(env['HF_HOME'], 'hub'))
    home = env.get('HOME') or os.path.expanduser('~')
    hubs.append(os.path.join(home, '.cache', 'huggingface', 'hub'))
    places += [os.path.join(hub, 'models--bert-base-uncased', 'snapshots', '*', 'vocab.txt') for hub in hubs]
    return places


def find_vocab(explicit: Optional[str], checkpoint: str, env: Optional[dict] = None) -> str:
    if explicit:
        if not os.path.isfile(explicit):
            raise ConvertError(f'--vocab {explicit} does not exist; give {VOCAB_HELP}')
        return os.path.abspath(explicit)
    places = vocab_candidates(checkpoint, env)
    for place in places:
        for path in sorted(glob.glob(place)) if '*' in place else [place]:
            if os.path.isfile(path):
                return os.path.abspath(path)
    raise ConvertError(f'no vocabulary found. The model needs {VOCAB_HELP}: pass --vocab FILE, put vocab.txt '
                       f'next to the checkpoint, or set MOME_BERT_VOCAB. Looked in: {", ".join(places)}')


def main(argv: List[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:   # argparse has printed the usage and the problem
        return int(e.code or 0)
    started = time.monotonic()
    try:
        out = _convert(args)
    except Exception as e:   # every failure ends as one JSON line; tracebacks only with MOME_DEBUG
        if os.environ.get('MOME_DEBUG'):
            raise
        emit({'type': 'error', 'command': 'convert', 'message': str(e)}, stream=sys.stderr)
        return 1
    emit({'type': 'done', **out, 'seconds': round(time.monotonic() - started, 2)})
    return 0


def _convert(args: argparse.Namespace) -> dict:
    # Heavy imports here, so `--help` and argument errors are instant.
    from .checkpoint import load_checkpoint, sha256_file
    from .export import export_model_dir

    out = os.path.abspath(args.out)
    if os.path.exists(out) and (not os.path.isdir(out) or os.listdir(out)) and not args.force:
        raise ConvertError(f'--out {out} already exists and is not empty; choose a new folder or add --force')
    # A named vocabulary is checked at once; the search for one waits until the checkpoint has loaded, so a file
    # that is no checkpoint is reported as such, not as a missing vocabulary.
    vocab = find_vocab(args.vocab, args.checkpoint) if args.vocab else None
    emit({'type': 'progress', 'stage': 'load', 'checkpoint': args.checkpoint})
    loaded = load_checkpoint(args.checkpoint, image_size=args.image_size, num_heads=args.num_heads)
    vocab = vocab or find_vocab(None, args.checkpoint)
    cfg = loaded.config
    emit({'type': 'progress', 'stage': 'loaded', 'config': cfg.to_dict(), 'wrapper': loaded.wrapper,
           'resized_from': loaded.resized_from})
    emit({'type': 'progress', 'stage': 'hash'})
    provenance = {
        'source_checkpoint': os.path.abspath(args.checkpoint),
        'source_sha256': sha256_file(args.checkpoint),
        'source_wrapper': loaded.wrapper,
        'source_image_size': loaded.resized_from or cfg.image_size,
        'ignored_keys': loaded.ignored_keys,
        'parent_model': None,
        'training_run': None,
        'converter': 'mome convert',
    }
    meta = export_model_dir(loaded.model, cfg, out, vocab, fp16=args.fp16, provenance=provenance,
                            overwrite=args.force,
                            progress=lambda g: emit({'type': 'progress', 'stage': 'export', 'graph': g}))
    return {'out': out, 'graphs': meta['graphs'], 'heads': meta['heads'], 'tasks': meta['tasks'],
            'vocab': vocab, 'precision': meta['precision'], 'source_sha256': provenance['source_sha256']}


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
