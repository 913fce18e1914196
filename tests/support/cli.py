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
