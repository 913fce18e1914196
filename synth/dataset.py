"""The dataset directory (format version 2; see docs/dataset.md):

``dataset.json`` card, ``config.yaml`` resolved config, ``manifest.jsonl`` one record per sample,
``clips/<id>.<ext>``, optional ``gt/<id>/<array>.npy`` (format 1: ``gt/<id>.npz``; read both
with :func:`read_gt`), ``preview.png``.

Reading is contained: ids are safe names and every path a manifest names is ``clips/<name>``
that resolves (symlinks included) inside the dataset, checked before anything is opened
(:func:`record_problems`, :func:`dataset_file`); so a shared dataset cannot make synth read or
write outside itself.

Writing is crash-safe and resumable: a clip is encoded to a temporary name and renamed into
place before its manifest line is appended (one ``write`` + ``fsync``), so after a kill -9 the
manifest lists only complete samples; a torn last line is dropped on reopen and the same command
completes the dataset. A different config aimed at an existing dataset is refused unless the
caller passes ``overwrite=True``.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import shutil
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from synth.errors import UserError
from synth.io import (escapes, first_foreign, folder_lock, has_output, json_safe, sibling_folder, swap_in,
                      unsafe_name, unsafe_relative, write_atomic)
from synth.video import EncodeSettings, count_frames, probe, read_frames, sha256_file, write_clip

FORMAT_VERSION = 2  # 2: ground truth as gt/<id>/<array>.npy written frame by frame (1: gt/<id>.npz)
MANIFEST, CARD, CONFIG, PREVIEW = "manifest.jsonl", "dataset.json", "config.yaml", "preview.png"
# The manifest record's schema (the data contract, docs/dataset.md): key -> (JSON types, what is
# allowed). Every reader checks it through read_manifest; `synth verify` lists every violation.
RECORD_SCHEMA: dict[str, tuple[tuple[type, ...], str]] = {
    "id": ((str,), "a safe name (a letter or digit, then letters, digits or ._=+-)"),
    "task": ((str,), "a task family name"),
    "video": ((str,), "clips/<name>, inside the dataset"),
    "fps": ((int, float), "a finite number > 0"),
    "num_frames": ((int,), "an integer >= 1"),
    "width": ((int,), "an integer >= 1"),
    "height": ((int,), "an integer >= 1"),
    "question": ((str,), "a string"),
    "options": ((list,), "a non-empty list"),
    "answer_index": ((int,), "an integer index into options"),
    "answer": ((str, int, float), "options[answer_index]"),
    "params": ((dict,), "an object of sampled parameters"),
    "seed": ((int,), "an integer"),
    "group": ((str,), "a string"),
    "sweep": ((dict, type(None)), "null or {variable, value}"),
    "degradations": ((list,), "a list of {name, params}"),
    "tracks": ((list,), "a list of per-object tracks"),
    "sha256": ((str,), "64 hex digits"),
}
_PACKAGES = ("synth", "moderngl", "numpy", "torch", "kornia", "hydra-core", "imageio-ffmpeg")


def record_problems(record: Any, root: str | os.PathLike | None = None) -> list[str]:
    """Every way ``record`` breaks :data:`RECORD_SCHEMA`, as ``key: problem`` lines (empty: it
    conforms). ``id`` must be a safe name and ``video`` a relative, normalised ``clips/<name>``;
    with ``root`` the clip must also resolve inside ``root`` once symlinks are followed."""
    if not isinstance(record, dict):
        return [f"record: {type(record).__name__}, not a JSON object"]
    problems = []
    for key, (types, allowed) in RECORD_SCHEMA.items():
        if key not in record:
            problems.append(f"{key}: missing ({allowed})")
            continue
        v = record[key]
        ok = isinstance(v, types) and not (isinstance(v, bool) and bool not in types)
        if ok and key in ("num_frames", "width", "height", "fps"):
            ok = v >= 1 if key != "fps" else 0 < v < math.inf
        elif ok and key == "options":
            ok = len(v) > 0
        elif ok and key in ("id", "video"):
            why = _unsafe_path(key, v, root)
            if why:
                problems.append(f"{key}: {why}")
                continue
        elif ok and key == "sha256":
            ok = len(v) == 64 and all(c in "0123456789abcdef" for c in v)
        elif ok and key == "sweep" and v is not None:
            ok = {"variable", "value"} <= set(v)
        elif ok and key == "degradations":
            ok = all(isinstance(d, dict) and isinstance(d.get("name"), str) and isinstance(d.get("params"), dict) for d in v)
        if not ok:
            problems.append(f"{key}: {json.dumps(v)[:40]} is not {allowed}")
    if not problems:
        i, options = record["answer_index"], record["options"]
        if not 0 <= i < len(options) or options[i] != record["answer"]:
            problems.append(f"answer: {json.dumps(record['answer'])[:40]} is not options[answer_index={i}]")
    return problems


def dataset_file(root: str | os.PathLike, relative: str, key: str = "data") -> Path:
    """``root/relative``, or a :class:`UserError` naming ``key=root`` when it resolves (symlinks
    followed) outside the dataset: the one check before a dataset's own file is opened."""
    path = Path(root) / relative
    if escapes(Path(root), path):
        raise UserError(f"{key}={root}: {relative} resolves outside the dataset (a symlink); refusing to open it")
    return path


