"""JSON lines: how every `python3 -m mome` command reports to the app. One JSON object a line on stdout, flushed
at once (the app shows progress as it arrives), and the same line appended to the command's log file when it
keeps one (so a log still records the run when no app reads stdout)."""
from __future__ import annotations

import json
import sys
from typing import Optional, TextIO


def line(obj: dict) -> str:
    """`obj` as one JSON line, newline included."""
    return json.dumps(obj) + '\n'


def write(text: str, stream: Optional[TextIO] = None) -> None:
    """A line to `stream` (default: stdout, as it is at the call), flushed."""
    out = sys.stdout if stream is None else stream
    out.write(text)
    out.flush()


def emit(obj: dict, log: Optional[str] = None, stream: Optional[TextIO] = None) -> None:
    """`obj` as a JSON line on `stream` (default: stdout), and appended to the file `log` when given."""
    text = line(obj)
    write(text, stream)
    if log:
        with open(log, 'a', encoding='utf-8') as fh:
            fh.write(text)
