"""``count_moving``: several objects, some of them move; how many moved?

Question: "How many of the objects moved?"; options and answers ``0`` .. ``3``.

Parameters: ``objects.count`` (3 or 4 objects, drawn independently of the answer),
``objects.moving`` (the answer), per object ``objects.{i}.rank`` (the ``objects.moving`` lowest
ranks move) and the grid-stage keys of :func:`scenes.staging.grid_slots` (colour, 3D shape,
midpoint jitter, heading per object; ``objects.size``, ``motion.speed``), plus the standard
camera, light and background keys. Movers move for the whole clip.

No shortcut: every object sits in its own cell of a 2 x 2 grid, and a moving object's midpoint
is drawn exactly like a static object's position, so any single frame shows the same kind of
layout whatever the answer; which objects move is a random subset; the total count does not
depend on how many move; the question and options never change. Only the change between frames
tells the answer. Order-free summaries may tell it (a mover leaves a streak in the mean or max
image): the answer survives time reversal (``order_free_ceiling = 1.0``).

Oracle: per chromatic colour, the centroid of its bright pixels in every frame; a colour that
is present throughout counts as moving when its centroid travels more than 4 px from where it
started.
"""

from __future__ import annotations

import numpy as np

from synth.sampling import ParamDraw
from synth.scene import Scene
from synth.scenes.oracle import color_tracks, displacement
from synth.scenes.palette import CHROMATIC_COLORS
from synth.scenes.staging import GRID_SLOTS, background, camera, grid_slots, lights, slot_node
from synth.scenes.task import SAME, ClipFormat, Sample, Task

# Image-space travel a moving object must show for the oracle to call it moving (the smallest
# drawn travel is about 10 px at 64 x 64).
MOVED_PX = 4.0


# What moved survives reversal (reversal=SAME).
class CountMoving(Task, name="count_moving", answer_set=("0", "1", "2", "3"), order_free_ceiling=1.0, reversal=SAME,
                  description="how many of the 3-4 objects moved (0-3)"):

    def build(self, draw: ParamDraw, answer: str, clip: ClipFormat) -> Sample:
        options = self.answers(draw.fixed)
        cam = camera(draw)
        count = draw("objects.count", lambda r: int(r.integers(3, GRID_SLOTS + 1)))
        moving = draw.given("objects.moving", int(answer))
        if not 3 <= count <= GRID_SLOTS:
            raise ValueError(f"objects.count={count}: allowed 3..{GRID_SLOTS}")
        if not 0 <= moving <= 3:
            raise ValueError(f"objects.moving={moving}: allowed 0..3")
        # Movers travel for the whole clip.
        slots, size, speed = grid_slots(draw, cam, clip.duration_s)
        ranks = [draw.uniform(f"objects.{i}.rank", 0.0, 1.0) for i in range(GRID_SLOTS)]
        movers = set(np.argsort(ranks[:count])[:moving].tolist())
        objects = [
            slot_node(i, slot, size, speed, 0.0, clip.duration_s if i in movers else 0.0)
            for i, slot in enumerate(slots[:count])
        ]
        scene = Scene(objects=objects, camera=cam, lights=lights(draw), background=background(draw))
        return Sample(scene, "How many of the objects moved?", options, options.index(str(moving)))

    @staticmethod
    def oracle(frames: np.ndarray, question: str, options: list[str]) -> int:
        """Count the colours seen in at least 80 % of the frames whose centroid travels more than
        ``MOVED_PX`` from its start."""
        moved = 0
        for track in color_tracks(frames, list(CHROMATIC_COLORS)).values():
            if np.isfinite(track[:, 0]).mean() >= 0.8 and np.nanmax(displacement(track)) > MOVED_PX:
                moved += 1
        return options.index(str(moved)) if str(moved) in options else 0