def _unsafe_path(key: str, value: str, root: str | os.PathLike | None) -> str | None:
    """Why a record's ``id`` or ``video`` could lead outside the dataset, or None."""
    if key == "id":
        return unsafe_name(value)
    why = unsafe_relative(value, "clips")
    if why is None and root is not None and escapes(Path(root), Path(root) / value):
        why = f"{json.dumps(value)[:60]} resolves outside the dataset (a symlink)"
    return why


def read_manifest(root: str | os.PathLike, key: str = "data", check: bool = True) -> list[dict]:
    """Every complete record of ``root/manifest.jsonl`` (a torn last line is ignored). A line that
    is not JSON, or (with ``check``) a record that breaks :data:`RECORD_SCHEMA` or names a path
    outside the dataset, is a :class:`UserError` naming ``key=root``, the line, the record's key
    and what is allowed."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        raise UserError(f"{key}={root}: not a synth dataset (no {MANIFEST})")
    dataset_file(root, MANIFEST, key)
    records = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.endswith("\n"):
                break
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserError(f"{key}={root}: {MANIFEST} line {number}: not JSON ({exc.msg})") from None
            problems = record_problems(record, root) if check else []
            if problems:
                raise UserError(
                    f"{key}={root}: {MANIFEST} line {number}: {problems[0]}"
                    f" (`synth verify data={root}` lists every problem)"
                )
            records.append(record)
    return records


def limited(root: str | os.PathLike, records: list[dict], limit: int) -> list[dict]:
    """The first ``limit`` records a bench runs on (0 = all); a :class:`UserError` when none are left."""
    records = records[:limit] if limit else records
    if not records:
        raise UserError(f"data={root}: no samples")
    return records


def read_card(root: str | os.PathLike, key: str = "data") -> dict:
    """The card ``root/dataset.json``; a :class:`UserError` naming ``key=root`` when it is missing,
    not JSON or resolves outside the dataset."""
    path = Path(root) / CARD
    if not path.is_file():
        raise UserError(
            f"{key}={root}: unfinished dataset (no {CARD} yet); let the command that writes it finish, or rerun it"
        )
    dataset_file(root, CARD, key)
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise UserError(f"{key}={root}: {CARD} is not JSON ({exc.msg})") from None


def open_dataset(root: str | os.PathLike, key: str = "data") -> tuple[list[dict], dict]:
    """The records and card of a finished dataset for a command that reads it (eval, degrade,
    export): the manifest conforms to :data:`RECORD_SCHEMA` and names only paths inside the
    dataset, the card exists and counts every record (so a dataset still being written is
    refused), there is at least one record, and every clip is on disk. Otherwise a
    :class:`UserError` naming ``key=root`` and the problem."""
    root = Path(root)
    records = read_manifest(root, key)
    card = read_card(root, key)
    if card.get("count") != len(records):
        raise UserError(
            f"{key}={root}: unfinished dataset ({CARD} counts {card.get('count')} samples, {MANIFEST} holds "
            f"{len(records)}); let the command that writes it finish, or rerun it"
        )
    if not records:
        raise UserError(
            f"{key}={root}: empty dataset (0 samples; a shard whose shard.index >= n holds none); "
            f"give a dataset with samples, e.g. the merged shards"
        )
    missing = [r["video"] for r in records if not (root / r["video"]).is_file()]
    if missing:
        raise UserError(
            f"{key}={root}: {len(missing)} of {len(records)} clips missing (first: {missing[0]}); "
            f"`synth verify data={root}` checks the dataset"
        )
    return records, card


def _canonical(config: dict) -> str:
    return json.dumps(config, sort_keys=True, default=str)


def _to_yaml(config: dict) -> str:
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(OmegaConf.create(config))


def _from_yaml(text: str) -> dict:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.create(text))


# What a dataset folder may hold: synth wrote every one of these (``evals/``: its results area;
# ``world/``: the inputs `synth world` exports for external world models, see synth.world.runner).
DATASET_ENTRIES = (CARD, CONFIG, MANIFEST, PREVIEW, "clips", "gt", "evals", "world")


def _dataset_entry(entry: Path) -> bool:
    """Whether ``entry`` (directly in a dataset folder) is one synth writes there: the files of
    :data:`DATASET_ENTRIES`, ``clips/`` holding only files, ``gt/`` only directories and ``.npz``,
    ``evals/`` and ``world/`` directories."""
    if entry.name not in DATASET_ENTRIES or entry.is_symlink():
        return False
    if entry.name == "clips":
        return entry.is_dir() and all(e.is_file() and not e.is_symlink() for e in entry.iterdir())
    if entry.name == "gt":
        return entry.is_dir() and all(e.is_dir() or e.suffix == ".npz" for e in entry.iterdir())
    return entry.is_dir() if entry.name in ("evals", "world") else entry.is_file()


def dataset_state(root: Path, key: str = "out") -> str:
    """``"new"`` (absent, or holding only a run's lock), ``"dataset"`` (a synth dataset, finished
    or not: ``dataset.json`` or ``manifest.jsonl``, and nothing synth does not write there), or a
    one-line :class:`UserError` naming the first foreign entry (nothing is touched)."""
    if root.exists() and not root.is_dir():
        raise UserError(f"{key}={root}: exists and is not a directory; choose another {key}")
    if not has_output(root):
        return "new"
    foreign = first_foreign(root, _dataset_entry)
    if foreign is None and ((root / CARD).is_file() or (root / MANIFEST).is_file()):
        return "dataset"
    first = foreign or first_foreign(root, lambda e: False)
    raise UserError(
        f"{key}={root}: is not a synth dataset (it holds {first!r}, which synth did not make); "
        f"nothing was changed; choose another {key}"
    )


# Ground-truth arrays: name -> (dtype, per-pixel shape); each is gt/<id>/<name>.npy, (T, H, W, ...).
GT_ARRAYS: dict[str, tuple[str, tuple[int, ...]]] = {
    "depth": ("float32", ()),
    "normals": ("float32", (3,)),
    "instances": ("int32", ()),
    "flow": ("float32", (2,)),
}


class GroundTruthWriter:
    """Writes one sample's ground truth into ``directory`` as it is rendered, chunk by chunk.

    Each array of :data:`GT_ARRAYS` is a plain ``.npy`` file (header first, then frames in order),
    so memory holds one chunk whatever the clip length, and readers map the files
    (:func:`read_gt`). ``source_of`` (T,) is the rendered frame each stored frame shows (frame
    drops and rate changes at generation time); by default frame k is rendered frame k.
    """

    def __init__(self, directory: Path, height: int, width: int, num_frames: int, source_of: np.ndarray | None = None):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.source_of = np.arange(num_frames) if source_of is None else np.asarray(source_of)
        self._files = {}
        for name, (dtype, tail) in GT_ARRAYS.items():
            fh = open(self.directory / f"{name}.npy", "wb")
            header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
                      "shape": (len(self.source_of), height, width, *tail)}  # fmt: skip
            np.lib.format.write_array_header_1_0(fh, header)
            row = height * width * int(np.prod(tail, dtype=int)) * np.dtype(dtype).itemsize
            self._files[name] = (fh, fh.tell(), row, np.dtype(dtype))

    def write(self, start: int, arrays: dict[str, np.ndarray]) -> None:
        """Store rendered frames ``start .. start + t - 1`` (``arrays`` as from
        :meth:`synth.renderer.Renderer.ground_truth`) at every position that shows them."""
        count = len(next(iter(arrays.values())))
        positions = np.flatnonzero((self.source_of >= start) & (self.source_of < start + count))
        for name, (fh, offset, row, dtype) in self._files.items():
            data = arrays[name]
            for k in positions:
                fh.seek(offset + int(k) * row)
                fh.write(np.ascontiguousarray(data[self.source_of[k] - start], dtype=dtype).data)

    def close(self) -> None:
        for fh, *_ in self._files.values():
            fh.close()


def gt_files(root: str | os.PathLike, sample_id: str, key: str = "data") -> tuple[Path | None, list[Path]]:
    """Where sample ``sample_id``'s ground truth lies: ``(gt/<id>/, its .npy files)`` (format 2),
    ``(None, [gt/<id>.npz])`` (format 1) or ``(None, [])``. A safe id is required and every path
    must resolve inside the dataset (else a :class:`UserError` naming ``key=root``)."""
    if unsafe_name(sample_id):
        raise UserError(f"{key}={root}: id: {unsafe_name(sample_id)}")
    directory = dataset_file(root, f"gt/{sample_id}", key)
    if directory.is_dir():
        return directory, [dataset_file(root, f"gt/{sample_id}/{p.name}", key) for p in sorted(directory.iterdir())]
    old = dataset_file(root, f"gt/{sample_id}.npz", key)
    return None, [old] if old.is_file() else []


def read_gt(root: str | os.PathLike, sample_id: str, key: str = "data") -> dict[str, np.ndarray] | None:
    """The ground truth of sample ``sample_id`` (see :data:`GT_ARRAYS` and docs/dataset.md), or
    None when it has none. Format 2 (``gt/<id>/<array>.npy``) is returned as read-only memory
    maps: slicing reads only those frames. Format 1 (``gt/<id>.npz``) is loaded whole. Paths are
    contained as :func:`gt_files` checks them."""
    directory, files = gt_files(root, sample_id, key)
    if directory is not None:
        return {path.stem: np.load(path, mmap_mode="r") for path in files if path.suffix == ".npy"}
    if files:
        with np.load(files[0]) as arrays:
            return {name: arrays[name] for name in arrays.files}
    return None


@dataclass
class StagedSample:
    """Files of one sample written under temporary names, waiting for :meth:`DatasetWriter.commit`:
    the clip and, with ground truth, its directory (format 2) or ``.npz`` file (format 1)."""

    clip_tmp: Path
    clip_name: str
    gt_tmp: Path | None

    @classmethod
    def paths(cls, root: Path, sample_id: str, settings: EncodeSettings, gt: bool) -> "StagedSample":
        """The temporary names a sample is written under (nothing is created)."""
        clip_tmp = root / "clips" / f".tmp-{sample_id}{settings.extension}"
        return cls(clip_tmp, f"clips/{sample_id}{settings.extension}", root / "gt" / f".tmp-{sample_id}" if gt else None)


def stage_sample(
    root: Path, sample_id: str, frames: np.ndarray, fps: float, settings: EncodeSettings, gt: dict | None = None
) -> StagedSample:
    """Encode ``frames`` (T, H, W, 3) uint8 and save ``gt`` arrays under temporary names in ``root``
    (a whole clip held in memory; ``synth generate`` streams instead). Safe to call from worker
    processes: it touches only this sample's files."""
    staged = StagedSample.paths(root, sample_id, settings, gt is not None)
    write_clip(frames, staged.clip_tmp, fps, settings)
    if gt is not None:
        writer = GroundTruthWriter(staged.gt_tmp, *gt["depth"].shape[1:3], len(gt["depth"]))
        writer.write(0, gt)
        writer.close()
    return staged


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


