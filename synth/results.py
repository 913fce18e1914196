"""Predictions on disk: ``predictions.jsonl`` files (one JSON object per line), read and written
whole and atomically, appended to one line per answer while a run goes.
"""

from __future__ import annotations

import json
from pathlib import Path

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


def write_predictions(path: Path, lines: list[dict]) -> None:
    """Replace ``path`` with ``lines``, one JSON object per line, atomically."""
    write_atomic(path, "".join(json.dumps(line) + "\n" for line in lines))
