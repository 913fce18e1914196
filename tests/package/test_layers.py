"""The layers are a contract (docs/architecture.md): import-linter checks, on the package as it is
installed (synth/ with scenes/, degradations/ and shaders/ inside it), that no module imports from a
layer above its own, that siblings marked independent never import each other, that no import
circle exists at any depth, and that degradations/ imports nothing from the rest of synth. The
command line stays a thin layer over the engine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLI_LINE_LIMIT = 1600


def _installed_layout(root: Path) -> Path:
    """A copy of the sources arranged as the wheel installs them (one import name, ``synth``)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(REPO / "synth", root / "synth", ignore=ignore)
    for folder in ("scenes", "degradations", "shaders"):
        shutil.copytree(REPO / folder, root / "synth" / folder, ignore=ignore)
    return root


def test_import_contracts_hold(tmp_path):
    root = _installed_layout(tmp_path)
    lint = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.run([str(lint), str(REPO / "pyproject.toml"), "--no-cache"],
                          cwd=root, env=env, capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "BROKEN" not in proc.stdout and "KEPT" in proc.stdout


def test_a_broken_layer_is_caught(tmp_path):
    """The contract is live: an upward import planted in a copy breaks it."""
    root = _installed_layout(tmp_path)
    with open(root / "synth" / "video.py", "a") as fh:
        fh.write("\nimport synth.cli  # planted upward import\n")
    lint = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.run([str(lint), str(REPO / "pyproject.toml"), "--no-cache"],
                          cwd=root, env=env, capture_output=True, text=True)  # fmt: skip
    assert proc.returncode != 0 and "synth.video -> synth.cli" in proc.stdout


def test_the_command_line_stays_thin():
    lines = sum(len(p.read_text().splitlines()) for p in (REPO / "synth" / "cli").glob("*.py"))
    assert lines <= CLI_LINE_LIMIT, f"synth/cli/ is {lines} lines; the engine belongs below it (limit {CLI_LINE_LIMIT})"
