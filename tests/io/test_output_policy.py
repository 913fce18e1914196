"""The output policy of every command that writes (synth.io, README "Bad input"):

* an out= that equals, contains or lies inside an input is refused in one line (a dataset's
  evals/ folder is its results area, not an alias);
* overwrite=true replaces only what synth made (a dataset by its files, any other output folder by
  its card); a folder holding anything else is refused naming the first foreign entry, and
  nothing is deleted;
* replacing is atomic: the new output is built in a hidden sibling and swapped in; a failure
  leaves the old output as it was and no temporary folder behind;
* Hydra writes nothing outside out= (multirun from a read-only current folder).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from synth.cli import main
from synth.dataset import DatasetWriter, verify
from synth.errors import UserError
from synth.io import output_folder

from support.cli import synth


def _snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` (hidden ones too) with its sha256."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip


def _one_line_error(capsys, *needles: str) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("synth: error:"), err
    assert all(n in err for n in needles), err
    return err


@pytest.fixture
def data(tiny_dataset, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(tiny_dataset, root)
    return root


@pytest.mark.parametrize("fmt", ["hf", "llava", "lmms-eval"])
def test_an_export_onto_its_own_dataset_or_a_parent_is_refused(data, fmt, capsys):
    before = _snapshot(data.parent)
    for out in (data, data.parent, data / "sub"):
        assert main(["export", fmt, f"data={data}", f"out={out}", "overwrite=true"]) == 2
        _one_line_error(capsys, f"out={out}", f"data={data}")
    assert _snapshot(data.parent) == before and verify(data) == []


def test_aliases_through_a_symlink_are_refused_for_every_writer(data, tmp_path, capsys):
    link = tmp_path / "link"
    link.symlink_to(data)
    before = _snapshot(data)
    runs = [
        ["degrade", f"src={link}", f"out={data}", "degradation=[]", "overwrite=true"],
        ["merge", f"data={link}", f"out={data}/merged"],
        ["report", f"data={link}", f"out={data}"],
        ["calibrate", f"data={link}", f"out={data}", "clips=1", "frames=2"],
        ["export", "llava", f"data={link}", f"out={data}", "overwrite=true"],
    ]
    for args in runs:
        assert main(args) == 2, args
        _one_line_error(capsys, f"out={data}")
    assert _snapshot(data) == before


def test_a_degraded_file_may_not_replace_its_source(tmp_path, data, capsys):
    clip = next((data / "clips").iterdir())
    assert main(["degrade", f"src={clip}", f"out={clip}", "degradation=[]", "overwrite=true"]) == 2
    _one_line_error(capsys, "is the input src=")
    assert verify(data) == []


def test_a_report_goes_into_its_datasets_results_area(data, capsys):
    assert main(["eval", f"data={data}", "model=random"]) == 0
    assert main(["report", f"data={data}"]) == 0  # default out: data/evals/report
    assert main(["report", f"data={data}", f"out={data}/evals/again"]) == 0
    assert (data / "evals" / "again" / "report.md").is_file()
    capsys.readouterr()
    assert main(["report", f"data={data}", f"out={data}/elsewhere"]) == 2
    _one_line_error(capsys, "lies inside the input")


def test_overwrite_never_deletes_a_users_files(data, tmp_path, tiny_args, capsys):
    mine = tmp_path / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "config.yaml").write_text("my own config\n")
    (mine / "sub" / "notes.txt").write_text("notes\n")
    before = _snapshot(mine)
    assert main(["generate", *tiny_args, "n=1", f"out={mine}", "overwrite=true"]) == 2
    _one_line_error(capsys, "'sub'", "nothing was changed")
    for fmt in ("hf", "llava", "lmms-eval"):
        assert main(["export", fmt, f"data={data}", f"out={mine}", "overwrite=true"]) == 2
        _one_line_error(capsys, "'config.yaml'", "synth did not make")
    assert main(["report", f"data={data}", f"out={mine}", "overwrite=true"]) == 2
    capsys.readouterr()
    assert _snapshot(mine) == before


def test_a_users_file_added_to_a_synth_output_stops_overwrite(data, tmp_path, capsys):
    out = tmp_path / "export"
    assert main(["export", "hf", f"data={data}", f"out={out}"]) == 0
    capsys.readouterr()
    assert main(["export", "hf", f"data={data}", f"out={out}"]) == 2  # no silent overwrite
    _one_line_error(capsys, "overwrite=true")
    assert main(["export", "llava", f"data={data}", f"out={out}", "overwrite=true"]) == 0  # an export replaces an export
    (out / "my-notes.md").write_text("mine\n")
    capsys.readouterr()
    assert main(["export", "hf", f"data={data}", f"out={out}", "overwrite=true"]) == 2
    _one_line_error(capsys, "'my-notes.md'")
    assert (out / "my-notes.md").read_text() == "mine\n"


def test_an_export_does_not_replace_a_dataset_or_a_report(data, tmp_path, tiny_dataset, capsys):
    other = tmp_path / "other"
    shutil.copytree(tiny_dataset, other)
    before = _snapshot(other)
    assert main(["export", "llava", f"data={data}", f"out={other}", "overwrite=true"]) == 2
    _one_line_error(capsys, "synth did not make")
    assert _snapshot(other) == before
    assert main(["eval", f"data={data}", "model=random"]) == 0
    assert main(["report", f"data={data}"]) == 0
    capsys.readouterr()
    assert main(["export", "llava", f"data={data}", f"out={other}/../report-copy"]) == 0
    report = data / "evals" / "report"
    assert main(["export", "llava", f"data={tmp_path / 'report-copy'}", f"out={report}", "overwrite=true"]) == 2


def test_a_failed_replacement_leaves_the_old_output_and_no_temporary_folder(tmp_path):
    out = tmp_path / "out"
    with output_folder(out, "export", overwrite=False) as tmp:
        (tmp / "a.txt").write_text("old\n")
    before = _snapshot(out)
    with pytest.raises(RuntimeError):
        with output_folder(out, "export", overwrite=True) as tmp:
            (tmp / "a.txt").write_text("new, half written")
            raise RuntimeError("the export failed half way")
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_failed_dataset_overwrite_keeps_the_old_dataset(data, tmp_path):
    before = _snapshot(data)
    with pytest.raises(KeyboardInterrupt):
        with DatasetWriter(data, {"another": "config"}, overwrite=True) as writer:
            assert writer.root != data and writer.root.parent == data.parent  # built beside it
            raise KeyboardInterrupt
    assert _snapshot(data) == before and verify(data) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_a_dataset_overwrite_is_swapped_in_whole(data, tmp_path, tiny_args):
    assert main(["generate", *tiny_args, "n=3", "seed=5", f"out={data}", "overwrite=true"]) == 0
    assert verify(data) == [] and len((data / "manifest.jsonl").read_text().splitlines()) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    assert not [p for p in data.rglob(".*")]  # no lock, no temporary file left inside


def test_a_multirun_writes_nothing_outside_out_even_from_a_read_only_folder(tmp_path, tiny_args):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    cwd.chmod(0o555)
    try:
        out = tmp_path / "sweep"
        synth("generate", "-m", *tiny_args, "n=1", "object.rotation_deg=0,10", f"out={out}", cwd=cwd)
        assert list(cwd.iterdir()) == []
        assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd", "sweep"]
        assert sorted(p.name for p in out.iterdir()) == ["object.rotation_deg=0", "object.rotation_deg=10"]
        for value in (0, 10):
            assert verify(out / f"object.rotation_deg={value}") == []
    finally:
        cwd.chmod(0o755)

