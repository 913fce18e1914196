"""The scene as data: objects, motion, materials, lights, camera, background.

A task builds a :class:`Scene`; the renderer draws it. Nothing here touches GL.
Conventions (shared with the renderer and the ground truth):

* World space is right-handed, metres, +y up. Time ``t`` is in seconds.
* Colours are LINEAR RGB in [0, 1] (convert sRGB picks with
  :func:`synth.degradations.color.srgb_to_linear`).
* Every node's transform is a function of time: ``Node.matrix(t)`` (4x4, column
  vectors, ``world = M @ [x, y, z, 1]``), composed from its parent's.
* Meshes are unit-sized about their origin (see :mod:`synth.meshes`), so a node's
  ``scale`` is its size in metres and its origin is the object's centre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

import numpy as np

Vec3 = tuple[float, float, float]


def rotation_matrix(axis: Sequence[float], angle_rad: float) -> np.ndarray:
    """3x3 right-handed rotation about ``axis`` (Rodrigues)."""
    a = np.asarray(axis, dtype=np.float64)
    a = a / np.linalg.norm(a)
    x, y, z = a
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    k = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])
    return np.eye(3) * c + s * k + (1 - c) * np.outer(a, a)


def euler_matrix(rotation_deg: Sequence[float]) -> np.ndarray:
    """3x3 rotation from XYZ Euler angles in degrees, applied x first: R = Rz @ Ry @ Rx."""
    return _euler(tuple(float(v) for v in rotation_deg))


@lru_cache(maxsize=4096)
def _euler(rotation_deg: tuple[float, float, float]) -> np.ndarray:
    # Rest poses repeat every frame: cache them (read-only, so callers cannot corrupt the cache).
    rx, ry, rz = (math.radians(v) for v in rotation_deg)
    m = rotation_matrix((0, 0, 1), rz) @ rotation_matrix((0, 1, 0), ry) @ rotation_matrix((1, 0, 0), rx)
    m.setflags(write=False)
    return m


def cross(a: Sequence[float], b: Sequence[float]) -> np.ndarray:
    """Cross product of two 3-vectors (numpy's general ``cross`` costs ~10x more at this size)."""
    return np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])


def _interp_keyframes(keyframes: Sequence[tuple[float, Sequence[float]]], t: float) -> np.ndarray:
    times = np.array([k[0] for k in keyframes], dtype=np.float64)
    values = np.array([k[1] for k in keyframes], dtype=np.float64).reshape(len(keyframes), -1)
    return np.array([np.interp(t, times, values[:, i]) for i in range(values.shape[1])])


@dataclass
class Motion:
    """A rigid motion as a function of time, added on top of the node's rest pose.

    Translation: ``velocity * s + 0.5 * acceleration * s**2`` with ``s`` the active time: the
    node rests at its pose until ``start_s``, moves, and holds from ``stop_s``. With the default
    ``start_s = -inf`` it is moving already and passes its rest pose at t = 0 (so a shutter open
    around t = 0 sees motion on both sides). If ``keyframes`` (``[(t, (x, y, z)), ...]``,
    piecewise linear, held outside the range) are given they replace it. A non-zero
    ``wrap_m`` period on a world axis keeps the offset within +-period/2 on that axis (particles
    that re-enter the view). Rotation: spin
    about ``spin_axis`` (object frame) at ``spin_deg_per_s`` over the same active time.
    """

    velocity: Vec3 = (0.0, 0.0, 0.0)
    acceleration: Vec3 = (0.0, 0.0, 0.0)
    spin_axis: Vec3 = (0.0, 0.0, 1.0)
    spin_deg_per_s: float = 0.0
    start_s: float = -math.inf
    stop_s: float = math.inf
    keyframes: list[tuple[float, Vec3]] = field(default_factory=list)
    wrap_m: Vec3 = (0.0, 0.0, 0.0)

    def active_time(self, t: float) -> float:
        anchor = self.start_s if math.isfinite(self.start_s) else 0.0
        return min(max(t, self.start_s), self.stop_s) - anchor

    def offset(self, t: float) -> np.ndarray:
        if self.keyframes:
            return _interp_keyframes(self.keyframes, t)
        s = self.active_time(t)
        offset = np.asarray(self.velocity) * s + 0.5 * np.asarray(self.acceleration) * s * s
        period = np.asarray(self.wrap_m, dtype=np.float64)
        wrapped = np.mod(offset + period / 2, np.where(period > 0, period, 1.0)) - period / 2
        return np.where(period > 0, wrapped, offset)

    def spin(self, t: float) -> np.ndarray:
        if self.spin_deg_per_s == 0.0:
            return np.eye(3)
        return rotation_matrix(self.spin_axis, math.radians(self.spin_deg_per_s * self.active_time(t)))


