"""synth probe data=DIR model=hf model.path=MODEL [probe.KEY=...] [eval.frames=8] [eval.limit=0]

Looks inside a local transformers video-LLM: one forward pass per sample reads every stage
(vision encoder output, projector output, each LLM layer at the last prompt position and its mean
over the visual tokens) and the model's own answer; linear probes then measure, per stage, how
well the target can be read (see docs/probes.md). Writes DIR/evals/<model>/probe/: probe.json,
probe.md, probe.png and the feature cache (features/, float16, resumable).

  probe.target=answer       answer, or a params key (motion.direction, object.rotation_deg, ...)
  probe.stages=auto         auto, or a list: probe.stages=[vision,projector,llm.0,llm.8]
  probe.modules=[]          extra modules to read by name: probe.modules=[model.visual.blocks.0]
  probe.pool=[4,2,2]        vision/projector tokens pooled to (time bins, rows, columns)
  probe.folds=5             outer folds grouped on the records' group (stratified for classes)
  probe.seed=0              the control task's label permutation
  eval.frames=8             frames sampled per clip (as synth eval)
  eval.limit=0              first N samples only (0 = all)

model.*: as synth eval model=hf (model.path, model.device, model.dtype, model.device_map=auto).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from omegaconf import MISSING

from synth.dataset import open_dataset
from synth.errors import UserError
from synth.io import folder_lock
from synth.models.configs import HFModelConfig
from synth.probe.run import ProbeSettings, gap_text, run_probe, verbal_text

DEFAULTS = [{"model": "hf"}]


@dataclass
class EvalKeys:
    frames: int = 8
    limit: int = 0


@dataclass
class Config:
    data: str = ""
    model: Any = MISSING
    probe: ProbeSettings = field(default_factory=lambda: ProbeSettings(frames="${eval.frames}", limit="${eval.limit}"))
    eval: EvalKeys = field(default_factory=EvalKeys)


def register(cs, overrides: list[str]) -> None:
    cs.store(group="model", name="hf", node=HFModelConfig)


def run_on_model(data: str, model_cfg: Any, settings: Any, bench: Callable, results: str) -> tuple[Path, str, dict]:
    """Open dataset ``data``, build the model, run ``bench(root, records, model, settings, log)``
    holding the lock of its results folder ``evals/<model>/<results>`` (a second run of the same
    bench and model is refused, naming the holder) and close the model; returns (root, the
    model's label, the bench's document). synth probe and synth patch run this way."""
    if not data:
        raise UserError("data: required, the dataset directory (data=DIR)")
    root = Path(data)
    records, _ = open_dataset(root)
    settings.stages = settings.stages if isinstance(settings.stages, list) else str(settings.stages)
    settings.validate()
    from synth.models.registry import build_model

    model = build_model(model_cfg)
    try:
        with folder_lock(root / "evals" / model.label / results, key="model.label"):
            return root, model.label, bench(root, records, model, settings, log=lambda m: print(m, file=sys.stderr))
    finally:
        model.close()


def run(cfg: Config) -> None:
    root, label, doc = run_on_model(cfg.data, cfg.model, cfg.probe, run_probe, "probe")
    best = max(doc["stages"], key=lambda s: s["score"])
    print(f"{label}: {doc['target']} {doc['metric']} best {best['score']:.3f} at {best['name']}, "
          f"{verbal_text(doc)}, chance {doc['chance']:.3f}; binding gap {gap_text(doc)} -> {root / 'evals' / label / 'probe'}")  # fmt: skip
