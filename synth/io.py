"""Writes that never leave a half-written result behind, and the output policy of every command.

The output policy (README, "Bad input"):

* an ``out=`` that equals, contains or lies inside an input of the same command is refused
  (:func:`refuse_alias`); a dataset's own ``evals/`` folder is its results area, not an alias;
* ``overwrite=true`` replaces only what synth made, recognised by its card (``dataset.json`` for a
  dataset, :data:`OUTPUT_CARD` for every other output folder); a folder that holds anything else
  is refused, naming the first foreign entry, and nothing is deleted;
* replacing is atomic: the new output is built in a hidden sibling (``.<name>.tmp-<pid>``) and
  swapped in at the end (:func:`swap_in`); a failure leaves the old output as it was;
* one writer per output folder at a time (:func:`folder_lock`, a ``filelock`` held by the run):
  a second one is refused in one line naming the holder; a lock left by a killed process is free.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from synth.errors import UserError

LOCK, HOLDER = ".synth.lock", ".synth.lock.json"  # the lock file and who holds it, inside the output
OUTPUT_CARD = ".synth-output.yaml"  # the card of an output folder that is not a dataset
RESULTS = "evals"  # a dataset's results area (eval, probe, world, audit, reports)


def json_safe(value: Any) -> Any:
    """``value`` (nested dicts, lists, tuples) with every non-finite float written as the string
    Python prints for it (``"inf"``, ``"-inf"``, ``"nan"``), so ``json.dumps`` gives strict JSON:
    a bare ``Infinity`` (e.g. ``degradation.defocus.focus_m=inf``) is not JSON, and jq, JavaScript
    and Arrow's JSON reader refuse the whole file. Labels stay as before (``f"{inf:g}"`` is ``inf``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``data`` (text is encoded as UTF-8) to ``path`` all or nothing.

    The bytes go to ``.tmp-<name>`` beside ``path``, are fsynced, then renamed over ``path``
    (``os.replace``): a reader sees the old file or the new one, never a part of it.
    """
    tmp = Path(path).with_name(f".tmp-{Path(path).name}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def is_run_file(name: str) -> bool:
    """Whether a directory entry is a run's own bookkeeping (the lock, a temporary file), not output."""
    return name in (LOCK, HOLDER) or name.startswith(".tmp-")


def refuse_alias(out: str | os.PathLike, inputs: Iterable[tuple[str, str | os.PathLike]], key: str = "out",
                 results_area: bool = False) -> None:  # fmt: skip
    """Refuse an output ``out`` that equals, contains or lies inside one of ``inputs``
    (``(key, path)`` pairs), compared resolved, symlinks included. With ``results_area`` an
    output inside an input's ``evals/`` folder (where a dataset's results live) is allowed."""
    target = Path(out).resolve()
    for in_key, path in inputs:
        source = Path(path).resolve()
        if target == source:
            relation = "is"
        elif target in source.parents:
            relation = "contains"
        elif source in target.parents and not (results_area and (source / RESULTS) in target.parents):
            relation = "lies inside"
        else:
            continue
        raise UserError(f"{key}={out}: {relation} the input {in_key}={path}; choose an {key} outside every input")


def _holder_text(folder: Path) -> str:
    try:
        holder = json.loads((folder / HOLDER).read_text())
        return f"pid {holder['pid']}, `{holder['command']}`, started {holder['started']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder not known yet"


