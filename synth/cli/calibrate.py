"""synth calibrate: PSNR and SSIM of every degradation x severity on a reference set.

  synth calibrate [data=DIR] [out=docs] [clips=4] [frames=16] [seed=0]

Without `data=` a small reference set is rendered with `synth generate` (task=direction,
lossless, with depth). Writes `<out>/degradations.md` (the table, levels with SSIM >= 0.95
marked "hard to see", and a reference of every degradation) and one gallery PNG per
degradation under `<out>/img/degradations/`.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from synth.calibrate import load_reference, measure, render_reference, write_calibration
from synth.delivery import resolve_device
from synth.errors import UserError
from synth.io import folder_lock, refuse_alias


@dataclass
class Config:
    data: str = ""
    out: str = "docs"
    clips: int = 4  # reference clips used
    frames: int = 16  # frames per clip used
    seed: int = 0
    device: str = "auto"


def run(cfg: Config) -> None:
    if cfg.clips < 1 or cfg.frames < 2:
        raise UserError(f"clips={cfg.clips}, frames={cfg.frames}: need clips >= 1 and frames >= 2")
    if cfg.data:
        refuse_alias(cfg.out, [("data", cfg.data)])
    device = resolve_device(cfg.device)
    if cfg.data and not Path(cfg.data).is_dir():
        raise UserError(f"data={cfg.data}: no such dataset directory")
    with folder_lock(Path(cfg.out)):  # held from the start: a bad out= fails before the measuring
        with tempfile.TemporaryDirectory(prefix="synth-calibrate-") as tmp:
            # a rendered reference set is gone after the with: not printed
            root = Path(cfg.data) if cfg.data else render_reference(Path(tmp), cfg.clips, cfg.frames, cfg.seed)
            refs = load_reference(root, cfg.clips, cfg.frames, device)
        results = measure(refs, cfg.seed, device)
        source = f"data={cfg.data}" if cfg.data else "rendered by `synth generate task=direction`, with depth"
        path = write_calibration(results, refs, Path(cfg.out), source)
    print(f"wrote {path} and {len(results)} gallery images")
