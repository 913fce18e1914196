"""Delivery: the camera model's config made a pipeline, the clip writer, codec choice, and
degrading a video file or a whole dataset.

A frame comes from the renderer (``synth.generate``) or a decoder (:func:`degrade_file`,
:func:`degrade_dataset`), goes through the camera model (``synth.degradations.Pipeline.stream``)
and ends in a :class:`ClipWriter`, chunk by chunk, so memory does not grow with a clip's length.
Ground truth and tracks follow the pixels: lens warps move them, frame drops re-index them.

Importing this module does not import torch (a plain render does not need it).
"""

from __future__ import annotations

import os
import sys
import zlib
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from synth.errors import MediaError, UserError
from synth.tracks import warp_tracks
from synth.video import EncodeSettings, Footage, VideoWriter, footage, iter_frames

if TYPE_CHECKING:
    import torch

    from synth import degradations
    from synth.dataset import StagedSample

# Frames per chunk of `synth degrade`: about this many pixels (1080p and larger: 1 frame, 720p: 2,
# 640x360: 9), at most MAX_CHUNK frames. The full camera model peaks near 30 frame-sized float
# buffers per frame of a chunk (one-off warp grids included), so 1080p stays under 2 GB one frame
# at a time.
CHUNK_PIXELS, MAX_CHUNK = 1 << 21, 32
# Bytes one pixel of a chunk costs in the camera model (those ~30 float RGB buffers) and what its
# decoded 8-bit frame adds: checked against memory_budget() before a frame is decoded or drawn.
CAMERA_BYTES_PER_PIXEL, DECODED_BYTES_PER_PIXEL = 30 * 3 * 4, 3
# The memory a run may plan on, in GiB: unset, half of this machine's (or container's) memory.
BUDGET_ENV = "SYNTH_MEMORY_GB"


def memory_budget() -> int:
    """Bytes one synth command may plan to hold: ``$SYNTH_MEMORY_GB`` GiB if set, else half of the
    physical memory, or of the container's (cgroup) limit when that is lower."""
    value = os.environ.get(BUDGET_ENV)
    if value:
        try:
            gib = float(value)
        except ValueError:
            gib = -1.0
        if not 0 < gib < float("inf"):
            raise UserError(f"{BUDGET_ENV}={value}: allowed a number of GiB > 0")
        return int(gib * (1 << 30))
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        total = min(total, int(limit)) if limit.isdigit() else total
    except OSError:
        pass
    return total // 2


def count_text(k: int) -> str:
    """An integer for a message; one of more than 15 digits as its power of ten (``10^20``)."""
    return str(k) if abs(k) < 10**15 else f"{'-' if k < 0 else ''}10^{len(str(abs(k))) - 1}"


def gigabytes(n: int) -> str:
    """``n`` bytes for a message: ``1.5 GB`` (GiB, 2 significant digits; any size of int)."""
    gib = n >> 30
    return f"{n / (1 << 30):.2g} GB" if gib < 10**15 else f"{count_text(gib)} GB"


def check_frame_budget(width: int, height: int, key: str) -> None:
    """Refuse, before decoding, a ``width`` x ``height`` video whose chunks (one frame at least)
    would not fit :func:`memory_budget` on their way through the camera model."""
    need = chunk_frames(width, height) * width * height * (CAMERA_BYTES_PER_PIXEL + DECODED_BYTES_PER_PIXEL)
    budget = memory_budget()
    if need > budget:
        raise UserError(f"{key}: {width}x{height} frames need ~{gigabytes(need)} in the camera model, over the memory "
                        f"budget of {gigabytes(budget)}; scale it down first (ffmpeg -i IN -vf scale=iw/2:-2 OUT) or "
                        f"raise {BUDGET_ENV} on a machine with more memory")  # fmt: skip