@dataclass
class Material:
    """Blinn-Phong surface in linear light with an optional procedural (solid) texture.

    ``texture``: ``none`` | ``checker`` | ``stripes`` | ``noise``, evaluated on object-space
    position (cells per metre of the unit mesh = ``texture_scale``) and mixing ``color``
    with ``texture_color``. Meshes from files may multiply it by their vertex colours
    (``vertex_colors``) and by a base-colour texture (``image``, a key registered by
    :mod:`synth.assets`), whose texels with alpha < 0.5 are cut out. The base colour switches
    to ``color_after`` at ``color_change_s`` seconds if given. ``specular`` is the specular albedo in [0, 1]; ``roughness``
    in (0, 1] maps to a Blinn-Phong exponent 2 / roughness**2 - 2.
    """

    color: Vec3 = (0.8, 0.8, 0.8)
    specular: float = 0.2
    roughness: float = 0.5
    texture: str = "none"
    texture_color: Vec3 = (1.0, 1.0, 1.0)
    texture_scale: float = 4.0
    color_after: Vec3 | None = None
    color_change_s: float = math.inf
    image: str = ""  # base-colour texture: a key of synth.assets.IMAGES (meshes with UVs, cut-outs)
    vertex_colors: bool = False  # multiply by the mesh's vertex colours (meshes from files)

    def color_at(self, t: float) -> Vec3:
        """Base colour at time ``t``: ``color_after`` from ``color_change_s`` on (a change the
        camera may or may not witness)."""
        return self.color_after if self.color_after is not None and t >= self.color_change_s else self.color


TEXTURES = ("none", "checker", "stripes", "noise")


@dataclass
class Node:
    """A scene-graph node. ``shape`` names a mesh in :data:`synth.meshes.SHAPES`, or one loaded
    from a file and registered by :mod:`synth.assets`, or is None (a pure transform group).
    Rest pose: ``position`` (m), ``rotation_deg`` (XYZ Euler), ``scale`` (m per unit mesh, per
    axis). ``children`` inherit this node's transform."""

    name: str
    shape: str | None = None
    position: Vec3 = (0.0, 0.0, 0.0)
    rotation_deg: Vec3 = (0.0, 0.0, 0.0)
    scale: Vec3 = (1.0, 1.0, 1.0)
    material: Material = field(default_factory=Material)
    motion: Motion = field(default_factory=Motion)
    children: list["Node"] = field(default_factory=list)
    cast_shadows: bool = True
    track: bool = True  # False: no manifest track (weather particles); still in ground truth

    def local_matrix(self, t: float) -> np.ndarray:
        m = np.eye(4)
        rot = euler_matrix(self.rotation_deg) @ self.motion.spin(t)
        m[:3, :3] = rot * np.asarray(self.scale)[None, :]
        m[:3, 3] = np.asarray(self.position) + self.motion.offset(t)
        return m

    def walk(self, parent: np.ndarray, t: float):
        """Yield ``(node, world_matrix)`` for this node and every descendant at time ``t``."""
        world = parent @ self.local_matrix(t)
        yield self, world
        for child in self.children:
            yield from child.walk(world, t)


