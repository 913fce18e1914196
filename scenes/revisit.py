"""``revisit``: the camera turns away from an object (90-180 degrees) and back; did the object
change colour while it was out of view?

Question: "Did the <shape> change colour while the camera was turned away?"; options and
answers ``yes`` / ``no``.

Parameters: ``object.shape`` (3D), ``object.color``, ``object.color_after`` (a different colour,
drawn every time, used only when it changes), ``object.changes_color`` (the answer),
``object.size`` (m), ``object.x`` / ``object.y`` (m from the view centre), ``camera.turn_deg``
(how far the camera turns in place), ``camera.turn_direction`` (``left`` / ``right``), plus the
standard camera, light and background keys (a patterned background shows the turn). The
schedule is fixed in frames: hold 15 % of the clip, turn over 20 %, stay away, turn back over
20 %, hold 15 %; the colour changes halfway through the time away. ``extra`` holds
``camera_pose`` per frame (eye x, y, z in metres, yaw in degrees), ``same_pose_pairs`` (frame
pairs ``[i, j]`` with the same pose and a turn between them: the outbound and return legs are
mirror images in frames, so a world model's output along the trajectory can be checked for
consistency) and ``color_change_s``.

No shortcut: the question names the object by shape only, since its colour would give the
answer away in the last frame; the colour before is seen only before the turn and the colour
after only after it, and both are uniform over the palette whatever the answer, so no single
frame tells; the question and options never change. Order-free summaries may tell it (both
colours leave their trace in the mean or max image): a change survives time reversal
(``order_free_ceiling = 1.0``).

Oracle: the first and last frames share the camera pose and everything else is static, so the
object changed colour exactly when the two frames differ (in more than a few pixels).
"""

from __future__ import annotations

import numpy as np

from synth.degradations.color import srgb_to_linear
from synth.sampling import ParamDraw
from synth.scene import Camera, Scene
from synth.scenes.palette import COLORS, SHAPES_3D
from synth.scenes.staging import background, camera, lights, solid_object, view_half_extent
from synth.scenes.task import SAME, ClipFormat, Sample, Task

TURN_DIRECTIONS = {"left": 1.0, "right": -1.0}  # sign of the yaw (counter-clockwise seen from above)
MIN_FRAMES = 8
CHANGED_PIXELS = 4


class ChangedWhileAway(Task, answer_set=("yes", "no"), order_free_ceiling=1.0, reversal=SAME):
    """Base of the families asking whether something changed while the camera looked away
    (``revisit``, ``world``): yes / no, and a change survives time reversal (played backwards,
    it changes back)."""

    @staticmethod
    def oracle(frames: np.ndarray, question: str, options: list[str]) -> int:
        """``yes`` when the first and last frames (same pose, static scene) differ by more than
        40 levels in at least ``CHANGED_PIXELS`` pixels."""
        diff = np.abs(frames[0].astype(np.int16) - frames[-1].astype(np.int16)).max(axis=-1)
        return options.index("yes" if (diff > 40).sum() >= CHANGED_PIXELS else "no")


class Revisit(ChangedWhileAway, name="revisit",
              description="did the object change colour while the camera was turned away (yes/no)"):

    def build(self, draw: ParamDraw, answer: str, clip: ClipFormat) -> Sample:
        if clip.num_frames < MIN_FRAMES:
            raise ValueError(f"task revisit needs at least {MIN_FRAMES} frames, got {clip.num_frames}")
        options = self.answers(draw.fixed)
        cam = camera(draw)
        half = view_half_extent(cam)
        shape = draw.choice("object.shape", list(SHAPES_3D))
        color = draw.choice("object.color", list(COLORS))
        color_after = draw.choice("object.color_after", [c for c in COLORS if c != color])
        changes = draw.given("object.changes_color", answer)
        if changes not in options:
            raise ValueError(f"object.changes_color={changes}: allowed yes, no")
        size = draw.uniform("object.size", 0.25 * half, 0.35 * half)
        x = draw.uniform("object.x", -0.4 * half, 0.4 * half)
        y = draw.uniform("object.y", -0.4 * half, 0.4 * half)
        turn_deg = draw.uniform("camera.turn_deg", 90.0, 180.0)
        if not 0.0 < turn_deg <= 180.0:
            raise ValueError(f"camera.turn_deg={turn_deg}: allowed (0, 180]")
        direction = draw.choice("camera.turn_direction", list(TURN_DIRECTIONS))
        away_frame, back_frame = turn_schedule(cam, clip, TURN_DIRECTIONS[direction] * turn_deg)
        change_s = (away_frame + back_frame) / 2 / clip.fps
        obj = solid_object("object", shape, color, size, 0.0, position=(x, y, 0.0))
        if changes == "yes":
            obj.material.color_after = srgb_to_linear(COLORS[color_after])
            obj.material.color_change_s = change_s
        scene = Scene(objects=[obj], camera=cam, lights=lights(draw), background=background(draw, ("checker", "noise")))
        question = f"Did the {shape} change colour while the camera was turned away?"
        extra = {**pose_record(cam, clip), "color_change_s": change_s}
        return Sample(scene, question, options, options.index(changes), extra)


def turn_schedule(cam: Camera, clip: ClipFormat, turn_deg: float) -> tuple[int, int]:
    """Set ``cam.yaw_keyframes`` on frame times: hold, turn by ``turn_deg``, stay, turn back,
    hold, the return leg mirroring the outbound one frame by frame. Returns the frames at which
    the camera is fully turned away and at which it starts back."""
    last = clip.num_frames - 1
    depart = max(1, round(0.15 * last))
    leg = max(1, round(0.2 * last))
    away, back = depart + leg, last - depart - leg
    schedule = ((depart, 0.0), (away, turn_deg), (back, turn_deg), (last - depart, 0.0))
    cam.yaw_keyframes = [(frame / clip.fps, deg) for frame, deg in schedule]
    return away, back


def pose_record(cam: Camera, clip: ClipFormat) -> dict:
    """``camera_pose`` per frame ([x, y, z, yaw_deg], rounded to 1e-6) and ``same_pose_pairs``:
    frames ``[i, j]``, ``i < j``, with the same pose and some other pose in between (a revisit,
    not the camera holding still)."""
    poses = [(*np.round(cam.pose(t)[0], 6).tolist(), round(float(cam.yaw_deg(t)), 6)) for t in clip.times]
    # A stretch of frames holding one pose shares a stretch id; pairs must come from different stretches.
    stretch = np.cumsum([0] + [a != b for a, b in zip(poses, poses[1:])])
    pairs = [
        [i, j] for j in range(len(poses)) for i in range(j) if poses[i] == poses[j] and stretch[i] != stretch[j]
    ]
    return {"camera_pose": [list(p) for p in poses], "same_pose_pairs": pairs}
