"""synth eval data=DIR model=oracle|flow|random|blind|single_frame|openai|hf|command [model.KEY=...] [eval.KEY=...]

Asks the model every sample and writes DIR/evals/<model>/predictions.jsonl, metrics.json,
report.md with PNG plots and report.html (every run mode the predictions hold: a circular run
keeps the plain run's section). Interrupted runs resume from the cached predictions.

  eval.frames=8          frames sampled uniformly per clip (centres of equal segments)
  eval.circular=false    ask every rotation of the options; right only if all are
  eval.limit=0           first N samples only (0 = all)
  eval.variant=mcq       mcq, none_distractor, none_answer, open, or a list: eval.variant=[mcq,open]
  eval.scoring=generate  generate (parse the reply) or likelihood (highest log-probability option; model=hf)
  eval.controls=[]       time controls: reversed, shuffled or both (eval.controls=[reversed,shuffled]):
                         each sample asked again on its frames reordered (DIR/evals/<model>/controls.jsonl)

model=openai: model.name, model.base_url, model.video_url, model.concurrency, model.api_key_env
              (the key is read from that environment variable, OPENAI_API_KEY by default)
model=hf:     model.path (a save_pretrained directory), model.device, model.dtype (float32, bfloat16,
              float16), model.device_map=auto, model.batch_size, model.max_new_tokens
model=command: model.cmd (reads one JSON request per line on stdin, answers {"response": ...})
model=flow:   model.min_px, model.camera_share (OpenCV dense optical flow; docs/evaluation.md)
model=random: model.seed.  Every model: model.label (the directory name under evals/).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import MISSING

from synth.dataset import open_dataset
from synth.errors import UserError
from synth.io import folder_lock
from synth.eval.controls import control_summary
from synth.eval.runner import EvalSettings, evaluate
from synth.models.registry import MODEL_CONFIGS, build_model
from synth.report.document import write_report
from synth.report.runs import load_evaluations

DEFAULTS = [{"model": MISSING}]  # model= is required: no silent default


@dataclass
class EvalKeys:
    frames: int = 8
    circular: bool = False
    limit: int = 0
    variant: Any = "mcq"  # one name or a list of names
    scoring: str = "generate"
    controls: Any = field(default_factory=list)  # one name or a list of names


@dataclass
class Config:
    data: str = ""
    model: Any = MISSING
    eval: EvalKeys = field(default_factory=EvalKeys)


def register(cs, overrides: list[str]) -> None:
    for name, node in MODEL_CONFIGS.items():
        cs.store(group="model", name=name, node=node)


def _oracle_for(kind: str):
    try:
        from synth.scenes import oracle_for
    except ImportError as exc:
        raise UserError(f"model={kind}: cannot load the task families' solvers (scenes.oracle_for): {exc}") from None
    return oracle_for


def run(cfg: Config) -> None:
    if not cfg.data:
        raise UserError("data: required, the dataset directory (data=DIR)")
    root = Path(cfg.data)
    records, _ = open_dataset(root)
    variants = cfg.eval.variant if isinstance(cfg.eval.variant, list) else [cfg.eval.variant]
    controls = cfg.eval.controls if isinstance(cfg.eval.controls, list) else [cfg.eval.controls]
    settings = EvalSettings(frames=cfg.eval.frames, circular=cfg.eval.circular, limit=cfg.eval.limit,
                            variants=[str(v) for v in variants], scoring=cfg.eval.scoring,
                            controls=[str(c) for c in controls])  # fmt: skip
    settings.validate()
    oracle_for = _oracle_for(cfg.model.kind) if cfg.model.kind in ("oracle", "single_frame") else None
    model = build_model(cfg.model, oracle_for)
    with folder_lock(root / "evals" / model.label, key="model.label"):  # one run per model's results
        metrics = evaluate(root, records, model, settings, log=lambda m: print(m, file=sys.stderr))
        # every run mode this model's predictions hold (a circular run keeps the plain one's section)
        runs = [ev for ev in load_evaluations(root) if ev.model == model.label]
        write_report(runs, root / "evals" / model.label, f"{model.label} on {root.name}")
    lo, hi = metrics["ci95"]
    print(
        f"{model.label}: accuracy {metrics['accuracy']:.3f} [{lo:.3f}, {hi:.3f}] n={metrics['n']} "
        f"chance {metrics['chance']:.3f} invalid {metrics['invalid_rate']:.3f} -> {root / 'evals' / model.label}"
    )
    for line in control_summary(metrics.get("controls")):
        print(f"{model.label}: {line}")
