"""SIGTERM and SIGHUP end a run as Ctrl-C does: a non-zero exit with one line on stderr, no
temporary files (.tmp-*) or temporary folders left, and the same command run again completes."""

from __future__ import annotations

import os
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


def _wait_until(run: subprocess.Popen, ready) -> None:
    deadline = time.monotonic() + 120
    while not ready():
        assert run.poll() is None, f"finished before the signal: {run.stderr.read()}"
        assert time.monotonic() < deadline, "never got ready"
        time.sleep(0.02)


def _signal_when(run: subprocess.Popen, ready, sig: int) -> str:
    """Send ``sig`` once ``ready()`` holds; returns the run's stderr after it ended."""
    _wait_until(run, ready)
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


def test_an_idle_pool_worker_ends_on_sigterm_whichever_thread_receives_it(tmp_path):
    """Between samples a `jobs>1` worker waits in the pool's queue (a semaphore). The kernel may
    hand SIGTERM (the pool's terminate()) to any of its threads, llvmpipe's among them; the
    worker must end all the same, not wait forever for a Python handler its main thread never
    gets to run (before, 3 runs in 100 of `synth generate jobs=2` hung so)."""
    for folder in ("clips", "gt"):
        (tmp_path / folder).mkdir()
    code = f"""
import multiprocessing, signal, threading, time
from pathlib import Path
from synth import generate


def sigterm_to_this_thread():
    time.sleep(1.0)  # the main thread waits by then
    signal.pthread_kill(threading.get_ident(), signal.SIGTERM)


generate._init_worker(generate.Config(render=generate.RenderConfig(32, 32), clip=generate.ClipConfig(6.0, 1.0)))
generate._work((Path({str(tmp_path)!r}), generate.Job(0)))  # a sample made: llvmpipe's threads run
threading.Thread(target=sigterm_to_this_thread).start()
multiprocessing.Semaphore(0).acquire()  # idle, as in the pool's queue: no task ever comes
"""
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    try:
        code = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        code = "still waiting after 60 s"
    finally:
        proc.kill()
    assert code == -signal.SIGTERM, proc.stderr.read()


def _workers(pid: int) -> list[int]:
    """The worker processes of the synth run ``pid`` (its children running synth's command line)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid and b"synth.cli" in (stat.parent / "cmdline").read_bytes():
                found.append(int(stat.parent.name))
        except (OSError, ValueError):  # ended while we looked
            continue
    return found


def test_a_worker_killed_mid_run_ends_the_run_with_one_line_and_a_rerun_completes(tmp_path):
    out = tmp_path / "data"
    args = ["generate", *TINY, "n=60", "jobs=2", f"out={out}"]
    manifest = out / "manifest.jsonl"
    run = _start(*args)
    _wait_until(run, lambda: manifest.is_file() and manifest.stat().st_size > 0 and _workers(run.pid))
    os.kill(_workers(run.pid)[0], signal.SIGKILL)  # as the out-of-memory killer does
    assert run.wait(timeout=120) == 2
    err = run.stderr.read().strip().splitlines()
    assert len(err) == 1 and err[0].startswith("synth: error: jobs=2: a worker process ended abruptly"), err
    assert not list(tmp_path.rglob(".tmp-*")) and 0 < len(manifest.read_text().splitlines()) < 60
    rerun = subprocess.run([sys.executable, "-m", "synth.cli", *args], capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert verify(out) == [] and len(manifest.read_text().splitlines()) == 60
