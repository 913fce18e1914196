"""The frames ``synth eval`` shows a model, written for the harness exports (lmms-eval, VLMEvalKit)
so another harness hands a model exactly synth's frames: as PNG images, and as a lossless clip
of just those frames for model classes that only take a video file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from PIL import Image

from synth.degradations.codec import FFMPEG
from synth.errors import MediaError
from synth.models.frames import sample_indices
from synth.video import read_frames

# The frames clip's rate: qwen-vl-utils (lmms-eval's Qwen-VL classes) resamples a video file to
# 2 fps before anything else, so a clip at 2 fps keeps every frame.
FRAMES_CLIP_FPS = 2.0


def write_lossless_clip(frames: np.ndarray, path: Path, fps: float = FRAMES_CLIP_FPS) -> None:
    """Encode ``frames`` (T, H, W, 3) uint8 sRGB as lossless RGB H.264 (libx264rgb, qp 0) in an
    MP4 at ``fps``: any FFmpeg-based reader (decord, PyAV, torchcodec) gets the same bytes back."""
    t, h, w, _ = frames.shape
    cmd = [FFMPEG, "-v", "error", "-nostdin", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
           "-r", f"{fps:g}", "-i", "-", "-c:v", "libx264rgb", "-qp", "0", "-pix_fmt", "rgb24", str(path)]  # fmt: skip
    proc = subprocess.run(cmd, input=np.ascontiguousarray(frames, dtype=np.uint8).tobytes(), capture_output=True)
    if proc.returncode != 0:
        raise MediaError(f"{path}: cannot write ({proc.stderr.decode(errors='replace').strip()[-300:]})")


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
