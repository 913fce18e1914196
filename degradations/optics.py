"""Optics: what the lens does to the image before light reaches the sensor.

All functions take ``video``: (T, 3, H, W) float32 linear light and return the same shape,
on the same device. Geometric warps are backward maps: output pixel p shows the ideal
(pinhole) image at the source position the lens model assigns to p.
"""

from __future__ import annotations

import math

import torch

from synth.degradations._ops import cached, convolve, pixel_grid, sample, to_grid


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
    found with OpenCV's fixed-point iteration (kornia; the map is cached per frame size, coefficients
    and device, so only the first clip of a shape pays for it); no rescale, so barrel distortion
    (k1 < 0) leaves black corners where the lens sees beyond the input frame, or where no ray
    reaches the sensor at all (undistort(p) has no solution).
    Coefficients are dimensionless; k1 = -0.2 is a strong consumer wide-angle lens.
    """
    _, _, h, w = video.shape
    coeffs = (float(k1), float(k2), float(k3), float(p1), float(p2), float(focal_px or w))
    return sample(video, _lens_grid(h, w, *coeffs, video.device))


@cached
def _lens_grid(
    h: int, w: int, k1: float, k2: float, k3: float, p1: float, p2: float, f: float, device: torch.device
) -> torch.Tensor:
    """Backward map of :func:`lens` as an (H, W, 2) sampling grid. Depends only on the frame size
    and the lens, and the 20 fixed-point iterations over every pixel cost far more than the warp
    itself, so it is built once per (size, coefficients, device) and shared (read-only)."""
    from kornia.geometry.calibration import distort_points, undistort_points

    x, y = pixel_grid(h, w, device)
    pts = torch.stack([x, y], dim=-1).reshape(1, -1, 2)
    K = torch.tensor([[[f, 0.0, (w - 1) / 2], [0.0, f, (h - 1) / 2], [0.0, 0.0, 1.0]]], device=device)
    dist = torch.tensor([[k1, k2, p1, p2, k3]], dtype=torch.float32, device=device)
    src = undistort_points(pts, K, dist, num_iters=20)
    # strong barrel lenses image no ray at all at the far corners (the forward model folds back);
    # there the iteration returns garbage, which re-distorting exposes, and the sensor stays black
    miss = (distort_points(src, K, dist) - pts).norm(dim=-1) > 0.05
    src = src.masked_fill(miss.unsqueeze(-1), 1e6).reshape(h, w, 2)
    return to_grid(src[..., 0], src[..., 1], h, w)


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
    _, _, h, w = video.shape
    return sample(video, _fisheye_grid(h, w, float(fov_deg), video.device))


@cached
def _fisheye_grid(h: int, w: int, fov_deg: float, device: torch.device) -> torch.Tensor:
    """Backward map of :func:`fisheye` as an (H, W, 2) sampling grid (cached, read-only)."""
    theta_edge = math.radians(fov_deg) / 2
    f_src = _pinhole_focal(w, fov_deg)
    f_fish = (w / 2) / theta_edge
    dx, dy, r = _radius(h, w, device)
    theta = r / f_fish
    valid = theta < math.pi / 2 - 1e-3
    r_src = f_src * torch.tan(theta.clamp(max=math.pi / 2 - 1e-3))
    scale = torch.where(r > 0, r_src / r.clamp_min(1e-6), torch.full_like(r, f_src / f_fish))
    far = torch.full_like(r, 1e6)  # well outside the frame: reads black
    src_x = torch.where(valid, (w - 1) / 2 + dx * scale, far)
    src_y = torch.where(valid, (h - 1) / 2 + dy * scale, far)
    return to_grid(src_x, src_y, h, w)


def vignette(video: torch.Tensor, fov_deg: float = 0.0) -> torch.Tensor:
    """Natural vignetting, the cos⁴ law: irradiance falls as cos⁴θ of the off-axis angle θ.

    Source: Kerr, "Derivation of the cos⁴ law" / Goldman 2010, "Vignette and exposure calibration".
    ``fov_deg``: horizontal field of view of the lens (degrees, 0 = off); wider lenses darken the
    corners more (60° gives 0.77 at the left/right edges' centre).
    """
    if fov_deg <= 0:
        return video
    _, _, h, w = video.shape
    return video * _cos4(h, w, float(fov_deg), video.device)


@cached
def _cos4(h: int, w: int, fov_deg: float, device: torch.device) -> torch.Tensor:
    """cos⁴θ falloff of :func:`vignette`, (H, W) dimensionless (cached, read-only)."""
    f = _pinhole_focal(w, fov_deg)
    _, _, r = _radius(h, w, device)
    cos2 = f * f / (f * f + r * r)
    return cos2 * cos2


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
    # green is copied, red and blue are written once each (no clone of the whole clip first)
    out = torch.empty_like(video)
    out[:, 1] = video[:, 1]
    for ch, m in ((0, 1 + magnification), (2, 1 - magnification)):
        out[:, ch : ch + 1] = sample(video[:, ch : ch + 1], _magnify_grid(h, w, float(m), video.device))
    return out


@cached
def _magnify_grid(h: int, w: int, m: float, device: torch.device) -> torch.Tensor:
    """Sampling grid (H, W, 2) that magnifies by ``m`` about the image centre (cached, read-only)."""
    dx, dy, _ = _radius(h, w, device)
    return to_grid((w - 1) / 2 + dx / m, (h - 1) / 2 + dy / m, h, w)


@cached
def disc_kernel(radius_px: float) -> torch.Tensor:
    """Uniform disc (pillbox) PSF of a defocused thin lens, anti-aliased edge, sums to 1. (k, k).

    Cached per radius: the returned tensor is shared, do not modify it."""
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
    for synthetic image generation". ``depth_m`` any shape, metres (inf allowed); ``focus_m`` inf
    is focus at infinity, the limit c = f² / (N d) (sharp at d = inf).
    """
    f = focal_mm / 1000.0
    d = depth_m.clamp_min(f * 1.001)
    if math.isinf(focus_m):
        coc_m = f * f / (f_number * d)
    else:
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
    pos = (radius / (r_max / (len(levels) - 1))).clamp(0, len(levels) - 1)
    lo = pos.floor().long().clamp(max=len(levels) - 2)
    frac = (pos - lo).unsqueeze(1)
    lo = lo.unsqueeze(1)
    # each pixel mixes levels lo and lo + 1 with weights 1 − frac and frac; summing weight × level
    # over the levels gives that without stacking all blurred copies, and a level no pixel uses
    # is never blurred at all
    out: torch.Tensor | None = None
    for i, r in enumerate(levels.tolist()):
        weight = torch.where(lo == i, 1 - frac, 0.0) + torch.where(lo == i - 1, frac, 0.0)
        if not bool((weight != 0).any()):
            continue
        level = video if r == 0 else convolve(video, disc_kernel(r).to(video.device))
        out = level * weight if out is None else out.addcmul_(level, weight)
    assert out is not None  # weights sum to 1 at every pixel, so some level is used
    return out


def source_coordinates(name: str, h: int, w: int, **params: float) -> torch.Tensor:
    """The backward map of a geometric warp, ``name`` = ``lens`` or ``fisheye`` with its
    parameters: (H, W, 2) float32 pixel coordinates (x, y) of the input point that output pixel
    (y, x) shows (pixel centres at integers; far outside the frame where no ray lands). The same
    cached grid the image warp samples with, so annotations follow the picture exactly."""
    cpu = torch.device("cpu")
    if name == "lens":
        keys = ("k1", "k2", "k3", "p1", "p2")
        grid = _lens_grid(h, w, *(float(params.get(k, 0.0)) for k in keys), float(params.get("focal_px") or w), cpu)
    elif name == "fisheye":
        grid = _fisheye_grid(h, w, float(params.get("fov_deg", 90.0)), cpu)
    else:
        raise ValueError(f"no backward map for '{name}'; allowed: lens, fisheye")
    return (grid + 1) / 2 * torch.tensor([max(w - 1, 1), max(h - 1, 1)], dtype=torch.float32)
