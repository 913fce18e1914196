"""Predictions on disk: ``predictions.jsonl``-style files (one JSON object per line), read and
written whole and atomically (runs append one line per answer while they go), and the cache
lookup that sorts a file's lines into reusable, kept-for-later and stale.

Every cache is keyed on content: a line records the sha256 of the clip it was made from and a
fingerprint of what made it (model config, settings, and the code versions of the model adapter
(:attr:`synth.models.base.Model.version`), the oracle and the scorer
(:data:`synth.scoring.answers.SCORER_VERSION`)); a line whose clip or maker changed is made again.
"""

from __future__ import annotations

import json
from collections import Counter
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


# Why a cached line is not reused (see :func:`split_cached`): its clip's content changed (the
# sha256 the line was made from is not the record's), or what made it did (model config, frame
# count, prompt, or the code version of the model, oracle or scorer).
CLIP_CHANGED, RUN_CHANGED = "clip changed", "run changed"


def split_cached(lines: list[dict], key_of: Callable[[dict], Hashable], wanted: dict,
                 why_stale: Callable[[dict, Any], str | None]) -> tuple[dict, list[dict], Counter]:  # fmt: skip
    """Sort cached ``lines`` for a run that wants the keys of ``wanted``.

    ``why_stale(line, wanted.get(key))`` is None when a line may be reused (its value is None for
    a key outside the run), else the reason it may not (:data:`CLIP_CHANGED`, :data:`RUN_CHANGED`
    or a bench's own, which :func:`stale_lines` does not report).
    Returns ``(cached, kept, stale)``: reusable lines of wanted keys by key (a later line wins),
    reusable lines outside the run (kept in the file for later runs), and how many lines were
    dropped, by reason.
    """
    cached, kept, stale = {}, [], Counter()
    for line in lines:
        key = key_of(line)
        reason = why_stale(line, wanted.get(key))
        if reason is not None:
            stale[reason] += 1
        elif key in wanted:
            cached[key] = line
        else:
            kept.append(line)
    return cached, kept, stale


def stale_lines(stale: Counter, what: str, redo: str = "asked again") -> list[str]:
    """What a run says about the cached ``what`` (e.g. ``predictions``) it will not reuse: how
    many because their clip's content changed (``redo``: what the run does about them), how many
    because the run's model, settings or code versions did."""
    said = []
    if stale[CLIP_CHANGED]:
        said.append(f"{stale[CLIP_CHANGED]} cached {what} were made from a clip whose content has changed (sha256): {redo}")
    if stale[RUN_CHANGED]:
        said.append(f"{stale[RUN_CHANGED]} cached {what} were made with another prompt, model config, frame count or "
                    f"model/oracle/scorer version: dropped")  # fmt: skip
    return said


def write_predictions(path: Path, lines: list[dict]) -> None:
    """Replace ``path`` with ``lines``, one JSON object per line, atomically."""
    write_atomic(path, "".join(json.dumps(line) + "\n" for line in lines))
