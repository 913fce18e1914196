"""Codec stage: real encodes through ffmpeg (the binary imageio-ffmpeg ships), decoded back.

Frames are (T, H, W, 3) uint8 sRGB numpy arrays. Encodes are single-threaded with bit-exact
flags so the same frames and settings give the same bytes. ``resample`` (downscale → upscale,
as a streaming ladder does) works on display-encoded float tensors before quantisation.
"""

from __future__ import annotations

import queue
import re
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import imageio_ffmpeg
import numpy as np

if TYPE_CHECKING:
    import torch

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()

# The one codec table (the camera model's codec stage and synth.video's clip writer both read it; importing
# this module does not import torch).
# codec -> (ffmpeg encoder, container suffix it is delivered in, quality range of `crf`, name ffmpeg reports)
CODECS = {
    "h264": ("libx264", ".mp4", (0, 51), "h264"),
    "hevc": ("libx265", ".mp4", (0, 51), "hevc"),
    "vp9": ("libvpx-vp9", ".webm", (0, 63), "vp9"),
    "av1": ("libaom-av1", ".mp4", (0, 63), "av1"),
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


# format each codec's bitstream takes through the round trip's pipe: raw streams and IVF write each
# packet as it comes (Matroska would hold back seconds of video per cluster, and cannot write AV1's
# header without seeking back)
_PIPE_FORMAT = {"h264": "h264", "hevc": "hevc", "vp9": "ivf", "av1": "ivf", "jpeg": "mjpeg"}

# container suffix -> codecs it can hold (what `synth degrade` may deliver under that name)
CONTAINERS = {
    ".mp4": ("h264", "hevc", "av1", "vp9"),
    ".mov": ("h264", "hevc", "jpeg"),
    ".webm": ("vp9", "av1"),
    ".mkv": tuple(CODECS),
}


def encode_command(target: str, width: int, height: int, fps: float, codec: str = "h264", crf: int = 23,
                   bitrate_kbps: int = 0, preset: str = "medium", gop: int = 0, fmt: str | None = None) -> list[str]:  # fmt: skip
    """The ffmpeg command that encodes raw RGB24 frames (W×H, even sizes) read from stdin to
    ``target`` (a path, or ``pipe:1`` with ``fmt`` naming the container). Single-threaded, no
    metadata, bit-exact flags: the same frames and settings give the same bytes."""
    return [
        FFMPEG, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
        "-r", f"{fps}", "-i", "pipe:0", *encoder_args(codec, crf, bitrate_kbps, preset, gop),
        "-threads", "1", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
        *(["-f", fmt, "-flush_packets", "1"] if fmt else []), target,
    ]  # fmt: skip


class Encoder:
    """A running encode fed chunk by chunk: ``write`` (t, H, W, 3) uint8 frames, then ``close``.

    ``target``: the output path (its suffix picks the container) or ``pipe:1`` with ``fmt``; the
    other arguments are those of :func:`compression`. Frame sizes must be even (4:2:0). ffmpeg's
    messages go to a temporary file, so it never blocks on a full stderr pipe; a failed encode
    raises RuntimeError with its message. Memory: one chunk at a time.
    """

    def __init__(self, target: str | Path, width: int, height: int, fps: float, codec: str = "h264", crf: int = 23,
                 bitrate_kbps: int = 0, preset: str = "medium", gop: int = 0, fmt: str | None = None,
                 stdout: Any = subprocess.DEVNULL):  # fmt: skip
        self.codec, self.shape = codec, (height, width, 3)
        cmd = encode_command(str(target), width, height, fps, codec, crf, bitrate_kbps, preset, gop, fmt)
        self._err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=stdout, stderr=self._err)

    def write(self, frames: np.ndarray) -> None:
        """Append (t, H, W, 3) uint8 frames to the stream."""
        if frames.shape[1:] != self.shape:
            raise ValueError(f"frames must be (t, {', '.join(map(str, self.shape))}), got {frames.shape}")
        try:
            self.proc.stdin.write(memoryview(np.ascontiguousarray(frames, dtype=np.uint8)).cast("B"))
        except BrokenPipeError:  # ffmpeg quit early: close() reports its message
            self.close()

    def close(self) -> None:
        """Finish the stream (flushes the encoder); RuntimeError with ffmpeg's message if it failed."""
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        if self.proc.wait() != 0:
            self._err.seek(0)
            raise RuntimeError(f"ffmpeg {self.codec} encode failed: {self._err.read().decode(errors='replace').strip()}")
        self._err.close()

    def abort(self) -> None:
        """Stop the encoder without waiting for it to finish (on an error elsewhere)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._err.close()


def encode(frames: np.ndarray, path: str | Path, fps: float, codec: str = "h264", crf: int = 23,
           bitrate_kbps: int = 0, preset: str = "medium", gop: int = 0) -> None:  # fmt: skip
    """Encode (T, H, W, 3) uint8 frames (even H and W) to ``path``; RuntimeError with ffmpeg's message."""
    _, h, w, _ = frames.shape
    enc = Encoder(path, w, h, fps, codec, crf, bitrate_kbps, preset, gop)
    enc.write(frames)
    enc.close()


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


