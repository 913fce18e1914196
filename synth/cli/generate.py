"""synth generate: render a dataset of test clips from a task family.

  synth generate task=direction n=48 seed=7 out=data/dir render.width=128 render.height=128 \\
      clip.fps=15 clip.seconds=2 [camera.shutter_deg=180] [gt=true] [video.lossless=true]
  synth generate task=direction n=50 sweep.variable=object.rotation_deg sweep.values=[0,5,10,15]
  synth generate -m object.rotation_deg=0,5,10 out=data/rot      (one dataset per value)
  synth generate ... jobs=2 | shard.index=0 shard.count=4 (then synth merge)
  synth generate ... degradation=[lens,low_light] degradation.lens.k1=-0.2 degradation.low_light.ev=-4

Any parameter key a task draws (object.*, motion.*, light.*, background.*, camera.*, ...)
can be fixed (key=value), swept (sweep.variable=key) or multirun (-m key=a,b).
Rerunning the same command resumes an interrupted run; a different config aimed at an
existing dataset is refused unless overwrite=true.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from synth.cli import presets
from synth.generate import NAMESPACES, Config, SweepConfig, default_out, fixed_params, generate, validate

DEFAULTS = presets.DEFAULTS
register = presets.register
# what synth.cli reads of a command (its protocol), besides run()
__all__ = ["Config", "DEFAULTS", "default_out", "multirun_job", "register", "run", "validate"]


def multirun_job(cfg: Any, swept_keys: list[str]) -> Any:
    """One job of ``synth generate -m object.rotation_deg=0,5,10``: when exactly one task parameter
    is swept (and no ``sweep.variable`` is set), its value becomes the dataset's sweep
    (``sweep.variable=object.rotation_deg sweep.values=[5]``), so every record carries
    ``sweep: {variable, value}`` and reports over the datasets draw the sweep curve."""
    params = [k for k in swept_keys if k.split(".", 1)[0] in NAMESPACES]
    if len(params) != 1 or cfg.sweep.variable is not None:
        return cfg
    return dataclasses.replace(cfg, sweep=SweepConfig(variable=params[0], values=[fixed_params(cfg)[params[0]]]))


def run(cfg: Config) -> None:
    root = generate(cfg)
    print(f"wrote {root}")
