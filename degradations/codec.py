"""Codec stage: real encodes through ffmpeg (the binary imageio-ffmpeg ships), decoded back.

Frames are (T, H, W, 3) uint8 sRGB numpy arrays. Encodes are single-threaded with bit-exact
flags so the same frames and settings give the same bytes. ``resample`` (downscale → upscale,
as a streaming ladder does) works on display-encoded float tensors before quantisation.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import torch
import torch.nn.functional as F

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()

# codec -> (ffmpeg encoder, container suffix, quality range of `crf`, name ffmpeg reports)
CODECS = {
    "h264": ("libx264", ".mp4", (0, 51), "h264"),
    "hevc": ("libx265", ".mp4", (0, 51), "hevc"),
    "vp9": ("libvpx-vp9", ".webm", (0, 63), "vp9"),
    "av1": ("libaom-av1", ".mkv", (0, 63), "av1"),
    "jpeg": ("mjpeg", ".mkv", (2, 31), "mjpeg"),  # per-frame JPEG; `crf` is the JPEG qscale
}
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
# libvpx/libaom have no named presets; their speed knob -cpu-used, matched by encode speed
_CPU_USED = dict(zip(PRESETS, (8, 8, 7, 6, 5, 4, 3, 2, 1)))


def encoder_args(codec: str, crf: int, bitrate_kbps: int, preset: str, gop: int) -> list[str]:
    """ffmpeg output options for one encode (see :func:`compression` for the meaning)."""
    encoder = CODECS[codec][0]
    if codec == "jpeg":
        return ["-c:v", encoder, "-pix_fmt", "yuvj420p", "-q:v", str(crf)]
    args = ["-c:v", encoder, "-pix_fmt", "yuv420p"]
    args += ["-b:v", f"{bitrate_kbps}k"] if bitrate_kbps > 0 else ["-crf", str(crf)]
    if codec in ("vp9", "av1") and bitrate_kbps == 0:
        args += ["-b:v", "0"]  # constant-quality mode
    if codec in ("h264", "hevc"):
        args += ["-preset", preset]
    if codec == "hevc":
        args += ["-x265-params", "log-level=error:pools=1:frame-threads=1"]
    if codec == "vp9":
        args += ["-deadline", "good", "-cpu-used", str(min(_CPU_USED[preset], 5))]
    if codec == "av1":
        args += ["-cpu-used", str(_CPU_USED[preset])]
    if gop > 0:
        args += ["-g", str(gop)]
    return args


def encode(frames: np.ndarray, path: str | Path, fps: float, codec: str = "h264", crf: int = 23,
           bitrate_kbps: int = 0, preset: str = "medium", gop: int = 0) -> None:  # fmt: skip
    """Encode (T, H, W, 3) uint8 frames (even H and W) to ``path``; RuntimeError with ffmpeg's message."""
    t, h, w, _ = frames.shape
    cmd = [
        FFMPEG, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
        "-r", f"{fps}", "-i", "pipe:0", *encoder_args(codec, crf, bitrate_kbps, preset, gop),
        "-threads", "1", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", str(path),
    ]  # fmt: skip
    proc = subprocess.run(cmd, input=np.ascontiguousarray(frames, dtype=np.uint8).tobytes(), capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg {codec} encode failed: {proc.stderr.decode(errors='replace').strip()}")


def decode(path: str | Path, width: int, height: int) -> np.ndarray:
    """Every frame of ``path`` as (T, H, W, 3) uint8 sRGB."""
    cmd = [FFMPEG, "-loglevel", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg decode failed: {proc.stderr.decode(errors='replace').strip()}")
    return np.frombuffer(proc.stdout, dtype=np.uint8).reshape(-1, height, width, 3)


def probe_codec(path: str | Path) -> str:
    """The video codec name ffmpeg's demuxer reports for the container at ``path`` (e.g. ``hevc``)."""
    proc = subprocess.run([FFMPEG, "-hide_banner", "-i", str(path)], capture_output=True, text=True)
    m = re.search(r"Stream #\S+.*?Video: (\w+)", proc.stderr)
    if not m:
        raise RuntimeError(f"no video stream in {path}")
    return m.group(1)


def compression(
    frames: np.ndarray,
    fps: float = 30.0,
    codec: str = "h264",
    crf: int = 23,
    bitrate_kbps: int = 0,
    preset: str = "medium",
    gop: int = 0,
) -> np.ndarray:
    """A real lossy encode and decode: what a viewer of the compressed file sees.

    ``frames``: (T, H, W, 3) uint8 sRGB; returns the same shape. ``codec``: h264 (libx264), hevc
    (libx265), vp9 (libvpx), av1 (libaom) or jpeg (per-frame MJPEG). ``crf``: constant-quality
    level (h264/hevc 0..51, vp9/av1 0..63, higher = worse; for jpeg the qscale 2..31).
    ``bitrate_kbps`` > 0: target bitrate instead of crf. ``preset``: x264/x265 preset, mapped to
    -cpu-used for vp9/av1. ``gop``: keyframe interval in frames (0 = encoder default).
    Odd sizes are edge-padded to even for 4:2:0 and cropped back.
    Sources: ITU-T H.264, H.265; VP9 bitstream spec; AV1 spec; ITU-T T.81 (JPEG).
    """
    t, h, w, _ = frames.shape
    ph, pw = h % 2, w % 2
    padded = np.pad(frames, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="edge") if ph or pw else frames
    with tempfile.TemporaryDirectory(prefix="degrade-") as tmp:
        path = Path(tmp) / f"clip{CODECS[codec][1]}"
        encode(padded, path, fps, codec, crf, bitrate_kbps, preset, gop)
        out = decode(path, w + pw, h + ph)
    if out.shape[0] != t:
        raise RuntimeError(f"{codec} round trip returned {out.shape[0]} frames for {t}")
    return np.ascontiguousarray(out[:, :h, :w])


def resample(video: torch.Tensor, scale: float = 1.0, up_mode: str = "bilinear") -> torch.Tensor:
    """Downscale by ``scale`` (0 < scale ≤ 1, antialiased area average) and upscale back with
    ``up_mode`` (nearest, bilinear or bicubic), as a low rung of an adaptive-streaming ladder
    looks once the player scales it back to the display (e.g. Apple HLS authoring spec ladders).

    ``video``: (T, 3, H, W) float32 display-encoded 0..1; same shape out, clipped to 0..1.
    """
    if scale >= 1.0:
        return video
    _, _, h, w = video.shape
    small = F.interpolate(video, size=(max(1, round(h * scale)), max(1, round(w * scale))), mode="area")
    kw = {} if up_mode == "nearest" else {"align_corners": False}
    return F.interpolate(small, size=(h, w), mode=up_mode, **kw).clamp_(0.0, 1.0)
