"""Where a point of the input image lands in the output of the geometric degradations.

The image warps in :mod:`degradations.optics` pull each output pixel from the input; these are
the matching forward maps, for annotations that travel with the video (object tracks, boxes).
Points are ``float64 (N, 2)`` pixel coordinates (x right, y down) in the convention of the warps:
pixel centres at integers, principal point at the image centre ``((w - 1) / 2, (h - 1) / 2)``.
A point the lens cannot image (beyond the fisheye's 90°) maps to NaN.
"""

from __future__ import annotations

import math

import numpy as np


def lens_points(
    xy: np.ndarray, width: int, height: int, k1: float = 0.0, k2: float = 0.0, k3: float = 0.0,
    p1: float = 0.0, p2: float = 0.0, focal_px: float = 0.0,
) -> np.ndarray:  # fmt: skip
    """Brown–Conrady forward model, OpenCV's convention (Brown 1966; OpenCV calibration docs):
    ``x_d = x(1 + k1 r² + k2 r⁴ + k3 r⁶) + 2 p1 x y + p2 (r² + 2x²)``, y likewise, with x, y
    normalised by ``focal_px`` (0 = the image width) about the image centre."""
    f = focal_px or float(width)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    x, y = (xy[:, 0] - cx) / f, (xy[:, 1] - cy) / f
    r2 = x * x + y * y
    radial = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    return np.stack([xd * f + cx, yd * f + cy], axis=1)


def fisheye_points(xy: np.ndarray, width: int, height: int, fov_deg: float = 90.0) -> np.ndarray:
    """Equidistant fisheye (r = f θ, Kannala & Brandt 2006) of a pinhole input spanning ``fov_deg``
    horizontally: a point at pinhole radius r_src lands at f_fish · atan(r_src / f_src)."""
    half = math.radians(fov_deg) / 2
    f_src = (width / 2) / math.tan(half)
    f_fish = (width / 2) / half
    cx, cy = (width - 1) / 2, (height - 1) / 2
    d = xy - (cx, cy)
    r_src = np.hypot(d[:, 0], d[:, 1])
    r_out = f_fish * np.arctan(r_src / f_src)
    scale = np.where(r_src > 0, r_out / np.maximum(r_src, 1e-12), f_fish / f_src)
    return np.stack([cx + d[:, 0] * scale, cy + d[:, 1] * scale], axis=1)


POINT_MAPS = {"lens": lens_points, "fisheye": fisheye_points}
