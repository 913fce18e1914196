"""``trajectory``: one object moves across the view; was its path straight, curved or bouncing?

Question: "Did the red cube move along a straight, curved, or bouncing path?" Options:
``straight``, ``curved``, ``bouncing`` (fixed order). Answer set (balanced): the same, recorded
as ``trajectory.path``.

The paths, all at speed ``motion.speed`` (m/s) along ``motion.direction_deg`` (0 = right,
counter-clockwise) at first: ``straight`` keeps going; ``curved`` is a parabola under a constant
sideways acceleration that turns its heading by ``trajectory.turn_deg`` (70-100 degrees) over
the clip; ``bouncing`` goes straight, hits an invisible wall at ``trajectory.bounce_fraction``
of the clip and comes back, reflected, ``trajectory.incidence_deg`` (5-25 degrees) off the
wall's normal: a sudden turn of 130-170 degrees. ``trajectory.side`` (left | right) is the
side it turns to. Other parameters: ``object.*`` (colour, shape, size, ``rotation_deg``) and
``motion.mid_x`` / ``motion.mid_y`` (where it is at mid-clip, metres).

No shortcut: where the object is at mid-clip is drawn independently of the path, inside a
room that fits every path type, and every parameter is drawn for every path type, so the
middle frame (an object somewhere) says nothing; only the shape of the path over time does.
Order-free summaries may tell it (the path's trace in the max image): its shape survives time
reversal (``order_free_ceiling = 1.0``).

Oracle: tracks the question's colour and measures how much the heading turned between the
first 30 % and the last 30 % of the clip: under 25 degrees is straight, over 100 degrees is
bouncing (a reversal), in between is curved.
"""

from __future__ import annotations

import math

import numpy as np

from synth.sampling import ParamDraw
from synth.scene import Camera, Motion, Node
from synth.scenes.one_object import OneObject, textured_node
from synth.scenes.oracle import color_track
from synth.scenes.staging import FindableObject, view_half_extent
from synth.scenes.task import SAME, ClipFormat, answer_param
from synth.scenes.wording import question_color

OPTIONS = ["straight", "curved", "bouncing"]
# Keyframes per second sampling the path (piecewise linear between them; the bounce gets one
# of its own, so its corner is exact).
KEYFRAME_RATE_HZ = 120.0
# Farthest any path gets from its mid-clip point, in path lengths (speed * duration): the
# curved one's ends, at the largest turn.
REACH_PER_LENGTH = 0.5 * math.hypot(1.0, 0.5 * math.tan(math.radians(50.0)))


def local_path(kind: str, t: np.ndarray, duration_s: float, speed: float, turn_deg: float,
               bounce_s: float, incidence_deg: float) -> np.ndarray:
    """Positions (N, 2) at times ``t`` of a path heading along +x at first and turning to +y,
    with the mid-clip position at the origin."""
    s = t - duration_s / 2
    if kind == "straight":
        return np.c_[speed * s, np.zeros_like(s)]
    if kind == "curved":
        # Sideways acceleration a turns the heading by atan(a * s / speed) either side of mid-clip.
        accel = 2 * speed * math.tan(math.radians(turn_deg) / 2) / duration_s
        return np.c_[speed * s, 0.5 * accel * s * s]
    phi = math.radians(incidence_deg)
    inbound = speed * np.array([math.cos(phi), math.sin(phi)])
    outbound = speed * np.array([-math.cos(phi), math.sin(phi)])
    rel = t - bounce_s
    pos = np.where(rel[:, None] < 0, rel[:, None] * inbound, rel[:, None] * outbound)
    mid_rel = duration_s / 2 - bounce_s
    return pos - mid_rel * (inbound if mid_rel < 0 else outbound)


# A path's shape survives reversal (reversal=SAME): a bounce or a curve run backwards is one.
class Trajectory(OneObject, name="trajectory", answer_set=OPTIONS, order_free_ceiling=1.0, reversal=SAME,
                 description="straight, curved, or bouncing path"):
    size_m = (0.5, 0.7)
    asks = "move along a straight, curved, or bouncing path"

    def place(self, draw: ParamDraw, answer: str, clip: ClipFormat, cam: Camera, obj: FindableObject) -> tuple[str, Node]:
        duration_s = clip.duration_s
        half = view_half_extent(cam)
        # A path 90-120 % of the view half-extent long.
        speed = draw.uniform("motion.speed", 0.9 * half / duration_s, 1.2 * half / duration_s)
        heading = draw.uniform("motion.direction_deg", 0.0, 360.0)
        side = draw.choice("trajectory.side", ["left", "right"])
        turn = draw.uniform("trajectory.turn_deg", 70.0, 100.0)
        bounce_fraction = draw.uniform("trajectory.bounce_fraction", 0.35, 0.65)
        incidence = draw.uniform("trajectory.incidence_deg", 5.0, 25.0)
        kind = answer_param(draw, "trajectory.path", answer, OPTIONS)
        room = max(half - REACH_PER_LENGTH * speed * duration_s - obj.size / 2 - 0.05 * half, 0.0)
        mid = np.array([draw.uniform("motion.mid_x", -room, room), draw.uniform("motion.mid_y", -room, room)])
        bounce_s = bounce_fraction * duration_s
        times = np.union1d(np.linspace(0.0, duration_s, int(duration_s * KEYFRAME_RATE_HZ) + 1), [bounce_s])
        path = local_path(kind, times, duration_s, speed, turn, bounce_s, incidence)
        path[:, 1] *= 1.0 if side == "left" else -1.0
        c, s = math.cos(math.radians(heading)), math.sin(math.radians(heading))
        world = path @ np.array([[c, s], [-s, c]]) + mid
        keyframes = [(float(t), (float(x), float(y), 0.0)) for t, (x, y) in zip(times, world)]
        return kind, textured_node(draw, obj, obj.rotation_deg, motion=Motion(keyframes=keyframes))

    @staticmethod
    def oracle(frames: np.ndarray, question: str, options: list[str]) -> int:
        """Heading over the first 30 % vs the last 30 % of the track: the angle between them."""
        track = color_track(frames, question_color(question) or "red")
        track = track[np.isfinite(track[:, 0])]
        if len(track) < 4:
            return 0
        k = max(2, int(round(0.3 * len(track))))
        before, after = track[k - 1] - track[0], track[-1] - track[-k]
        cos = np.dot(before, after) / max(np.linalg.norm(before) * np.linalg.norm(after), 1e-9)
        turn = math.degrees(math.acos(float(np.clip(cos, -1.0, 1.0))))
        kind = "straight" if turn < 25 else "curved" if turn < 100 else "bouncing"
        return options.index(kind)
