"""Model names -> adapters. The registry names each adapter by module path and imports it only
when built (lmms-eval style): adapters import :mod:`synth.models.base`, nothing imports them back,
and ``transformers`` or OpenCV load only for the model that needs them.

Built-ins: ``oracle``, ``single_frame``, ``blind``, ``random`` (:mod:`synth.models.reference`),
``flow`` (:mod:`synth.models.flow`, OpenCV dense optical flow). External models: ``openai`` (any
OpenAI-compatible server), ``hf`` (a local transformers video-LLM) and ``command`` (a subprocess
speaking JSON lines).
"""

from __future__ import annotations

import importlib

from synth.errors import UserError
from synth.models.base import Model, OracleFor
from synth.models.configs import MODEL_CONFIGS  # noqa: F401  (the names users give, with their configs)

# kind -> "module:Class", imported on use
ADAPTERS = {
    "oracle": "synth.models.reference:OracleModel",
    "random": "synth.models.reference:RandomModel",
    "blind": "synth.models.reference:BlindModel",
    "single_frame": "synth.models.reference:SingleFrameModel",
    "flow": "synth.models.flow:FlowModel",
    "openai": "synth.models.openai:OpenAIModel",
    "hf": "synth.models.hf:HFModel",
    "command": "synth.models.base:CommandModel",
}
# The adapters that run the task families' solvers (``oracle_for``).
SOLVER_KINDS = ("oracle", "single_frame")


def build_model(cfg, oracle_for: OracleFor | None = None) -> Model:
    """The adapter for ``cfg`` (one of :data:`MODEL_CONFIGS`)."""
    if cfg.kind not in ADAPTERS:
        raise UserError(f"model={cfg.kind}: allowed {', '.join(MODEL_CONFIGS)}")
    module, name = ADAPTERS[cfg.kind].split(":")
    adapter = getattr(importlib.import_module(module), name)
    return adapter(cfg, oracle_for) if cfg.kind in SOLVER_KINDS else adapter(cfg)
