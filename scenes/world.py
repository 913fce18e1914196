"""``world``: a test bench for world models. The camera stands in a furnished room, leaves the
object in front of it (the target) along a path driven by keyboard + mouse actions, stays away a
while and comes back the way it went; did the target change while it was out of view?

Question: "When the camera came back, had the <shape> changed?"; options and answers
``yes`` / ``no``.

The room: a 12 m square, 3 m tall, textured floor (1 m checker) and walls (noise, a tint per
wall, so every turn and step shows), ceiling; four objects in different chromatic colours and
shapes standing on the floor: the target in front (15-25 degrees off the view axis, 2.5-3.2 m
away) and three behind the camera (azimuths 120, 180 and 240 degrees, jittered
by up to 15 degrees, 2.5-4 m away). The camera's eye is 1.2 m above the floor, pitched 15
degrees down.

Paths (``world.path``), each an action stream (see :func:`actions_of`), played out, held for
``world.away_frames`` frames, then undone action by action (the return leg retraces the
outbound poses frame for frame):

* ``turn``: turn in place by ``world.turn_deg`` (90-360);
* ``walk``: walk forward ``world.walk_m`` until the target (off to one side) has left the view;
* ``strafe``: step sideways ``world.strafe_m``, across the target, until it has left the view;
* ``orbit``: circle-strafe by ``world.turn_deg`` (120-360) around a pivot in front of the camera (a
  movement key and the mouse held together; the radius follows from the action units).

``world.direction`` (``left`` / ``right``) says which way the path turns or steps; the target
stands on that side of the view axis for ``turn`` and ``strafe`` (the camera sweeps across it,
so it is revisited off-centre too, and its mirror place, see ``world.move_m``, is out of view at
the far point) and on the other side for ``walk`` and ``orbit``. Paths are
sized to fit the clip: the legs take at most half of the frames left after the conditioning
frames (``world.conditioning_frames``, K), and ``world.away_frames`` is drawn from what is left.

Parameters: the ``world.*`` keys above, ``world.changes`` (the answer), ``world.change``
(``color`` or ``position``, drawn; ``presence`` only when fixed: it asks "had the <shape>
appeared or disappeared?", and with ``world.start_presence`` (``present`` / ``absent``, drawn)
the target is there at the start or not, and a change removes it or brings it),
``world.color_after``, ``world.move_m`` (a position change mirrors the target to the other
side of the view axis: ``move_m`` is that shift, signed, metres along the camera's x),
``world.step_m`` and ``world.turn_rate_deg`` (the action units), ``objects.size``,
``objects.{i}.color`` / ``.shape`` / ``.azimuth_deg`` / ``.distance_m`` (object 0 is the
target), ``camera.fov_deg`` and the light keys. The change happens in the middle of the
longest run of frames in which neither the target's old nor its new place is in view
(:func:`unseen_change_frame`).

``extra`` holds what a world model gets and what scores it (conventions in
docs/world-models.md): ``conditioning_frames`` (K), ``intrinsics`` (3x3, OpenCV: pixel centres
at integer coordinates, principal point ((W-1)/2, (H-1)/2)), ``camera_to_world`` per frame
(4x4, OpenCV camera axes: x right, y down, z forward; world: metres, +y up),
``actions`` (``keys`` one-hot per frame over :data:`KEYS`, ``mouse`` per frame as
[pitch, yaw] deltas in mouse units; ``actions[k]`` moves the camera from its pose at frame
``k - 1`` to frame ``k``), ``action_units`` (metres per frame of a held key, degrees per
mouse unit), ``same_pose_pairs`` (``[i, j]``: ``i`` the first frame with the pose of frame
``j`` when some other pose came between them), ``in_view`` (per object, the frames where its
centre projects inside the image, in front of the camera), ``instance_ids`` (per object, its id
in the ground-truth instance masks), ``change_frame`` (first frame after the change, or null).

No shortcut: the question names the target by shape only (no other object shares it) and
depends on the change kind, never on the answer; the path, its length and the time away do not
depend on the answer either, and the path alone fixes the frame of a change. No single frame
tells, per change kind:

* ``color``: the colours of the four objects and the colour after are five different palette
  colours drawn in turn, so the target's colour after a change is distributed as its colour
  without one (uniform over the palette, different from the other objects');
* ``position``: the target stands 15-25 degrees off the axis, on the left or the right with
  equal odds whatever the answer, and a change mirrors it to the other side at the same distance,
  so its side at the first and last frames (the start pose) is a fair coin for either answer;
* ``presence``: a presence clip is one of four, with ``world.start_presence`` a fair coin drawn
  apart from the answer: ``yes`` present -> absent or absent -> present, ``no`` present ->
  present or absent -> absent. With every other draw equal, each frame of a ``yes`` clip is,
  pixel for pixel, the same frame of a ``no`` clip: the one starting in the same state before
  the change frame, the one starting in the other state from it (tests/world/test_world.py checks
  this on rendered clips). So every single frame, first and last included, has the same
  distribution under both answers: the target is visible in it with the same odds.

Order-free summaries may tell it (a change leaves both looks in the mean image): a change
survives time reversal (``order_free_ceiling = 1.0``).

Oracle: it compares the first and last frames it is given. When they share the camera pose
(phase correlation of the two frames finds no shift), everything but the target is static and
the target changed exactly when they differ in more than a few pixels (revisit's test). But a
model sees frames sampled from the clip (``synth eval``: 8 of them, at segment centres), and
the first and last of those may lie a step or more into the path, at different poses (the pixel
test then calls most ``no`` clips changed: 56 % at 8 of 32 frames). There it compares objects,
not pixels: each palette colour (the objects'; walls, floor and ceiling are too grey for any)
is looked for in both frames, and the target changed when a colour is in view in one frame and
absent from the other (a colour or presence change), or when its centroid, less the camera's
shift (read off the whole image, walls and floor dominating it), moved by more than a quarter
of the width (a position change mirrors the target across the view axis, 30-50 degrees).
"""

