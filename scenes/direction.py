"""``direction``: one object moves at constant speed; which way did it go?

Question: "Which direction did the red cube move?" Options: ``left``, ``right``, ``up``,
``down`` (fixed order), and with ``motion.directions=8`` also ``up-left``, ``up-right``,
``down-left``, ``down-right``. Answer set (balanced): the options, recorded as
``motion.direction``.

Parameters: ``object.*`` (shape, colour, size in metres, ``rotation_deg`` about the viewing
axis, texture), ``motion.speed`` (m/s, so the object travels 25-40 % of the view's width
whatever the clip length), ``motion.mid_x`` / ``motion.mid_y`` (where its centre is at
mid-clip: anywhere in the view), ``distractors.count`` (static objects in other colours), the
stage (``camera.*``, ``light.*``, ``background.*``: any of the renderer's backgrounds may be
fixed, e.g. ``background.kind=noise``, or ``background.image_dir`` gives a photo per sample; ``stage.floor`` / ``stage.walls`` put the
object in a place). Content from files replaces the primitive: ``object.mesh`` /
``object.asset_dir`` (OBJ, glTF, GLB, PLY) or ``object.sprite`` / ``object.sprite_dir`` (RGBA
cut-outs); the question then names the file's stem ("the duck").

No shortcut: every draw but the direction is the same for every answer, so the middle frame
(an object somewhere) says nothing, and the question names the object, never its motion. The
first and last frames cannot be made answer-free while the object is in view in both: the end
of a rightward path lies right of its start, so for any placement an object seen at the start
somewhere answers "right" a little less often than one seen there at the end. What a still
frame may tell shrinks with the travel relative to the spread of places: the centre at mid-clip
is anywhere in the view (the object may leave or enter across an edge; its centre is in view
for at least half the clip along the four main directions), the same square for every direction, and it travels 25-40 % of the view. A learned
probe on one frame stays within chance + 0.1 (``synth audit``; figures in docs/tasks.md), where
the earlier design (a path kept inside the view, travelling 30-60 %) gave 0.50 on the first
frame. Order-free summaries show the path's axis (a horizontal or vertical streak) but not its
sense: time reversal maps left to right and up to down (``order_free_ceiling = 0.5``).

Oracle: the pixels that differ from the per-pixel temporal median (the static background and
distractors drop out); the median step of their centroid between consecutive frames gives the
motion (robust to the jump when the object enters or leaves across an edge and only its
shadow was moving before), and the option whose unit vector best matches it (image y flipped
to point up) is the answer.
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

# How far the object travels over the clip, as a share of the view's width (min, max).
TRAVEL = (0.25, 0.4)
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
    order_free_ceiling = 0.5

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
        # Travel 25-40 % of the view's width, whatever the clip length; the centre at mid-clip
        # anywhere in the view, whatever the direction (see "No shortcut").
        speed = draw.uniform("motion.speed", TRAVEL[0] * 2 * half / duration_s, TRAVEL[1] * 2 * half / duration_s)
        travel = speed * duration_s
        mid_x = draw.uniform("motion.mid_x", -half, half)
        mid_y = draw.uniform("motion.mid_y", -half, half)
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
        """Median step of the moving pixels' centroid between consecutive frames; the option whose
        unit vector best matches it (image y flipped to point up)."""
        c = centroids(foreground(frames))
        c = c[np.isfinite(c).all(axis=1)]
        if len(c) < 2:  # nothing moved: no evidence, a fixed guess
            return 0
        d = np.median(np.diff(c, axis=0), axis=0)
        motion = np.array([d[0], -d[1]])
        scores = [np.dot(motion, DIRECTIONS.get(o, (0.0, 0.0))) for o in options]
        return int(np.argmax(scores))
