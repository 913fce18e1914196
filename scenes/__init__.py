"""Task families: each turns seeded parameters into a scene, a question, options, the answer
and ground truth. Families are discovered from the modules of this package (any
:class:`scenes.task.Task` subclass that declares a ``name``); ``FAMILY_ORDER`` fixes how they are listed.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Callable

import numpy as np

from synth.scenes.task import Task

FAMILY_ORDER = (
    "direction", "rotation", "speed_compare", "approach", "depth_order",
    "count_moving", "order", "revisit", "ego_motion", "trajectory",
)  # fmt: skip


def _discover() -> dict[str, Task]:
    found: dict[str, Task] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, Task) and obj is not Task and "name" in vars(obj):
                found[obj.name] = obj()
    rank = {name: i for i, name in enumerate(FAMILY_ORDER)}
    return dict(sorted(found.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))


TASKS: dict[str, Task] = _discover()


def get(name: str) -> Task:
    if name not in TASKS:
        raise KeyError(name)
    return TASKS[name]


def oracle_for(task: str) -> Callable[[np.ndarray, str, list[str]], int]:
    """The pixel-only solver of a family: ``(frames uint8 (T,H,W,3), question, options) -> index``."""
    return get(task).oracle
