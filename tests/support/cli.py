"""Runs the real ``synth`` command in a subprocess, as a user does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SMALL = ["task=direction", "render.width=64", "render.height=48", "clip.fps=8", "clip.seconds=1", "progress=false"]


def synth(*args: str, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "synth.cli", *args], capture_output=True, text=True, cwd=cwd)
    if check and proc.returncode != 0:
        raise AssertionError(f"synth {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


# The smallest generate that still renders a real clip, for in-process `synth.cli.main` tests.
TINY = ["task=direction", "render.width=32", "render.height=32", "clip.seconds=0.4", "clip.fps=10", "progress=false"]


def one_error_line(capsys) -> str:
    """The one ``synth: error:`` line a refused command printed (and nothing else, no traceback)."""
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("synth: error: "), err
    assert "Traceback" not in captured.err + captured.out
    return err[0]
