"""``direction``: one object moves at constant speed; which way did it go?

Question: "Which direction did the red cube move?" Options: ``left``, ``right``, ``up``,
``down`` (fixed order), and with ``motion.directions=8`` also ``up-left``, ``up-right``,
``down-left``, ``down-right``. Answer set (balanced): the options, recorded as
``motion.direction``.

Parameters: ``object.*`` (shape, colour, size in metres, ``rotation_deg`` about the viewing
axis, texture), ``motion.speed`` (m/s, so the object crosses 30-60 % of the view whatever the
clip length), ``motion.mid_x`` / ``motion.mid_y`` (where the trajectory's midpoint lies),
``distractors.count`` (static objects in other colours), the stage (``camera.*``, ``light.*``,
``background.*``: any of the renderer's backgrounds may be fixed, e.g. ``background.kind=noise``,
or ``background.image_dir`` gives a photo per sample; ``stage.floor`` / ``stage.walls`` put the
object in a place). Content from files replaces the primitive: ``object.mesh`` /
``object.asset_dir`` (OBJ, glTF, GLB, PLY) or ``object.sprite`` / ``object.sprite_dir`` (RGBA
cut-outs); the question then names the file's stem ("the duck").

No shortcut: the midpoint is drawn independently of the direction, inside a square that is
the same for every direction, so the middle frame (an object somewhere) says nothing; the
question names the object, never its motion. Only the change between frames tells.

Oracle: the pixels that differ from the per-pixel temporal median (the static background and
distractors drop out); their centroid in the first and last thirds of the clip gives the
displacement, and the option whose unit vector best matches it (image y flipped to point up)
is the answer.
"""

from __future__ import annotations

import math

import numpy as np

from synth.scenes.base import (
    COLORS,
    Clip,
    SHAPES,
    Sample,
    Task,
    background,
    camera,
    centroids,
    distractors,
    foreground,
    lights,
    look_object,
    object_look,
    place,
    texture,
    view_half_extent,
)
from synth.sampling import ParamDraw
from synth.scene import Motion, Scene

# Image-plane unit vectors (x right, y up) of each answer.
DIRECTIONS: dict[str, tuple[float, float]] = {
    "left": (-1.0, 0.0),
    "right": (1.0, 0.0),
    "up": (0.0, 1.0),
    "down": (0.0, -1.0),
    "up-left": (-math.sqrt(0.5), math.sqrt(0.5)),
    "up-right": (math.sqrt(0.5), math.sqrt(0.5)),
    "down-left": (-math.sqrt(0.5), -math.sqrt(0.5)),
    "down-right": (math.sqrt(0.5), -math.sqrt(0.5)),
}


class Direction(Task):
    name = "direction"
    description = "which way did the object move (4-way; motion.directions=8 adds diagonals)"

    def answers(self, fixed: dict) -> list[str]:
        count = int(fixed.get("motion.directions", 4))
        if count not in (4, 8):
            raise ValueError(f"motion.directions={count}: allowed 4 or 8")
        return list(DIRECTIONS)[:count]

    def build(self, draw: ParamDraw, answer: str, clip: Clip) -> Sample:
        duration_s = clip.duration_s
        options = self.answers(draw.fixed)
        draw.given("motion.directions", len(options))
        cam = camera(draw)
        half = view_half_extent(cam)
        look = object_look(draw, SHAPES, tuple(COLORS))
        size = draw.uniform("object.size", 0.5, 0.8)
        rotation = draw.uniform("object.rotation_deg", 0.0, 360.0)
        direction = draw.given("motion.direction", answer)
        if direction not in options:
            raise ValueError(f"motion.direction={direction}: allowed {', '.join(options)}")
        # Travel between 30 % and 60 % of the view, whatever the clip length.
        speed = draw.uniform("motion.speed", 0.6 * half / duration_s, 1.2 * half / duration_s)
        travel = speed * duration_s
        room = max(half - travel / 2 - size / 2 - 0.1, 0.0)
        mid_x = draw.uniform("motion.mid_x", -room, room)
        mid_y = draw.uniform("motion.mid_y", -room, room)
        dx, dy = DIRECTIONS[direction]
        velocity = (dx * speed, dy * speed, 0.0)
        start = (mid_x - dx * travel / 2, mid_y - dy * travel / 2, 0.0)
        obj = look_object("object", look, size, rotation, position=start, motion=Motion(velocity=velocity))
        obj.material.texture = texture(draw)
        count = draw.given("distractors.count", 0)
        others = distractors(draw, {look.color}, half, count)
        lit = lights(draw)
        backdrop = background(draw, aspect=clip.width / clip.height)
        scenery = place(draw, cam, half)
        scene = Scene(objects=[obj, *others, *scenery], camera=cam, lights=lit, background=backdrop)
        question = f"Which direction did the {look.noun} move?"
        return Sample(scene, question, options, options.index(direction))

    @staticmethod
    def oracle(frames: np.ndarray, question: str, options: list[str]) -> int:
        """Centroid of the moving pixels, first vs last third of the clip; the option whose unit
        vector best matches the displacement (image y flipped to point up)."""
        c = centroids(foreground(frames))
        c = c[np.isfinite(c).all(axis=1)]
        if len(c) < 2:  # nothing moved: no evidence, a fixed guess
            return 0
        third = max(1, len(c) // 3)
        d = c[-third:].mean(axis=0) - c[:third].mean(axis=0)
        motion = np.array([d[0], -d[1]])
        scores = [np.dot(motion, DIRECTIONS.get(o, (0.0, 0.0))) for o in options]
        return int(np.argmax(scores))