from __future__ import annotations

import math

import numpy as np

from synth.degradations.color import srgb_to_linear
from synth.sampling import ParamDraw
from synth.scene import Background, Camera, Material, Motion, Node, Scene
from synth.scenes.oracle import color_tracks
from synth.scenes.palette import CHROMATIC_COLORS, COLORS, SHAPES_3D
from synth.scenes.revisit import ChangedWhileAway
from synth.scenes.staging import distinct_colors, lights
from synth.scenes.task import ClipFormat, Sample, answer_param

KEYS = ("W", "S", "A", "D")  # forward, back, strafe left, strafe right: one-hot per frame
UNDO_KEY = {"W": "S", "S": "W", "A": "D", "D": "A"}
PATHS = ("turn", "walk", "strafe", "orbit")
DIRECTIONS = ("left", "right")
DRAWN_CHANGES = ("color", "position")
CHANGES = DRAWN_CHANGES + ("presence",)
PRESENCES = ("present", "absent")  # world.start_presence: the target at the start of a presence clip
GONE_M = (0.0, -100.0, 0.0)  # an absent target's offset: far below the floor, out of every view
ROOM_HALF_M, ROOM_HEIGHT_M = 6.0, 3.0
EYE_HEIGHT_M, PITCH_DEG = 1.2, -15.0
OTHER_AZIMUTHS_DEG = (120.0, 180.0, 240.0)
OBJECTS = ("target", "object1", "object2", "object3")
# Room pieces after the objects, so objects take instance ids 1..4.
WALL_TINTS = {
    "back": (0.50, 0.45, 0.40), "left": (0.35, 0.40, 0.50), "right": (0.42, 0.50, 0.36), "front": (0.50, 0.38, 0.42),
}  # fmt: skip


