"""Path containment: a dataset's manifest, card or shard cannot make synth read or write outside it.

Each hostile dataset below is refused in one line naming the dataset, the manifest line and the
key (eval, export in every format, merge), `synth verify` lists every violation, and nothing
outside the command's own input and output changes.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from support.square_clips import make_dataset

from synth.cli import main
from synth.dataset import read_gt, verify


def snapshot(top: Path, skip: Path | None = None) -> dict[str, tuple[int, int]]:
    """Every file under ``top`` (but ``skip``) with its size and mtime (ns), links not followed."""
    seen = {}
    for dirpath, dirnames, filenames in os.walk(top):
        if skip is not None and Path(dirpath).is_relative_to(skip):
            continue
        for name in dirnames + filenames:
            st = (Path(dirpath) / name).lstat()
            seen[str(Path(dirpath) / name)] = (st.st_size, st.st_mtime_ns)
    return seen


def tamper(root: Path, line: int = 0, **fields) -> None:
    """Set ``fields`` of manifest record ``line`` (0-based)."""
    path = root / "manifest.jsonl"
    records = [json.loads(t) for t in path.read_text().splitlines()]
    records[line].update(fields)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("pristine") / "ds", n=2)


@pytest.fixture
def world(tmp_path, pristine) -> Path:
    """``tmp/data/ds`` (a copy of the small dataset) beside ``tmp/outside/x.mp4`` (a real clip)."""
    shutil.copytree(pristine, tmp_path / "data" / "ds")
    (tmp_path / "outside").mkdir()
    shutil.copyfile(pristine / "clips" / "s001.mp4", tmp_path / "outside" / "x.mp4")
    return tmp_path


def _escape(kind: str, world: Path) -> Path:
    """Make ``world/data/ds`` hostile in one way; returns it."""
    root = world / "data" / "ds"
    if kind == "dotdot_video":
        tamper(root, video="../outside/x.mp4")
    elif kind == "absolute_video":
        tamper(root, video=str(world / "outside" / "x.mp4"))
    elif kind == "dotdot_id":
        tamper(root, id="../../x")
    elif kind == "symlinked_clip":
        (root / "clips" / "s000.mp4").unlink()
        (root / "clips" / "s000.mp4").symlink_to(world / "outside" / "x.mp4")
    elif kind == "symlinked_clips_folder":
        shutil.move(root / "clips", world / "clips_elsewhere")
        (root / "clips").symlink_to(world / "clips_elsewhere", target_is_directory=True)
    return root


KINDS = ["dotdot_video", "absolute_video", "dotdot_id", "symlinked_clip", "symlinked_clips_folder"]


def _one_line_error(capsys, root: Path) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("synth: error: "), err
    assert f"data={root}" in err and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("kind", KINDS)
def test_eval_refuses_a_path_outside_the_dataset(world, kind, capsys):
    root = _escape(kind, world)
    before = snapshot(world)
    assert main(["eval", f"data={root}", "model=random"]) == 2
    err = _one_line_error(capsys, root)
    if kind not in ("symlinked_clip", "symlinked_clips_folder"):
        assert "manifest.jsonl line 1" in err and ("video:" in err or "id:" in err), err
    assert snapshot(world) == before  # not even evals/ was made


@pytest.mark.parametrize("fmt", ["llava", "hf", "lmms-eval"])
@pytest.mark.parametrize("kind", KINDS)
def test_export_refuses_and_writes_nothing(world, kind, fmt, capsys):
    root = _escape(kind, world)
    out = world / "exports" / "deep" / "out"
    before = snapshot(world)
    assert main(["export", fmt, f"data={root}", f"out={out}"]) == 2
    _one_line_error(capsys, root)
    assert snapshot(world) == before and not out.exists()


@pytest.mark.parametrize("kind", KINDS)
def test_verify_names_the_violation(world, kind, capsys):
    root = _escape(kind, world)
    problems = verify(root)
    assert any("outside the dataset" in p or "safe name" in p or "normalised" in p for p in problems), problems
    with pytest.raises(SystemExit) as exited:
        main(["verify", f"data={root}"])
    assert exited.value.code == 1


def test_verify_reports_every_violation(world):
    root = world / "data" / "ds"
    tamper(root, 0, video="../outside/x.mp4")
    tamper(root, 1, id="../../x")
    problems = verify(root)
    assert any(p.startswith("s000: video:") for p in problems), problems
    assert any(p.startswith("line 2: id:") for p in problems), problems


def test_verify_names_two_records_sharing_one_clip(world):
    root = world / "data" / "ds"
    tamper(root, 1, video="clips/s000.mp4")
    assert any(p.startswith("s001: video clips/s000.mp4 is also s000's clip") for p in verify(root)), verify(root)


def test_ground_truth_symlinked_outside_is_refused(world, capsys):
    import numpy as np

    root = world / "data" / "ds"
    np.save(world / "outside" / "depth.npy", np.zeros((12, 64, 64), np.float32))
    (root / "gt" / "s000").mkdir(parents=True)
    (root / "gt" / "s000" / "depth.npy").symlink_to(world / "outside" / "depth.npy")
    with pytest.raises(Exception, match="outside the dataset"):
        read_gt(root, "s000")
    assert any("s000: gt:" in p and "outside the dataset" in p for p in verify(root))


def _shard(path: Path, pristine: Path) -> Path:
    """A one-shard set made from the small dataset (records gain ``index``, the card a config)."""
    shutil.copytree(pristine, path)
    records = [json.loads(t) for t in (path / "manifest.jsonl").read_text().splitlines()]
    for k, r in enumerate(records):
        r["index"] = k
    (path / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    card = {"count": len(records), "config": {"task": "direction", "sweep": {"variable": None, "values": []}}}
    (path / "dataset.json").write_text(json.dumps(card))
    return path


def test_merge_cannot_overwrite_a_file_outside_out(tmp_path, pristine, capsys):
    # The shard names ../../victim/v.mp4: read from beside the shard, written beside out= before.
    shard = _shard(tmp_path / "s" / "a" / "shard0", pristine)
    (tmp_path / "s" / "victim").mkdir()
    shutil.copyfile(pristine / "clips" / "s001.mp4", tmp_path / "s" / "victim" / "v.mp4")
    tamper(shard, video="../../victim/v.mp4")
    (tmp_path / "victim").mkdir()
    (tmp_path / "victim" / "v.mp4").write_bytes(b"the user's own file")
    out = tmp_path / "o" / "out"
    before = snapshot(tmp_path)
    assert main(["merge", f"data=[{shard}]", f"out={out}"]) == 2
    err = _one_line_error(capsys, shard)
    assert "line 1" in err and "video:" in err, err
    assert (tmp_path / "victim" / "v.mp4").read_bytes() == b"the user's own file"
    assert snapshot(tmp_path) == before


def test_a_contained_dataset_still_merges_and_exports(tmp_path, pristine, capsys):
    shard = _shard(tmp_path / "shard0", pristine)
    assert main(["merge", f"data=[{shard}]", f"out={tmp_path / 'merged'}"]) == 0
    assert verify(tmp_path / "merged") == []
    assert main(["export", "llava", f"data={pristine}", f"out={tmp_path / 'llava'}"]) == 0
    assert sorted(p.name for p in (tmp_path / "llava" / "clips").iterdir()) == ["s000.mp4", "s001.mp4"]


# A dataset with no samples (a shard with none used to make one, and eval crashed on it).


def test_an_empty_dataset_is_refused_in_one_line(tmp_path, capsys):
    root = tmp_path / "empty"
    root.mkdir()
    (root / "manifest.jsonl").write_text("")
    (root / "dataset.json").write_text(json.dumps({"count": 0}))
    for command in (["eval", f"data={root}", "model=random"], ["export", "llava", f"data={root}", f"out={tmp_path / 'x'}"]):
        assert main(command) == 2
        assert "empty dataset" in _one_line_error(capsys, root)
    assert sorted(p.name for p in root.iterdir()) == ["dataset.json", "manifest.jsonl"]


def test_generate_refuses_a_shard_that_would_hold_no_samples(tmp_path, capsys):
    out = tmp_path / "shard"
    assert main(["generate", "task=direction", "n=2", "shard.index=2", "shard.count=3", f"out={out}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "shard.count=3" in err and "n=2" in err, err
    assert not out.exists()
