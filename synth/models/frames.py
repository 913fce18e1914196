"""Which frames a model sees.

Rule: ``n`` frames at the centres of ``n`` equal segments of the clip, index
``floor((i + 0.5) * T / n)`` for ``i = 0 .. n-1``; every frame when ``n >= T``. The rule is
symmetric in time (no bias to the start or the end) and the same for every model.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np

from synth.video import count_frames, probe, read_frames


def sample_indices(total: int, n: int) -> list[int]:
    """Indices of ``n`` uniformly spaced frames out of ``total`` (all of them if ``n >= total``)."""
    if n >= total:
        return list(range(total))
    return [int((i + 0.5) * total / n) for i in range(n)]


class SampledClip:
    """A dataset clip whose sampled frames are decoded on first use, and only those: memory holds
    ``n_frames`` frames whatever the clip's length. ``frames`` is (n, H, W, 3) uint8."""

    def __init__(self, path: Path, n_frames: int):
        self.path = Path(path)
        self.n_frames = n_frames

    @cached_property
    def total(self) -> int:
        """Frames in the clip (counted without decoding)."""
        return count_frames(self.path)

    @cached_property
    def fps(self) -> float:
        return probe(self.path)["fps"]

    @cached_property
    def indices(self) -> list[int]:
        return sample_indices(self.total, self.n_frames)

    @cached_property
    def frames(self) -> np.ndarray:
        """The sampled frames, (n, H, W, 3) uint8 sRGB."""
        return read_frames(self.path, self.indices)

    @cached_property
    def middle_frame(self) -> np.ndarray:
        """The clip's middle frame as a 1-frame clip, (1, H, W, 3)."""
        return read_frames(self.path, [self.total // 2])
