"""Presets of ``synth generate``: Hydra config groups that set many keys at once.

``setting`` (one of ``p_syn``, ``p_real``, ``c_syn``, ``c_real``): the four settings of
MoDirect-SynBench (Which Way Did It Move?, arXiv 2605.22823): the ``direction`` task, 4-way and
balanced, with **P**\\ rimitives or **C**\\ ut-outs (``object.sprite_dir=${content.cutouts}``) on
**Syn**\\ thetic backgrounds or **Real** photos (``background.image_dir=${content.photos}``).
A multirun makes the whole suite, one dataset per setting under ``out``::

    synth generate -m setting=p_syn,p_real,c_syn,c_real content.photos=DIR content.cutouts=DIR \\
        n=6000 out=data/synbench          # -> data/synbench/setting=p_syn, ...

Keys given on the command line win over a setting's (e.g. ``motion.directions=8``). The folders
are ``content.*`` (:class:`synth.generate.ContentConfig`).
"""

from __future__ import annotations

from typing import Any

from synth.cli import degradation_config

_PHOTOS = {"background": {"image_dir": "${synth_required:${content.photos},content.photos}"}}
_CUTOUTS = {"object": {"sprite_dir": "${synth_required:${content.cutouts},content.cutouts}"}}
SETTINGS: dict[str, dict[str, Any]] = {
    "p_syn": {},
    "p_real": _PHOTOS,
    "c_syn": _CUTOUTS,
    "c_real": {**_PHOTOS, **_CUTOUTS},
}
DEFAULTS: list[Any] = [*degradation_config.DEFAULTS, {"setting": None}]


def _required(value: Any, key: str) -> Any:
    """``value``, or for an unset folder a stand-in that the folder's check reports in one line
    (``background.image_dir=<content.photos not set>: not a directory``): never silently none."""
    return f"<{key} not set>" if value in (None, "") else value


def register(cs: Any, overrides: list[str] | None = None) -> None:
    """Store the ``setting/<name>`` options (and the ``degradation`` group)."""
    from omegaconf import OmegaConf

    degradation_config.register_degradations(cs, overrides)
    if not OmegaConf.has_resolver("synth_required"):
        OmegaConf.register_new_resolver("synth_required", _required)
    for name, node in SETTINGS.items():
        cs.store(group="setting", name=name, node={"task": "direction", "motion": {"directions": 4}, **node}, package="_global_")
