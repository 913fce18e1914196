"""File and directory writes that never leave a half-written result behind."""

from __future__ import annotations

import os
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
