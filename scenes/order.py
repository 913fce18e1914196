"""``order``: two (or three) objects each make the same move along an arc, one after another;
which object started moving first?

Question: "Which object started moving first?"; options: the objects (``the red cube``) in
alphabetical order; answers (balanced): the index of the first mover in that list, ``0`` ..
``objects.count - 1``.

Parameters: ``objects.count`` (2, or 3 when fixed), ``objects.first`` (the answer index),
``motion.first_start_s`` (when the first mover starts), ``objects.{k}.delay_s`` (how much later
than the mover before it the ``k``-th mover starts, counting the first mover as 0, so ``k`` >= 1;
the later movers follow in object order), per object ``objects.{i}.clockwise`` (which way it
turns) and the grid-stage keys of :func:`scenes.staging.grid_slots` (colour, 3D shape, midpoint
jitter per object; ``objects.{i}.direction_deg`` is where on its circle the object starts;
``objects.size``, ``motion.speed``), plus the standard camera, light and background keys. Every object moves
for the same time at the same speed along an arc of ``ARC_RAD`` (2) radians of a circle about
its midpoint, with the radius the straight path of :func:`scenes.staging.grid_slots` would reach,
so all cover the same distance and stay in their cells.

No shortcut: in a single frame, an object's place on its circle at time ``t`` is its start angle
plus the angle turned by ``t``; the start angle is uniform over the whole circle and drawn apart
from everything else, so that place is uniform on the circle whatever the object's schedule
(not started, mid-arc or done). The frame at any ``t`` therefore has one distribution for every
schedule, hence for every answer (the looks and cells are drawn apart from the answer, and the
options are sorted alphabetically). This holds for every frame index, up to the arc being drawn
as ``ARC_STEPS`` (24) straight keyframe segments, which sag inwards by under 0.1 % of the
radius. Order-free summaries (mean / max image): the schedule is symmetric under time reversal
about the middle of the frame times (the delays are drawn iid and the first start uniform over
a range that reversal maps onto itself), and a reversed arc is again an arc with a uniform
start angle and a fair turn, so a clip and its reverse are equally likely; reversal turns the
first to start into the last to start, so with two objects the mean and max images cannot tell
the answer (``order_free_ceiling`` chance). With three objects reversal maps the first mover to
the last, not to another first mover, and the later movers follow in object order, so this
argument does not cover those summaries there.

Oracle: per option, the centroid of the pixels of the colour it names; the object whose
centroid first leaves its starting position by more than 1.5 px started first.
"""

from __future__ import annotations

import numpy as np

from synth.sampling import ParamDraw
from synth.scene import Motion, Node, Scene
from synth.scenes.oracle import color_tracks, displacement
from synth.scenes.staging import GridSlot, background, camera, grid_slots, lights, solid_object
from synth.scenes.task import ClipFormat, Sample, Task
from synth.scenes.wording import describe, option_colors

MAX_OBJECTS = 3
# Share of the clip each object spends moving.
MOVE_FRACTION = 0.3
# Each later mover starts this share of the clip after the one before it (the oracle needs
# two frames or more between onsets at 8 fps).
DELAY_FRACTION = (0.15, 0.25)
# No motion within this share of the clip of the first and last frames.
PAD_FRACTION = 0.05
# The arc turned (radians): its length at the arc's radius is the straight path's length.
ARC_RAD = 2.0
ARC_STEPS = 24
ONSET_PX = 1.5


# Played backwards, the last to start moving starts first (each mover moves for the same time).
# With two objects that is the other one; with three it is the last mover, whom the answer does
# not name (the later movers follow in object order, not option order).
REVERSED = {"0": "1", "1": "0"}


