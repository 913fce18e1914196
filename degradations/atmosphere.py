"""Atmosphere and weather between the scene and the camera.

``video``: (T, 3, H, W) float32 linear light in, same shape out. ``depth``: optional (T, H, W)
metres, inf = sky. Rain and snow here are 2-D overlays for external video; rendered clips should
get them as particles in the scene from the renderer (correct occlusion and lighting).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from synth.degradations._ops import pixel_grid

DEFAULT_AIRLIGHT = (0.8, 0.82, 0.85)


def ground_plane_depth(h: int, w: int, camera_height_m: float, far_m: float, device: torch.device) -> torch.Tensor:
    """Depth prior for footage without depth: a level pinhole camera (focal = image width, the
    ``lens`` default) ``camera_height_m`` above flat ground; rows below the horizon (the centre
    row) see the ground at d = height · f / (y − y_horizon), everything else is capped at ``far_m``.
    Returns (H, W) metres.
    """
    _, y = pixel_grid(h, w, device)
    below = (y - (h - 1) / 2).clamp_min(1e-6)
    return (camera_height_m * w / below).clamp(max=far_m)


def fog(
    video: torch.Tensor,
    beta_per_m: float = 0.0,
    airlight: Sequence[float] = DEFAULT_AIRLIGHT,
    prior_camera_height_m: float = 1.6,
    far_m: float = 20.0,
    depth: torch.Tensor | None = None,
) -> torch.Tensor:
    """Fog/haze by Koschmieder's law: I = J t + A (1 − t), t = exp(−β d).

    Source: Koschmieder 1924; Narasimhan & Nayar 2002, "Vision and the atmosphere".
    ``beta_per_m``: extinction coefficient (1/m; meteorological visibility is 3.912/β, so 0.04 is
    ~100 m). ``airlight``: linear RGB of the horizon sky. ``depth`` (T, H, W) metres when known,
    else :func:`ground_plane_depth` with ``prior_camera_height_m``. Depths beyond ``far_m``
    (including inf: a rendered backdrop or sky) count as ``far_m``, so the background fades
    with β like a distant backdrop instead of vanishing into airlight at every density.
    """
    if beta_per_m <= 0:
        return video
    _, _, h, w = video.shape
    if depth is None:
        d = ground_plane_depth(h, w, prior_camera_height_m, far_m, video.device)[None, None]
    else:
        d = depth.to(video.device).unsqueeze(1).clamp(max=far_m)
    trans = torch.exp(-beta_per_m * d)
    a = torch.tensor(airlight, dtype=video.dtype, device=video.device).view(1, 3, 1, 1)
    # the airlight term A (1 − t) is small ((1, 3, H, W) without depth); J t is added to it in one
    # fused pass over the clip (torch.lerp would fuse too, but broadcasts ~3x slower on CPU)
    return torch.addcmul(a * (1 - trans), video, trans)


# near-to-far layers of particles: (size/speed scale, share of the particles)
_LAYERS = ((1.0, 0.2), (0.6, 0.3), (0.35, 0.5))


def _splat_gaussians(x: torch.Tensor, y: torch.Tensor, weight: float, sigma: float, h: int, w: int) -> torch.Tensor:
    """Sum of unit-mass Gaussians (σ px) at sub-pixel points ``x``/``y`` (T, ...) on a torus of
    H×W pixels, each scaled by ``weight``. Returns (T, 1, H, W). Costs O(points), not O(pixels)."""
    t = x.shape[0]
    r = math.ceil(2.5 * sigma)
    offs = torch.arange(-r, r + 1, device=x.device, dtype=torch.float32).view(-1, 1)
    # the point index is the innermost (long) dimension, so every op below vectorises
    xf, yf = x.reshape(1, -1), y.reshape(1, -1)
    gx, gy = xf.floor() + offs, yf.floor() + offs  # (K, P) pixel centres around each point
    wx = torch.exp(-((gx - xf) ** 2) / (2 * sigma * sigma))
    wy = torch.exp(-((gy - yf) ** 2) / (2 * sigma * sigma))
    stamp = wy.unsqueeze(1) * wx.unsqueeze(0)  # (K, K, P)
    stamp = stamp * (weight / stamp.sum(dim=(0, 1), keepdim=True))
    frame = torch.arange(t, device=x.device).repeat_interleave(xf.shape[1] // t) * (h * w)
    idx = frame + gy.long().remainder(h).unsqueeze(1) * w + gx.long().remainder(w).unsqueeze(0)
    acc = torch.zeros(t * h * w, device=x.device)
    acc.index_add_(0, idx.reshape(-1), stamp.reshape(-1))
    return acc.view(t, 1, h, w)


def _particle_alpha(
    shape: tuple[int, int, int],
    density: float,
    size_px: float,
    speed_px: float,
    wind: float,
    streak: float,
    sway_px: float,
    generator: torch.Generator,
    index: torch.Tensor | None,
    device: torch.device,
) -> list[torch.Tensor]:
    """Coverage (T, 1, H, W) in 0..1 of each particle layer, near layer first.

    Particles keep their identity across frames (positions advance by the velocity and wrap),
    so they move coherently: the particle set is drawn from ``generator`` once per clip and frame
    i shows it at time ``index[i]`` (frame numbers, default 0..T-1). Each one is drawn as the
    segment it sweeps during the exposure (``streak`` = fraction of the frame interval): Gaussian
    footprints of σ = size / 2 along it.
    """
    t, h, w = shape
    layers = []
    for scale, share in _LAYERS:
        n = max(1, round(density * share * h * w / 1e4))
        vy = speed_px * scale
        vx = vy * wind
        p0 = torch.rand(n, 2, generator=generator, device=generator.device).to(device)
        phase = torch.rand(n, generator=generator, device=generator.device).to(device) * 2 * math.pi
        steps = max(2, math.ceil(math.hypot(vx, vy) * streak) + 1)
        frames = (torch.arange(t) if index is None else index).to(device, torch.float32).view(t, 1, 1)
        sub = torch.linspace(-streak, 0, steps, device=device).view(1, 1, steps)
        time = frames + sub  # (T, 1, S): instants swept during each exposure
        x = p0[:, 0].view(1, n, 1) * w + vx * time + sway_px * scale * torch.sin(0.3 * time + phase.view(1, n, 1))
        y = p0[:, 1].view(1, n, 1) * h + vy * time
        sigma = max(0.3, size_px * scale / 2)
        # an isolated particle's peak is ~1/(2πσ²) per unit of splat, a streak's 1/(√(2π)σ); rescale to 1
        peak = 1.0 / (2 * math.pi * sigma * sigma) if steps <= 2 else 1.0 / (math.sqrt(2 * math.pi) * sigma)
        # each sample carries (steps-1)/steps: about one unit of coverage per pixel of streak;
        # the 1/peak rescale is folded into the splat weight (no pass over the frames for it)
        cov = _splat_gaussians(x, y, (steps - 1) / steps / peak, sigma, h, w)
        layers.append(cov.clamp_(0, 1))
    return layers


def _composite(video: torch.Tensor, layers: list[torch.Tensor], opacity: float, radiance: float) -> torch.Tensor:
    """Layers of one colour composited ``over`` the frame, far first: out = out (1 − α) + radiance α
    for each, which telescopes to video · Π(1 − α) + radiance · (1 − Π(1 − α)) (one pass over RGB)."""
    clear = layers[0].mul(-opacity).add_(1)
    for alpha in layers[1:]:
        clear.addcmul_(clear, alpha, value=-opacity)  # clear · (1 − opacity α), in place
    # radiance (1 − clear) has one channel; video · clear is added to it in one fused pass
    return torch.addcmul(clear.mul(-radiance).add_(radiance), video, clear)


def rain(
    video: torch.Tensor,
    density: float = 0.0,
    size_px: float = 1.0,
    speed_px: float = 30.0,
    wind: float = 0.1,
    opacity: float = 0.35,
    radiance: float = 0.9,
    generator: torch.Generator | None = None,
    index: torch.Tensor | None = None,
) -> torch.Tensor:
    """Rain streaks as three layered overlays (near, middle, far).

    Source: Garg & Nayar 2007, "Vision and rain" (drops are seen as motion-blurred streaks
    whose brightness is the environment refracted through the drop, hence a bright, translucent
    ``radiance``). ``density``: drops in view per 100×100 px; ``size_px``: streak width of the
    nearest layer; ``speed_px``: fall per frame (px/frame) of the nearest layer; ``wind``:
    horizontal / vertical velocity; ``opacity`` 0..1. Streak length = speed × a 180° shutter.
    ``index``: (T,) frame numbers in the clip (default 0..T-1): where the drops are at each frame.
    """
    if density <= 0:
        return video
    t, _, h, w = video.shape
    gen = generator or torch.Generator().manual_seed(0)
    layers = _particle_alpha((t, h, w), density, size_px, speed_px, wind, 0.5, 0.0, gen, index, video.device)
    return _composite(video, layers, opacity, radiance)


def snow(
    video: torch.Tensor,
    density: float = 0.0,
    size_px: float = 3.0,
    speed_px: float = 3.0,
    wind: float = 0.3,
    opacity: float = 0.9,
    radiance: float = 1.0,
    generator: torch.Generator | None = None,
    index: torch.Tensor | None = None,
) -> torch.Tensor:
    """Snowflakes as three layered overlays: slow, round, nearly opaque, swaying sideways.

    ``density``: flakes in view per 100×100 px; ``size_px``: flake diameter of the nearest
    layer; ``speed_px``: fall (px/frame) of the nearest layer; ``wind``: horizontal / vertical
    velocity; ``opacity`` 0..1; ``radiance``: linear brightness of a flake (1 = diffuse white).
    Idea after Hendrycks & Dietterich 2019 (ImageNet-C snow), made temporally coherent.
    ``index``: (T,) frame numbers in the clip (default 0..T-1): where the flakes are at each frame.
    """
    if density <= 0:
        return video
    t, _, h, w = video.shape
    gen = generator or torch.Generator().manual_seed(0)
    layers = _particle_alpha((t, h, w), density, size_px, speed_px, wind, 0.5, size_px, gen, index, video.device)
    return _composite(video, layers, opacity, radiance)
