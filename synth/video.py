"""Clip files through the ffmpeg binary that imageio-ffmpeg ships.

Frames are ``numpy.uint8`` arrays of shape ``(T, H, W, 3)``, sRGB-encoded RGB.
Clips are written through a pipe (raw RGB24 in) and read back the same way,
so what a model sees is exactly what the codec produced.
"""

from __future__ import annotations

import errno
import math
import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from queue import Queue

import numpy as np

from synth.degradations.codec import CODECS, FFMPEG, PRESETS
from synth.errors import MediaError, UserError

# codecs a clip may be encoded with (lossless clips use FFV1, see EncodeSettings); per-frame JPEG is
# a degradation only
CLIP_CODECS = tuple(c for c in CODECS if c != "jpeg")


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
        return ".mkv" if self.lossless else CODECS[self.codec][1]

    def validate(self, prefix: str = "video") -> None:
        if self.lossless:
            return
        if self.codec not in CLIP_CODECS:
            allowed = ", ".join(CLIP_CODECS)
            raise UserError(f"{prefix}.codec={self.codec}: allowed {allowed} (or {prefix}.lossless=true)")
        lo, hi = CODECS[self.codec][2]
        if not lo <= self.crf <= hi:
            raise UserError(f"{prefix}.crf={self.crf}: allowed {lo}..{hi} for {self.codec}")
        if self.gop < 0:
            raise UserError(f"{prefix}.gop={self.gop}: must be >= 0 (0 = encoder default)")
        if self.preset not in PRESETS:
            raise UserError(f"{prefix}.preset={self.preset}: allowed {', '.join(PRESETS)}")

    def check_size(self, width: int, height: int, prefix: str = "render") -> None:
        """4:2:0 chroma subsampling needs even dimensions; reject others up front."""
        if not self.lossless and self.pix_fmt.endswith("420p") and (width % 2 or height % 2):
            raise UserError(
                f"{prefix}.width={width}, {prefix}.height={height}: {self.codec} {self.pix_fmt} needs even sizes"
            )

    def ffmpeg_args(self) -> list[str]:
        if self.lossless:
            return ["-c:v", "ffv1", "-level", "3", "-pix_fmt", "bgr0", "-g", "1"]
        encoder = CODECS[self.codec][0]
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