def build_pipeline(selected: dict[str, Any] | None, key: str = "degradation") -> degradations.Pipeline:
    """A validated :class:`degradations.Pipeline` from the composed ``cfg.degradation``
    (name -> params dataclass or dict, in the order given). A bad value becomes a
    :class:`UserError` naming the full key, e.g. ``degradation.compression.crf=99: allowed 0..51 for h264``;
    so does a stage that would leave the video unchanged."""
    from synth import degradations

    stages = []
    for name, params in (selected or {}).items():
        if name not in degradations.REGISTRY:
            raise UserError(f"{key}: unknown degradation '{name}'; allowed: {', '.join(degradations.REGISTRY)}")
        spec = degradations.REGISTRY[name]
        try:
            made = spec.make(params)
        except degradations.ParamError as exc:
            raise UserError(f"{key}.{name}.{exc}") from None
        idle = spec.does_nothing(made.resolved())
        if idle:
            values = ", ".join(f"{k}={v}" for k, v in idle.items())
            raise UserError(
                f"{key}.{name}: {values} leaves the video unchanged; "
                f"set {key}.{name}.severity=1..{len(spec.severity)} or another {key}.{name}.{next(iter(idle))}"
            )
        stages.append((name, made))
    return degradations.Pipeline(stages)


def degrade_tracks(pipe: degradations.Pipeline, tracks: list[dict], width: int, height: int, fps: float, seed: int) -> list[dict]:
    """``tracks`` of a clean clip as they appear after ``pipe`` ran with ``seed``: re-indexed by
    its frame drops and moved by its lens geometry (tracks put pixel centres at +0.5, the
    degradations at integers)."""
    num_frames = len(tracks[0]["center_px"]) if tracks else 0
    frames, _ = pipe.frame_indices(num_frames, fps, seed)
    return warp_tracks(tracks, frames, lambda xy: pipe.map_points(xy - 0.5, width, height) + 0.5)


def delivery(
    pipe: degradations.Pipeline | None, settings: EncodeSettings, out: Path | None = None, key: str = "out"
) -> tuple[str, str]:
    """(codec as ffmpeg names it, container suffix) of the clip a pipeline delivers. When the
    pipeline ends in ``compression`` the clip is that encoder's own stream (one encode, nothing
    added): .mp4 for h264/hevc/av1, .webm for vp9, .mkv for jpeg; else ``settings`` (``video.*``)
    apply. ``out``: a file name whose suffix must be able to hold the codec (None: the default)."""
    from synth.degradations.codec import CODECS, CONTAINERS

    codec = pipe.codec if pipe is not None else None
    if codec is None:
        if out is not None and settings.lossless and out.suffix.lower() != ".mkv":
            raise UserError(f"{key}={out}: video.lossless=true writes FFV1 in Matroska; name it *.mkv")
        held = [suffix for suffix, codecs in CONTAINERS.items() if settings.codec in codecs]
        if out is not None and not settings.lossless and out.suffix.lower() not in held:
            raise UserError(f"{key}={out}: a {settings.codec} clip (video.codec) goes in {', '.join(held)}; "
                            f"name it *{settings.extension}")  # fmt: skip
        return ("ffv1" if settings.lossless else settings.codec), (out.suffix if out is not None else settings.extension)

    name, default = CODECS[codec["codec"]][3], CODECS[codec["codec"]][1]
    allowed = [suffix for suffix, held in CONTAINERS.items() if codec["codec"] in held]
    if out is not None and out.suffix.lower() not in allowed:
        raise UserError(f"{key}={out}: a {codec['codec']} stream goes in {', '.join(allowed)} (compression delivers "
                        f"the codec's own stream); name it *{default}")  # fmt: skip
    return name, (out.suffix if out is not None else default)


def staged_paths(
    root: Path, sample_id: str, pipe: degradations.Pipeline | None, settings: EncodeSettings, gt: bool
) -> StagedSample:
    """:meth:`StagedSample.paths` with the clip named for the format :func:`delivery` gives it."""
    from synth.dataset import StagedSample

    suffix = delivery(pipe, settings)[1]
    return StagedSample(root / "clips" / f".tmp-{sample_id}{suffix}", f"clips/{sample_id}{suffix}",
                        root / "gt" / f".tmp-{sample_id}" if gt else None)  # fmt: skip


