"""The ``degradation`` config group (Hydra) shared by ``synth degrade`` and ``synth generate``.

``degradation=[lens,low_light]`` selects degradations (any number, any order: they run in
physical order); ``degradation.low_light.ev=-4`` or ``degradation.low_light.severity=3`` sets
their parameters. A value set explicitly wins over the severity level's table value (the record
keeps the level and the values used). A listed degradation whose values leave the video unchanged
(``defocus`` with its default ``f_number=0``, ``rain`` with ``density=0``) is refused: give it a
severity or a parameter. Each option's schema is the degradation's params dataclass from
``degradations.REGISTRY``, so Hydra type-checks values and lists the allowed keys. The composed
group becomes a pipeline in :func:`synth.delivery.build_pipeline`.
"""

from __future__ import annotations

from typing import Any

DEFAULTS: list[Any] = [{"degradation": []}]
# For `synth degrade`, whose whole job is degrading: `degradation=` must be given (an explicit
# `degradation=[]` only re-encodes); a missing one is a one-line error, not a silent copy.
REQUIRED: list[Any] = [{"degradation": "???"}]


def register_degradations(cs: Any, overrides: list[str] | None = None) -> None:
    """Store one ``degradation/<name>`` option per registered degradation in Hydra's ConfigStore;
    given the command's ``overrides``, only if one of them names ``degradation`` (the camera
    model imports torch: about a second and hundreds of MB that a plain render does not need)."""
    if overrides is not None and not any(o.lstrip("+~").startswith("degradation") for o in overrides):
        return
    from synth import degradations

    for name, spec in degradations.REGISTRY.items():
        cs.store(group="degradation", name=name, node=spec.params, package=f"degradation.{name}")