class VideoWriter:
    """Encode a clip as its frames are produced, in bounded chunks.

    ``with VideoWriter(path, fps, settings) as out: out.write(chunk)`` where each ``chunk`` is
    (t, H, W, 3) uint8 sRGB (every chunk the same H, W). ffmpeg runs as its own process reading a
    pipe; a feeder thread writes the queued chunks into it, so the caller draws the next chunk
    while the encoder works on this one. At most ``queue`` chunks wait: memory is bounded by the
    chunk size, not the clip length. Leaving the block normally finishes the file (ffmpeg's
    failure raises :class:`MediaError` naming ``path``); leaving it by an exception stops ffmpeg
    and removes the partial file. ``frames`` counts the frames written.
    """

    def __init__(self, path: str | os.PathLike, fps: float, settings: EncodeSettings, queue: int = 2):
        self.path, self.fps, self.settings = Path(path), fps, settings
        self.frames = 0
        self._size: tuple[int, int] | None = None
        self._queue: Queue = Queue(maxsize=queue)
        self._proc: subprocess.Popen | None = None
        self._err = None
        self._feeder: threading.Thread | None = None

    def __enter__(self) -> "VideoWriter":
        return self

    def _start(self, width: int, height: int) -> None:
        cmd = [
            FFMPEG, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
            "-s", f"{width}x{height}", "-r", f"{self.fps}", "-i", "pipe:0",
            *self.settings.ffmpeg_args(), *_deterministic_flags(), str(self.path),
        ]  # fmt: skip
        # stderr goes to a file so ffmpeg can never block on a full pipe while we write.
        self._err = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._err)
        self._feeder = threading.Thread(target=self._feed, name=f"encode {self.path.name}", daemon=True)
        self._feeder.start()

    def _feed(self) -> None:
        stdin = self._proc.stdin
        while (chunk := self._queue.get()) is not None:
            try:
                stdin.write(memoryview(chunk).cast("B"))  # one blocking write; the GIL is released
            except (BrokenPipeError, ValueError):  # ffmpeg quit early (its message says why) or aborted
                while self._queue.get() is not None:  # drain, so write() never blocks on a dead encoder
                    pass
                return

    def write(self, frames: np.ndarray) -> None:
        """Queue ``frames`` (t, H, W, 3) uint8 for the encoder (blocks while ``queue`` chunks wait)."""
        frames = np.ascontiguousarray(frames, dtype=np.uint8)
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"frames must be (t, H, W, 3) uint8, got {frames.shape}")
        size = (frames.shape[2], frames.shape[1])
        if self._size is None:
            self._size = size
            self._start(*size)
        elif size != self._size:
            raise ValueError(f"frame size {size[0]}x{size[1]} differs from the clip's {self._size[0]}x{self._size[1]}")
        if len(frames):
            self._queue.put(frames)
            self.frames += len(frames)

    def close(self) -> None:
        """Flush the queue and finish the file; if ffmpeg failed, removes the partial file and raises
        OSError when ffmpeg names a full disk or an unwritable path, else :class:`MediaError`."""
        if self._proc is None:
            raise MediaError(f"{self.path}: no frames to encode")
        self._queue.put(None)
        self._feeder.join()
        self._proc.stdin.close()
        code = self._proc.wait()
        self._err.seek(0)
        message = self._err.read()
        self._err.close()
        if code != 0:
            self.path.unlink(missing_ok=True)  # a failed encode leaves no partial file
            text = message.decode(errors="replace")
            for number in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
                if os.strerror(number) in text:  # the disk or the path failed, not the video: say so
                    raise OSError(number, os.strerror(number), str(self.path))
            raise MediaError(f"{self.path}: ffmpeg failed to write: {_last_line(message, first=True)}")

    def abort(self) -> None:
        """Stop the encoder and remove the partial file. Safe in any state: the CLI turns SIGTERM
        and SIGHUP into a KeyboardInterrupt, which may land inside :meth:`_start` itself."""
        if self._proc is not None:
            self._proc.kill()
            if self._feeder is not None:
                self._queue.put(None)  # the feeder drains the queue (still empty if _start was cut short)
                try:
                    self._feeder.join()
                except RuntimeError:  # interrupted before the thread reported in; it ends on the None
                    pass
            self._proc.wait()
            self._err.close()
        self.path.unlink(missing_ok=True)

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_clip(frames: np.ndarray, path: str | os.PathLike, fps: float, settings: EncodeSettings) -> None:
    """Encode ``frames`` (T, H, W, 3) uint8 sRGB to ``path`` (a :class:`VideoWriter` fed one
    chunk); raises :class:`MediaError` (a RuntimeError) naming ``path`` with ffmpeg's message."""
    with VideoWriter(path, fps, settings) as out:
        out.write(frames)


def probe(path: str | os.PathLike) -> dict:
    """Container facts from ffmpeg's own parser: demuxer ``format``, codec, pix_fmt, size, fps."""
    proc = subprocess.run([FFMPEG, "-hide_banner", "-i", str(path)], capture_output=True, text=True)
    return _stream_facts(proc.stderr, path)


