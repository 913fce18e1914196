"""Optics: what the lens does to the image before light reaches the sensor.

All functions take ``video``: (T, 3, H, W) float32 linear light and return the same shape,
on the same device. Geometric warps are backward maps: output pixel p shows the ideal
(pinhole) image at the source position the lens model assigns to p.
"""

from __future__ import annotations

import math

import torch

from degradations._ops import convolve, pixel_grid, remap


def lens(
    video: torch.Tensor,
    k1: float = 0.0,
    k2: float = 0.0,
    k3: float = 0.0,
    p1: float = 0.0,
    p2: float = 0.0,
    focal_px: float = 0.0,
) -> torch.Tensor:
    """Brown–Conrady radial + tangential distortion, OpenCV's convention.

    Source: Brown 1966, "Decentering distortion of lenses"; OpenCV camera-calibration docs
    (``x_d = x(1 + k1 r² + k2 r⁴ + k3 r⁶) + 2 p1 x y + p2 (r² + 2x²)``, y likewise).
    Coordinates are normalised by ``focal_px`` (pixels; 0 = the image width, a 53° horizontal
    field of view) about the image centre. Output pixel p shows the input at undistort(p),
    found with OpenCV's fixed-point iteration (kornia); no rescale, so barrel distortion
    (k1 < 0) leaves black corners where the lens sees beyond the input frame, or where no ray
    reaches the sensor at all (undistort(p) has no solution).
    Coefficients are dimensionless; k1 = -0.2 is a strong consumer wide-angle lens.
    """
    from kornia.geometry.calibration import distort_points, undistort_points

    t, _, h, w = video.shape
    f = focal_px or float(w)
    x, y = pixel_grid(h, w, video.device)
    pts = torch.stack([x, y], dim=-1).reshape(1, -1, 2)
    K = torch.tensor([[[f, 0.0, (w - 1) / 2], [0.0, f, (h - 1) / 2], [0.0, 0.0, 1.0]]], device=video.device)
    dist = torch.tensor([[k1, k2, p1, p2, k3]], dtype=torch.float32, device=video.device)
    src = undistort_points(pts, K, dist, num_iters=20)
    # strong barrel lenses image no ray at all at the far corners (the forward model folds back);
    # there the iteration returns garbage, which re-distorting exposes, and the sensor stays black
    miss = (distort_points(src, K, dist) - pts).norm(dim=-1) > 0.05
    src = src.masked_fill(miss.unsqueeze(-1), 1e6).reshape(h, w, 2)
    return remap(video, src[..., 0], src[..., 1])


