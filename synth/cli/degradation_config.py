"""The ``degradation`` config group shared by ``synth degrade`` and ``synth generate``.

``degradation=[lens,low_light]`` selects degradations (any number, any order: they run in
physical order); ``degradation.low_light.ev=-4`` or ``degradation.low_light.severity=3`` sets
their parameters. A value set explicitly wins over the severity level's table value (the record
keeps the level and the values used). A listed degradation whose values leave the video unchanged
(``defocus`` with its default ``f_number=0``, ``rain`` with ``density=0``) is refused: give it a
severity or a parameter. Each option's schema is the degradation's params dataclass from
``degradations.REGISTRY``, so Hydra type-checks values and lists the allowed keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from synth.errors import MediaError, UserError
from synth.tracks import warp_tracks
from synth.video import EncodeSettings, VideoWriter

if TYPE_CHECKING:
    from synth import degradations
    from synth.dataset import StagedSample

DEFAULTS: list[Any] = [{"degradation": []}]
# For `synth degrade`, whose whole job is degrading: `degradation=` must be given (an explicit
# `degradation=[]` only re-encodes); a missing one is a one-line error, not a silent copy.
REQUIRED: list[Any] = [{"degradation": "???"}]


def register_degradations(cs: Any, overrides: list[str] | None = None) -> None:
    """Store one ``degradation/<name>`` option per registered degradation in Hydra's ConfigStore;
    given the command's ``overrides``, only if one of them names ``degradation`` (the camera
    model imports torch: about a second and hundreds of MB that a plain render does not need)."""
    if overrides is not None and not any(o.lstrip("+~").startswith("degradation") for o in overrides):
        return
    from synth import degradations

    for name, spec in degradations.REGISTRY.items():
        cs.store(group="degradation", name=name, node=spec.params, package=f"degradation.{name}")


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
    codec = pipe.codec if pipe is not None else None
    if codec is None:
        if out is not None and settings.lossless and out.suffix != ".mkv":
            raise UserError(f"{key}={out}: video.lossless=true writes FFV1 in Matroska; name it *.mkv")
        return ("ffv1" if settings.lossless else settings.codec), (out.suffix if out is not None else settings.extension)
    from synth.degradations.codec import CODECS, CONTAINERS

    name, default = CODECS[codec["codec"]][3], CODECS[codec["codec"]][1]
    allowed = [suffix for suffix, held in CONTAINERS.items() if codec["codec"] in held]
    if out is not None and out.suffix not in allowed:
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
