"""The task API: what a family builds (:class:`Sample`) for which clip format (:class:`ClipFormat`).

A task family is a subclass of :class:`Task` registered in :mod:`scenes`. ``build`` turns one
sample's :class:`synth.sampling.ParamDraw` and its balanced answer into a :class:`Sample` (a
scene plus the multiple-choice item). It never touches GL. ``oracle`` answers from decoded
frames and the question text only (never ``params`` or ``tracks``), proving the answer is
visible in the video (pixel helpers in :mod:`scenes.oracle`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from synth.sampling import ParamDraw
from synth.scene import Scene


@dataclass(frozen=True)
class ClipFormat:
    """The clip format a task builds for (tasks size motions to fit the duration)."""

    fps: float
    num_frames: int
    width: int
    height: int

    @property
    def duration_s(self) -> float:
        return self.num_frames / self.fps

    @property
    def times(self) -> np.ndarray:
        """Frame times in seconds (T,)."""
        return np.arange(self.num_frames) / self.fps


@dataclass
class Sample:
    """One test item. ``answer_index`` indexes ``options``. ``extra`` is task-specific ground
    truth that goes into the manifest record under ``extra`` (e.g. camera poses)."""

    scene: Scene
    question: str
    options: list[str]
    answer_index: int
    extra: dict[str, Any] = field(default_factory=dict)


# What a family declares in its class statement (see :meth:`Task.__init_subclass__`).
DECLARATIONS = ("name", "description", "answer_set", "order_free_ceiling", "reversal", "reversal_note")

# ``reversal`` of a family whose answers all survive time reversal.
SAME = "same"


class Task:
    """Base class of task families.

    A family declares its ``name``, ``description`` (one line), ``answer_set`` (whose members are
    balanced across a dataset), ``order_free_ceiling`` and ``reversal`` in its class statement and
    implements :meth:`build` and :meth:`oracle`::

        class Rotation(OneObject, name="rotation", answer_set=OPTIONS, reversal=REVERSED,
                       description="did the object spin clockwise or counter-clockwise"):
    """

    name: ClassVar[str]
    description: ClassVar[str]

    answer_set: ClassVar[tuple[str, ...]] = ()

    # How much of the answer order-free summaries of the clip (per-pixel mean or max over time,
    # which a time-reversed clip shares) may legitimately tell, as the accuracy a solver blind to
    # frame order can reach: 1.0 when the answer survives time reversal (what moved, how far),
    # 0.5 when reversal maps each answer to another (left <-> right) but keeps its pair (the
    # axis), None (the default) when nothing order-free may tell it (chance). ``synth audit``
    # holds the family's mean / max probes to it; each family states why in its docstring.
    order_free_ceiling: ClassVar[float | None] = None

    # How time reversal maps the answers (``synth eval eval.controls=[reversed]``): each answer to
    # the answer of the same clip played backwards ({"left": "right", ...}), :data:`SAME` when
    # every answer survives reversal, or None when reversal leaves the answer undefined. An answer
    # set (of some fixed params) not covered by the mapping is undefined too; ``reversal_note``
    # says why, and the time controls skip those samples with that reason. Tested against the
    # family's oracle on reversed clips (tests/scenes/test_time_reversal.py).
    reversal: ClassVar[dict[str, str] | str | None] = None
    reversal_note: ClassVar[str] = "the family declares no reversal mapping"

    def __init_subclass__(cls, **declared: Any) -> None:
        """Set the declarations (:data:`DECLARATIONS`) given as class keywords; a base class of
        several families declares what they share (``answer_set``, ``order_free_ceiling``)."""
        unknown = sorted(set(declared) - set(DECLARATIONS))
        if unknown:
            raise TypeError(f"{cls.__name__}: unknown task declarations {unknown}; allowed {', '.join(DECLARATIONS)}")
        super().__init_subclass__()
        for key, value in declared.items():
            setattr(cls, key, tuple(value) if key == "answer_set" else value)

    def answers(self, fixed: dict[str, Any]) -> list[str]:
        """The answer set balanced over the dataset: ``answer_set``, unless a family's depends on
        fixed params (8 directions, 3 objects) and overrides this."""
        return list(self.answer_set)

    def reversed_answers(self, fixed: dict[str, Any]) -> dict[str, str] | None:
        """Each answer of :meth:`answers` (``fixed``) mapped to its answer on the time-reversed
        clip, or None when :attr:`reversal` does not define it for that answer set."""
        answers = self.answers(fixed)
        if self.reversal == SAME:
            return {a: a for a in answers}
        if not isinstance(self.reversal, dict) or not set(answers) <= set(self.reversal):
            return None
        return {a: self.reversal[a] for a in answers}

    def build(self, draw: ParamDraw, answer: str, clip: ClipFormat) -> Sample:
        """The sample whose correct option is ``answer`` (unless a fixed/swept param overrides it:
        record the answer-deciding param with ``draw.given(key, answer)`` and use its result)."""
        raise NotImplementedError

    @staticmethod
    def oracle(frames: np.ndarray, question: str, options: list[str]) -> int:
        """Index of the option the pixels support. ``frames``: uint8 (T, H, W, 3) sRGB."""
        raise NotImplementedError


def answer_param(draw: ParamDraw, key: str, answer: str, allowed: list[str]) -> str:
    """The parameter that decides the answer: ``answer``, unless the user fixed or swept ``key``."""
    value = draw.given(key, answer)
    if value not in allowed:
        raise ValueError(f"{key}={value}: allowed {', '.join(allowed)}")
    return value
