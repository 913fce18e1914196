"""synth world data=DIR model=oracle|sliding_window|pose_retrieval|full_memory|frozen|noise|command|python [model.KEY=...]

Gives a world model the first frames and the action stream of every `world` clip (made with
`synth generate task=world gt=true ...`), caches the video it generates in
DIR/evals/<model>/generated/, scores every revisit (a frame whose camera pose an earlier frame
had) and writes DIR/evals/<model>/world_revisits.jsonl and world.json. Interrupted runs resume
from the cached videos. Conventions and the command protocol: docs/world-models.md.

  bin_frames=1           frames per time-away bin in world.json's by_time_away
  limit=0                first N world clips only (0 = all)

model=command:        model.cmd (one JSON request per line on stdin, replies {"video": PATH}), model.timeout_s
model=python:         model.entry=package.module:function (request dict -> (T, H, W, 3) uint8 array)
model=sliding_window: model.window (frames remembered), model.forget=color|place|absent (how objects away
                      longer come back)
model=pose_retrieval: model.window (active frames), model.retrieve (stored frames retrieved by camera
                      pose at every frame), model.forget; world.json's frames_held gives window and store
model=full_memory:    every earlier frame kept (the memory cost the others are compared with)
model=noise:          model.seed.  Every model: model.label (the directory name under evals/).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import MISSING

from synth.dataset import open_dataset
from synth.errors import UserError
from synth.io import folder_lock
from synth.scenes.params import NON_NEGATIVE, Range, ranged
from synth.world.models import WORLD_MODEL_CONFIGS, build_world_model
from synth.world.runner import run_world

DEFAULTS = [{"model": MISSING}]  # model= is required: no silent default


@dataclass
class Config:
    data: str = ""
    model: Any = MISSING
    bin_frames: int = ranged(Range(1), 1)
    limit: int = ranged(NON_NEGATIVE, 0)


def register(cs, overrides: list[str]) -> None:
    for name, node in WORLD_MODEL_CONFIGS.items():
        cs.store(group="model", name=name, node=node)


def run(cfg: Config) -> None:
    if not cfg.data:
        raise UserError("data: required, the dataset directory (data=DIR)")
    root = Path(cfg.data)
    records, _ = open_dataset(root)
    model = build_world_model(cfg.model)
    with folder_lock(root / "evals" / model.label, key="model.label"):  # one run per model's results
        summary = run_world(root, records, model, cfg.bin_frames, cfg.limit, log=lambda m: print(m, file=sys.stderr))

    def fmt(value: float | None, digits: int) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    print(
        f"{model.label}: fidelity PSNR {fmt(summary['fidelity_psnr'], 2)} SSIM {fmt(summary['fidelity_ssim'], 3)}, "
        f"self-consistency PSNR {fmt(summary['self_consistency_psnr'], 2)} SSIM {fmt(summary['self_consistency_ssim'], 3)}, "
        f"object dE00 {fmt(summary['object_delta_e'], 2)} presence {fmt(summary['object_presence'], 3)} "
        f"n={summary['n_revisits']} -> {root / 'evals' / model.label}"
    )
