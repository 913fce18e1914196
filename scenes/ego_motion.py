"""``ego_motion``: something moved sideways in front of a textured wall; was it the camera or
the object?

Question: "Did the camera move, or did the <colour> <shape> move?"; options and answers
``the camera`` / ``the object``.

Parameters: ``motion.mover`` (the answer), ``motion.direction_deg`` (heading of the object's
image motion, 0 = right, counter-clockwise), ``motion.speed`` (m/s of the camera, or of the
object, which is the same relative motion), ``object.shape`` (3D), ``object.color``,
``object.size`` (m), ``object.x`` / ``object.y`` (where the object appears at mid-clip, m from
the view centre), ``wall.distance`` (m behind the object), ``wall.texture_x`` /
``wall.texture_y`` (where the wall's noise pattern lies, m: a fresh pattern in every sample),
plus the standard camera and light keys. The wall (a large plane with a noise texture) fills the
view; a background at infinity would not shift when the camera translates.

No shortcut: the motion of object and camera relative to each other is the same in both cases
(the object moves by minus the camera's velocity), so the object's image path and its shadow's
are identical, frame for frame (the key light is directional: moving the camera is moving the
world). The wall is the only difference, and in any one frame it is a noise pattern at an
offset drawn uniformly over many pattern cells, independently of the answer: where it sits
says nothing (a wall with the same pattern in every sample did: a learned probe read the
answer off the first frame 99 % of the time). The question and options never change. Only the
wall's motion over time, a shift (by parallax, less than the object) when the camera moves and
none when the object does, tells the answer. Order-free summaries may tell it too (a moving
camera blurs the wall in the mean image): the answer survives time reversal
(``order_free_ceiling = 1.0``).

Oracle: over the pixels that are unsaturated (the grey wall) in both the first and the last
frame, the share that changed by more than 12 levels: a moving camera shifts the whole wall
texture (at 64x64, 8 fps, 2 s: 44-74 % of the wall pixels changed over 200 samples), a moving
object changes only the wall it uncovers and its shadow (0.5-11 %).
"""

from __future__ import annotations

import math

import numpy as np

from synth.sampling import ParamDraw
from synth.scene import Camera, Material, Motion, Node, Scene
from synth.scenes.palette import CHROMATIC_COLORS, SHAPES_3D
from synth.scenes.staging import camera, lights, solid_object, view_half_extent
from synth.scenes.task import SAME, ClipFormat, Sample, Task
from synth.scenes.wording import describe

MOVERS = ["the camera", "the object"]
# Share of the wall pixels that must change (by more than WALL_LEVELS of 255) for the oracle to
# say the camera moved.
WALL_CHANGED = 0.25
WALL_LEVELS = 12
# How far (m, either way, per axis) the wall's noise pattern is shifted per sample: 30 cells of
# about 1 m each way, so no two samples share the pattern in view.
WALL_SHIFT_M = 15.0


# Who moved survives reversal (reversal=SAME): played backwards, the same one moves the other way.
class EgoMotion(Task, name="ego_motion", answer_set=MOVERS, order_free_ceiling=1.0, reversal=SAME,
                description="did the camera move (ego-motion) or the object, in front of a textured wall"):

    def build(self, draw: ParamDraw, answer: str, clip: ClipFormat) -> Sample:
        duration_s = clip.duration_s
        mover = draw.given("motion.mover", answer)
        if mover not in MOVERS:
            raise ValueError(f"motion.mover={mover}: allowed {', '.join(MOVERS)}")
        cam = camera(draw)
        half = view_half_extent(cam)
        heading = math.radians(draw.uniform("motion.direction_deg", 0.0, 360.0))
        # The object crosses 25-40 % of the view, whoever moves.
        speed = draw.uniform("motion.speed", 0.5 * half / duration_s, 0.8 * half / duration_s)
        color = draw.choice("object.color", list(CHROMATIC_COLORS))
        shape = draw.choice("object.shape", list(SHAPES_3D))
        size = draw.uniform("object.size", 0.25 * half, 0.35 * half)
        room = max(half - speed * duration_s / 2 - 0.75 * size - 0.05 * half, 0.0)
        mid = np.array([draw.uniform("object.x", -room, room), draw.uniform("object.y", -room, room), 0.0])
        wall_distance = draw.uniform("wall.distance", 2.0, 4.0)
        texture_at = (draw.uniform("wall.texture_x", -WALL_SHIFT_M, WALL_SHIFT_M),
                      draw.uniform("wall.texture_y", -WALL_SHIFT_M, WALL_SHIFT_M))  # fmt: skip
        # The object's image moves along the heading: the camera moves the opposite way.
        camera_velocity = -speed * np.array([math.cos(heading), math.sin(heading), 0.0])
        half_path = camera_velocity * duration_s / 2
        if mover == "the camera":
            cam.position = tuple(np.asarray(cam.position) - half_path)
            cam.target = tuple(np.asarray(cam.target) - half_path)
            cam.velocity = tuple(camera_velocity)
            position, motion = mid, Motion()
        else:
            position, motion = mid + half_path, Motion(velocity=tuple(-camera_velocity))
        obj = solid_object("object", shape, color, size, 0.0, position=tuple(position), motion=motion)
        scene = Scene(objects=[obj, textured_wall(cam, wall_distance, texture_at)], camera=cam, lights=lights(draw))
        question = f"Did the camera move, or did {describe(color, shape)} move?"
        return Sample(scene, question, list(MOVERS), MOVERS.index(mover))

    @staticmethod
    def oracle(frames: np.ndarray, question: str, options: list[str]) -> int:
        """``the camera`` when more than ``WALL_CHANGED`` of the grey pixels changed by more than
        ``WALL_LEVELS`` between the first and last frames."""
        first, last = frames[0].astype(np.float32), frames[-1].astype(np.float32)
        grey = (saturation(first) < 0.25) & (saturation(last) < 0.25)
        changed = np.abs(first - last).max(axis=-1) > WALL_LEVELS
        share = changed[grey].mean() if grey.any() else 0.0
        return options.index("the camera" if share > WALL_CHANGED else "the object")


def saturation(frame: np.ndarray) -> np.ndarray:
    """HSV saturation (H, W) of a float RGB frame."""
    return (frame.max(axis=-1) - frame.min(axis=-1)) / (frame.max(axis=-1) + 1.0)


def textured_wall(cam: Camera, distance: float, texture_at: tuple[float, float]) -> Node:
    """A grey noise-textured plane ``distance`` m behind the plane z = 0, facing the camera, its
    centre (and so its noise pattern) shifted by ``texture_at`` (m, each at most
    ``WALL_SHIFT_M``) in its own plane, and wide enough to fill the view of a 16:9 clip
    wherever the camera moves; noise features are about 1 m, a few pixels at any clip size."""
    side = 3.0 * (abs(cam.position[2]) + distance) + 2 * WALL_SHIFT_M
    return Node(
        name="wall",
        shape="plane",
        position=(texture_at[0], texture_at[1], -distance),
        rotation_deg=(90.0, 0.0, 0.0),
        scale=(side, side, side),
        material=Material(
            color=(0.55, 0.55, 0.55), texture="noise", texture_color=(0.05, 0.05, 0.05), texture_scale=side
        ),
    )
