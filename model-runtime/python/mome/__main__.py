"""`python3 -m mome <command> [args]`: a small dispatcher. Each command is a module with `main(argv) -> int`,
imported only when run (so `synth` does not pay for torch, and a command's import error stays its own)."""
from __future__ import annotations

import importlib
import sys
from typing import List

COMMANDS = {
    'convert': ('mome.convert', 'official VLMo checkpoint -> model folder (ONNX graphs + mome.json)'),
    'synth': ('mome.synth.cli', 'synthetic COCO/Flickr30K/NLVR2-format datasets'),
    'finetune': ('mome.finetune.train', 'fine-tune a model version (retrieval, NLVR2)'),
    'train-tiny': ('mome.tiny.train', 'train the embedded tiny model from scratch'),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ['usage: python3 -m mome <command> [--help | args]', '', 'commands:']
    lines += [f'  {name.ljust(width)}  {help_}' for name, (_, help_) in COMMANDS.items()]
    return '\n'.join(lines)


def main(argv: List[str]) -> int:
    if not argv or argv[0] in ('-h', '--help', 'help'):
        print(usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        sys.stderr.write(f'mome: unknown command "{name}"\n{usage()}\n')
        return 2
    module_name = COMMANDS[name][0]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name != module_name:   # a missing dependency of the command, not the command itself
            raise
        sys.stderr.write(f'mome: the command "{name}" is not available in this installation ({module_name} '
                         f'is missing)\n')
        return 2
    return int(module.main(rest) or 0)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
