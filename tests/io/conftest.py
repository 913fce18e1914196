"""Shared fixtures of the output-policy and lock tests: one tiny finished dataset."""

from __future__ import annotations

import pytest

from synth.cli import main

TINY = ["task=direction", "render.width=32", "render.height=24", "clip.fps=6", "clip.seconds=1", "progress=false"]


@pytest.fixture(scope="session")
def tiny_args() -> list[str]:
    """``synth generate`` keys for 32x24 clips of 1 s at 6 fps."""
    return list(TINY)


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """A finished 2-sample dataset; tests copy it before changing anything."""
    root = tmp_path_factory.mktemp("io") / "data"
    assert main(["generate", *TINY, "n=2", f"out={root}"]) == 0
    return root