class ClipWriter:
    """Writes a clip as its degraded chunks arrive: with the codec stage's own encoder when the
    pipeline ends in ``compression`` (the file is that bitstream: run the pipeline with
    ``codec=False``), else with a :class:`VideoWriter` and ``settings``. Used like VideoWriter
    (``with ClipWriter(...) as out: out.write(chunk)``; an exception removes the partial file);
    ``frames`` counts the frames written, ``format`` is the record's ``codec``/``container``."""

    def __init__(self, path: Path, fps: float, pipe: degradations.Pipeline | None, settings: EncodeSettings):
        self.path, self.fps, self.settings = Path(path), fps, settings
        self.codec = pipe.codec if pipe is not None else None
        name, suffix = delivery(pipe, settings)
        self.format = {"codec": name, "container": self.path.suffix.lstrip(".") or suffix.lstrip(".")}
        self.frames = 0
        self._out: Any = None

    def __enter__(self) -> ClipWriter:
        return self

    def write(self, frames: np.ndarray) -> None:
        """Append (t, H, W, 3) uint8 frames."""
        if self._out is None:
            _, h, w, _ = frames.shape
            if self.codec is not None:
                from synth.degradations.codec import Encoder

                self._out = Encoder(self.path, w, h, self.fps, **self.codec)
            else:
                self.settings.check_size(w, h, "video")
                self._out = VideoWriter(self.path, self.fps, self.settings)
        self._out.write(frames)
        self.frames += len(frames)

    def close(self) -> None:
        if self._out is None:
            raise MediaError(f"{self.path}: no frames to encode")
        try:
            self._out.close()
        except RuntimeError as exc:
            self.path.unlink(missing_ok=True)
            raise MediaError(f"{self.path}: {exc}") from None

    def abort(self) -> None:
        if self._out is not None:
            self._out.abort()
        self.path.unlink(missing_ok=True)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def resolve_device(name: str) -> torch.device:
    """The torch device named ``auto`` (a GPU if present), ``cpu``, ``cuda`` or ``cuda:N``."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device={name}: no CUDA device here; allowed: auto, cpu")
    try:
        return torch.device(name)
    except RuntimeError:
        raise UserError(f"device={name}: allowed auto, cpu, cuda, cuda:N") from None


def degrade_seed(seed: int, clip_name: str) -> int:
    """Noise seed of degrading one clip (a crc32 of the run ``seed`` and the clip's sample id or
    file name): it depends on those, not on the processing order."""
    return zlib.crc32(f"{seed}:{clip_name}".encode())


def chunk_frames(width: int, height: int) -> int:
    """Frames per decoded chunk of a ``width`` x ``height`` clip (see :data:`CHUNK_PIXELS`)."""
    return max(1, min(MAX_CHUNK, CHUNK_PIXELS // (width * height)))


def degrade_clip(src: Path, sink: ClipWriter, pipe: degradations.Pipeline, info: Footage, fps: float, seed: int,
                 device: torch.device, gt: dict | None = None, gt_out: Any = None, bar: Any = None) -> None:  # fmt: skip
    """Stream one clip through ``pipe`` into ``sink``; ground truth ``gt`` (memory maps, one row
    per input frame) feeds depth to the stages that need it and, warped like the picture, goes
    to ``gt_out`` (a :class:`GroundTruthWriter` that re-indexes it by the frame drops). ``bar``:
    a tqdm bar advanced by the frames decoded (None: none)."""
    import torch

    from synth import degradations

    def chunks():
        for idx, _, frames in iter_frames(src, chunk_frames(info.width, info.height), info=info):
            part = None
            if gt is not None:
                part = {k: np.array(v[idx[0] : idx[-1] + 1, : info.height, : info.width]) for k, v in gt.items()}
                if gt_out is not None:
                    gt_out.write(int(idx[0]), pipe.warp_labels(part, fill={"depth": np.inf}))
            depth = torch.from_numpy(part["depth"]) if part is not None and pipe.needs_depth else None
            if bar is not None:
                bar.update(len(frames))
            yield frames, depth

    with sink:
        for frames in degradations.degrade_stream(chunks(), pipe, fps=fps, seed=seed, device=device, codec=False):
            sink.write(frames)


def progress_bar(total: int, desc: str, unit: str):
    """A tqdm bar on stderr when it is a terminal; disabled (silent) otherwise."""
    from tqdm import tqdm

    # mininterval=0: a frame or clip is slow enough to redraw on every step, and a run shorter than
    # tqdm's default 0.1 s would otherwise never show its count
    return tqdm(total=total, desc=desc, unit=unit, disable=not sys.stderr.isatty(), leave=False, mininterval=0)


def degrade_file(src: Path, out: Path, pipe: degradations.Pipeline, settings: EncodeSettings, seed: int,
                 device: torch.device, overwrite: bool = False) -> Path:  # fmt: skip
    """Degrade the video file ``src`` into ``out`` (written beside it as a temporary file, then
    moved); ``settings`` apply unless ``pipe`` ends in ``compression``. Prints a ``note:`` line
    for each change made to a user's footage on decoding."""
    codec, _ = delivery(pipe, settings, out)
    if out.is_dir():
        raise UserError(f"out={out}: is a directory; a video file src= is degraded into a file out=")
    if out.exists() and not overwrite:
        raise UserError(f"out={out}: exists; pass overwrite=true to replace it")
    info = footage(src, even=codec != "ffv1")
    check_frame_budget(info.width, info.height, f"src={src}")
    for note in info.notes:
        print(f"note: src={src}: {note}")
    if pipe.codec is not None and settings != EncodeSettings():
        print(f"note: video.* unused: {out} holds the {pipe.codec['codec']} stream of compression")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".tmp-{out.name}")
    sink = ClipWriter(tmp, pipe.output_fps(info.fps), pipe, settings)
    try:
        with progress_bar(info.frames, f"degrade {src.name}", "frame") as bar:
            degrade_clip(src, sink, pipe, info, info.fps, degrade_seed(seed, src.name), device, bar=bar)
        os.replace(tmp, out)
    except RuntimeError as exc:
        raise UserError(f"out={out}: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return out


def degrade_dataset(src: Path, out: Path, pipe: degradations.Pipeline, settings: EncodeSettings, seed: int,
                    device: torch.device, overwrite: bool = False) -> Path:  # fmt: skip
    """Write the dataset ``src`` degraded by ``pipe`` as a new dataset ``out`` (resumable): every
    record keeps its id, group and answer and gains the stages applied; tracks and ground truth
    follow the pixels."""
    from synth.dataset import DatasetWriter, GroundTruthWriter, open_dataset, read_gt

    records, card = open_dataset(src, key="src")
    codec = delivery(pipe, settings)[0]
    applied = pipe.applied()
    identity = {
        "source": str(src.resolve()),
        "source_fingerprint": card.get("fingerprint"),
        "degradation": applied,
        "seed": seed,
        "video": asdict(settings),
    }
    with DatasetWriter(out, identity, overwrite=overwrite) as writer, progress_bar(len(records), f"degrade {src.name}", "clip") as bar:
        for record in records:
            bar.update()
            if writer.done(record["id"]):
                continue
            clip = src / record["video"]
            info = footage(clip, even=codec != "ffv1")
            check_frame_budget(info.width, info.height, f"src={clip}")
            clip_seed = degrade_seed(seed, record["id"])
            fps = record["fps"]
            shown, out_fps = pipe.frame_indices(record["num_frames"], fps, clip_seed)
            gt = read_gt(src, record["id"])
            staged = staged_paths(writer.root, record["id"], pipe, settings, gt is not None)
            gt_out = GroundTruthWriter(staged.gt_tmp, info.height, info.width, len(shown), shown) if gt is not None else None
            sink = ClipWriter(staged.clip_tmp, out_fps, pipe, settings)
            try:
                degrade_clip(clip, sink, pipe, info, fps, clip_seed, device, gt, gt_out)
            finally:
                if gt_out is not None:
                    gt_out.close()
            new = {k: v for k, v in record.items() if k not in ("video", "sha256")}
            new.update(
                fps=out_fps,
                num_frames=sink.frames,
                width=info.width,
                height=info.height,
                **sink.format,
                degradations=list(record.get("degradations") or []) + applied,
                tracks=degrade_tracks(pipe, record["tracks"], record["width"], record["height"], fps, clip_seed),
            )
            writer.commit(new, staged)
        writer.finish({"source": str(src), "renderer": card.get("renderer")})
    return out
