"""Property: whatever a manifest's fields say, reading it ends in a verified result or a one-line
error, and nothing outside the dataset's own folder and the command's ``out=`` is written or read.

Each example copies a small real dataset into a fresh folder beside a victim file, rewrites one
record with drawn values (ids and paths built from ``..``, ``/``, absolute paths, symlinks;
numbers including NaN, infinity, zero and negatives; missing keys), then runs ``verify`` and
``synth export llava``; the folder around the example is snapshotted before and after.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.square_clips import make_dataset

from synth.cli import main
from synth.dataset import verify
from synth.errors import UserError

VICTIM = b"a file outside every dataset"
PARTS = ["..", ".", "", "clips", "gt", "s000.mp4", "s001.mp4", "x.mp4", "victim.mp4", ".hidden", "a b", "é", "~", "C:", "..\\x"]
paths = st.one_of(
    st.lists(st.sampled_from(PARTS), min_size=1, max_size=4).map("/".join),
    st.sampled_from(["<victim>", "<dataset>/clips/s000.mp4", "/etc/passwd"]),
    st.text(max_size=12),
)
numbers = st.one_of(
    st.sampled_from([0, -1, 1, 12, 64, 2**63, math.nan, math.inf, -math.inf, 0.5, True, None, "12"]),
    st.integers(-5, 100),
    st.floats(allow_nan=True, allow_infinity=True),
)
FIELDS = {
    "id": paths,
    "video": paths,
    "fps": numbers,
    "num_frames": numbers,
    "width": numbers,
    "height": numbers,
    "answer_index": numbers,
    "sha256": st.sampled_from(["", "0" * 64, "zz", "<other clip>"]),
    "options": st.sampled_from([[], ["left"], ["left", "right", "up", "down"], "left", None]),
    "task": st.sampled_from(["direction", "", "../x", None]),
}
edits = st.dictionaries(st.sampled_from(sorted(FIELDS)), st.none(), max_size=4).flatmap(
    lambda keys: st.fixed_dictionaries({k: FIELDS[k] for k in keys})
)
clip_swaps = st.sampled_from(["none", "symlink_outside", "symlink_inside", "symlink_clips_folder"])


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> tuple[Path, Path]:
    """(the small dataset to copy, the folder every example works in: it holds the victim)."""
    pristine = make_dataset(tmp_path_factory.mktemp("prop_source") / "ds", n=2)
    around = tmp_path_factory.mktemp("prop_around")
    (around / "victim.mp4").write_bytes(VICTIM)
    return pristine, around


def snapshot(top: Path, skip: Path) -> dict[str, tuple[int, int]]:
    seen = {}
    for dirpath, dirnames, filenames in os.walk(top):
        if Path(dirpath) == skip or skip in Path(dirpath).parents:
            continue
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            if path != skip:
                st_ = path.lstat()
                seen[str(path)] = (st_.st_size, st_.st_mtime_ns)
    return seen


def _resolve(value, root: Path, around: Path, record: dict):
    if value == "<victim>":
        return str(around / "victim.mp4")
    if isinstance(value, str) and value.startswith("<dataset>"):
        return str(root) + value[len("<dataset>") :]
    if value == "<other clip>":
        return record["sha256"][::-1]
    return value


def _plant(root: Path, around: Path, edit: dict, swap: str) -> None:
    path = root / "manifest.jsonl"
    records = [json.loads(t) for t in path.read_text().splitlines()]
    for key, value in edit.items():
        records[0][key] = _resolve(value, root, around, records[0])
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    clip = root / "clips" / "s000.mp4"
    if swap == "symlink_outside":
        clip.unlink()
        clip.symlink_to(around / "victim.mp4")
    elif swap == "symlink_inside":
        clip.unlink()
        clip.symlink_to(root / "clips" / "s001.mp4")
    elif swap == "symlink_clips_folder":
        elsewhere = root.parent / "clips_elsewhere"
        shutil.move(root / "clips", elsewhere)
        (root / "clips").symlink_to(elsewhere, target_is_directory=True)


def _one_line(text: str) -> bool:
    text = text.strip()
    return text.count("\n") == 0 and "Traceback" not in text


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(edit=edits, swap=clip_swaps)
def test_every_manifest_ends_verified_or_in_one_line(sandbox, edit, swap):
    pristine, around = sandbox
    with tempfile.TemporaryDirectory(dir=around) as work:
        work = Path(work)
        root, out = work / "ds", work / "out"
        shutil.copytree(pristine, root)
        _plant(root, around, edit, swap)
        before = snapshot(around, work)
        try:
            problems = verify(root)
        except UserError as exc:
            problems = [str(exc)]
            assert _one_line(str(exc)), exc
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = main(["export", "llava", f"data={root}", f"out={out}"])
        assert rc in (0, 2) and _one_line(err.getvalue()), err.getvalue()
        escaped = swap in ("symlink_outside", "symlink_clips_folder") or any(
            "safe name" in p or "normalised" in p or "outside the dataset" in p for p in problems
        )
        if escaped:
            assert problems and rc == 2, (problems, err.getvalue())
        if rc == 0:
            copied = [p.read_bytes() for p in (out / "clips").iterdir()]
            assert VICTIM not in copied and any(out.glob("*.json"))
        assert snapshot(around, work) == before
        assert (around / "victim.mp4").read_bytes() == VICTIM
