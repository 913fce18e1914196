"""File and directory writes that never leave a half-written result behind."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Callable


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``data`` (text is encoded as UTF-8) to ``path`` all or nothing.

    The bytes go to ``.tmp-<name>`` beside ``path``, are fsynced, then renamed over ``path``
    (``os.replace``): a reader sees the old file or the new one, never a part of it.
    """
    tmp = Path(path).with_name(f".tmp-{Path(path).name}")
    with open(tmp, "wb") as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_dir_atomic(out: Path, fill: Callable[[Path], None]) -> None:
    """Build the directory ``out`` all or nothing: ``fill(tmp)`` writes into a fresh sibling
    (``.<name>.tmp-<pid>``), which then takes ``out``'s place (an existing ``out`` is removed);
    if ``fill`` fails, ``out`` is left as it was and the sibling removed."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        fill(tmp)
        if out.exists():
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

# --- Safe paths (helper 19b): what a dataset's manifest, card or shard may name; every read of a
# --- dataset goes through these before anything is opened (docs/dataset.md, "Paths").

# A sample id, and the file name of a clip: a letter or digit, then letters, digits and ``._=+-``
# (so never ``.``, ``..``, a hidden name, a separator or a drive).
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._=+-]{0,199}")


def unsafe_name(name: object) -> str | None:
    """Why ``name`` may not be a sample id or a file name in a dataset, or None when it may."""
    if not isinstance(name, str) or SAFE_NAME.fullmatch(name) is None:
        return f"{json.dumps(name)[:60]} is not a safe name (a letter or digit, then letters, digits or ._=+-; at most 200)"
    return None


def unsafe_relative(path: object, under: str) -> str | None:
    """Why ``path`` may not be a path a manifest names below the folder ``under`` (e.g.
    ``clips``), or None when it may: it must be ``<under>/<safe name>``, relative and normalised
    (no ``..``, ``.``, empty part, backslash or leading ``/``)."""
    shown = json.dumps(path)[:60]
    if not isinstance(path, str):
        return f"{shown} is not a path"
    parts = path.split("/")
    if len(parts) != 2 or parts[0] != under or SAFE_NAME.fullmatch(parts[1]) is None:
        return f"{shown} is not a relative, normalised path {under}/<name> inside the dataset"
    return None


def escapes(root: Path, path: Path) -> bool:
    """True when ``path``, with every symlink resolved (the ones in ``root`` too), does not lie
    inside ``root``: reading or writing it would touch something outside."""
    base = Path(os.path.realpath(root))
    target = Path(os.path.realpath(path))
    return target != base and base not in target.parents