class World(ChangedWhileAway, name="world",
            description="world-model bench: did the target change while the camera was away (yes/no)"):

    def build(self, draw: ParamDraw, answer: str, clip: ClipFormat) -> Sample:
        options = self.answers(draw.fixed)
        k = int(draw.given("world.conditioning_frames", 2))
        step_m = float(draw.given("world.step_m", 0.3))
        rate_deg = float(draw.given("world.turn_rate_deg", 15.0))
        if k < 1:
            raise ValueError(f"world.conditioning_frames={k}: must be >= 1")
        if step_m <= 0 or not 0 < rate_deg <= 90:
            raise ValueError(
                f"world.step_m={step_m}, world.turn_rate_deg={rate_deg}: need step_m > 0, 0 < turn_rate_deg <= 90"
            )
        max_leg = (clip.num_frames - k) // 2
        if max_leg < 2:
            raise ValueError(
                f"task world needs at least {k + 4} frames with world.conditioning_frames={k}, got {clip.num_frames}"
            )
        fov = draw.uniform("camera.fov_deg", 50.0, 60.0)
        look_at = (0.0, EYE_HEIGHT_M + math.tan(math.radians(PITCH_DEG)), -1.0)
        cam = Camera(fov_deg=fov, position=(0.0, EYE_HEIGHT_M, 0.0), target=look_at)
        path = draw.choice("world.path", list(PATHS))
        direction = draw.choice("world.direction", list(DIRECTIONS))
        sign = 1 if direction == "right" else -1
        # A turn or strafe sweeps across the target (so it is revisited off-centre, not only in the
        # start view, and both its places, as it may be mirrored, are out of view at the far
        # point); a walk passes it either way; an orbit turns away from it.
        objects, looks = furniture(draw, sign if path in ("turn", "strafe") else -sign)
        target = objects[0]
        changes = answer_param(draw, "world.changes", answer, options)
        change = draw("world.change", lambda r: DRAWN_CHANGES[int(r.integers(len(DRAWN_CHANGES)))])
        if change not in CHANGES:
            raise ValueError(f"world.change={change}: allowed {', '.join(CHANGES)}")
        color_after = draw.choice("world.color_after", [c for c in CHROMATIC_COLORS if c not in looks["colors"]])
        move_m = draw.given("world.move_m", round(-2.0 * target.position[0], 6))
        max_turn = min(360.0, max_leg * rate_deg)
        low_turn = 90.0 if path == "turn" else 120.0
        turn_deg = draw.uniform("world.turn_deg", low_turn, max(low_turn, max_turn))
        half_w = math.tan(math.radians(fov) / 2) * clip.width / clip.height  # tan of half the horizontal fov
        lateral, ahead = target.position[0], -target.position[2]
        # Walk: until the target's centre is outside the view, plus a margin; strafe likewise.
        walk_need = ahead - abs(lateral) / half_w + 0.2
        walk_m = draw.uniform("world.walk_m", walk_need + 0.1, walk_need + 0.4)
        strafe_need = ahead * half_w + abs(lateral) + 0.2
        strafe_m = draw.uniform("world.strafe_m", strafe_need + 0.1, strafe_need + 0.4)
        outbound = outbound_actions(path, sign, turn_deg, walk_m, strafe_m, step_m, rate_deg)
        if len(outbound) > max_leg:
            raise ValueError(
                f"world.path={path}: the way out takes {len(outbound)} frames, the clip leaves room for {max_leg} "
                f"(clip frames - world.conditioning_frames, halved); lengthen the clip or shorten the path"
            )
        room = clip.num_frames - k - 2 * len(outbound)
        away = draw("world.away_frames", lambda r: int(r.integers(0, room + 1)))
        if not 0 <= away <= room:
            raise ValueError(f"world.away_frames={away}: allowed 0..{room} for this path and clip")
        steps = [None] * k + outbound + [None] * away + undo(outbound)
        steps += [None] * (clip.num_frames - len(steps))
        keys, mouse = action_arrays(steps)
        positions, yaws = integrate(keys, mouse, step_m, rate_deg)
        times = clip.times
        cam.translation_keyframes = [(float(t), tuple(p)) for t, p in zip(times, positions)]
        cam.yaw_keyframes = [(float(t), float(y)) for t, y in zip(times, yaws)]

        in_view = {name: frames_in_view(cam, node, clip) for name, node in zip(OBJECTS, objects)}
        if not gaps(in_view["target"]):
            raise ValueError(f"world.path={path}: the target never leaves the view; turn, walk or strafe further")
        change_frame = None
        moved = frames_in_view(cam, _moved(target, move_m), clip) if change == "position" and changes == "yes" else []
        if changes == "yes":
            change_frame = unseen_change_frame(in_view["target"], moved)
            if change_frame is None:
                raise ValueError(f"world.move_m={move_m}: the camera would see the target arrive; move it less")
        scene_lights = lights(draw)
        # Drawn last, and only for presence, so colour and position clips keep every other draw.
        present = draw.choice("world.start_presence", list(PRESENCES)) == "present" if change == "presence" else True
        if changes == "yes":
            apply_change(target, change, color_after, move_m, change_frame, clip.fps, present)
            if change == "position":
                in_view["target"] = [f for f in in_view["target"] if f < change_frame]
                in_view["target"] += [f for f in moved if f >= change_frame]
        elif not present:
            target.motion = Motion(keyframes=[(0.0, GONE_M)])
        if change == "presence":  # in view only while it stands there
            in_view["target"] = [f for f in in_view["target"] if (change_frame is None or f < change_frame) == present]

        scene = Scene(objects=[*objects, *room_nodes()], camera=cam, lights=scene_lights, background=Background())
        shape = looks["shapes"][0]
        question = (
            f"When the camera came back, had the {shape} appeared or disappeared?"
            if change == "presence"
            else f"When the camera came back, had the {shape} changed?"
        )
        extra = {
            "conditioning_frames": k,
            "intrinsics": cam.intrinsics(clip.width, clip.height).round(6).tolist(),
            "camera_to_world": [cam.camera_to_world(float(t)).round(6).tolist() for t in times],
            "actions": {"keys": keys.tolist(), "mouse": mouse.tolist()},
            "action_units": {
                "keys": list(KEYS),
                "metres_per_key_frame": step_m,
                "mouse": ["pitch", "yaw"],
                "degrees_per_mouse_unit": rate_deg,
                "signs": "yaw > 0 turns right, pitch > 0 looks up; A/D step left/right",
                "order": "per frame: half the turn, the step along the new heading, the other half",
            },
            "same_pose_pairs": same_pose_pairs(positions, np.cumsum(mouse[:, 1])),
            "in_view": in_view,
            "instance_ids": {name: i + 1 for i, name in enumerate(OBJECTS)},
            "path": {"kind": path, "outbound_frames": len(outbound), "away_frames": away, "start_frame": k},
            "change_frame": change_frame,
        }
        return Sample(scene, question, options, options.index(changes), extra)

    @staticmethod
    def oracle(frames: np.ndarray, question: str, options: list[str]) -> int:
        """Between the first and last frames: at the same pose (no :func:`camera_shift`), revisit's
        pixel test; else ``yes`` when :func:`objects_differ`."""
        shift = camera_shift(frames[0], frames[-1])
        if np.abs(shift).max() < SAME_POSE_PX:
            return ChangedWhileAway.oracle(frames, question, options)
        return options.index("yes" if objects_differ(frames[0], frames[-1], shift) else "no")