class RoundTrip:
    """:func:`compression` as a stream: frames go into a running encoder whose bitstream a second
    ffmpeg decodes as it arrives (the raw stream, or IVF for VP9/AV1, through a pipe: the same encoder
    bits as in a file).

    ``feed(frames)`` takes (t, H, W, 3) uint8 and returns the decoded frames ready so far (encoders
    hold back a few dozen frames of lookahead); ``finish()`` returns the rest. Over a whole clip
    the frames out equal one :func:`compression` call, however the clip was cut into chunks.
    Odd sizes are edge-padded to even and cropped back. Memory: a chunk plus the encoder's lag.
    """

    def __init__(self, width: int, height: int, fps: float, codec: str = "h264", crf: int = 23,
                 bitrate_kbps: int = 0, preset: str = "medium", gop: int = 0):  # fmt: skip
        self.size = (height, width)
        self.padded = (height + height % 2, width + width % 2)
        ph, pw = self.padded
        fmt = _PIPE_FORMAT[codec]
        self.encoder = Encoder("pipe:1", pw, ph, fps, codec, crf, bitrate_kbps, preset, gop, fmt, subprocess.PIPE)
        # no probing ahead: the decoder starts on the first packets instead of buffering seconds
        cmd = [FFMPEG, "-loglevel", "error", "-probesize", "32", "-analyzeduration", "0", "-f", fmt, "-i", "pipe:0",
               "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]  # fmt: skip
        self._err = tempfile.TemporaryFile()
        self.decoder = subprocess.Popen(cmd, stdin=self.encoder.proc.stdout, stdout=subprocess.PIPE, stderr=self._err)
        self.encoder.proc.stdout.close()  # the decoder holds the read end now
        self._ready: queue.Queue[np.ndarray | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.fed = self.returned = 0

    def _read(self) -> None:
        size = self.padded[0] * self.padded[1] * 3
        while True:
            buf = bytearray(size)
            view, got = memoryview(buf), 0
            while got < size:
                n = self.decoder.stdout.readinto(view[got:])
                if not n:
                    break
                got += n
            if got < size:
                self._ready.put(None)
                return
            self._ready.put(np.frombuffer(buf, np.uint8).reshape(*self.padded, 3))

    def _take(self, block: bool) -> np.ndarray:
        h, w = self.size
        out = []
        while True:
            try:
                frame = self._ready.get(block=block)
            except queue.Empty:
                break
            if frame is None:
                break
            out.append(frame[:h, :w])
        self.returned += len(out)
        return np.stack(out) if out else np.empty((0, h, w, 3), np.uint8)

    def feed(self, frames: np.ndarray) -> np.ndarray:
        h, w = self.size
        ph, pw = self.padded[0] - h, self.padded[1] - w
        if ph or pw:
            frames = np.pad(frames, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="edge")
        self.encoder.write(frames)
        self.fed += len(frames)
        return self._take(block=False)

    def finish(self) -> np.ndarray:
        try:
            self.encoder.close()
        finally:
            rest = self._take(block=True)
            self._reader.join()
            self.decoder.stdout.close()
        if self.decoder.wait() != 0:
            self._err.seek(0)
            raise RuntimeError(f"ffmpeg decode failed: {self._err.read().decode(errors='replace').strip()}")
        self._err.close()
        if self.returned != self.fed:
            raise RuntimeError(f"{self.encoder.codec} round trip returned {self.returned} frames for {self.fed}")
        return rest

    def abort(self) -> None:
        """Stop both processes (on an error elsewhere)."""
        self.encoder.abort()
        if self.decoder.poll() is None:
            self.decoder.kill()
        self.decoder.wait()
        self._err.close()


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
    Odd sizes are edge-padded to even for 4:2:0 and cropped back. The streaming form is
    :class:`RoundTrip`; :class:`Encoder` writes the same bitstream to a file.
    Sources: ITU-T H.264, H.265; VP9 bitstream spec; AV1 spec; ITU-T T.81 (JPEG).
    """
    t, h, w, _ = frames.shape
    trip = RoundTrip(w, h, fps, codec, crf, bitrate_kbps, preset, gop)
    try:
        first = trip.feed(frames)
        return np.concatenate([first, trip.finish()])
    except BaseException:
        trip.abort()
        raise


def resample(video: torch.Tensor, scale: float = 1.0, up_mode: str = "bilinear") -> torch.Tensor:
    """Downscale by ``scale`` (0 < scale ≤ 1, antialiased area average) and upscale back with
    ``up_mode`` (nearest, bilinear or bicubic), as a low rung of an adaptive-streaming ladder
    looks once the player scales it back to the display (e.g. Apple HLS authoring spec ladders).

    ``video``: (T, 3, H, W) float32 display-encoded 0..1; same shape out, clipped to 0..1.
    """
    import torch.nn.functional as F

    if scale >= 1.0:
        return video
    t, c, h, w = video.shape
    # channels as frames of one channel: the same numbers, and torch's CPU kernels run 1.2-2x faster
    # on (T·C, 1, H, W) than on (T, C, H, W) (0.53 -> 0.43 and 0.61 -> 0.31 ms a 256² frame here)
    planes = video.reshape(t * c, 1, h, w)
    small = F.interpolate(planes, size=(max(1, round(h * scale)), max(1, round(w * scale))), mode="area")
    kw = {} if up_mode == "nearest" else {"align_corners": False}
    return F.interpolate(small, size=(h, w), mode=up_mode, **kw).clamp_(0.0, 1.0).view(t, c, h, w)
