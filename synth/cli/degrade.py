"""synth degrade: apply a camera-degradation pipeline to a video file or a dataset.

  synth degrade src=clip.mp4 out=clip_lowlight.mp4 degradation=[lens,low_light,compression] \\
      degradation.lens.k1=-0.2 degradation.low_light.ev=-4 \\
      degradation.compression.codec=hevc degradation.compression.crf=38
  synth degrade src=data/dir out=data/dir_fog degradation=[fog] degradation.fog.severity=3

`degradation=` is required (`degradation=[]` only re-encodes; a listed stage that would change
nothing is refused). The input is decoded as a stream of chunks (memory does not grow with its
length), unprocessed to linear light, degraded in physical order and encoded as it comes. With
`compression` in the list (it always runs last) the file is that encoder's own stream, one
encode: .mp4 for h264/hevc/av1, .webm for vp9, .mkv for jpeg (an `out=` suffix that cannot hold
the codec is refused) and `video.*` does not apply. Otherwise the file is written with `video.*`
(an `out=` suffix that cannot hold `video.codec`, or none, is refused up front);
`video.lossless=true` writes FFV1 (.mkv) so nothing unrequested is added.
A user's footage: the rotation flag is applied, a variable frame rate is resampled by its
timestamps to a constant rate, 10-bit input is decoded to 8 bits, audio is dropped, odd sizes are
cropped to even (last column/row) for 4:2:0 output; each such change is printed as a note.
On a dataset directory it writes a new dataset: every record keeps its id, group and answer, its
`degradations` list gains the stages applied, `codec`/`container` name the clip's format, and
tracks and ground truth follow the pixels (lens/fisheye warps, frame drops), so clean and
degraded results pair by id. `seed` makes the random stages reproducible; `device=auto` uses a
GPU if present.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict

from synth.cli import degradation_config
from synth.delivery import build_pipeline, degrade_dataset, degrade_file, resolve_device
from synth.errors import UserError
from synth.io import refuse_alias
from synth.scenes.params import NON_NEGATIVE, ranged
from synth.video import EncodeSettings

DEFAULTS = degradation_config.REQUIRED


def register(cs: Any, overrides: list[str]) -> None:
    degradation_config.register_degradations(cs)


@dataclass
class Config:
    src: str = ""
    out: str = ""
    seed: int = ranged(NON_NEGATIVE, 0)
    overwrite: bool = False
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    video: EncodeSettings = field(default_factory=EncodeSettings)
    degradation: Dict[str, Any] = field(default_factory=dict)


def run(cfg: Config) -> None:
    if not cfg.src:
        raise UserError("src: required, a video file or dataset directory (src=PATH)")
    if not cfg.out:
        raise UserError("out: required, the output file or dataset directory (out=PATH)")
    src = Path(cfg.src)
    if not src.exists():
        raise UserError(f"src={src}: no such file or directory")
    refuse_alias(cfg.out, [("src", src)])
    pipe = build_pipeline(cfg.degradation)
    cfg.video.validate("video")
    device = resolve_device(cfg.device)
    degrade = degrade_dataset if src.is_dir() else degrade_file
    out = degrade(src, Path(cfg.out), pipe, cfg.video, cfg.seed, device, cfg.overwrite)
    names = ", ".join(a["name"] for a in pipe.applied()) or "nothing"
    print(f"wrote {out} ({names})")
