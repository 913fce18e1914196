"""Predictions on disk: ``predictions.jsonl``-style files (one JSON object per line), read and
written whole and atomically (runs append one line per answer while they go), and the cache
lookup that sorts a file's lines into reusable, kept-for-later and stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Hashable

from synth.io import write_atomic


def read_predictions(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    lines = []
    for text in path.read_text().splitlines():
        try:
            lines.append(json.loads(text))
        except json.JSONDecodeError:  # a line cut short by an interruption: ask again
            continue
    return lines


def split_cached(lines: list[dict], key_of: Callable[[dict], Hashable], wanted: dict,
                 fresh: Callable[[dict, Any], bool]) -> tuple[dict, list[dict], int]:  # fmt: skip
    """Sort cached ``lines`` for a run that wants the keys of ``wanted``.

    ``fresh(line, wanted.get(key))`` says whether a line may be reused (its value is None for a
    key outside the run). Returns ``(cached, kept, stale)``: fresh lines of wanted keys by key (a
    later line wins), fresh lines outside the run (kept in the file for later runs), and the
    number of lines that are not fresh (dropped).
    """
    cached, kept, stale = {}, [], 0
    for line in lines:
        key = key_of(line)
        if not fresh(line, wanted.get(key)):
            stale += 1
        elif key in wanted:
            cached[key] = line
        else:
            kept.append(line)
    return cached, kept, stale


def write_predictions(path: Path, lines: list[dict]) -> None:
    """Replace ``path`` with ``lines``, one JSON object per line, atomically."""
    write_atomic(path, "".join(json.dumps(line) + "\n" for line in lines))