class Order(Task, name="order", reversal=REVERSED,
            reversal_note="with objects.count=3 the reversed clip's first mover is the original's last, which the answer does not name",
            description="which of 2 (objects.count=3: 3) objects started moving first"):

    def answers(self, fixed: dict) -> list[str]:
        count = int(fixed.get("objects.count", 2))
        if not 2 <= count <= MAX_OBJECTS:
            raise ValueError(f"objects.count={count}: allowed 2..{MAX_OBJECTS}")
        return [str(k) for k in range(count)]

    def build(self, draw: ParamDraw, answer: str, clip: ClipFormat) -> Sample:
        count = len(self.answers(draw.fixed))
        draw.given("objects.count", count)
        first_option = draw.given("objects.first", int(answer))
        if not 0 <= first_option < count:
            raise ValueError(f"objects.first={first_option}: allowed 0..{count - 1}")
        duration_s = clip.duration_s
        move_s = MOVE_FRACTION * duration_s
        cam = camera(draw)
        slots, size, speed = grid_slots(draw, cam, move_s)
        clockwise = [draw.choice(f"objects.{i}.clockwise", [False, True]) for i in range(MAX_OBJECTS)]
        delay_range = [f * duration_s for f in DELAY_FRACTION]
        delays = [draw.uniform(f"objects.{i}.delay_s", *delay_range) for i in range(MAX_OBJECTS)]
        names = [describe(slot.color, slot.shape) for slot in slots[:count]]
        options = sorted(names)
        first = names.index(options[first_option])
        if min(delays) <= 0:
            raise ValueError(f"objects.*.delay_s={min(delays)}: allowed > 0")
        movers = [first, *(i for i in range(count) if i != first)]
        span_s = sum(delays[1:count])
        # First start uniform over a range that time reversal about the middle frame time maps
        # onto itself (see the module docstring); the last mover still stops before the pad.
        pad_s = PAD_FRACTION * duration_s
        latest_s = clip.times[-1] - pad_s - move_s - span_s
        if latest_s < pad_s:
            raise ValueError(
                f"clip.seconds={duration_s:g} at clip.fps={clip.fps:g}: too short for {count} objects "
                f"starting {span_s:.2f} s apart; allowed: a longer clip.seconds or more clip.fps"
            )
        first_start_s = draw.uniform("motion.first_start_s", pad_s, latest_s)
        if not pad_s <= first_start_s <= latest_s:
            raise ValueError(f"motion.first_start_s={first_start_s}: allowed {pad_s:.3f}..{latest_s:.3f} for this clip")
        starts = dict(zip(movers, first_start_s + np.cumsum([0.0, *delays[1:count]])))
        radius = speed * move_s / 2
        objects = [
            arc_node(i, slot, size, radius, clockwise[i], float(starts[i]), move_s)
            for i, slot in enumerate(slots[:count])
        ]
        scene = Scene(objects=objects, camera=cam, lights=lights(draw), background=background(draw))
        return Sample(scene, "Which object started moving first?", options, first_option)

    @staticmethod
    def oracle(frames: np.ndarray, question: str, options: list[str]) -> int:
        """The option whose colour's centroid is first seen more than ``ONSET_PX`` from where it
        started (an object never seen moving starts 'at the end')."""
        colors = option_colors(options)
        tracks = color_tracks(frames, [c for c in colors if c])
        onsets = []
        for color in colors:
            moved = np.flatnonzero(displacement(tracks[color]) > ONSET_PX) if color else []
            onsets.append(moved[0] if len(moved) else len(frames))
        return int(np.argmin(onsets))


def arc_node(
    index: int, slot: GridSlot, size: float, radius: float, clockwise: bool, start_s: float, move_s: float
) -> Node:
    """The object of ``slot``, turning ``ARC_RAD`` radians at constant speed on a circle of
    ``radius`` metres about the slot's midpoint, from ``start_s`` for ``move_s`` seconds; it
    starts at angle ``slot.heading_rad`` (0 = right, counter-clockwise) and rests before and
    after. The arc is ``ARC_STEPS`` keyframe segments."""
    sense = -1.0 if clockwise else 1.0
    u = np.linspace(0.0, 1.0, ARC_STEPS + 1)
    angles = slot.heading_rad + sense * ARC_RAD * u
    points = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    offsets = points - points[0]
    keyframes = [(start_s + move_s * float(k), (float(x), float(y), 0.0)) for k, (x, y) in zip(u, offsets)]
    position = (slot.mid[0] + float(points[0, 0]), slot.mid[1] + float(points[0, 1]), 0.0)
    motion = Motion(keyframes=keyframes)
    node = solid_object(f"object{index}", slot.shape, slot.color, size, 0.0, position=position, motion=motion)
    # Matte: a broad specular highlight turns a small object's colour pastel in some frames.
    node.material.specular = 0.05
    return node
