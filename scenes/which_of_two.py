"""What the "which of two objects" families (``speed_compare``, ``depth_order``) share.

Both stage ``object`` in the upper half of the view and ``second`` in the lower half, each in
its own lane (:func:`synth.scenes.staging.lane_midpoint`), in different findable colours. The
options name the two objects in alphabetical order (a rule unrelated to the answer); the answer
is the position (``first`` / ``second``) of the object that did it (moved faster, is closer),
recorded under the family's answer key. Both answers show as how far each object's image
travels, so one oracle serves both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from synth.sampling import ParamDraw
from synth.scene import Camera, Node
from synth.scenes.oracle import most_travelled
from synth.scenes.staging import stage, texture
from synth.scenes.task import SAME, Sample, Task, answer_param
from synth.scenes.wording import OPTION_POSITIONS, name_options

LANE_PREFIXES = ("object", "second")  # parameter prefixes, upper lane first


@dataclass(frozen=True)
class Lane:
    """One of the two objects: where its parameters live, which half of the view it keeps to,
    its look and whether the answer names it."""

    index: int  # 0 for ``object``, 1 for ``second`` (the order of ``two_objects``' looks)
    prefix: str  # ``object`` or ``second``
    upper: bool  # the upper half of the view (else the lower one)
    color: str
    shape: str
    answered: bool  # the object the answer names (the faster one, the closer one)


class WhichOfTwo(Task, answer_set=OPTION_POSITIONS, order_free_ceiling=1.0, reversal=SAME):
    """Base of the families asking which of two objects did something; answers
    ``first`` / ``second`` survive time reversal (how far each moved does)."""

    @staticmethod
    def ask(draw: ParamDraw, cam: Camera, looks: tuple[tuple[str, str], ...], answer_key: str, answer: str,
            question: str, lane_object: Callable[[Lane], Node]) -> Sample:  # fmt: skip
        """The sample asking ``"{question}: {option} or {option}?"`` about the objects of ``looks``
        (``(color, shape)`` of ``object`` and ``second``): draws ``answer_key`` (the answer
        position), then per lane the object ``lane_object`` places and its ``object.texture``,
        then the stage around them."""
        position = answer_param(draw, answer_key, answer, OPTION_POSITIONS)
        names, options, answer_name = name_options(looks, position)
        nodes = []
        for i, prefix in enumerate(LANE_PREFIXES):
            color, shape = looks[i]
            node = lane_object(Lane(i, prefix, i == 0, color, shape, names[i] == answer_name))
            node.material.texture = texture(draw)
            nodes.append(node)
        scene = stage(draw, cam, nodes, {c for c, _ in looks})
        return Sample(scene, f"{question}: {options[0]} or {options[1]}?", options, options.index(answer_name))

    @staticmethod
    def oracle(frames: np.ndarray, question: str, options: list[str]) -> int:
        """The option whose colour travelled the most pixels (centroids, first vs last third)."""
        return most_travelled(frames, options)
