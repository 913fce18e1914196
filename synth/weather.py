"""Rain and snow as particles in the scene, so the renderer's shutter streaks them physically.

Parameters are those of ``degradations.rain`` / ``degradations.snow`` (which overlay external
video), read at the image: ``density`` particles per 100x100 px, ``size_px`` and ``speed_px``
(px per frame) of the nearest layer, ``wind`` = horizontal / vertical velocity, ``radiance``
(linear albedo of a drop or flake). ``opacity`` has no role here: coverage comes from the
geometry and the shutter, as in a camera. The three layers sit at depths where their apparent scale
is 1, 0.6 and 0.35 of the nearest (as the overlay's layers), and every particle has the same
physical size and speed, so the farther layers look smaller and slower by perspective alone.
Drops fall at constant velocity and wrap around the view (a drop leaving at the bottom re-enters
at the top: its ground-truth flow is wrong on that one frame). The layers are placed in the
camera's view at t = 0. Source for the appearance of rain as streaks integrated over the
exposure: Garg & Nayar, "Vision and Rain", IJCV 2007.
"""

from __future__ import annotations

import math

import numpy as np

from synth.scene import Material, Motion, Node, Scene, cross

LAYERS = ((1.0, 0.2), (0.6, 0.3), (0.35, 0.5))  # (apparent scale, share of the particles)
NEAR_M = 1.5  # distance of the nearest layer from the camera
KINDS = ("rain", "snow")


def add_precipitation(
    scene: Scene, kind: str, width: int, height: int, fps: float, rng: np.random.Generator, params: dict
) -> None:
    """Append untracked ``kind`` particles to ``scene.objects`` (drawn last: after every tracked
    instance, so instance ids of tracked objects do not change)."""
    cam = scene.camera
    eye, target = cam.pose(0.0)
    forward = (target - eye) / np.linalg.norm(target - eye)
    right = cross(forward, cam.up)
    right /= np.linalg.norm(right)
    up = cross(right, forward)
    m_per_px_near = 2 * NEAR_M * math.tan(math.radians(cam.fov_deg) / 2) / height
    size_m = params["size_px"] * m_per_px_near
    fall_m_per_s = params["speed_px"] * m_per_px_near * fps
    velocity = -up * fall_m_per_s + right * params["wind"] * fall_m_per_s
    shape, scale = ("square", (size_m, 2 * size_m, 1.0)) if kind == "rain" else ("circle", (size_m,) * 3)
    material = Material(color=(params["radiance"],) * 3, specular=0.0)
    for layer, (apparent, share) in enumerate(LAYERS):
        depth = NEAR_M / apparent
        view_h = height * m_per_px_near / apparent
        view_w = width * m_per_px_near / apparent
        count = max(1, round(params["density"] * share * width * height / 1e4))
        offsets = rng.uniform(-0.5, 0.5, size=(count, 2)) * (view_w, view_h)
        # World-axis wrap periods for a camera whose right/up are the world x/y axes (the stage).
        wrap = (view_w, view_h, 0.0) if abs(up[1]) > 0.99 and abs(right[0]) > 0.99 else (0.0, 0.0, 0.0)
        for i, (x, y) in enumerate(offsets):
            position = eye + forward * depth + right * x + up * y
            scene.objects.append(
                Node(f"{kind}{layer}_{i}", shape, position=tuple(position), scale=scale, material=material,
                     motion=Motion(velocity=tuple(velocity), wrap_m=wrap), cast_shadows=False, track=False)
            )  # fmt: skip
