"""File writes that never leave a half-written file behind."""

from __future__ import annotations

import os
from pathlib import Path


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
