"""``speed_compare``: two objects move in straight lines at constant speeds; which moved faster?

Question: "Which object moved faster: the blue cone or the red cube?" Options: the two object
descriptions in alphabetical order (a rule unrelated to the answer). Answer set (balanced):
``first`` / ``second``, the position of the faster object among the options, recorded as
``speed_compare.faster``.

Parameters: ``object.*`` and ``second.*`` (colour, shape, size, ``x``/``y`` = midpoint of the
path in metres), ``motion.direction_deg`` and ``second.direction_deg`` (headings, within 20
degrees of horizontal, left or right), ``motion.speed`` (the faster speed, m/s) and ``speed_compare.ratio`` (slower / faster speed).
Each object keeps to its own half of the view (``object`` above, ``second`` below), so they
never overlap.

No shortcut: the midpoints, sizes and headings are drawn independently of which is faster, so
a single frame (two objects somewhere in their lanes) says nothing; there is no motion blur by
default (``camera.shutter_deg=0``). Fixing ``speed_compare.faster`` swaps which object gets the
faster speed and changes nothing else. Order-free summaries may tell it (the faster object
leaves the longer streak in the clip's mean or max image): the answer survives time reversal
(``order_free_ceiling = 1.0``).

Oracle: tracks each option's colour (chromaticity mask centroid) and answers the one whose
centroid travelled further between the first and the last third of the clip.
"""

from __future__ import annotations

import numpy as np

from synth.sampling import ParamDraw
from synth.scene import Motion, Node
from synth.scenes.staging import camera, horizontal_heading, lane_midpoint, solid_object, two_objects, view_half_extent
from synth.scenes.task import ClipFormat, Sample
from synth.scenes.which_of_two import Lane, WhichOfTwo

HEADING_SPREAD_DEG = 20.0


class SpeedCompare(WhichOfTwo, name="speed_compare",
                   description="which of two objects moved faster"):

    def build(self, draw: ParamDraw, answer: str, clip: ClipFormat) -> Sample:
        duration_s = clip.duration_s
        cam = camera(draw)
        half = view_half_extent(cam)
        looks = two_objects(draw)
        sizes = [draw.uniform("object.size", 0.5, 0.7), draw.uniform("second.size", 0.5, 0.7)]
        headings = [horizontal_heading(draw, key, HEADING_SPREAD_DEG) for key in ("motion.direction_deg", "second.direction_deg")]
        # The faster object crosses 60-100 % of the view half-extent; the slower one at most
        # 65 % of that, a margin the oracle's centroids resolve at 64x64.
        fast = draw.uniform("motion.speed", 0.6 * half / duration_s, 1.0 * half / duration_s)
        ratio = draw.uniform("speed_compare.ratio", 0.35, 0.65)

        def lane_object(lane: Lane) -> Node:
            speed = fast if lane.answered else fast * ratio
            heading = np.radians(headings[lane.index])
            direction = np.array([np.cos(heading), np.sin(heading)])
            # Room for the faster path whichever object gets it, so midpoints say nothing.
            reach = np.abs(direction) * fast * duration_s / 2
            mid = np.array(lane_midpoint(draw, lane.prefix, lane.upper, tuple(reach), sizes[lane.index], half))
            start = mid - direction * speed * duration_s / 2
            return solid_object(lane.prefix, lane.shape, lane.color, sizes[lane.index], 0.0, position=(*start, 0.0),
                                motion=Motion(velocity=(*(direction * speed), 0.0)))  # fmt: skip

        return self.ask(draw, cam, looks, "speed_compare.faster", answer, "Which object moved faster", lane_object)
