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
the codec is refused) and `video.*` does not apply. Otherwise the file is written with `video.*`;
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

import os
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict

import numpy as np
import torch

from synth import degradations
from synth.cli import degradation_config
from synth.cli.degradation_config import ClipWriter
from synth.errors import UserError
from synth.video import EncodeSettings, Footage, footage, iter_frames

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


# Frames per chunk: about this many pixels (1080p and larger: 1 frame, 720p: 2, 640x360: 9),
# at most MAX_CHUNK frames. The full camera model peaks near 30 frame-sized float buffers per
# frame of a chunk (one-off warp grids included), so 1080p stays under 2 GB one frame at a time.
CHUNK_PIXELS, MAX_CHUNK = 1 << 21, 32


def chunk_frames(width: int, height: int) -> int:
    return max(1, min(MAX_CHUNK, CHUNK_PIXELS // (width * height)))


def _degrade_clip(src: Path, sink: ClipWriter, pipe: degradations.Pipeline, info: Footage, fps: float, seed: int,
                  device: torch.device, gt: dict | None = None, gt_out: Any = None) -> None:  # fmt: skip
    """Stream one clip through ``pipe`` into ``sink``; ground truth ``gt`` (memory maps, one row
    per input frame) feeds depth to the stages that need it and, warped like the picture, goes
    to ``gt_out`` (a :class:`GroundTruthWriter` that re-indexes it by the frame drops)."""

    def chunks():
        for idx, _, frames in iter_frames(src, chunk_frames(info.width, info.height), info=info):
            part = None
            if gt is not None:
                part = {k: np.array(v[idx[0] : idx[-1] + 1, : info.height, : info.width]) for k, v in gt.items()}
                if gt_out is not None:
                    gt_out.write(int(idx[0]), pipe.warp_labels(part, fill={"depth": np.inf}))
            depth = torch.from_numpy(part["depth"]) if part is not None and pipe.needs_depth else None
            yield frames, depth

    with sink:
        for frames in degradations.degrade_stream(chunks(), pipe, fps=fps, seed=seed, device=device, codec=False):
            sink.write(frames)


def degrade_file(cfg: Config, pipe: degradations.Pipeline, device: torch.device) -> Path:
    src, out = Path(cfg.src), Path(cfg.out)
    codec, _ = degradation_config.delivery(pipe, cfg.video, out)
    if out.exists() and not cfg.overwrite:
        raise UserError(f"out={out}: exists; pass overwrite=true to replace it")
    info = footage(src, even=codec != "ffv1")
    for note in info.notes:
        print(f"note: src={src}: {note}")
    if pipe.codec is not None and cfg.video != EncodeSettings():
        print(f"note: video.* unused: {out} holds the {pipe.codec['codec']} stream of compression")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".tmp-{out.name}")
    sink = degradation_config.ClipWriter(tmp, pipe.output_fps(info.fps), pipe, cfg.video)
    try:
        _degrade_clip(src, sink, pipe, info, info.fps, sample_seed(cfg.seed, src.name), device)
        os.replace(tmp, out)
    except RuntimeError as exc:
        raise UserError(f"out={out}: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return out


def degrade_dataset(cfg: Config, pipe: degradations.Pipeline, device: torch.device) -> Path:
    from synth.dataset import DatasetWriter, GroundTruthWriter, open_dataset, read_gt

    src, out = Path(cfg.src), Path(cfg.out)
    if src.resolve() == out.resolve():
        raise UserError(f"out={out}: must differ from src (a new dataset is written)")
    records, card = open_dataset(src, key="src")
    codec = degradation_config.delivery(pipe, cfg.video)[0]
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
        clip = src / record["video"]
        info = footage(clip, even=codec != "ffv1")
        seed = sample_seed(cfg.seed, record["id"])
        fps = record["fps"]
        shown, out_fps = pipe.frame_indices(record["num_frames"], fps, seed)
        gt = read_gt(src, record["id"])
        staged = degradation_config.staged_paths(out, record["id"], pipe, cfg.video, gt is not None)
        gt_out = GroundTruthWriter(staged.gt_tmp, info.height, info.width, len(shown), shown) if gt is not None else None
        sink = degradation_config.ClipWriter(staged.clip_tmp, out_fps, pipe, cfg.video)
        try:
            _degrade_clip(clip, sink, pipe, info, fps, seed, device, gt, gt_out)
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
            tracks=degradation_config.degrade_tracks(pipe, record["tracks"], record["width"], record["height"], fps, seed),
        )
        writer.commit(new, staged)
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
