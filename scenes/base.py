"""What every task family shares: the Task interface, palettes, the standard stage, and the
pixel-only helpers oracles build on.

A task family is a subclass of :class:`Task` registered in :mod:`scenes`. ``build`` turns one
sample's :class:`synth.sampling.ParamDraw` and its balanced answer into a :class:`Sample` (a
scene plus the multiple-choice item). It never touches GL. ``oracle`` answers from decoded
frames and the question text only (never ``params`` or ``tracks``), proving the answer is
visible in the video.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from synth.sampling import ParamDraw
from synth.scene import TEXTURES, Background, Camera, Light, Material, Node, Scene, srgb_to_linear

# Named colours (sRGB picks, far apart in hue so names are unambiguous).
COLORS: dict[str, tuple[float, float, float]] = {
    "red": (0.86, 0.12, 0.10),
    "green": (0.15, 0.70, 0.20),
    "blue": (0.12, 0.30, 0.90),
    "yellow": (0.95, 0.85, 0.10),
    "purple": (0.60, 0.20, 0.80),
    "orange": (1.00, 0.50, 0.05),
    "cyan": (0.10, 0.80, 0.85),
    "white": (0.95, 0.95, 0.95),
}
BACKGROUND_COLORS: dict[str, tuple[float, float, float]] = {
    "black": (0.02, 0.02, 0.02),
    "gray": (0.35, 0.35, 0.35),
    "navy": (0.05, 0.07, 0.20),
    "beige": (0.55, 0.50, 0.40),
}
SHAPES_3D = ("cube", "sphere", "cylinder", "cone", "torus")
SHAPES_2D = ("square", "circle", "triangle")
SHAPES = SHAPES_3D + SHAPES_2D
# A fixed tilt shows 3D shapes as 3D (a cube seen face-on is a square).
TILT_3D_DEG = (20.0, 30.0)


@dataclass(frozen=True)
class Clip:
    """The clip format a task builds for (tasks size motions to fit the duration)."""

    fps: float
    num_frames: int
    width: int
    height: int

    @property
    def duration_s(self) -> float:
        return self.num_frames / self.fps

    @property
    def times(self) -> np.ndarray:
        """Frame times in seconds (T,)."""
        return np.arange(self.num_frames) / self.fps


@dataclass
class Sample:
    """One test item. ``answer_index`` indexes ``options``. ``extra`` is task-specific ground
    truth that goes into the manifest record under ``extra`` (e.g. camera poses)."""

    scene: Scene
    question: str
    options: list[str]
    answer_index: int
    extra: dict[str, Any] = field(default_factory=dict)


class Task:
    """Base class of task families.

    Subclasses set ``name``, ``description`` (one line) and ``answers`` (the answer set whose
    members are balanced across a dataset) and implement :meth:`build` and :meth:`oracle`.
    """

    name: ClassVar[str]
    description: ClassVar[str]

    def answers(self, draw_fixed: dict[str, Any]) -> list[str]:
        """The answer set balanced over the dataset (may depend on fixed params, e.g. 8 directions)."""
        raise NotImplementedError

    def build(self, draw: ParamDraw, answer: str, clip: Clip) -> Sample:
        """The sample whose correct option is ``answer`` (unless a fixed/swept param overrides it:
        record the answer-deciding param with ``draw.given(key, answer)`` and use its result)."""
        raise NotImplementedError

    @staticmethod
    def oracle(frames: np.ndarray, question: str, options: list[str]) -> int:
        """Index of the option the pixels support. ``frames``: uint8 (T, H, W, 3) sRGB."""
        raise NotImplementedError


# -- the standard stage -------------------------------------------------------------------


def camera(draw: ParamDraw, distance: tuple[float, float] = (6.0, 6.0)) -> Camera:
    """Perspective camera on +z looking at the origin, ``camera.fov_deg`` and ``camera.distance``
    drawn, plus the shutter keys (fixed values, recorded so they can be swept)."""
    fov = draw.uniform("camera.fov_deg", 35.0, 50.0)
    dist = draw.uniform("camera.distance", *distance)
    cam = Camera(fov_deg=fov, position=(0.0, 0.0, dist))
    cam.shutter_deg = draw.given("camera.shutter_deg", 0.0)
    cam.shutter_samples = draw.given("camera.shutter_samples", 8)
    if not 0.0 <= cam.shutter_deg <= 360.0:
        raise ValueError(f"camera.shutter_deg={cam.shutter_deg}: allowed 0..360")
    if cam.shutter_samples < 1:
        raise ValueError(f"camera.shutter_samples={cam.shutter_samples}: must be >= 1")
    return cam


def lights(draw: ParamDraw) -> list[Light]:
    """Ambient fill plus one shadow-casting directional key light, all drawn."""
    az = draw.uniform("light.azimuth_deg", -60.0, 60.0)
    el = draw.uniform("light.elevation_deg", 20.0, 70.0)
    intensity = draw.uniform("light.intensity", 0.8, 1.2)
    ambient = draw.uniform("light.ambient", 0.2, 0.35)
    return [
        Light(kind="ambient", intensity=ambient),
        Light(kind="directional", azimuth_deg=az, elevation_deg=el, intensity=intensity),
    ]


def background(draw: ParamDraw, kinds: tuple[str, ...] = ("solid", "gradient")) -> Background:
    """``background.kind`` drawn from ``kinds`` (any of the renderer's kinds may be fixed)."""
    kind = draw("background.kind", lambda r: kinds[int(r.integers(len(kinds)))])
    allowed = ("solid", "gradient", "checker", "noise", "image")
    if kind not in allowed:
        raise ValueError(f"background.kind={kind}: allowed {', '.join(allowed)}")
    name = draw.choice("background.color", list(BACKGROUND_COLORS))
    base = srgb_to_linear(BACKGROUND_COLORS[name])
    other = tuple(min(1.0, c * 2.5 + 0.02) for c in base)
    image = draw.given("background.image", "")
    if kind == "image" and not image:
        raise ValueError("background.image: a file path is required with background.kind=image")
    return Background(kind=kind, color=base, color2=other, scale=8.0, image=image)


def view_half_extent(cam: Camera, aspect: float = 1.0) -> float:
    """Half the smaller side of the view, in metres, in the plane z = 0."""
    dist = float(np.linalg.norm(np.asarray(cam.position) - np.asarray(cam.target)))
    half_h = dist * math.tan(math.radians(cam.fov_deg) / 2)
    return half_h * min(1.0, aspect)


def texture(draw: ParamDraw, default: str = "none") -> str:
    """``object.texture``: a procedural texture name (fixed by the user, else ``default``)."""
    value = draw.given("object.texture", default)
    if value not in TEXTURES:
        raise ValueError(f"object.texture={value}: allowed {', '.join(TEXTURES)}")
    return value


def solid_object(name: str, shape: str, color: str, size: float, rotation_deg: float, **node_kw: Any) -> Node:
    """A node of one named colour; 3D shapes get the fixed tilt, all turn by ``rotation_deg``
    about the viewing axis."""
    tilt = TILT_3D_DEG if shape in SHAPES_3D else (0.0, 0.0)
    return Node(
        name=name,
        shape=shape,
        rotation_deg=(tilt[0], tilt[1], rotation_deg),
        scale=(size, size, size),
        material=Material(color=srgb_to_linear(COLORS[color]), specular=0.25, roughness=0.4),
        **node_kw,
    )


def distractors(draw: ParamDraw, avoid_colors: set[str], half_extent: float, count: int) -> list[Node]:
    """``count`` static objects in colours not in ``avoid_colors`` (so the question stays unique)."""
    palette = [c for c in COLORS if c not in avoid_colors]
    nodes = []
    for i in range(count):
        shape = draw.choice(f"distractors.{i}.shape", list(SHAPES))
        color = draw.choice(f"distractors.{i}.color", palette)
        x = draw.uniform(f"distractors.{i}.x", -0.8 * half_extent, 0.8 * half_extent)
        y = draw.uniform(f"distractors.{i}.y", -0.8 * half_extent, 0.8 * half_extent)
        nodes.append(solid_object(f"distractor{i}", shape, color, 0.4, 0.0, position=(x, y, -1.0)))
    return nodes


# -- pixel-only helpers for oracles ------------------------------------------------------


def foreground(frames: np.ndarray, threshold: float = 30.0) -> np.ndarray:
    """Moving-pixel masks (T, H, W) bool: distance from the per-pixel temporal median, so the
    static background and static objects drop out."""
    f = frames.astype(np.float32)
    median = np.median(f, axis=0)
    return np.linalg.norm(f - median, axis=-1) > threshold


def color_mask(frames: np.ndarray, color: str, tolerance: float = 0.35) -> np.ndarray:
    """Pixels (T, H, W) bool whose chromaticity is close to the named colour's, robust to shading:
    compares normalised RGB directions, ignoring dark pixels."""
    f = frames.astype(np.float32) + 1.0
    ref = np.asarray(COLORS[color], dtype=np.float32) * 255 + 1.0
    fn = f / np.linalg.norm(f, axis=-1, keepdims=True)
    rn = ref / np.linalg.norm(ref)
    bright = f.max(axis=-1) > 40
    return bright & (np.linalg.norm(fn - rn, axis=-1) < tolerance * 0.5)


def centroids(masks: np.ndarray) -> np.ndarray:
    """Per-frame centroid (T, 2) as (x, y) pixels of boolean masks; NaN where a mask is empty."""
    out = np.full((len(masks), 2), np.nan)
    for k, m in enumerate(masks):
        ys, xs = np.nonzero(m)
        if len(xs):
            out[k] = xs.mean(), ys.mean()
    return out


def question_color(question: str) -> str | None:
    """The first colour name in a question (oracles may read the question text)."""
    words = question.lower().replace("?", " ").split()
    return next((w for w in words if w in COLORS), None)
