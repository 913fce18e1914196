"""Fixtures of the command-line tests."""

from __future__ import annotations

import numpy as np
import pytest

from synth.video import EncodeSettings, write_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    frames = np.random.default_rng(0).integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    path = tmp_path_factory.mktemp("src") / "clip.mkv"
    write_clip(frames, path, 10.0, EncodeSettings(lossless=True))
    return path
