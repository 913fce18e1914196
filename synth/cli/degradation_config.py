"""The ``degradation`` config group shared by ``synth degrade`` and ``synth generate``.

``degradation=[lens,low_light]`` selects degradations (any number, any order: they run in
physical order); ``degradation.low_light.ev=-4`` or ``degradation.low_light.severity=3`` sets
their parameters. A value set explicitly wins over the severity level's table value (the record
keeps the level and the values used). A listed degradation whose values leave the video unchanged
(``defocus`` with its default ``f_number=0``, ``rain`` with ``density=0``) is refused: give it a
severity or a parameter. Each option's schema is the degradation's params dataclass from
``degradations.REGISTRY``, so Hydra type-checks values and lists the allowed keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synth.errors import UserError
from synth.tracks import warp_tracks

if TYPE_CHECKING:
    from synth import degradations

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


def build_pipeline(selected: dict[str, Any] | None, key: str = "degradation") -> degradations.Pipeline:
    """A validated :class:`degradations.Pipeline` from the composed ``cfg.degradation``
    (name -> params dataclass or dict, in the order given). A bad value becomes a
    :class:`UserError` naming the full key, e.g. ``degradation.compression.crf=99: allowed 0..51 for h264``;
    so does a stage that would leave the video unchanged."""
    from synth import degradations

    stages = []
    for name, params in (selected or {}).items():
        if name not in degradations.REGISTRY:
            raise UserError(f"{key}: unknown degradation '{name}'; allowed: {', '.join(degradations.REGISTRY)}")
        spec = degradations.REGISTRY[name]
        try:
            made = spec.make(params)
        except degradations.ParamError as exc:
            raise UserError(f"{key}.{name}.{exc}") from None
        idle = spec.does_nothing(made.resolved())
        if idle:
            values = ", ".join(f"{k}={v}" for k, v in idle.items())
            raise UserError(
                f"{key}.{name}: {values} leaves the video unchanged; "
                f"set {key}.{name}.severity=1..{len(spec.severity)} or another {key}.{name}.{next(iter(idle))}"
            )
        stages.append((name, made))
    return degradations.Pipeline(stages)


def degrade_tracks(pipe: degradations.Pipeline, tracks: list[dict], width: int, height: int, fps: float, seed: int) -> list[dict]:
    """``tracks`` of a clean clip as they appear after ``pipe`` ran with ``seed``: re-indexed by
    its frame drops and moved by its lens geometry (tracks put pixel centres at +0.5, the
    degradations at integers)."""
    num_frames = len(tracks[0]["center_px"]) if tracks else 0
    frames, _ = pipe.frame_indices(num_frames, fps, seed)
    return warp_tracks(tracks, frames, lambda xy: pipe.map_points(xy - 0.5, width, height) + 0.5)
