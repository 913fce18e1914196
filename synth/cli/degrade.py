"""synth degrade: apply a camera-degradation pipeline to a video file or a dataset.

  synth degrade src=clip.mp4 out=clip_lowlight.mp4 degradation=[lens,low_light,compression] \\
      degradation.lens.k1=-0.2 degradation.low_light.ev=-4 \\
      degradation.compression.codec=hevc degradation.compression.crf=38 [video.lossless=true]
  synth degrade src=data/dir out=data/dir_fog degradation=[fog] degradation.fog.severity=3

`degradation=` is required (`degradation=[]` only re-encodes; a listed stage that would change
nothing is refused). The input (8-bit sRGB) is unprocessed to linear light, degraded in physical order and written
with `video.*` settings; `video.lossless=true` writes FFV1 (.mkv) so nothing unrequested is added.
On a dataset directory it writes a new dataset: every record keeps its id, group and answer, and
its `degradations` list gains the stages applied, so clean and degraded results pair by id.
Ground-truth arrays are not copied (geometric stages would misalign them); `tracks` stay those of
the clean clip. `seed` makes the random stages reproducible; `device=auto` uses a GPU if present.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict

import numpy as np
import torch

from synth import degradations
from synth.cli import degradation_config
from synth.errors import UserError
from synth.video import EncodeSettings, read_clip, write_clip

DEFAULTS = degradation_config.REQUIRED


def register(cs: Any, overrides: list[str]) -> None:
    degradation_config.register_degradations(cs)


@dataclass
class Config:
    src: str = ""
    out: str = ""
    seed: int = 0
    overwrite: bool = False
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    video: EncodeSettings = field(default_factory=EncodeSettings)
    degradation: Dict[str, Any] = field(default_factory=dict)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device={name}: no CUDA device here; allowed: auto, cpu")
    try:
        return torch.device(name)
    except RuntimeError:
        raise UserError(f"device={name}: allowed auto, cpu, cuda, cuda:N") from None


def sample_seed(seed: int, sample_id: str) -> int:
    """Noise seed of one clip: depends on the run seed and the clip id, not on the processing order."""
    return zlib.crc32(f"{seed}:{sample_id}".encode())


def degrade_file(cfg: Config, pipe: degradations.Pipeline, device: torch.device) -> Path:
    src, out = Path(cfg.src), Path(cfg.out)
    if cfg.video.lossless and out.suffix != ".mkv":
        raise UserError(f"out={out}: video.lossless=true writes FFV1 in Matroska; name it *.mkv")
    if out.exists() and not cfg.overwrite:
        raise UserError(f"out={out}: exists; pass overwrite=true to replace it")
    frames, fps = read_clip(src)
    result = degradations.degrade_video(frames, pipe, fps=fps, seed=sample_seed(cfg.seed, src.name), device=device)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".tmp-{out.name}")
    try:
        write_clip(result, tmp, pipe.output_fps(fps), cfg.video)
        os.replace(tmp, out)
    except RuntimeError as exc:
        raise UserError(f"out={out}: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _depth(root: Path, sample_id: str, device: torch.device) -> torch.Tensor | None:
    from synth.dataset import read_gt

    gt = read_gt(root, sample_id)
    if gt is None or "depth" not in gt:
        return None
    return torch.from_numpy(np.asarray(gt["depth"], dtype=np.float32)).to(device)


def degrade_dataset(cfg: Config, pipe: degradations.Pipeline, device: torch.device) -> Path:
    from synth.dataset import DatasetWriter, open_dataset

    src, out = Path(cfg.src), Path(cfg.out)
    if src.resolve() == out.resolve():
        raise UserError(f"out={out}: must differ from src (a new dataset is written)")
    records, card = open_dataset(src, key="src")
    applied = pipe.applied()
    identity = {
        "source": str(src.resolve()),
        "source_fingerprint": card.get("fingerprint"),
        "degradation": applied,
        "seed": cfg.seed,
        "video": asdict(cfg.video),
    }
    writer = DatasetWriter(out, identity, overwrite=cfg.overwrite)
    for record in records:
        if writer.done(record["id"]):
            continue
        frames, fps = read_clip(src / record["video"])
        depth = _depth(src, record["id"], device) if pipe.needs_depth else None
        seed = sample_seed(cfg.seed, record["id"])
        video = degradations.unprocess(frames, device)
        result = pipe.apply(video, fps=fps, seed=seed, depth=depth)
        new = {k: v for k, v in record.items() if k not in ("video", "sha256")}
        new.update(
            fps=pipe.output_fps(record["fps"]),
            num_frames=int(len(result)),
            degradations=list(record.get("degradations") or []) + applied,
            tracks=degradation_config.degrade_tracks(pipe, record["tracks"], record["width"], record["height"], fps, seed),
        )
        writer.add(new, result, cfg.video)
    writer.finish({"source": str(src), "renderer": card.get("renderer")})
    return out


def run(cfg: Config) -> None:
    if not cfg.src:
        raise UserError("src: required, a video file or dataset directory (src=PATH)")
    if not cfg.out:
        raise UserError("out: required, the output file or dataset directory (out=PATH)")
    src = Path(cfg.src)
    if not src.exists():
        raise UserError(f"src={src}: no such file or directory")
    pipe = degradation_config.build_pipeline(cfg.degradation)
    cfg.video.validate("video")
    device = resolve_device(cfg.device)
    out = degrade_dataset(cfg, pipe, device) if src.is_dir() else degrade_file(cfg, pipe, device)
    names = ", ".join(a["name"] for a in pipe.applied()) or "nothing"
    print(f"wrote {out} ({names})")
