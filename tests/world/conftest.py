"""Fixtures of the world-bench tests."""

from __future__ import annotations

import pytest

from synth.cli import main


@pytest.fixture(scope="module")
def world_set(tmp_path_factory):
    """One static clip per path, 48x48, 30 frames, lossless, with ground truth."""
    root = tmp_path_factory.mktemp("world") / "ds"
    args = ["generate", "task=world", "n=1", "seed=2", f"out={root}", "render.width=48", "render.height=48",
            "clip.seconds=2", "gt=true", "video.lossless=true", "progress=false", "world.changes=no",
            "sweep.variable=world.path", "sweep.values=[turn,walk,strafe,orbit]"]  # fmt: skip
    assert main(args) == 0
    return root