def _radius(h: int, w: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Offsets (dx, dy) from the image centre and radius r, each (H, W) in pixels."""
    x, y = pixel_grid(h, w, device)
    dx, dy = x - (w - 1) / 2, y - (h - 1) / 2
    return dx, dy, torch.sqrt(dx * dx + dy * dy)


def _pinhole_focal(w: int, fov_deg: float) -> float:
    """Focal length in pixels of a pinhole image ``w`` pixels wide spanning ``fov_deg`` horizontally."""
    return (w / 2) / math.tan(math.radians(fov_deg) / 2)


def fisheye(video: torch.Tensor, fov_deg: float = 90.0) -> torch.Tensor:
    """Equidistant fisheye projection (r = f θ) of a pinhole input.

    Source: Kannala & Brandt 2006, "A generic camera model and calibration method for
    conventional, wide-angle, and fish-eye lenses" (equidistant model). The input is taken to be a
    pinhole image whose horizontal field of view is ``fov_deg`` (degrees, 1..179); the output
    keeps that horizontal field of view in equidistant projection, so the left/right edges stay put,
    the centre is magnified and straight lines bow outwards. Rays beyond 90° read black.
    """
    t, _, h, w = video.shape
    theta_edge = math.radians(fov_deg) / 2
    f_src = _pinhole_focal(w, fov_deg)
    f_fish = (w / 2) / theta_edge
    dx, dy, r = _radius(h, w, video.device)
    theta = r / f_fish
    valid = theta < math.pi / 2 - 1e-3
    r_src = f_src * torch.tan(theta.clamp(max=math.pi / 2 - 1e-3))
    scale = torch.where(r > 0, r_src / r.clamp_min(1e-6), torch.full_like(r, f_src / f_fish))
    far = torch.full_like(r, 1e6)  # well outside the frame: reads black
    src_x = torch.where(valid, (w - 1) / 2 + dx * scale, far)
    src_y = torch.where(valid, (h - 1) / 2 + dy * scale, far)
    return remap(video, src_x, src_y)


def vignette(video: torch.Tensor, fov_deg: float = 0.0) -> torch.Tensor:
    """Natural vignetting, the cos⁴ law: irradiance falls as cos⁴θ of the off-axis angle θ.

    Source: Kerr, "Derivation of the cos⁴ law" / Goldman 2010, "Vignette and exposure calibration".
    ``fov_deg``: horizontal field of view of the lens (degrees, 0 = off); wider lenses darken the
    corners more (60° gives 0.77 at the left/right edges' centre).
    """
    if fov_deg <= 0:
        return video
    _, _, h, w = video.shape
    f = _pinhole_focal(w, fov_deg)
    _, _, r = _radius(h, w, video.device)
    cos2 = f * f / (f * f + r * r)
    return video * (cos2 * cos2)


def chromatic_aberration(video: torch.Tensor, magnification: float = 0.0) -> torch.Tensor:
    """Lateral (transverse) chromatic aberration: magnification that depends on wavelength.

    Source: Mallon & Whelan 2007, "Calibration and removal of lateral chromatic aberration in images".
    Red is magnified by (1 + ``magnification``) and blue by (1 - ``magnification``) about the
    image centre relative to green (dimensionless; 0.002 is a good lens, 0.01 a poor zoom),
    which makes coloured fringes that grow linearly towards the corners.
    """
    if magnification == 0:
        return video
    _, _, h, w = video.shape
    dx, dy, _ = _radius(h, w, video.device)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    out = video.clone()
    for ch, m in ((0, 1 + magnification), (2, 1 - magnification)):
        out[:, ch : ch + 1] = remap(video[:, ch : ch + 1], cx + dx / m, cy + dy / m)
    return out


def disc_kernel(radius_px: float) -> torch.Tensor:
    """Uniform disc (pillbox) PSF of a defocused thin lens, anti-aliased edge, sums to 1. (k, k)."""
    k = 2 * math.ceil(radius_px + 0.5) + 1
    c = k // 2
    y, x = torch.meshgrid(torch.arange(k) - c, torch.arange(k) - c, indexing="ij")
    d = torch.sqrt((x * x + y * y).float())
    ker = (radius_px + 0.5 - d).clamp(0, 1)
    return ker / ker.sum()


def circle_of_confusion_px(
    depth_m: torch.Tensor, width_px: int, focal_mm: float, f_number: float, focus_m: float, sensor_width_mm: float
) -> torch.Tensor:
    """Thin-lens blur-circle diameter in pixels: c = f² |d − d_f| / (N d (d_f − f)).

    Source: thin-lens equation, e.g. Potmesil & Chakravarty 1981, "A lens and aperture camera model
    for synthetic image generation". ``depth_m`` any shape, metres (inf allowed).
    """
    f = focal_mm / 1000.0
    d = depth_m.clamp_min(f * 1.001)
    rel = torch.where(torch.isinf(d), torch.ones_like(d), (d - focus_m).abs() / d)
    coc_m = f * f * rel / (f_number * (focus_m - f))
    return coc_m * 1000.0 * width_px / sensor_width_mm


def defocus(
    video: torch.Tensor,
    f_number: float = 0.0,
    focal_mm: float = 35.0,
    focus_m: float = 2.0,
    sensor_width_mm: float = 36.0,
    scene_depth_m: float = 1e9,
    depth: torch.Tensor | None = None,
) -> torch.Tensor:
    """Defocus blur of a thin lens focused at ``focus_m`` metres.

    Parameters: ``f_number`` (N, 0 = off), ``focal_mm`` and ``sensor_width_mm`` (36 = full frame) set
    the circle of confusion. ``depth``: optional (T, H, W) metres (inf = sky); without it the whole
    scene sits at ``scene_depth_m`` (uniform blur; the default 1e9 m is effectively infinity).
    Spatially varying blur is layered: the frame is blurred with pillbox PSFs at a few radii and
    each pixel interpolates between the two nearest, so partial occlusion at depth edges is not
    modelled.
    """
    if f_number <= 0:
        return video
    t, _, h, w = video.shape
    d = depth if depth is not None else torch.full((1, 1), scene_depth_m, device=video.device)
    radius = circle_of_confusion_px(d.to(video.device), w, focal_mm, f_number, focus_m, sensor_width_mm) / 2
    r_max = float(radius.max())
    if r_max < 0.25:
        return video
    if depth is None:
        return convolve(video, disc_kernel(r_max).to(video.device))
    levels = torch.linspace(0.0, r_max, max(2, min(6, math.ceil(r_max) + 1)), device=video.device)
    stack = torch.stack([video if r == 0 else convolve(video, disc_kernel(float(r)).to(video.device)) for r in levels])
    pos = (radius / (r_max / (len(levels) - 1))).clamp(0, len(levels) - 1)
    lo = pos.floor().long().clamp(max=len(levels) - 2)
    frac = (pos - lo).unsqueeze(1)

    def pick(i: torch.Tensor) -> torch.Tensor:
        return torch.gather(stack, 0, i.unsqueeze(0).unsqueeze(2).expand(1, t, 3, h, w))[0]

    return pick(lo) * (1 - frac) + pick(lo + 1) * frac