@contextmanager
def folder_lock(folder: Path, key: str = "out") -> Iterator[None]:
    """Hold the lock of the output ``folder`` (created if missing) for the block; a second writer
    gets a one-line :class:`UserError` naming the holder (pid, command, start time, read from
    :data:`HOLDER` beside the lock). The lock is the kernel's (``flock`` through ``filelock``),
    so a killed holder's lock is free at once. Both files are removed when the block ends."""
    from filelock import FileLock, Timeout

    folder = Path(folder)
    olds = sorted(folder.parent.glob(f".{folder.name}.old-*")) if not folder.exists() else []
    if olds:  # a run killed inside swap_in, between its two renames: the old output comes back
        olds[0].rename(folder)
    made = []  # the folders this call creates (deepest last), removed again if the run leaves them empty
    for d in (folder, *folder.parents):
        if d.exists():
            break
        made.insert(0, d)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileNotFoundError:  # a parent that takes no new folders (/proc, a mount gone meanwhile)
        raise UserError(f"{key}={folder}: cannot be created there; choose a folder you may write") from None
    lock = FileLock(folder / LOCK, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise UserError(
            f"{key}={folder}: in use by another synth run ({_holder_text(folder)}); wait for it or choose another {key}"
        ) from None
    mine = None
    try:
        mine = os.stat(folder / LOCK)
        for stale in _siblings(folder):  # left by a killed run that was replacing this folder
            shutil.rmtree(stale, ignore_errors=True)
        command = " ".join(["synth", *sys.argv[1:]])[:200]
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        write_atomic(folder / HOLDER, json.dumps({"pid": os.getpid(), "command": command, "started": started}) + "\n")
        yield
    finally:
        try:  # the files go only while they are still ours (after a swap another run may hold a new lock)
            if mine is not None and os.path.samestat(os.stat(folder / LOCK), mine):
                (folder / HOLDER).unlink(missing_ok=True)
                (folder / LOCK).unlink()
        except OSError:
            pass
        lock.release()
        for d in reversed(made):  # a run refused before it wrote anything leaves no folder behind
            if d.is_dir() and not any(d.iterdir()):
                d.rmdir()


@contextmanager
def drop_empty_on_failure(*paths: Path) -> Iterator[None]:
    """For the block: those of ``paths`` that do not exist yet and are still empty when it fails (a
    0-byte file, a folder holding nothing) are removed, so a run that produced nothing leaves
    nothing; whatever it did write stays (a rerun resumes from it)."""
    new = [Path(p) for p in paths if not Path(p).exists()]
    try:
        yield
    except BaseException:
        for path in new:
            if path.is_file() and path.stat().st_size == 0:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        raise


def _siblings(out: Path) -> list[Path]:
    """Temporary siblings of ``out`` left by runs killed while replacing it."""
    return [*out.parent.glob(f".{out.name}.tmp-*"), *out.parent.glob(f".{out.name}.old-*")]


def sibling_folder(out: Path) -> Path:
    """A fresh hidden sibling ``.<name>.tmp-<pid>`` to build the replacement of ``out`` in (call it
    while holding ``out``'s lock, which removed those left by killed runs)."""
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    tmp.mkdir()
    return tmp


def swap_in(tmp: Path, out: Path) -> None:
    """Put the folder ``tmp`` in ``out``'s place: the old ``out`` is renamed away, ``tmp`` renamed
    in, the old one removed. At no point is neither the old nor the new output complete on disk."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)
    try:
        tmp.rename(out)
    except BaseException:
        if old.exists():
            old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def first_foreign(folder: Path, ours: Callable[[Path], bool]) -> str | None:
    """The first entry of ``folder`` (sorted) that is neither a run file nor ``ours(entry)``."""
    for entry in sorted(folder.iterdir()):
        if not is_run_file(entry.name) and not ours(entry):
            return entry.name
    return None


def has_output(folder: Path) -> bool:
    """Whether ``folder`` holds anything besides a run's own bookkeeping."""
    return folder.is_dir() and any(not is_run_file(e.name) for e in folder.iterdir())


def read_output_card(folder: Path) -> dict | None:
    """The :data:`OUTPUT_CARD` of ``folder`` (``{kind, entries}``), or None when it has none."""
    try:
        card = json.loads((folder / OUTPUT_CARD).read_text())
    except (OSError, ValueError):
        return None
    return card if isinstance(card, dict) and isinstance(card.get("entries"), list) else None


def check_replaceable(out: Path, kind: str, overwrite: bool, key: str = "out") -> None:
    """Refuse to write the ``kind`` output (``export``, ``report``...) into ``out`` unless it is
    absent or empty, or (with ``overwrite``) a ``kind`` output synth made and nobody added to:
    every entry is one its card lists."""
    if out.exists() and not out.is_dir():
        raise UserError(f"{key}={out}: exists and is not a directory; choose another {key}")
    if not has_output(out):
        return
    card = read_output_card(out)
    listed = set(card["entries"]) | {OUTPUT_CARD} if card else set()
    foreign = first_foreign(out, lambda entry: entry.name in listed)
    if foreign is not None:
        raise UserError(f"{key}={out}: holds {foreign!r}, which synth did not make; nothing was changed; choose another {key}")
    if card.get("kind") != kind:
        raise UserError(f"{key}={out}: holds a synth {card.get('kind')}, not a {kind}; nothing was changed; choose another {key}")
    if not overwrite:
        raise UserError(f"{key}={out}: holds a synth {kind} already; pass overwrite=true to replace it")


@contextmanager
def output_folder(out: Path, kind: str, overwrite: bool, key: str = "out") -> Iterator[Path]:
    """Write the ``kind`` output folder ``out`` all or nothing under the output policy: yields a
    hidden sibling to fill; when the block ends without error the sibling gets its card
    (:data:`OUTPUT_CARD`: the kind and the entries written) and takes ``out``'s place
    (:func:`swap_in`); otherwise it is removed and ``out`` is left as it was."""
    out = Path(out)
    check_replaceable(out, kind, overwrite, key)
    fresh = not out.exists()
    with folder_lock(out, key):
        check_replaceable(out, kind, overwrite, key)  # again, now that no other run writes it
        tmp = sibling_folder(out)
        try:
            yield tmp
            entries = sorted(e.name for e in tmp.iterdir())
            write_atomic(tmp / OUTPUT_CARD, json.dumps({"kind": kind, "entries": entries}) + "\n")
            swap_in(tmp, out)
        except BaseException:
            if fresh and out.is_dir() and not has_output(out):
                shutil.rmtree(out, ignore_errors=True)
            raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


# --- Safe paths: what a dataset's manifest, card or shard may name; every read of a
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
