"""The frames ``synth eval`` shows a model, written for the harness exports (lmms-eval, VLMEvalKit)
so another harness hands a model exactly synth's frames: as PNG images, and as a lossless clip
of just those frames for model classes that only take a video file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from synth.models.frames import sample_indices
from synth.video import EncodeSettings, read_frames, write_clip

# The frames clip's rate: qwen-vl-utils (lmms-eval's Qwen-VL classes) resamples a video file to
# 2 fps before anything else, so a clip at 2 fps keeps every frame.
FRAMES_CLIP_FPS = 2.0


class _LosslessRGB(EncodeSettings):
    """Lossless RGB H.264 (libx264rgb, qp 0) for an MP4: any FFmpeg-based reader (decord, PyAV,
    torchcodec) decodes the same bytes that went in, and readers that refuse FFV1 take it."""

    def ffmpeg_args(self) -> list[str]:
        return ["-c:v", "libx264rgb", "-qp", "0", "-pix_fmt", "rgb24"]


def write_lossless_clip(frames: np.ndarray, path: Path, fps: float = FRAMES_CLIP_FPS) -> None:
    """Encode ``frames`` (T, H, W, 3) uint8 sRGB as lossless RGB H.264 in an MP4 at ``fps``
    (:func:`synth.video.write_clip`: its error handling and byte-deterministic flags)."""
    write_clip(frames, path, fps, _LosslessRGB())


def save_eval_frames(clip: Path, num_frames: int, count: int, folder: Path,
                     frames_clip: Path | None = None) -> tuple[list[int], list[Path]]:  # fmt: skip
    """Decode the ``count`` frames ``synth eval eval.frames=count`` samples from ``clip`` (of
    ``num_frames`` frames; :func:`synth.models.frames.sample_indices`) and save them as
    ``folder/<index:05d>.png`` (8-bit sRGB, lossless) and, if given, as the lossless clip
    ``frames_clip`` (:func:`write_lossless_clip`). Returns the frame indices and the PNG paths."""
    folder.mkdir(parents=True)
    indices = sample_indices(num_frames, count)
    frames = read_frames(clip, indices)
    paths = [folder / f"{k:05d}.png" for k in indices]
    for frame, path in zip(frames, paths):
        Image.fromarray(frame).save(path)
    if frames_clip is not None:
        write_lossless_clip(frames, frames_clip)
    return indices, paths