# -- the oracle ------------------------------------------------------------------------------

SAME_POSE_PX = 0.5  # a camera shift below this (pixels, either axis): the two frames share the pose
MIN_OBJECT_PIXELS = 4  # pixels of a palette colour from which an object of that colour is in view
MOVED_WIDTHS = 0.25  # a centroid shift (less the camera's) beyond this share of the width: moved


def camera_shift(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Image shift (2,) float (dx, dy) pixels of frame ``b`` against frame ``a`` (both (H, W, 3)
    uint8), by phase correlation of their grey images under a Hann window: the camera's turn or
    step as the walls and floor show it."""
    import cv2

    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float32) for f in (a, b)]
    window = cv2.createHanningWindow(grey[0].shape[::-1], cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(grey[0], grey[1], window)
    return np.array([dx, dy])


def objects_differ(a: np.ndarray, b: np.ndarray, shift: np.ndarray) -> bool:
    """Whether the objects seen in frames ``a`` and ``b`` ((H, W, 3) uint8, poses a few steps
    apart, ``shift`` their :func:`camera_shift`) differ: a palette colour (:func:`color_tracks`)
    in view in one frame (``MIN_OBJECT_PIXELS``) and not a pixel of it in the other, or its
    centroid, less ``shift``, moved more than ``MOVED_WIDTHS`` of the width."""
    pair = np.stack([a, b])
    seen = color_tracks(pair, list(CHROMATIC_COLORS), MIN_OBJECT_PIXELS)
    any_pixel = color_tracks(pair, list(CHROMATIC_COLORS), 1)
    for color, track in seen.items():
        in_view, some = np.isfinite(track[:, 0]), np.isfinite(any_pixel[color][:, 0])
        if (in_view[0] and not some[1]) or (in_view[1] and not some[0]):
            return True
        if in_view.all() and abs(track[1, 0] - track[0, 0] - shift[0]) > MOVED_WIDTHS * a.shape[1]:
            return True
    return False


# -- the room --------------------------------------------------------------------------------


def furniture(draw: ParamDraw, side: int) -> tuple[list[Node], dict]:
    """The four objects (target first, on the ``side`` +1 right / -1 left of the view axis)
    standing on the floor around the camera, and their colours and shapes (all different)."""
    size = draw.uniform("objects.size", 0.5, 0.7)
    colors = distinct_colors(draw, len(OBJECTS))
    shapes: list[str] = []
    nodes = []
    for i, name in enumerate(OBJECTS):
        shapes.append(draw.choice(f"objects.{i}.shape", [s for s in SHAPES_3D if s not in shapes]))
        if i == 0:
            azimuth = -side * draw.uniform("objects.0.azimuth_deg", 15.0, 25.0)
            distance = draw.uniform("objects.0.distance_m", 2.5, 3.2)
        else:
            azimuth = OTHER_AZIMUTHS_DEG[i - 1] + draw.uniform(f"objects.{i}.azimuth_deg", -15.0, 15.0)
            distance = draw.uniform(f"objects.{i}.distance_m", 2.5, 4.0)
        a = math.radians(azimuth)  # counter-clockwise seen from above, 0 = straight ahead (-z)
        position = (-distance * math.sin(a), size / 2, -distance * math.cos(a))
        material = Material(color=srgb_to_linear(COLORS[colors[i]]), specular=0.1, roughness=0.5)
        nodes.append(Node(name=name, shape=shapes[-1], position=position, rotation_deg=(0.0, 30.0 * i, 0.0),
                          scale=(size, size, size), material=material))  # fmt: skip
    return nodes, {"colors": colors, "shapes": shapes}


def room_nodes() -> list[Node]:
    """Floor (checker), four tinted noise walls and a ceiling; they cast no shadows (the light
    comes from outside the room) and have no tracks."""
    span, height = 2 * ROOM_HALF_M, ROOM_HEIGHT_M

    def piece(name: str, position, rotation, scale, material: Material) -> Node:
        return Node(name=name, shape="plane", position=position, rotation_deg=rotation, scale=scale,
                    material=material, cast_shadows=False, track=False)  # fmt: skip

    def wall(tint) -> Material:
        dark = tuple(0.35 * c for c in tint)
        return Material(color=tint, specular=0.0, texture="noise", texture_color=dark, texture_scale=span)

    floor = Material(color=(0.40, 0.30, 0.20), specular=0.05, texture="checker", texture_color=(0.12, 0.10, 0.08),
                     texture_scale=span)  # fmt: skip
    ceiling = Material(color=(0.6, 0.6, 0.6), specular=0.0)
    r, h2 = ROOM_HALF_M, height / 2
    return [
        piece("floor", (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), (span, 1.0, span), floor),
        piece("wall_back", (0.0, h2, -r), (90.0, 0.0, 0.0), (span, 1.0, height), wall(WALL_TINTS["back"])),
        piece("wall_front", (0.0, h2, r), (90.0, 0.0, 0.0), (span, 1.0, height), wall(WALL_TINTS["front"])),
        piece("wall_left", (-r, h2, 0.0), (0.0, 0.0, 90.0), (height, 1.0, span), wall(WALL_TINTS["left"])),
        piece("wall_right", (r, h2, 0.0), (0.0, 0.0, 90.0), (height, 1.0, span), wall(WALL_TINTS["right"])),
        piece("ceiling", (0.0, height, 0.0), (0.0, 0.0, 0.0), (span, 1.0, span), ceiling),
    ]


def apply_change(
    target: Node, change: str, color_after: str, move_m: float, frame: int, fps: float, present: bool = True
) -> None:
    """Change ``target`` between frames ``frame - 1`` and ``frame``: its colour, its place
    (``move_m`` along x) or its presence: ``present`` (there at the start) it drops
    :data:`GONE_M` below its place, else it comes up from there."""
    t = (frame - 0.5) / fps
    if change == "color":
        target.material.color_after = srgb_to_linear(COLORS[color_after])
        target.material.color_change_s = t
        return
    here = (0.0, 0.0, 0.0)
    if change == "position":
        before, after = here, (move_m, 0.0, 0.0)
    else:
        before, after = (here, GONE_M) if present else (GONE_M, here)
    target.motion = Motion(keyframes=[(t - 0.25 / fps, before), (t + 0.25 / fps, after)])


# -- actions and camera path ------------------------------------------------------------------


def outbound_actions(
    path: str, sign: int, turn_deg: float, walk_m: float, strafe_m: float, step_m: float, rate_deg: float
) -> list:
    """The way out as one ``(key or None, mouse yaw units)`` per frame; ``sign`` +1 turns or
    steps right, -1 left. Angles and distances are rounded to whole frames of the units."""
    turns = max(1, round(turn_deg / rate_deg))
    if path == "turn":
        return [(None, sign)] * turns
    if path == "walk":
        return [("W", 0)] * max(1, math.ceil(walk_m / step_m))
    if path == "strafe":
        return [("D" if sign > 0 else "A", 0)] * max(1, math.ceil(strafe_m / step_m))
    if path == "orbit":  # step one way and turn the other: circles a point in front
        return [("D" if sign > 0 else "A", -sign)] * turns
    raise ValueError(f"world.path={path}: allowed {', '.join(PATHS)}")


def undo(steps: list) -> list:
    """The actions that retrace ``steps`` backwards, pose for pose (the opposite key and mouse,
    in reverse order: exact under the half-turn / step / half-turn rule of :func:`integrate`)."""
    return [(UNDO_KEY[key] if key else None, -yaw) for key, yaw in reversed(steps)]


def action_arrays(steps: list) -> tuple[np.ndarray, np.ndarray]:
    """``keys`` (T, 4) uint8 one-hot over :data:`KEYS` (all zero: no key) and ``mouse`` (T, 2)
    float [pitch, yaw] in mouse units, from per-frame ``(key or None, yaw units)``."""
    keys = np.zeros((len(steps), len(KEYS)), dtype=np.uint8)
    mouse = np.zeros((len(steps), 2), dtype=np.float64)
    for k, step in enumerate(steps):
        if step is None:
            continue
        key, yaw = step
        if key:
            keys[k, KEYS.index(key)] = 1
        mouse[k, 1] = yaw
    return keys, mouse


def integrate(keys: np.ndarray, mouse: np.ndarray, step_m: float, rate_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Camera offsets (T, 3) metres from the start and yaws (T,) degrees counter-clockwise seen
    from above (the :class:`synth.scene.Camera` convention) after each frame's actions. Per frame:
    turn by half the mouse yaw, step along the new heading (W/S forward/back, A/D left/right,
    level with the floor), turn by the other half; the mouse pitch is not used (the paths keep
    it 0). The split makes every frame's actions undone exactly by the opposite ones."""
    position, yaw = np.zeros(3), 0.0
    positions, yaws = [], []
    for key_row, (_, mouse_yaw) in zip(keys, mouse):
        yaw -= 0.5 * mouse_yaw * rate_deg  # mouse yaw > 0 turns right = clockwise from above
        a = math.radians(yaw)
        forward, right = np.array([-math.sin(a), 0.0, -math.cos(a)]), np.array([math.cos(a), 0.0, -math.sin(a)])
        w, s, left, d = (float(v) for v in key_row)
        position = position + step_m * ((w - s) * forward + (d - left) * right)
        yaw -= 0.5 * mouse_yaw * rate_deg
        positions.append(position)
        yaws.append(yaw)
    return np.array(positions), np.array(yaws)


def same_pose_pairs(positions: np.ndarray, yaw_units: np.ndarray, tol_m: float = 1e-6) -> list[list[int]]:
    """``[i, j]`` for every frame ``j`` whose pose an earlier frame had with another pose in
    between; ``i`` is the first such frame (the first visit). Yaws compare as whole mouse units."""
    pairs = []
    for j in range(len(positions)):
        same = [
            i for i in range(j) if yaw_units[i] == yaw_units[j] and np.abs(positions[i] - positions[j]).max() < tol_m
        ]
        moved_between = same and any(
            yaw_units[m] != yaw_units[j] or np.abs(positions[m] - positions[j]).max() >= tol_m
            for m in range(same[0], j)
        )
        if moved_between:
            pairs.append([same[0], j])
    return pairs


def frames_in_view(cam: Camera, node: Node, clip: ClipFormat) -> list[int]:
    """Frames where the centre of ``node`` projects inside the image, in front of the camera."""
    out = []
    for k, t in enumerate(clip.times):
        centre = node.local_matrix(float(t))[:3, 3]
        px, depth = cam.project(centre[None], float(t), clip.width, clip.height)
        x, y = px[0]
        if depth[0] > cam.near and 0 <= x < clip.width and 0 <= y < clip.height:
            out.append(k)
    return out


def _moved(node: Node, move_m: float) -> Node:
    """A copy of ``node`` shifted ``move_m`` along x (where a position change puts it)."""
    x, y, z = node.position
    return Node(name=node.name, shape=node.shape, position=(x + move_m, y, z), scale=node.scale)


def unseen_change_frame(seen: list[int], seen_moved: list[int]) -> int | None:
    """The first frame to show a change such that the camera sees it happen neither at the old
    place nor at the new: a frame ``c`` in a stretch where the target is out of view (``seen``:
    frames it is in view) with its new place (``seen_moved``: frames that place is in view; empty
    if it stays put) out of view too. The middle of the longest run of such frames; None if there
    is none."""
    moved = set(seen_moved)
    runs: list[list[int]] = []
    for start, end in gaps(seen):
        for c in range(start, end + 1):
            if c in moved:
                continue
            if runs and runs[-1][-1] == c - 1:
                runs[-1].append(c)
            else:
                runs.append([c])
    best = max(runs, key=len, default=None)
    return None if best is None else best[len(best) // 2]


def gaps(frames: list[int]) -> list[tuple[int, int]]:
    """First and last frame of each run of frames missing from ``frames`` (sorted) between two
    frames in it: an object out of view after it was seen, until it came back."""
    return [(a + 1, b - 1) for a, b in zip(frames, frames[1:]) if b > a + 1]
