"""synth list: what can be named on the command line.

  synth list tasks | degradations | models

One entry per line, the name first. ``models`` names the command that takes each model:
``synth eval`` (video-QA models) or ``synth world`` (world models).
"""

from __future__ import annotations

from dataclasses import dataclass

from synth.errors import UserError

KINDS = ("tasks", "degradations", "models")
POSITIONAL = "what"


@dataclass
class Config:
    what: str = "tasks"


def run(cfg: Config) -> None:
    if cfg.what == "tasks":
        from synth import scenes

        width = max(map(len, scenes.TASKS))
        for name, task in scenes.TASKS.items():
            print(f"{name:<{width}}  {task.description}")
    elif cfg.what == "degradations":
        from synth.degradations import REGISTRY

        width = max(map(len, REGISTRY))
        for name, spec in REGISTRY.items():
            print(f"{name:<{width}}  {spec.stage}")
    elif cfg.what == "models":
        from synth.models.registry import MODEL_CONFIGS
        from synth.world.models import WORLD_MODEL_CONFIGS

        names = [(name, "synth eval") for name in MODEL_CONFIGS] + [(name, "synth world") for name in WORLD_MODEL_CONFIGS]
        width = max(len(name) for name, _ in names)
        for name, command in names:
            print(f"{name:<{width}}  {command}")
    else:
        raise UserError(f"what={cfg.what}: allowed {', '.join(KINDS)}")