@dataclass
class Light:
    """``kind``: ``ambient`` (uniform), ``directional`` (from ``azimuth_deg``/``elevation_deg``:
    azimuth 0 = from +z (behind the camera), 90 = from +x (the right); elevation 90 = from
    straight above) or ``point`` (at ``position``, inverse-square falloff with
    ``intensity`` = irradiance at 1 m). ``intensity`` scales linear ``color``."""

    kind: str = "directional"
    color: Vec3 = (1.0, 1.0, 1.0)
    intensity: float = 1.0
    azimuth_deg: float = 30.0
    elevation_deg: float = 45.0
    position: Vec3 = (0.0, 3.0, 3.0)
    shadows: bool = True

    def direction_to_light(self) -> np.ndarray:
        az, el = math.radians(self.azimuth_deg), math.radians(self.elevation_deg)
        return np.array([math.cos(el) * math.sin(az), math.sin(el), math.cos(el) * math.cos(az)])


LIGHT_KINDS = ("ambient", "directional", "point")


@dataclass
class Camera:
    """A pinhole (``perspective``, vertical ``fov_deg``) or ``orthographic`` (``ortho_height``
    metres visible vertically) camera at ``position`` looking at ``target``.

    Motion over time: ``velocity`` translates camera and target (ego-motion), and so do
    ``translation_keyframes`` (``[(t, (x, y, z)), ...]``, an offset in metres, piecewise linear,
    added to the velocity's); ``orbit_deg_per_s``
    turns the position about the target around +y; ``pan_deg_per_s`` and ``yaw_keyframes``
    (``[(t, deg), ...]``, piecewise linear) turn the view direction about +y in place.
    ``shutter_deg`` (0..360) is the fraction of the frame interval the shutter is open,
    centred on each frame time, integrated with ``shutter_samples`` sub-frames.
    """

    projection: str = "perspective"
    fov_deg: float = 40.0
    ortho_height: float = 4.0
    position: Vec3 = (0.0, 0.0, 6.0)
    target: Vec3 = (0.0, 0.0, 0.0)
    up: Vec3 = (0.0, 1.0, 0.0)
    near: float = 0.1
    far: float = 100.0
    velocity: Vec3 = (0.0, 0.0, 0.0)
    orbit_deg_per_s: float = 0.0
    pan_deg_per_s: float = 0.0
    yaw_keyframes: list[tuple[float, float]] = field(default_factory=list)
    translation_keyframes: list[tuple[float, Vec3]] = field(default_factory=list)
    shutter_deg: float = 0.0
    shutter_samples: int = 8

    def yaw_deg(self, t: float) -> float:
        yaw = self.pan_deg_per_s * t
        if self.yaw_keyframes:
            yaw += float(_interp_keyframes([(k, (v,)) for k, v in self.yaw_keyframes], t)[0])
        return yaw

    def pose(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """World position of the eye and the point it looks at, at time ``t``."""
        shift = np.asarray(self.velocity) * t
        if self.translation_keyframes:
            shift = shift + _interp_keyframes(self.translation_keyframes, t)
        target = np.asarray(self.target, dtype=np.float64) + shift
        eye = np.asarray(self.position, dtype=np.float64) + shift
        if self.orbit_deg_per_s:
            eye = target + rotation_matrix((0, 1, 0), math.radians(self.orbit_deg_per_s * t)) @ (eye - target)
        yaw = self.yaw_deg(t)
        if yaw:
            target = eye + rotation_matrix((0, 1, 0), math.radians(yaw)) @ (target - eye)
        return eye, target

    def view_matrix(self, t: float) -> np.ndarray:
        """World -> camera (OpenGL convention: x right, y up, looking down -z)."""
        eye, target = self.pose(t)
        f = target - eye
        f = f / np.linalg.norm(f)
        r = cross(f, self.up)
        r = r / np.linalg.norm(r)
        u = cross(r, f)
        m = np.eye(4)
        m[0, :3], m[1, :3], m[2, :3] = r, u, -f
        m[:3, 3] = -m[:3, :3] @ eye
        return m

    def projection_matrix(self, aspect: float) -> np.ndarray:
        """Camera -> clip (OpenGL, z in [-1, 1])."""
        n, f = self.near, self.far
        m = np.zeros((4, 4))
        if self.projection == "orthographic":
            half_h = self.ortho_height / 2
            m[0, 0] = 1 / (half_h * aspect)
            m[1, 1] = 1 / half_h
            m[2, 2] = -2 / (f - n)
            m[2, 3] = -(f + n) / (f - n)
            m[3, 3] = 1
        else:
            k = 1 / math.tan(math.radians(self.fov_deg) / 2)
            m[0, 0] = k / aspect
            m[1, 1] = k
            m[2, 2] = -(f + n) / (f - n)
            m[2, 3] = -2 * f * n / (f - n)
            m[3, 2] = -1
        return m

    def camera_to_world(self, t: float) -> np.ndarray:
        """4x4 camera-to-world at ``t``, OpenCV camera axes (x right, y down, z forward)."""
        return np.linalg.inv(self.view_matrix(t)) @ np.diag([1.0, -1.0, -1.0, 1.0])

    def focal_px(self, height: int) -> float:
        """Pinhole focal length in pixels for an image ``height`` pixels tall."""
        return height / 2 / math.tan(math.radians(self.fov_deg) / 2)

    def intrinsics(self, width: int, height: int) -> np.ndarray:
        """3x3 pinhole intrinsics for a ``width`` x ``height`` image, OpenCV convention (pixel
        centres at integer coordinates, so the principal point of a centred axis is
        ((W-1)/2, (H-1)/2)); square pixels, vertical fov."""
        f = self.focal_px(height)
        return np.array([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])

    def project(self, points: np.ndarray, t: float, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """World points (N, 3) -> pixel coordinates (N, 2) (origin top-left, y down, pixel
        centres at +0.5) and camera-space depth along the optical axis (N,) in metres."""
        pts = np.c_[np.asarray(points, dtype=np.float64).reshape(-1, 3), np.ones(len(points))]
        cam = pts @ self.view_matrix(t).T
        clip = cam @ self.projection_matrix(width / height).T
        ndc = clip[:, :3] / clip[:, 3:4]
        px = np.c_[(ndc[:, 0] + 1) * width / 2, (1 - ndc[:, 1]) * height / 2]
        return px, -cam[:, 2]


PROJECTIONS = ("perspective", "orthographic")


@dataclass
class Background:
    """What is seen where no object is, infinitely far away (depth ``inf``).

    ``kind``: ``solid`` (``color``), ``gradient`` (``color`` at the bottom of the base view to
    ``color2`` at the top), ``checker`` / ``noise`` (mixing ``color``/``color2``, ``scale`` cells
    across the base view) or ``image`` (``image`` path, sRGB, filling the base view, its edge
    pixels extended beyond it). Patterns are fixed to view directions, so they move correctly
    when the camera turns but not when it translates (they are at infinity); the "base view" is
    the camera's view at t = 0.
    """

    kind: str = "solid"
    color: Vec3 = (0.05, 0.05, 0.05)
    color2: Vec3 = (0.3, 0.3, 0.3)
    scale: float = 8.0
    image: str = ""


BACKGROUND_KINDS = ("solid", "gradient", "checker", "noise", "image")


@dataclass
class Scene:
    """Everything the renderer needs. ``objects`` are root nodes; every node with a shape is one
    instance in ground truth (ids 1.. in depth-first order; 0 = background)."""

    objects: list[Node] = field(default_factory=list)
    camera: Camera = field(default_factory=Camera)
    lights: list[Light] = field(default_factory=lambda: [Light(kind="ambient", intensity=0.25), Light()])
    background: Background = field(default_factory=Background)

    def instances(self, t: float) -> list[tuple[Node, np.ndarray]]:
        """Every node that has a shape, with its world matrix at ``t``, in instance-id order."""
        out = []
        for root in self.objects:
            out += [(n, m) for n, m in root.walk(np.eye(4), t) if n.shape is not None]
        return out
