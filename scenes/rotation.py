"""``rotation``: one object spins in place about the viewing axis; clockwise or counter-clockwise?

Question: "Did the red cube spin clockwise or counter-clockwise?" (as seen by the camera).
Options: ``clockwise``, ``counter-clockwise`` (fixed order). Answer set (balanced): the same,
recorded as ``rotation.direction``.

Parameters: ``object.*`` (colour, shape, size, ``rotation_deg`` = its orientation about the
viewing axis at mid-clip), ``object.x`` / ``object.y`` (where it stands, metres) and
``rotation.speed_deg_per_s`` (the spin rate, whatever the direction). Shapes are the ones
whose outline shows their orientation: a sphere or a disc spinning about the viewing axis
would not change a pixel, so they are left out.

No shortcut: the mid-clip orientation is drawn uniformly and independently of the direction,
so the middle frame (a shape at some angle) says nothing; the spin rate is at most 8 degrees
per frame at 15 fps, far below the shapes' symmetry angles (90 degrees for a square), so
consecutive frames are never ambiguous. Order-free summaries (the clip's mean or max image)
may not tell it either: time reversal turns clockwise into counter-clockwise (the default
``order_free_ceiling``, chance).

Oracle: rotational optical flow on the object's mask (the question's colour, blurred): between
consecutive frames, the least-squares angle of a rotation about the mask's centroid that
explains the change (brightness constancy); the sign of the summed angles is the answer.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from synth.sampling import ParamDraw
from synth.scene import Camera, Motion, Node
from synth.scenes.one_object import OneObject, textured_node
from synth.scenes.oracle import object_mask
from synth.scenes.staging import FindableObject, view_half_extent
from synth.scenes.task import ClipFormat, answer_param
from synth.scenes.wording import question_color

OPTIONS = ["clockwise", "counter-clockwise"]
# Played backwards, a spin turns the other way.
REVERSED = {"clockwise": "counter-clockwise", "counter-clockwise": "clockwise"}
# Outlines that are not symmetric under every turn about the viewing axis (3D shapes are tilted).
SPIN_SHAPES = ("cube", "cylinder", "cone", "torus", "square", "triangle")


class Rotation(OneObject, name="rotation", answer_set=OPTIONS, reversal=REVERSED,
               description="did the object spin clockwise or counter-clockwise"):
    shapes = SPIN_SHAPES
    size_m = (0.7, 1.0)
    asks = "spin clockwise or counter-clockwise"

    def place(self, draw: ParamDraw, answer: str, clip: ClipFormat, cam: Camera, obj: FindableObject) -> tuple[str, Node]:
        rate = draw.uniform("rotation.speed_deg_per_s", 45.0, 120.0)
        direction = answer_param(draw, "rotation.direction", answer, OPTIONS)
        # Right-handed spin about +z (towards the camera) looks counter-clockwise.
        spin = rate if direction == "counter-clockwise" else -rate
        room = max(0.7 * view_half_extent(cam) - obj.size, 0.0)
        x = draw.uniform("object.x", -room, room)
        y = draw.uniform("object.y", -room, room)
        body = textured_node(draw, obj, 0.0)
        # The spin sits on a parent so it turns about the viewing axis, not the tilted body's;
        # the drawn rotation is the parent's at mid-clip.
        turntable = Node(
            name="turntable",
            position=(x, y, 0.0),
            rotation_deg=(0.0, 0.0, obj.rotation_deg - spin * clip.duration_s / 2),
            motion=Motion(spin_axis=(0.0, 0.0, 1.0), spin_deg_per_s=spin),
            children=[body],
        )
        return direction, turntable

    @staticmethod
    def oracle(frames: np.ndarray, question: str, options: list[str]) -> int:
        """Sum over frame pairs of the least-squares rotation angle of the blurred mask."""
        masks = object_mask(frames, question_color(question) or "red").astype(np.float32)
        smooth = np.stack([gaussian_filter(m, 1.0) for m in masks])
        ys, xs = np.mgrid[: masks.shape[1], : masks.shape[2]]
        total = 0.0
        for a, b in zip(smooth[:-1], smooth[1:]):
            weight = a + b
            if weight.sum() == 0:
                continue
            cx, cy = (weight * xs).sum() / weight.sum(), (weight * ys).sum() / weight.sum()
            gy, gx = np.gradient((a + b) / 2)
            # Image y points down: a counter-clockwise turn by theta moves (rx, ry) by
            # theta * (ry, -rx); brightness constancy: (b - a) + grad . flow = 0.
            h = gx * (ys - cy) - gy * (xs - cx)
            total += -((b - a) * h).sum() / max((h * h).sum(), 1e-9)
        return options.index("counter-clockwise" if total > 0 else "clockwise")
