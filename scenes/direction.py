"""``direction``: one object moves at constant speed; which way did it go?

Question: "Which direction did the red cube move?" Options: ``left``, ``right``, ``up``,
``down`` (fixed order), and with ``motion.directions=8`` also ``up-left``, ``up-right``,
``down-left``, ``down-right``; ``motion.include_static=true`` adds ``no movement`` last (the
object rests). Answer set (balanced): the options, recorded as ``motion.direction``.

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
A resting object (``no movement``) sits where a mover would be at a random moment: a mover's
path (``motion.speed``, midpoint) is drawn as for every sample, then a heading
(``motion.rest_heading``) and a moment (``motion.rest_phase``, 0..1 over the part of the clip in
which that path's centre is in view) place it on the path, so in any one frame its position is
spread like a visible mover's (both are drawn for every sample of such a set, keeping sweeps
paired). Order-free summaries do tell a resting object (a blob, no streak) from a mover: that
survives time reversal, so with 4 directions they may reach (1 + 4 x 0.5) / 5 = 0.6.

Oracle: the pixels that differ from the per-pixel temporal median (the static background and
distractors drop out); the median step of their centroid between consecutive frames gives the
motion (robust to the jump when the object enters or leaves across an edge and only its
shadow was moving before), and the option whose unit vector best matches it (image y flipped
to point up) is the answer; with ``no movement`` among the options, moving pixels on fewer than
0.1 % of the clip's pixels answer it.
"""

from __future__ import annotations

import numpy as np

from synth.sampling import ParamDraw
from synth.scene import Motion, Scene
from synth.scenes.oracle import centroids, foreground
from synth.scenes.palette import COLORS, SHAPES
from synth.scenes.staging import (
    background,
    camera,
    distractors,
    lights,
    look_object,
    object_look,
    place,
    texture,
    view_half_extent,
)
from synth.scenes.task import ClipFormat, Sample, Task
from synth.tracks import DIRECTIONS

# How far the object travels over the clip, as a share of the view's width (min, max).
TRAVEL = (0.25, 0.4)


STATIC = "no movement"
# Oracle: moving pixels on fewer than this share of all pixels of the clip mean no movement (at
# 64x64, n=150: resting objects <= 0.003 %, movers >= 0.43 %, even when mostly out of view).
STILL_FRACTION = 0.001


def _visible_moments(mid: tuple[float, float], heading: tuple[float, float], travel: float, half: float) -> tuple[float, float]:
    """The moments u in [0, 1] (fraction of the clip) at which the centre of a path through
    ``mid`` at mid-clip (u = 0.5), ``travel`` metres along unit ``heading``, lies in the square
    of half-side ``half``: an interval holding 0.5 when ``mid`` is inside."""
    lo, hi = 0.0, 1.0
    for m, h in zip(mid, heading):
        if abs(h) > 1e-9:
            a, b = sorted(((-half - m) / (h * travel) + 0.5, (half - m) / (h * travel) + 0.5))
            lo, hi = max(lo, a), min(hi, b)
    return lo, hi


# Played backwards, an object moves the opposite way; a resting object still rests.
REVERSED = {"left": "right", "right": "left", "up": "down", "down": "up", "up-left": "down-right",
            "down-right": "up-left", "up-right": "down-left", "down-left": "up-right", STATIC: STATIC}


class Direction(Task, name="direction", order_free_ceiling=0.5, reversal=REVERSED,
                description="which way did the object move (4-way; motion.directions=8 adds diagonals; motion.include_static adds no movement)"):

    def answers(self, fixed: dict) -> list[str]:
        count = int(fixed.get("motion.directions", 4))
        if count not in (4, 8):
            raise ValueError(f"motion.directions={count}: allowed 4 or 8")
        static = fixed.get("motion.include_static", False)
        if static not in (True, False):
            raise ValueError(f"motion.include_static={static}: allowed true or false")
        return list(DIRECTIONS)[:count] + ([STATIC] if static else [])

    def build(self, draw: ParamDraw, answer: str, clip: ClipFormat) -> Sample:
        duration_s = clip.duration_s
        options = self.answers(draw.fixed)
        headings = [o for o in options if o != STATIC]
        draw.given("motion.directions", len(headings))
        if STATIC in options:
            draw.given("motion.include_static", True)
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
        if STATIC in options:  # where a resting object sits: on a mover's path, at a moment it is in view
            rest = DIRECTIONS[draw.choice("motion.rest_heading", headings)]
            lo, hi = _visible_moments((mid_x, mid_y), rest, travel, half)
            moment = lo + draw.uniform("motion.rest_phase", 0.0, 1.0) * (hi - lo)
        if direction == STATIC:
            velocity = (0.0, 0.0, 0.0)
            offset = (moment - 0.5) * travel
            start = (mid_x + rest[0] * offset, mid_y + rest[1] * offset, 0.0)
        else:
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
        unit vector best matches it (image y flipped to point up), or ``no movement`` if offered
        and (almost) nothing moved."""
        still = options.index(STATIC) if STATIC in options else None
        moving = foreground(frames)
        if still is not None and moving.mean() < STILL_FRACTION:
            return still
        c = centroids(moving)
        c = c[np.isfinite(c).all(axis=1)]
        if len(c) < 2:  # nothing moved: no evidence, a fixed guess
            return 0
        d = np.median(np.diff(c, axis=0), axis=0)
        motion = np.array([d[0], -d[1]])
        scores = [np.dot(motion, DIRECTIONS.get(o, (0.0, 0.0))) for o in options]
        return int(np.argmax(scores))
