"""``approach``: one object moves along its line of sight; toward or away from the camera?

Question: "Did the red cube move toward or away from the camera?" Options: ``toward``,
``away`` (fixed order). Answer set (balanced): the same, recorded as ``approach.direction``.

Parameters: ``object.*`` (colour, shape, size, ``rotation_deg``), ``object.x`` /
``object.y`` (where it appears, as metres in the plane z = 0), ``approach.mid_z_m``
(its depth at mid-clip, metres in front of (+) or behind (-) the scene centre) and
``approach.travel_m`` (how far it moves along z over the clip).

No shortcut: the mid-clip depth, size and position are drawn independently of the direction,
so the middle frame (an object of some projected size somewhere) says nothing; only the change
of projected size over time does. The object moves straight along the camera ray through its
mid-clip position, so it stays put in the image and only grows or shrinks. The first and last
frames cannot be answer-free (an approaching object starts smaller than it ends), so the
object's own size is spread wide (0.5-1.5 m, besides its shape and mid-clip depth) against a
travel of 30-40 % of the camera distance: a size seen in one frame says little about where in
its growth it is. A learned probe on the first frame read 0.59 with sizes of 0.7-1.0 m and a
travel of 35-45 % (limit 0.6 at n = 400); figures in docs/tasks.md. Order-free
summaries may not tell it: time reversal turns toward into away (the default
``order_free_ceiling``, chance).

Oracle: the pixel area of the question's colour, mean over the last third of the clip vs the
first third: growing means toward.
"""

from __future__ import annotations

import numpy as np

from synth.sampling import ParamDraw
from synth.scene import Camera, Motion, Node
from synth.scenes.one_object import OneObject, textured_node
from synth.scenes.oracle import object_mask
from synth.scenes.staging import FindableObject, view_half_extent
from synth.scenes.task import ClipFormat, answer_param
from synth.scenes.wording import question_color

OPTIONS = ["toward", "away"]
# Played backwards, an approaching object recedes.
REVERSED = {"toward": "away", "away": "toward"}


class Approach(OneObject, name="approach", answer_set=OPTIONS, reversal=REVERSED,
               description="did the object move toward or away from the camera"):
    size_m = (0.5, 1.5)
    asks = "move toward or away from the camera"

    def place(self, draw: ParamDraw, answer: str, clip: ClipFormat, cam: Camera, obj: FindableObject) -> tuple[str, Node]:
        duration_s = clip.duration_s
        distance = float(cam.position[2])
        # Its distance from the camera changes by 30-40 % of the camera's: the projected size
        # changes by a factor of at least 1.28 over the clip, plain at 64x64.
        mid_z = draw.uniform("approach.mid_z_m", -0.2 * distance, 0.1 * distance)
        travel = draw.uniform("approach.travel_m", 0.3 * distance, 0.4 * distance)
        direction = answer_param(draw, "approach.direction", answer, OPTIONS)
        # Where it appears (metres in the plane z = 0) keeps it whole in view at its nearest,
        # where it looks distance / nearest times bigger (0.75 size: a tilted shape's half-diagonal).
        nearest = distance - mid_z - travel / 2
        room = max(0.8 * (view_half_extent(cam) - 0.75 * obj.size * distance / nearest), 0.0)
        appears = np.array([draw.uniform("object.x", -room, room), draw.uniform("object.y", -room, room)])
        # It moves along the camera ray through that point, so it grows or shrinks in place;
        # `ray` is that ray's direction per metre of depth (z towards the camera).
        ray = np.array([*(appears / distance), -1.0])
        mid = ray * (distance - mid_z) + np.array([0.0, 0.0, distance])
        velocity = ray * (travel / duration_s) * (-1.0 if direction == "toward" else 1.0)
        start = mid - velocity * duration_s / 2
        motion = Motion(velocity=tuple(velocity))
        return direction, textured_node(draw, obj, obj.rotation_deg, position=tuple(start), motion=motion)

    @staticmethod
    def oracle(frames: np.ndarray, question: str, options: list[str]) -> int:
        """Toward if the object's pixel area grew from the first to the last third."""
        area = object_mask(frames, question_color(question) or "red").sum(axis=(1, 2))
        third = max(1, len(area) // 3)
        grew = area[-third:].mean() > area[:third].mean()
        return options.index("toward" if grew else "away")
