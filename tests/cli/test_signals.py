"""SIGTERM and SIGHUP end a run as Ctrl-C does: a non-zero exit with one line on stderr, no
temporary files (.tmp-*) or temporary folders left, and the same command run again completes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from synth.dataset import verify
from synth.video import EncodeSettings, write_clip

TINY = ["task=direction", "render.width=32", "render.height=24", "clip.fps=6", "clip.seconds=1", "progress=false"]


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "synth.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip


def _signal_when(run: subprocess.Popen, ready, sig: int) -> str:
    """Send ``sig`` once ``ready()`` holds; returns the run's stderr after it ended."""
    deadline = time.monotonic() + 120
    while not ready():
        assert run.poll() is None, f"finished before the signal: {run.stderr.read()}"
        assert time.monotonic() < deadline, "never got ready"
        time.sleep(0.02)
    run.send_signal(sig)
    assert run.wait(timeout=120) != 0
    return run.stderr.read()


def _assert_clean_interrupt(err: str, sig: int, root: Path) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("synth: error: interrupted"), err
    assert signal.Signals(sig).name in lines[0]
    assert not [p for p in root.rglob(".tmp-*")] and not [p for p in root.rglob(".*.tmp-*")]


@pytest.mark.parametrize("sig, jobs", [(signal.SIGTERM, 1), (signal.SIGHUP, 1), (signal.SIGTERM, 2)])
def test_generate_ends_cleanly_on_a_signal_and_resumes(tmp_path, sig, jobs):
    out = tmp_path / "data"
    args = ["generate", *TINY, "n=60", f"jobs={jobs}", f"out={out}"]
    manifest = out / "manifest.jsonl"
    err = _signal_when(_start(*args), lambda: manifest.is_file() and manifest.stat().st_size > 0, sig)
    _assert_clean_interrupt(err, sig, tmp_path)
    rerun = subprocess.run([sys.executable, "-m", "synth.cli", *args], capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert verify(out) == [] and len(manifest.read_text().splitlines()) == 60


def test_degrade_of_a_file_ends_cleanly_on_sigterm_and_reruns(tmp_path):
    y, x = np.mgrid[0:120, 0:160]  # long enough (30 s) to be signalled while it runs
    frames = np.stack([np.stack([x + t, y * 2, 255 - x], -1) for t in range(900)]).clip(0, 255).astype(np.uint8)
    src = tmp_path / "src.mkv"
    write_clip(frames, src, 30.0, EncodeSettings(lossless=True))
    out = tmp_path / "out.mp4"
    args = ["degrade", f"src={src}", f"out={out}", "degradation=[lens]", "degradation.lens.severity=2"]
    err = _signal_when(_start(*args), lambda: any(tmp_path.glob(".tmp-*")), signal.SIGTERM)
    _assert_clean_interrupt(err, signal.SIGTERM, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src.mkv"]
    rerun = subprocess.run([sys.executable, "-m", "synth.cli", *args], capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "src.mkv"]
