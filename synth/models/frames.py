"""Which frames a model sees.

Rule: ``n`` frames at the centres of ``n`` equal segments of the clip, index
``floor((i + 0.5) * T / n)`` for ``i = 0 .. n-1``; every frame when ``n >= T``. The rule is
symmetric in time (no bias to the start or the end) and the same for every model.

A time control (:mod:`synth.eval.controls`) shows the same sampled frames in another order: a
:class:`ReorderedClip`, made by :meth:`SampledClip.reordered`.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np

from synth.errors import UserError
from synth.video import count_frames, probe, read_frames


def sample_indices(total: int, n: int) -> list[int]:
    """Indices of ``n`` uniformly spaced frames out of ``total`` (all of them if ``n >= total``)."""
    if n >= total:
        return list(range(total))
    return [int((i + 0.5) * total / n) for i in range(n)]


class SampledClip:
    """A dataset clip whose sampled frames are decoded on first use, and only those: memory holds
    ``n_frames`` frames whatever the clip's length. ``frames`` is (n, H, W, 3) uint8."""

    order: tuple[int, ...] | None = None  # the sampled frames are shown as sampled

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

    @property
    def timeline(self) -> list[int]:
        """The frame indices whose times the shown frames are presented at (for processors that
        write timestamps): the sampled indices in increasing order, whatever the order shown."""
        return self.indices

    def reordered(self, order: tuple[int, ...]) -> ReorderedClip:
        """These sampled frames shown in ``order`` (decoded once, shared with this clip)."""
        return ReorderedClip(self, order)


class ReorderedClip(SampledClip):
    """The sampled frames of ``clip`` shown in another order, a time control's twin:
    ``frames[k] = clip.frames[order[k]]`` and ``indices[k] = clip.indices[order[k]]`` (the frames
    a command model reads, in the order shown). The clock stays: :attr:`timeline` is the plain
    clip's, so no timestamp tells the order back. ``middle_frame`` is the clip's own (a still
    picture has no order)."""

    def __init__(self, clip: SampledClip, order: tuple[int, ...]):
        super().__init__(clip.path, clip.n_frames)
        self.clip = clip
        self.order = tuple(int(i) for i in order)

    @property
    def total(self) -> int:
        return self.clip.total

    @property
    def fps(self) -> float:
        return self.clip.fps

    def _positions(self) -> list[int]:
        """``order`` as a list, checked to reorder exactly the sampled frames."""
        if sorted(self.order) != list(range(len(self.clip.indices))):
            raise UserError(
                f"{self.path}: {len(self.clip.indices)} frames sampled, but the reordering lists {len(self.order)} "
                "(the manifest's num_frames does not match the clip)"
            )
        return list(self.order)

    @property
    def indices(self) -> list[int]:
        return [self.clip.indices[i] for i in self._positions()]

    @property
    def timeline(self) -> list[int]:
        return self.clip.indices

    @property
    def frames(self) -> np.ndarray:
        return self.clip.frames[self._positions()]

    @property
    def middle_frame(self) -> np.ndarray:
        return self.clip.middle_frame