class DatasetWriter:
    """Appends samples to a dataset directory; see the module docstring for the guarantees.

    ``config`` is the resolved configuration that defines the dataset's content (no run-only
    keys such as the worker count): reopening with an equal config resumes in place, a different
    one is refused unless ``overwrite``. The output policy of :mod:`synth.io` applies: the folder
    ``root`` is locked from the constructor until :meth:`finish` or :meth:`close` (use the writer
    as a context manager); ``overwrite`` of an existing dataset builds the new one in a hidden
    sibling (:attr:`root` until :meth:`finish` swaps it in as :attr:`out`), so a failed or
    interrupted run leaves the old dataset as it was, and no temporary files behind.
    """

    def __init__(self, root: str | os.PathLike, config: dict, overwrite: bool = False, key: str = "out"):
        self.out = self.root = Path(root)
        self.config = config
        dataset_state(self.out, key)  # refuse a foreign folder before creating anything
        self._held = ExitStack()
        self._held.enter_context(folder_lock(self.out, key))
        try:
            if dataset_state(self.out, key) == "dataset" and overwrite:  # checked again under the lock
                self.root = sibling_folder(self.out)
            self._open(key)
        except BaseException:
            self.close()
            raise

    def _open(self, key: str) -> None:
        config_path = self.root / CONFIG
        if config_path.is_file():
            try:
                old = _from_yaml(config_path.read_text())
                if not isinstance(old, dict):
                    raise TypeError("not a mapping")
            except Exception as exc:  # omegaconf/yaml raise their own types
                raise UserError(
                    f"{key}={self.root}: {CONFIG} is damaged ({type(exc).__name__}); restore it, or pass "
                    "overwrite=true to replace the dataset"
                ) from None
            if _canonical(old) != _canonical(self.config):
                changed = sorted(k for k in set(old) | set(self.config) if old.get(k) != self.config.get(k))
                raise UserError(
                    f"{key}={self.root}: holds a dataset made with a different config "
                    f"(differs in: {', '.join(changed)}); pass overwrite=true to replace it"
                )
        (self.root / "clips").mkdir(parents=True, exist_ok=True)
        (self.root / "gt").mkdir(exist_ok=True)
        self._repair_manifest()  # the manifest first: it marks the folder as a dataset
        if not config_path.is_file():
            write_atomic(config_path, _to_yaml(self.config))
        self.records = read_manifest(self.root, key)
        self._done = {r["id"] for r in self.records}

    def __enter__(self) -> "DatasetWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """End the run without finishing: staged temporary files (or the whole sibling being
        built) are removed, the lock released. Samples already committed in place are kept (a
        rerun resumes them). Safe to call more than once."""
        if self.root != self.out:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = self.out
        elif self.root.is_dir():
            for tmp in self.root.glob("*/.tmp-*"):
                _remove(tmp)
        self._held.close()

    def _repair_manifest(self) -> None:
        path = self.root / MANIFEST
        if not path.is_file():
            path.touch()
            return
        data = path.read_bytes()
        keep = data[: data.rfind(b"\n") + 1]
        if len(keep) != len(data):
            with open(path, "r+b") as fh:
                fh.truncate(len(keep))

    def done(self, sample_id: str) -> bool:
        return sample_id in self._done

    def commit(self, record: dict, staged: StagedSample) -> None:
        """Move the staged files into place, then append the record (with ``video`` and
        ``sha256`` filled in) to the manifest."""
        final = self.root / staged.clip_name
        os.replace(staged.clip_tmp, final)
        gt_final = None
        if staged.gt_tmp is not None:
            gt_final = self.root / "gt" / (record["id"] + ("" if staged.gt_tmp.is_dir() else ".npz"))
            if gt_final.exists():  # left by a run killed between this rename and its manifest line
                _remove(gt_final)
            os.replace(staged.gt_tmp, gt_final)
        record = {**record, "video": staged.clip_name, "sha256": sha256_file(final)}
        line = json.dumps(json_safe(record), separators=(",", ":"), allow_nan=False) + "\n"
        try:
            _append_line(self.root / MANIFEST, line)
        except OSError:  # e.g. the disk filled: keep only files the manifest lists
            final.unlink(missing_ok=True)
            if gt_final is not None:
                _remove(gt_final)
            raise
        self.records.append(record)
        self._done.add(record["id"])

    def add(self, record: dict, frames: np.ndarray, settings: EncodeSettings, gt: dict | None = None) -> None:
        """Encode and commit one sample in this process (``record['fps']`` sets the clip rate)."""
        self.commit(record, stage_sample(self.root, record["id"], frames, record["fps"], settings, gt))

    def finish(self, card_extra: dict[str, Any] | None = None) -> dict:
        """Write ``dataset.json`` and ``preview.png``, put a replacement in place of the old
        dataset, release the lock; returns the card."""
        for tmp in self.root.glob("*/.tmp-*"):
            _remove(tmp)
        card = build_card(self.records, self.config, card_extra or {})
        write_atomic(self.root / CARD, json.dumps(json_safe(card), indent=2, sort_keys=True, allow_nan=False) + "\n")
        write_preview(self.root, self.records[:4])
        if self.root != self.out:
            swap_in(self.root, self.out)
            self.root = self.out
        self.close()
        return card


def build_card(records: list[dict], config: dict, extra: dict) -> dict:
    fingerprint = hashlib.sha256(_canonical(config).encode())
    for r in records:
        fingerprint.update(r["id"].encode() + r["sha256"].encode())
    versions = {}
    for pkg in _PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return {
        "format_version": FORMAT_VERSION,
        "tasks": sorted({r["task"] for r in records}),
        "count": len(records),
        "groups": len({r["group"] for r in records}),
        "answer_balance": dict(sorted(Counter(r["answer"] for r in records).items())),
        # Where options name objects (order, speed_compare...), balance is over positions.
        "answer_index_balance": {str(k): v for k, v in sorted(Counter(r["answer_index"] for r in records).items())},
        "config": config,
        "package_versions": versions,
        "fingerprint": fingerprint.hexdigest(),
        **extra,
    }


def _append_line(path: Path, line: str) -> None:
    """Append ``line`` to ``path`` and fsync it, all or nothing: if the write fails or is short
    (a full disk), the file is cut back to its old length and the OSError raised."""
    data = line.encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        size = os.fstat(fd).st_size
        try:
            if os.write(fd, data) != len(data):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
            os.fsync(fd)
        except OSError as exc:
            os.ftruncate(fd, size)
            if exc.filename is None:
                exc.filename = str(path)
            raise
    finally:
        os.close(fd)


def write_preview(root: Path, records: Iterable[dict], frames_per_clip: int = 4) -> None:
    """Contact sheet ``preview.png``: one row per record, ``frames_per_clip`` evenly spaced frames.

    A label column gives each row's sample id and answer; a header row gives each column's frame
    index and time (s), or, when the rows' frame times differ, each tile carries its own.
    """
    from PIL import Image, ImageDraw, ImageFont

    rows = []
    for r in records:
        # Only the picked frames are decoded: memory does not grow with the clip's length.
        pick = np.linspace(0, r["num_frames"] - 1, frames_per_clip).round().astype(int)
        times = tuple(f"frame {i}, t={i / r['fps']:.2f} s" for i in pick)
        rows.append((r, list(read_frames(root / r["video"], list(pick))), times))
    if not rows:
        return
    font = ImageFont.load_default(size=11)
    line = 14  # px per text line
    shared_times = len({times for _, _, times in rows}) == 1
    label_w = 8 + max(int(font.getlength(t)) for r, _, _ in rows for t in (str(r["id"]), f"answer: {r['answer']}"))
    tile_w = max(f.shape[1] for _, tiles, _ in rows for f in tiles)
    header = line + 6 if shared_times else 0
    row_hs = [max(f.shape[0] for f in tiles) + (0 if shared_times else line) for _, tiles, _ in rows]
    sheet = Image.new("RGB", (label_w + tile_w * frames_per_clip, header + sum(row_hs)), "white")
    draw = ImageDraw.Draw(sheet)
    if shared_times:
        for k, text in enumerate(rows[0][2]):
            draw.text((label_w + k * tile_w + 3, 3), text, fill="black", font=font)
    y = header
    for (record, tiles, times), row_h in zip(rows, row_hs):
        draw.text((4, y + 3), str(record["id"]), fill="black", font=font)
        draw.text((4, y + 3 + line), f"answer: {record['answer']}", fill="black", font=font)
        for k, tile in enumerate(tiles):
            x = label_w + k * tile_w
            if not shared_times:
                draw.text((x + 3, y), times[k], fill="black", font=font)
            sheet.paste(Image.fromarray(tile), (x, y + row_h - tile.shape[0]))
        y += row_h
    sheet.save(root / PREVIEW)


# container name in a record -> the demuxer ffmpeg reads it with (as ``probe`` reports it)
_DEMUXERS = {"mp4": "mov,mp4", "mov": "mov,mp4", "mkv": "matroska", "webm": "matroska"}


def format_problems(record: dict, clip: Path, info: dict) -> list[str]:
    """How the clip's format disagrees with the record's ``codec`` (ffmpeg's codec name, e.g.
    ``hevc``) and ``container`` (``mp4``, ``webm``, ``mkv``...), when the record names them."""
    problems = []
    if "codec" in record and info["codec"] != record["codec"]:
        problems.append(f"clip codec is {info['codec']}, record says {record['codec']}")
    container = record.get("container")
    if container is not None and (clip.suffix != f".{container}" or _DEMUXERS.get(container, "?") not in info["format"]):
        problems.append(f"clip is {clip.name} read as {info['format'] or 'unknown'}, record says container {container}")
    return problems


def verify(root: str | os.PathLike) -> list[str]:
    """Problems found in a dataset (empty = it verifies): records that break :data:`RECORD_SCHEMA`
    (missing or mistyped keys, an answer that is not options[answer_index]), duplicate ids,
    missing or modified clips (re-hashed), clips whose decoded frame count, size, codec or
    container disagrees with the record, unreadable ground truth, a card that does not match the
    manifest, two records naming one clip; and every path that leaves the dataset (an unsafe
    id, a ``video`` that is not ``clips/<name>`` or resolves outside through a symlink, ground
    truth or a card that does). Nothing outside the dataset is opened."""
    root = Path(root)
    problems = []
    records = read_manifest(root, check=False)
    seen, clip_of = set(), {}
    for number, r in enumerate(records, 1):
        bad = record_problems(r, root)
        if bad:
            rid = r.get("id") if isinstance(r, dict) and not unsafe_name(r.get("id")) else f"line {number}"
            problems += [f"{rid}: {p}" for p in bad]
            continue
        rid = r["id"]
        if rid in seen:
            problems.append(f"{rid}: duplicate id")
        seen.add(rid)
        if r["video"] in clip_of:  # merging or exporting both would write one file twice
            problems.append(f"{rid}: video {r['video']} is also {clip_of[r['video']]}'s clip")
        clip_of.setdefault(r["video"], rid)
        clip = root / r["video"]
        if not clip.is_file():
            problems.append(f"{rid}: clip {r['video']} missing")
            continue
        if sha256_file(clip) != r["sha256"]:
            problems.append(f"{rid}: clip {r['video']} does not match its sha256")
            continue
        info = probe(clip)
        frames = count_frames(clip)
        if (info["width"], info["height"], frames) != (r["width"], r["height"], r["num_frames"]):
            problems.append(
                f"{rid}: clip is {info['width']}x{info['height']}x{frames}, "
                f"record says {r['width']}x{r['height']}x{r['num_frames']}"
            )
        problems += [f"{rid}: {p}" for p in format_problems(r, clip, info)]
        try:
            gt = read_gt(root, rid)
        except UserError as exc:
            problems.append(f"{rid}: gt: {str(exc).split(': ', 1)[1]}")
            gt = None
        except (OSError, ValueError) as exc:
            problems.append(f"{rid}: gt unreadable ({exc})")
            gt = None
        if gt is not None:
            shapes = {k: a.shape for k, a in gt.items()}
            expect = (r["num_frames"], r["height"], r["width"])
            bad = [k for k, s in shapes.items() if s[:3] != expect]
            if bad:
                problems.append(f"{rid}: gt arrays {', '.join(bad)} not shaped {expect}")
    card_path = root / CARD
    if not card_path.is_file():
        problems.append(f"{CARD} missing (unfinished: rerun the same command)")
    elif escapes(root, card_path):
        problems.append(f"{CARD} resolves outside the dataset (a symlink)")
    else:
        try:
            card = json.loads(card_path.read_text())
        except json.JSONDecodeError as exc:
            card = None
            problems.append(f"{CARD} is not JSON ({exc.msg})")
        if card is not None and (not isinstance(card, dict) or card.get("count") != len(records)):
            problems.append(f"{CARD} count does not match {MANIFEST} ({len(records)} records)")
    return problems
