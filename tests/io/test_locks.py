"""One writer per output folder (synth.io.folder_lock, a filelock inside the folder): two runs
racing on one out= end with one complete dataset holding each id once and either a clean one-line
refusal that names the holder or a second, serialised completion; never duplicates, never a
traceback. A lock left by a killed (kill -9) run is free again at once."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

from synth.dataset import verify
from synth.io import LOCK, folder_lock

from support.cli import synth


def _generate(tiny_args: list[str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "synth.cli", "generate", *tiny_args, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def _ids(root) -> list[str]:
    return [json.loads(line)["id"] for line in (root / "manifest.jsonl").read_text().splitlines()]


def test_two_writers_racing_on_one_out_never_duplicate(tmp_path, tiny_args):
    out = tmp_path / "race"
    runs = [_generate(tiny_args, "n=6", f"out={out}") for _ in range(2)]
    results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
    assert sorted(rc for rc, _ in results) in ([0, 0], [0, 2]), results
    for rc, err in results:
        assert "Traceback" not in err
        if rc == 2:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and "in use by another synth run (pid " in lines[0], err
    ids = _ids(out)
    assert len(ids) == 6 and len(set(ids)) == 6
    assert verify(out) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race"]
    assert not list(out.rglob(".*"))  # the lock and its holder note are gone


def test_a_second_writer_is_refused_naming_the_holder(tmp_path, tiny_args):
    out = tmp_path / "held"
    with folder_lock(out):
        proc = synth("generate", *tiny_args, "n=1", f"out={out}", check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    line = proc.stderr.strip()
    assert "\n" not in line and f"pid {os.getpid()}" in line and "started 20" in line, line
    assert not out.exists() or not list(out.iterdir())


def test_a_lock_left_by_a_killed_run_is_recovered(tmp_path, tiny_args):
    out = tmp_path / "killed"
    run = _generate(tiny_args, "n=60", f"out={out}")
    deadline = time.monotonic() + 120
    while not ((out / "manifest.jsonl").is_file() and (out / "manifest.jsonl").stat().st_size):
        assert run.poll() is None and time.monotonic() < deadline, run.stderr.read() if run.poll() else "too slow"
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert (out / LOCK).exists()  # left behind by kill -9, but no longer held
    synth("generate", *tiny_args, "n=60", f"out={out}")
    ids = _ids(out)
    assert len(ids) == 60 and len(set(ids)) == 60 and verify(out) == []


def test_an_eval_of_the_same_model_waits_its_turn(tiny_dataset, tmp_path, capsys):
    from synth.cli import main

    data = tmp_path / "data"
    shutil.copytree(tiny_dataset, data)
    with folder_lock(data / "evals" / "random"):
        assert main(["eval", f"data={data}", "model=random"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "in use by another synth run" in err and f"pid {os.getpid()}" in err
    assert not (data / "evals" / "random" / "predictions.jsonl").exists()
    assert main(["eval", f"data={data}", "model=random"]) == 0


def test_leftovers_of_a_run_killed_while_replacing_are_recovered(tmp_path):
    out = tmp_path / "out"
    (tmp_path / ".out.old-4242").mkdir()  # killed between swap_in's two renames: the old output
    (tmp_path / ".out.old-4242" / "kept.txt").write_text("old\n")
    (tmp_path / ".out.tmp-4243").mkdir()  # killed while building a replacement
    with folder_lock(out):
        assert (out / "kept.txt").read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
