"""synth patch data=DIR model=hf model.path=MODEL [patch.KEY=...] [eval.frames=8] [eval.limit=0]

Causal tracing across paired clips: for every ordered pair (A, B) of siblings in one group whose
answers differ, runs A's prompt with one stage's activations taken from B's clip and measures
how far the answer moves from A's option to B's (normalised logit difference, flip rate, 95 %
intervals over groups), plus the endpoints whole input = 1, nothing = 0, same-answer sibling
≈ 0 (see docs/probes.md). Writes DIR/evals/<model>/patch/: patch.json, patch.md, patch.png.

  patch.stages=auto          auto, or a list: patch.stages=[vision,projector,llm.0,llm.8]
  patch.modules=[]           extra modules whose whole output is patched: patch.modules=[model.visual.blocks.0]
  patch.min_clean_diff=0.01  pairs whose clean runs differ by less (logits) are counted, not used
  patch.seed=0               the bootstrap's seed
  eval.frames=8              frames sampled per clip (as synth eval)
  eval.limit=0               first N samples only (0 = all)

model.*: as synth eval model=hf (model.path, model.device, model.dtype, model.device_map=auto).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

from synth.cli.probe import DEFAULTS, EvalKeys, register, run_on_model  # noqa: F401  (same model group and eval keys)
from synth.patch.run import PatchSettings, run_patch


@dataclass
class Config:
    data: str = ""
    model: Any = MISSING
    patch: PatchSettings = field(default_factory=lambda: PatchSettings(frames="${eval.frames}", limit="${eval.limit}"))
    eval: EvalKeys = field(default_factory=EvalKeys)


def run(cfg: Config) -> None:
    root, label, doc = run_on_model(cfg.data, cfg.model, cfg.patch, run_patch, "patch")
    ends = ", ".join(f"{k} {v['effect']:.2f}" if v["effect"] is not None else f"{k} -" for k, v in doc["endpoints"].items())
    used = [s for s in doc["stages"] if s["effect"] is not None and s["effect"] > 0.5]
    first = f"first stage past 0.5: {used[0]['name']}" if used else "no stage past 0.5"
    print(f"{label}: {doc['n_pairs']} pairs ({doc['n_too_small']} too small), {first}; endpoints {ends} "
          f"-> {root / 'evals' / label / 'patch'}")  # fmt: skip
