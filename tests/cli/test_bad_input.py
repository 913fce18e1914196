"""Bad input, each class answered by exit status 2 and one line naming the path or key, with no
traceback and nothing partial left behind (issue 14 item 3). Real CLI, real ffmpeg; a real small
tmpfs for the full disk and a read-only mount where this process may mount (root), else
permissions (non-root) or a skip."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import numpy as np
import pytest

from synth.cli import main
from synth.dataset import read_manifest
from synth.video import EncodeSettings, write_clip

from support.cli import TINY, one_error_line


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("data") / "clean"
    assert main(["generate", *TINY, "n=2", f"out={root}", "video.lossless=true"]) == 0
    return root


def _mount_tmpfs(where: Path, options: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True)
    return proc.returncode == 0


def _umount(where: Path) -> None:
    subprocess.run(["umount", str(where)], check=True)


# -- videos --------------------------------------------------------------------------------------


def _not_a_video(tmp_path, clip):
    path = tmp_path / "notes.mp4"
    path.write_text("these are my notes, not a video\n")
    return path, "not a readable video"


def _truncated_mkv(tmp_path, clip):
    path = tmp_path / "cut.mkv"
    data = clip.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    return path, "truncated or corrupt video"


def _truncated_mp4(tmp_path, clip):
    full = tmp_path / "full.mp4"
    write_clip(np.zeros((6, 32, 32, 3), np.uint8), full, 10.0, EncodeSettings())
    path = tmp_path / "cut.mp4"
    path.write_bytes(full.read_bytes()[:-200])  # the index (moov) sits at the end
    full.unlink()
    return path, "not a readable video"


@pytest.mark.parametrize("make", [_not_a_video, _truncated_mkv, _truncated_mp4])
def test_a_file_that_is_not_a_whole_video_is_refused(tmp_path, clip, capsys, make):
    src, problem = make(tmp_path, clip)
    out = tmp_path / "out" / "x.mkv"
    assert main(["degrade", f"src={src}", f"out={out}", "degradation=[fog]", "degradation.fog.severity=2"]) == 2
    line = one_error_line(capsys)
    assert str(src) in line and problem in line
    assert not (tmp_path / "out").exists()


# -- outputs that cannot be created --------------------------------------------------------------


@pytest.mark.parametrize("command", ["degrade", "generate"])
def test_an_output_below_a_file_is_refused(tmp_path, clip, capsys, command):
    blocker = tmp_path / "file"
    blocker.write_text("keep me")
    if command == "degrade":
        args = ["degrade", f"src={clip}", f"out={blocker / 'x.mkv'}", "degradation=[fog]", "degradation.fog.severity=2"]
    else:
        args = ["generate", *TINY, "n=1", f"out={blocker / 'ds'}"]
    assert main(args) == 2
    line = one_error_line(capsys)
    assert str(blocker) in line and ("not a directory" in line or "is a file" in line)
    assert blocker.read_text() == "keep me" and sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.fixture
def read_only_dir(tmp_path):
    """A directory this process cannot write: a read-only tmpfs as root (root ignores permission
    bits), a mode 555 directory otherwise."""
    where = tmp_path / "ro"
    if os.geteuid() != 0:
        where.mkdir()
        where.chmod(0o555)
        yield where
        where.chmod(0o755)
    elif _mount_tmpfs(where, "ro,size=64k"):
        yield where
        _umount(where)
    else:
        pytest.skip("running as root without permission to mount a read-only tmpfs")


@pytest.mark.parametrize("command", ["degrade", "generate"])
def test_an_output_in_a_read_only_directory_is_refused(read_only_dir, clip, capsys, command):
    if command == "degrade":
        out = read_only_dir / "x.mkv"
        args = ["degrade", f"src={clip}", f"out={out}", "degradation=[fog]", "degradation.fog.severity=2"]
    else:
        out = read_only_dir / "ds"
        args = ["generate", *TINY, "n=1", f"out={out}"]
    assert main(args) == 2
    line = one_error_line(capsys)
    assert str(read_only_dir) in line and ("read-only" in line or "permission denied" in line)
    assert list(read_only_dir.iterdir()) == []


@pytest.mark.parametrize("command", ["generate", "merge", "export", "calibrate"])
def test_an_output_where_no_folder_can_be_made_is_refused_up_front(dataset, capsys, command):
    out = Path("/proc") / f"synth-{uuid.uuid4().hex}"  # mkdir there: ENOENT, not a permission error
    args = {
        "generate": ["generate", *TINY, "n=1"],
        "merge": ["merge", f"data={dataset}"],
        "export": ["export", "hf", f"data={dataset}"],
        "calibrate": ["calibrate"],  # refused before its reference set is rendered and measured
    }[command]
    assert main([*args, f"out={out}"]) == 2
    assert one_error_line(capsys) == f"synth: error: out={out}: cannot be created there; choose a folder you may write"


# -- manifests -----------------------------------------------------------------------------------


def _copy(dataset: Path, tmp_path: Path) -> Path:
    root = tmp_path / "ds"
    shutil.copytree(dataset, root)
    return root


def _edit_record(root: Path, number: int, edit) -> None:
    path = root / "manifest.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    edit(records[number - 1])
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def _drop_fps(r):
    del r["fps"]


def _text_frames(r):
    r["num_frames"] = str(r["num_frames"])


def _wrong_answer(r):
    r["answer"] = "sideways"


def _args(command: str, root: Path, out: Path) -> list[str]:
    return {
        "eval": ["eval", f"data={root}", "model=oracle"],
        "report": ["report", f"data={root}", f"out={out}"],
        "export": ["export", "lmms-eval", f"data={root}", f"out={out}"],
        "degrade": ["degrade", f"src={root}", f"out={out}", "degradation=[fog]", "degradation.fog.severity=1"],
    }[command]


@pytest.mark.parametrize(
    "edit, problem",
    [(_drop_fps, "fps: missing"), (_text_frames, 'num_frames: "4" is not an integer'),
     (_wrong_answer, 'answer: "sideways" is not options[answer_index')],
)  # fmt: skip
def test_a_manifest_that_breaks_the_schema_is_refused_by_every_reader(dataset, tmp_path, capsys, edit, problem):
    root = _copy(dataset, tmp_path)
    _edit_record(root, 2, edit)
    for command in ("eval", "report", "export", "degrade"):
        out = tmp_path / f"out-{command}"
        assert main(_args(command, root, out)) == 2, command
        line = one_error_line(capsys)
        assert "manifest.jsonl line 2: " + problem in line and str(root) in line, (command, line)
        assert not out.exists() and not (root / "evals").exists()
    # verify lists every violation, names the record, and fails
    _edit_record(root, 1, _drop_fps)
    with pytest.raises(SystemExit) as exit_:
        main(["verify", f"data={root}"])
    assert exit_.value.code == 1
    lines = capsys.readouterr().out.splitlines()
    ids = [r["id"] for r in read_manifest(root, check=False)]
    assert f"{ids[0]}: fps: missing (a finite number > 0)" in lines
    assert any(line.startswith(f"{ids[1]}: ") and problem in line for line in lines)


def test_a_manifest_line_that_is_not_json_is_refused(dataset, tmp_path, capsys):
    root = _copy(dataset, tmp_path)
    with open(root / "manifest.jsonl", "a") as fh:
        fh.write("{oops\n")
    assert main(["eval", f"data={root}", "model=oracle"]) == 2
    assert "manifest.jsonl line 3: not JSON" in one_error_line(capsys)


def test_a_damaged_card_is_a_problem_verify_lists(dataset, tmp_path, capsys):
    root = _copy(dataset, tmp_path)
    (root / "dataset.json").write_text("garbage")
    with pytest.raises(SystemExit) as ended:
        main(["verify", f"data={root}"])
    assert ended.value.code == 1
    captured = capsys.readouterr()
    assert "dataset.json is not JSON (Expecting value)" in captured.out and "Traceback" not in captured.err


def test_a_damaged_config_is_refused_by_a_resuming_run_and_overwrite_replaces_it(dataset, tmp_path, capsys):
    root = _copy(dataset, tmp_path)
    (root / "config.yaml").write_text("x: [\n")
    assert main(["generate", *TINY, "n=2", f"out={root}", "video.lossless=true"]) == 2
    line = one_error_line(capsys)
    assert f"out={root}: config.yaml is damaged" in line and "overwrite=true" in line
    assert (root / "config.yaml").read_text() == "x: [\n"  # left as it was
    assert main(["generate", *TINY, "n=2", f"out={root}", "video.lossless=true", "overwrite=true"]) == 0
    assert main(["verify", f"data={root}"]) == 0


def test_a_dataset_whose_clips_are_missing_is_refused(dataset, tmp_path, capsys):
    root = _copy(dataset, tmp_path)
    gone = read_manifest(root)[1]["video"]
    (root / gone).unlink()
    for command in ("eval", "export", "degrade"):
        out = tmp_path / f"out-{command}"
        assert main(_args(command, root, out)) == 2, command
        line = one_error_line(capsys)
        assert "1 of 2 clips missing" in line and gone in line and str(root) in line
        assert not out.exists() and not (root / "evals").exists()


# -- a disk that fills up mid-run ----------------------------------------------------------------


def _check_consistent(root: Path) -> None:
    """Only whole manifest lines, no temporary files, and exactly the clips the manifest lists."""
    data = (root / "manifest.jsonl").read_bytes()
    assert data.endswith(b"\n") or not data
    listed = {r["video"] for r in read_manifest(root)}
    on_disk = {f"clips/{p.name}" for p in (root / "clips").iterdir()}
    assert on_disk == listed
    assert not list(root.glob("**/.tmp-*"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("ref") / "ds"
    assert main(["generate", *TINY, "n=8", f"out={root}"]) == 0
    return root


@pytest.mark.parametrize("size", ["24k", "36k"])  # two fill levels: here an encode, there the manifest append fails
def test_a_full_disk_stops_in_one_line_and_the_rerun_completes(tmp_path, reference, capsys, size):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, f"size={size}"):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        out = disk / "ds"
        args = ["generate", *TINY, "n=8", f"out={out}"]
        assert main(args) == 2
        line = one_error_line(capsys)
        assert f"{out}/" in line and "no space left on the device" in line and "rerun" in line
        _check_consistent(out)
        assert 0 < len(read_manifest(out)) < 8
        subprocess.run(["mount", "-o", "remount,size=2m", str(disk)], check=True)
        assert main(args) == 0
        assert (out / "manifest.jsonl").read_bytes() == (reference / "manifest.jsonl").read_bytes()
        assert main(["verify", f"data={out}"]) == 0
    finally:
        _umount(disk)


def test_a_failed_manifest_append_is_cut_back_whatever_the_disk(tmp_path, reference, capsys, monkeypatch):
    """Without a mountable tmpfs: the manifest's fsync fails (as on a full network disk) for the
    third sample; the written bytes are cut back and that sample's clip removed."""
    calls = []
    real_fsync = os.fsync

    def failing_fsync(fd):
        if not os.readlink(f"/proc/self/fd/{fd}").endswith("manifest.jsonl"):
            return real_fsync(fd)  # other files (config.yaml's atomic write) are not this test's disk
        calls.append(fd)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    out = tmp_path / f"ds-{uuid.uuid4().hex[:6]}"
    args = ["generate", *TINY, "n=8", f"out={out}"]
    monkeypatch.setattr(os, "fsync", failing_fsync)
    assert main(args) == 2
    monkeypatch.undo()
    line = one_error_line(capsys)
    assert f"{out / 'manifest.jsonl'}: no space left on the device" in line
    _check_consistent(out)
    assert len(read_manifest(out)) == 2
    assert main(args) == 0
    assert (out / "manifest.jsonl").read_bytes() == (reference / "manifest.jsonl").read_bytes()


def test_a_damaged_metrics_file_is_named_by_report(dataset, tmp_path, capsys):
    root = _copy(dataset, tmp_path)
    assert main(["eval", f"data={root}", "model=random"]) == 0
    metrics = root / "evals" / "random" / "metrics.json"
    metrics.write_text('{"accuracy": ')  # cut short
    capsys.readouterr()
    out = tmp_path / "report"
    assert main(["report", f"data={root}", f"out={out}"]) == 2
    assert f"{metrics}: not a synth eval metrics file" in one_error_line(capsys)
    assert not out.exists()
