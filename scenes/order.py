"""``order``: two (or three) objects each make the same straight move, one after another;
which object started moving first?

Question: "Which object started moving first?"; options: the objects (``the red cube``) in
alphabetical order; answers (balanced): the index of the first mover in that list, ``0`` ..
``objects.count - 1``.

Parameters: ``objects.count`` (2, or 3 when fixed), ``objects.first`` (the answer index),
``motion.first_start_s`` (when the first mover starts), per object ``objects.{i}.delay_s`` (how
much later than the first mover it starts; unused for the first mover) and the grid-stage keys
of :func:`scenes.base.grid_slots` (colour, 3D shape, midpoint jitter, heading per object;
``objects.size``, ``motion.speed``), plus the standard camera, light and background keys. Every
object moves for the same time at the same speed, so all cover the same distance.

No shortcut: every object ends up having moved the same distance, each path centred on a
midpoint drawn in its own cell, so the first and last frames look alike whatever the answer; in
a middle frame an object may be mid-path or not yet started, but with the start position unseen
a single frame cannot tell how far along it is. Options are sorted alphabetically, unrelated to
the answer. Order-free summaries (the mean or max image) may not tell it: every object travels
the same way, and time reversal turns the first to start into the last to stop (the default
``order_free_ceiling``, chance).

Oracle: per option, the centroid of the pixels of the colour it names; the object whose
centroid first leaves its starting position by more than 1.5 px started first.
"""

from __future__ import annotations

import numpy as np

from synth.scenes.base import (
    Clip,
    Sample,
    Task,
    background,
    camera,
    color_tracks,
    describe,
    displacement,
    grid_slots,
    lights,
    option_colors,
    slot_node,
)
from synth.sampling import ParamDraw
from synth.scene import Scene

MAX_OBJECTS = 3
# Share of the clip each object spends moving; with the start and delay ranges below, the last
# mover of three still stops before the end.
MOVE_FRACTION = 0.3
ONSET_PX = 1.5


class Order(Task):
    name = "order"
    description = "which of 2 (objects.count=3: 3) objects started moving first"

    def answers(self, fixed: dict) -> list[str]:
        count = int(fixed.get("objects.count", 2))
        if not 2 <= count <= MAX_OBJECTS:
            raise ValueError(f"objects.count={count}: allowed 2..{MAX_OBJECTS}")
        return [str(k) for k in range(count)]

    def build(self, draw: ParamDraw, answer: str, clip: Clip) -> Sample:
        count = len(self.answers(draw.fixed))
        draw.given("objects.count", count)
        first_option = draw.given("objects.first", int(answer))
        if not 0 <= first_option < count:
            raise ValueError(f"objects.first={first_option}: allowed 0..{count - 1}")
        duration_s = clip.duration_s
        move_s = MOVE_FRACTION * duration_s
        cam = camera(draw)
        slots, size, speed = grid_slots(draw, cam, move_s)
        first_start_s = draw.uniform("motion.first_start_s", 0.05 * duration_s, 0.15 * duration_s)
        delays = [
            draw.uniform(f"objects.{i}.delay_s", 0.15 * duration_s, 0.35 * duration_s) for i in range(MAX_OBJECTS)
        ]
        names = [describe(slot.color, slot.shape) for slot in slots[:count]]
        options = sorted(names)
        first = names.index(options[first_option])
        objects = [
            slot_node(i, slot, size, speed, first_start_s + (0.0 if i == first else delays[i]), move_s)
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
