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


_TASKS: dict[str, Task] | None = None


def _tasks() -> dict[str, Task]:
    """Name -> task in ``FAMILY_ORDER``, discovered on first use: importing a light module of this
    package (``synth.scenes.params``, which every command's config checks use) then does not
    import every family and scipy with it (0.42 s a command)."""
    global _TASKS
    if _TASKS is None:
        _TASKS = _discover()
    return _TASKS


def __getattr__(name: str):  # PEP 562: ``TASKS`` is computed on first access
    if name == "TASKS":
        return _tasks()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get(name: str) -> Task:
    tasks = _tasks()
    if name not in tasks:
        raise KeyError(name)
    return tasks[name]


def oracle_for(task: str) -> Callable[[np.ndarray, str, list[str]], int]:
    """The pixel-only solver of a family: ``(frames uint8 (T,H,W,3), question, options) -> index``."""
    return get(task).oracle