def _stream_facts(text: str, path: str | os.PathLike) -> dict:
    """:func:`probe`'s fields from ffmpeg's description of an input (its ``-i`` banner)."""
    m = re.search(r"Stream #\S+.*?Video: (\w+)[^,]*, (\w+)[^,]*(?:\([^)]*\))?, (\d+)x(\d+)", text)
    if not m:
        raise MediaError(f"{path}: not a readable video (ffmpeg: {_last_line(text.encode())})")
    fps = re.search(r"([\d.]+) fps", text)
    fmt = re.search(r"^Input #0, (\S+), from", text, re.M)
    return {
        "format": fmt.group(1) if fmt else "",  # the demuxer(s) that read it, e.g. "matroska,webm"
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


def count_frames(path: str | os.PathLike) -> int:
    """Number of video frames in ``path``, counted from its packets without decoding."""
    cmd = [FFMPEG, "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "null",
           "-progress", "pipe:1", "-"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True)
    counts = re.findall(rb"^frame=(\d+)", proc.stdout, re.M)
    if proc.returncode != 0 or not counts:
        raise MediaError(f"{path}: not a readable video (ffmpeg: {_last_line(proc.stderr)})")
    return int(counts[-1])


def read_frames(path: str | os.PathLike, indices: list[int]) -> np.ndarray:
    """Frames ``indices`` (0-based, in presentation order) of ``path`` as (len(indices), H, W, 3)
    uint8 sRGB, in the order asked (repeats allowed). ffmpeg's ``select`` filter passes only those
    frames on, so memory holds the picked frames, never the clip."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such video file")
    wanted = sorted(set(int(i) for i in indices))
    info = probe(path)
    w, h = info["width"], info["height"]
    if not wanted:
        return np.empty((0, h, w, 3), np.uint8)
    select = "+".join(f"eq(n\\,{i})" for i in wanted)
    cmd = [FFMPEG, "-loglevel", "error", "-nostdin", "-i", str(path), "-vf", f"select={select}",
           "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True)
    got = len(proc.stdout) // (h * w * 3)
    if proc.returncode != 0 or got != len(wanted):
        raise MediaError(f"{path}: frames {wanted[0]}..{wanted[-1]} not all decodable "
                         f"(got {got} of {len(wanted)}; ffmpeg: {_last_line(proc.stderr) or 'fewer frames'})")
    frames = np.frombuffer(proc.stdout, dtype=np.uint8).reshape(-1, h, w, 3)
    position = {i: k for k, i in enumerate(wanted)}
    return frames[[position[int(i)] for i in indices]]


@dataclass
class Footage:
    """What :func:`iter_frames` delivers from a video file, and what it had to adapt.

    ``width``/``height``: the delivered frames (upright, cropped to even when asked); ``fps`` and
    ``rate`` (the same as an exact ffmpeg rational, e.g. ``30000/1001``): the constant rate they
    come at; ``frames``: video packets in the file; ``notes``: one line per adaptation (rotation
    applied, variable frame rate resampled, 10-bit reduced to 8, audio dropped, odd size cropped).
    """

    width: int
    height: int
    fps: float
    rate: str
    frames: int
    crop: bool
    notes: list[str]


def footage(path: str | os.PathLike, even: bool = False) -> Footage:
    """Read the facts of a user's video without decoding it: one ffmpeg pass over the packets
    (their timestamps give the true frame rate and reveal a variable one).

    ``even``: frames will be cropped to even width and height (dropping the last column/row), as a
    4:2:0 encode of the result needs. Raises :class:`UserError` for a missing file and
    :class:`MediaError` for one ffmpeg cannot read.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such video file")
    cmd = [FFMPEG, "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    info = _stream_facts(proc.stderr, path)
    tb = re.search(r"^#tb 0: (\d+)/(\d+)", proc.stdout, re.M)
    pts = sorted(int(m) for m in re.findall(r"^0,\s*-?\d+,\s*(-?\d+),", proc.stdout, re.M))
    if proc.returncode != 0 or not tb or not pts:
        raise MediaError(f"{path}: not a readable video (ffmpeg: {_last_line(proc.stderr.encode())})")
    notes = []
    ticks = Fraction(int(tb[1]), int(tb[2]))  # seconds per timestamp unit
    steps = np.diff(pts)
    steps = steps[steps > 0]
    # timestamps are rounded to the time base (12 fps in 1/1000 s: steps of 83 and 84), so steps
    # that differ by a unit and a half percent are one constant rate
    if len(steps) and steps.max() - steps.min() > 1 + 0.005 * np.median(steps):
        # variable: the shortest common step (give or take a unit), so no frame is lost
        step = float(np.percentile(steps, 5))
        rate = _common_rate(1 / float((step + 1) * ticks), 1 / float((step - 1) * ticks) if step > 1 else np.inf)
        lo, hi = (1 / float(v * ticks) for v in (steps.max(), steps.min()))
        notes.append(f"variable frame rate ({lo:.3g}..{hi:.3g} fps): resampled by timestamps to a constant "
                     f"{float(rate):.4g} fps (frames repeated where the gaps are longer)")  # fmt: skip
    elif info["fps"]:  # ffmpeg's average rate, printed to 2 decimals
        rate = _common_rate(info["fps"] - 0.006, info["fps"] + 0.006)
    elif len(steps):
        span = float((pts[-1] - pts[0]) * ticks)
        rate = _common_rate(len(steps) / (span + float(ticks)), len(steps) / max(span - float(ticks), 1e-9))
    else:
        rate = Fraction(25)
    w, h = info["width"], info["height"]
    rot = re.search(r"rotation of (-?[\d.]+) degrees", proc.stderr, re.I)
    if rot and float(rot[1]) % 360:
        angle = float(rot[1]) % 360
        if angle % 90:
            notes.append(f"rotation metadata {angle:g}°: not a multiple of 90°, unsupported; frames left as stored")
        else:
            w, h = (h, w) if angle % 180 else (w, h)
            notes.append(f"rotation metadata {angle:g}°: applied (frames delivered upright, {w}x{h})")
    if re.search(r"p(9|10|12|14|16)(le|be)?\b", info["pix_fmt"]):
        notes.append(f"{info['pix_fmt']} input: decoded to 8 bits per channel (the camera model works on 8-bit sRGB)")
    if re.search(r"Stream #\S+.*?Audio:", proc.stderr):
        notes.append("audio track dropped (the output holds video only)")
    crop = even and bool(w % 2 or h % 2)
    if crop:
        notes.append(f"odd size {w}x{h}: cropped to {w - w % 2}x{h - h % 2} (last column/row dropped) for 4:2:0")
        w, h = w - w % 2, h - h % 2
    return Footage(w, h, float(rate), f"{rate.numerator}/{rate.denominator}", len(pts), crop, notes)


def _common_rate(lo: float, hi: float) -> Fraction:
    """The frame rate in ``lo`` .. ``hi`` fps as an exact rational: an integer if one lies there,
    else an NTSC rate (24000/1001, 30000/1001, ...), else the middle as a fraction (denominator
    up to 1001)."""
    mid = (lo + hi) / 2 if np.isfinite(hi) else lo
    for candidates in ([Fraction(n) for n in range(math.ceil(lo), math.floor(hi) + 1)] if np.isfinite(hi) else [],
                       [Fraction(n * 1000, 1001) for n in range(math.ceil(lo), math.ceil(lo * 1.001) + 2)]):  # fmt: skip
        inside = [c for c in candidates if lo <= c <= hi]
        if inside:
            return min(inside, key=lambda c: abs(float(c) - mid))
    return Fraction(mid).limit_denominator(1001)


def iter_frames(
    path: str | os.PathLike, chunk: int = 16, even: bool = False, info: Footage | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Decode ``path`` as a stream: yields ``(indices, times, frames)`` per chunk of up to ``chunk``
    frames, indices (t,) int64 from 0, times (t,) float64 seconds, frames (t, H, W, 3) uint8 sRGB.

    One ffmpeg process decodes the first video stream at the constant rate of :func:`footage`
    (``info``, probed if not given): rotation metadata applied, a variable frame rate resampled by
    the timestamps, ``even`` crops odd sizes, other streams (audio) ignored. Memory: one chunk
    (the caller owns each yielded array). A decode error raises :class:`MediaError` after the
    frames that decoded; closing the generator early stops ffmpeg.
    """
    info = info or footage(path, even)
    w, h = info.width, info.height
    cmd = [FFMPEG, "-loglevel", "error", "-nostdin", "-i", str(path), "-map", "0:v:0", "-fps_mode", "cfr",
           "-r", info.rate, *(["-vf", f"crop={w}:{h}:0:0"] if info.crop else []),
           "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]  # fmt: skip
    frame_bytes = w * h * 3
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        try:
            done = 0
            while True:
                buf = np.empty((chunk, h, w, 3), np.uint8)
                view, got = memoryview(buf).cast("B"), 0
                while got < len(view) and (n := proc.stdout.readinto(view[got:])):
                    got += n
                t = got // frame_bytes
                if t:
                    idx = np.arange(done, done + t)
                    yield idx, idx / info.fps, buf[:t]
                    done += t
                if got < len(view):
                    break
            code = proc.wait()
            err.seek(0)
            message = err.read()
            if code != 0 or message.strip() or got % frame_bytes or not done:
                raise MediaError(f"{path}: truncated or corrupt video (ffmpeg: {_last_line(message) or 'no whole frames'})")
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            proc.wait()


def _last_line(stderr: bytes, first: bool = False) -> str:
    """ffmpeg's last non-empty message line (a reader's conclusion), or with ``first`` its first (an
    encoder's cause: "width not divisible by 2"; the last is a generic "Nothing was written"),
    without the ``[component @ 0x...]`` prefixes."""
    lines = [ln.strip() for ln in stderr.decode(errors="replace").splitlines() if ln.strip()]
    return re.sub(r"^(\[[^\]]*\]\s*)+", "", lines[0 if first else -1]) if lines else ""


def sha256_file(path: str | os.PathLike) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

