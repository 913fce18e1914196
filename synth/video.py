"""Clip files through the ffmpeg binary that imageio-ffmpeg ships.

Frames are ``numpy.uint8`` arrays of shape ``(T, H, W, 3)``, sRGB-encoded RGB.
Clips are written through a pipe (raw RGB24 in) and read back the same way,
so what a model sees is exactly what the codec produced.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from synth.errors import MediaError, UserError

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()

# codec name -> (ffmpeg encoder, container extension, CRF range)
ENCODERS = {
    "h264": ("libx264", ".mp4", (0, 51)),
    "hevc": ("libx265", ".mp4", (0, 51)),
    "vp9": ("libvpx-vp9", ".webm", (0, 63)),
    "av1": ("libaom-av1", ".mp4", (0, 63)),
    "ffv1": ("ffv1", ".mkv", None),
}


@dataclass
class EncodeSettings:
    """How a clip is encoded. ``lossless`` overrides codec/crf with FFV1 in Matroska (bit-exact RGB)."""

    codec: str = "h264"
    crf: int = 18
    preset: str = "medium"
    gop: int = 0  # keyframe interval in frames; 0 = encoder default
    pix_fmt: str = "yuv420p"
    lossless: bool = False

    @property
    def extension(self) -> str:
        return ".mkv" if self.lossless else ENCODERS[self.codec][1]

    def validate(self, prefix: str = "video") -> None:
        if self.lossless:
            return
        if self.codec not in ENCODERS or self.codec == "ffv1":
            allowed = ", ".join(c for c in ENCODERS if c != "ffv1")
            raise UserError(f"{prefix}.codec={self.codec}: allowed {allowed} (or {prefix}.lossless=true)")
        lo, hi = ENCODERS[self.codec][2]
        if not lo <= self.crf <= hi:
            raise UserError(f"{prefix}.crf={self.crf}: allowed {lo}..{hi} for {self.codec}")
        if self.gop < 0:
            raise UserError(f"{prefix}.gop={self.gop}: must be >= 0 (0 = encoder default)")

    def check_size(self, width: int, height: int, prefix: str = "render") -> None:
        """4:2:0 chroma subsampling needs even dimensions; reject others up front."""
        if not self.lossless and self.pix_fmt.endswith("420p") and (width % 2 or height % 2):
            raise UserError(
                f"{prefix}.width={width}, {prefix}.height={height}: {self.codec} {self.pix_fmt} needs even sizes"
            )

    def ffmpeg_args(self) -> list[str]:
        if self.lossless:
            return ["-c:v", "ffv1", "-level", "3", "-pix_fmt", "bgr0", "-g", "1"]
        encoder = ENCODERS[self.codec][0]
        args = ["-c:v", encoder, "-pix_fmt", self.pix_fmt, "-crf", str(self.crf)]
        if self.codec in ("h264", "hevc"):
            args += ["-preset", self.preset]
        if self.codec == "hevc":
            args += ["-x265-params", "log-level=error"]
        if self.codec == "vp9":
            args += ["-b:v", "0", "-deadline", "good", "-cpu-used", "4"]
        if self.codec == "av1":
            args += ["-b:v", "0", "-cpu-used", "8", "-row-mt", "1"]
        if self.gop:
            args += ["-g", str(self.gop)]
        return args


def _deterministic_flags() -> list[str]:
    # One thread and no muxer timestamps/metadata: the same frames give the same bytes.
    return ["-threads", "1", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact"]


def write_clip(frames: np.ndarray, path: str | os.PathLike, fps: float, settings: EncodeSettings) -> None:
    """Encode ``frames`` (T, H, W, 3) uint8 sRGB to ``path``; raises :class:`MediaError` (a
    RuntimeError) naming ``path`` with ffmpeg's message (a full disk, an unwritable path...)."""
    frames = np.ascontiguousarray(frames, dtype=np.uint8)
    t, h, w, c = frames.shape
    assert c == 3, frames.shape
    cmd = [
        FFMPEG, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
        "-s", f"{w}x{h}", "-r", f"{fps}", "-i", "pipe:0",
        *settings.ffmpeg_args(), *_deterministic_flags(), str(path),
    ]  # fmt: skip
    # One blocking write of the whole clip (communicate() would poll per 4 KiB chunk); stderr goes
    # to a file so ffmpeg can never block on a full pipe while we write.
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
        try:
            proc.stdin.write(memoryview(frames).cast("B"))
        except BrokenPipeError:  # ffmpeg quit early: its message says why
            pass
        proc.stdin.close()
        if proc.wait() != 0:
            err.seek(0)
            raise MediaError(f"{path}: ffmpeg failed to write: {_last_line(err.read())}")


def probe(path: str | os.PathLike) -> dict:
    """Container facts from ffmpeg's own parser: codec, pix_fmt, size, fps, frame count."""
    proc = subprocess.run([FFMPEG, "-hide_banner", "-i", str(path)], capture_output=True, text=True)
    text = proc.stderr
    m = re.search(r"Stream #\S+.*?Video: (\w+)[^,]*, (\w+)[^,]*(?:\([^)]*\))?, (\d+)x(\d+)", text)
    if not m:
        raise MediaError(f"{path}: not a readable video (ffmpeg: {_last_line(text.encode())})")
    fps = re.search(r"([\d.]+) fps", text)
    return {
        "codec": m.group(1),
        "pix_fmt": m.group(2),
        "width": int(m.group(3)),
        "height": int(m.group(4)),
        "fps": float(fps.group(1)) if fps else None,
    }


def read_clip(path: str | os.PathLike) -> tuple[np.ndarray, float]:
    """Decode every frame of ``path`` to (T, H, W, 3) uint8 sRGB; returns (frames, fps).
    A file that is not a video, or one that is truncated or corrupt (ffmpeg reports a decoding
    error even if it decoded some frames), raises :class:`MediaError` naming ``path``."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such video file")
    info = probe(path)
    w, h = info["width"], info["height"]
    cmd = [FFMPEG, "-loglevel", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        raw = proc.stdout.read()
        code = proc.wait()
        err.seek(0)
        message = err.read()
    if code != 0 or message.strip() or not raw or len(raw) % (h * w * 3):
        raise MediaError(f"{path}: truncated or corrupt video (ffmpeg: {_last_line(message) or 'no whole frames'})")
    frames = np.frombuffer(raw, dtype=np.uint8).reshape(-1, h, w, 3)
    return frames, info["fps"]


def _last_line(stderr: bytes) -> str:
    """ffmpeg's last non-empty message line (its conclusion), without the ``[demuxer @ 0x...]`` prefix."""
    lines = [ln.strip() for ln in stderr.decode(errors="replace").splitlines() if ln.strip()]
    return re.sub(r"^\[[^\]]*\]\s*", "", lines[-1]) if lines else ""


def sha256_file(path: str | os.PathLike) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

