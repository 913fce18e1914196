"""What the one-object families (``approach``, ``rotation``, ``trajectory``) share.

Each draws the standard camera, then its one object in a colour an oracle can find
(:func:`synth.scenes.staging.findable_object`: ``object.shape``, ``object.color``,
``object.size``, ``object.rotation_deg``), then its own parameters, among them the one deciding
the answer; the object wears the user's ``object.texture`` and stands on the standard stage. The
question names the object (``Did the red cube spin clockwise or counter-clockwise?``) and the
options are the answer set in its fixed order.
"""

from __future__ import annotations

from typing import Any, ClassVar

from synth.sampling import ParamDraw
from synth.scene import Camera, Node
from synth.scenes.palette import SHAPES
from synth.scenes.staging import FindableObject, camera, findable_object, solid_object, stage, texture
from synth.scenes.task import ClipFormat, Sample, Task
from synth.scenes.wording import describe


class OneObject(Task):
    """Base of the families asking about one findable object; a family sets ``shapes``,
    ``size_m`` and ``asks`` and implements :meth:`place`."""

    shapes: ClassVar[tuple[str, ...]] = SHAPES  # what ``object.shape`` is drawn from
    size_m: ClassVar[tuple[float, float]]  # the range ``object.size`` is drawn from, metres
    asks: ClassVar[str]  # the question after "Did the red cube": "spin clockwise or counter-clockwise"

    def build(self, draw: ParamDraw, answer: str, clip: ClipFormat) -> Sample:
        cam = camera(draw)
        obj = findable_object(draw, self.shapes, self.size_m)
        decided, node = self.place(draw, answer, clip, cam, obj)
        scene = stage(draw, cam, [node], {obj.color})
        question = f"Did {describe(obj.color, obj.shape)} {self.asks}?"
        return Sample(scene, question, list(self.answer_set), self.answer_set.index(decided))

    def place(self, draw: ParamDraw, answer: str, clip: ClipFormat, cam: Camera, obj: FindableObject) -> tuple[str, Node]:
        """Draw the family's parameters, the one deciding the answer among them
        (:func:`synth.scenes.task.answer_param`), and set ``cam`` and the object in motion.
        Returns that answer and the node to stage: the object's :func:`textured_node`, or a
        node carrying it."""
        raise NotImplementedError


def textured_node(draw: ParamDraw, obj: FindableObject, rotation_deg: float, **node_kw: Any) -> Node:
    """The node ``object`` of ``obj``, turned by ``rotation_deg`` about the viewing axis, in the
    user's ``object.texture`` (drawn now, after the family's other parameters)."""
    node = solid_object("object", obj.shape, obj.color, obj.size, rotation_deg, **node_kw)
    node.material.texture = texture(draw)
    return node
