"""The frames ``synth eval`` shows a model, written as images for the harness exports (lmms-eval's
frames mode, VLMEvalKit), so another harness hands a model exactly synth's frames."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from synth.models.frames import sample_indices
from synth.video import read_frames


def save_eval_frames(clip: Path, num_frames: int, count: int, folder: Path) -> tuple[list[int], list[Path]]:
    """Decode the ``count`` frames ``synth eval eval.frames=count`` samples from ``clip`` (of
    ``num_frames`` frames; :func:`synth.models.frames.sample_indices`) and save them as
    ``folder/<index:05d>.png`` (8-bit sRGB, lossless). Returns the frame indices and the paths."""
    folder.mkdir(parents=True)
    indices = sample_indices(num_frames, count)
    paths = [folder / f"{k:05d}.png" for k in indices]
    for frame, path in zip(read_frames(clip, indices), paths):
        Image.fromarray(frame).save(path)
    return indices, paths
