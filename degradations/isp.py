"""ISP: white balance, denoise, the tone/transfer curve that encodes for display, sharpening.

``video``: (T, 3, H, W) float32. ``white_balance`` and ``denoise`` act on linear light (as a
camera ISP does before tone mapping); ``tone`` encodes linear → display values 0..1; ``sharpen``
acts on encoded values (after the tone curve, as in a camera).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from degradations.color import linear_to_srgb


def white_balance(video: torch.Tensor, red_gain: float = 1.0, blue_gain: float = 1.0) -> torch.Tensor:
    """White-balance error as per-channel gains relative to green (dimensionless, >0).

    A wrong illuminant estimate scales R and B (von Kries 1902 diagonal model): 1.2/0.8 gives the
    warm cast of a daylight scene balanced for tungsten-ish light.
    """
    if red_gain == 1.0 and blue_gain == 1.0:
        return video
    g = torch.tensor([red_gain, 1.0, blue_gain], dtype=video.dtype, device=video.device).view(1, 3, 1, 1)
    return video * g


def tone(video: torch.Tensor, curve: str = "srgb", gamma: float = 2.2) -> torch.Tensor:
    """Encode linear light for display; returns (T, 3, H, W) float32 in 0..1 (clipped).

    ``curve``: ``srgb`` (IEC 61966-2-1, the default every pipeline applies), ``gamma`` (a pure
    power law v = x^(1/``gamma``), e.g. BT.709-ish 2.2 or a mis-set camera), or ``filmic``
    (sRGB after the smoothstep global tone curve 3x² − 2x³ that Brooks et al. 2019 use as a
    typical camera's contrast curve).
    """
    x = video.clamp(0.0, 1.0)
    if curve == "gamma":
        return x.clamp_min(1e-12) ** (1.0 / gamma)
    if curve == "filmic":
        x = 3 * x * x - 2 * x * x * x
    return linear_to_srgb(x)


def _box(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over a (2r+1)² window, reflect-padded."""
    pad = F.pad(x, (radius, radius, radius, radius), mode="reflect" if radius < min(x.shape[-2:]) else "replicate")
    return F.avg_pool2d(pad, 2 * radius + 1, stride=1)


def denoise(video: torch.Tensor, radius_px: int = 0, eps: float = 1e-3) -> torch.Tensor:
    """Edge-preserving ISP denoise: the self-guided filter of He, Sun & Tang 2013,
    "Guided image filtering", per channel.

    ``radius_px``: window radius in pixels (0 = off); ``eps``: regularisation in linear-light
    variance units: structure whose local variance is below ``eps`` is flattened, stronger
    edges survive. Strong settings give the waxy, detail-free look of phone video in low light.
    """
    if radius_px <= 0:
        return video
    mean = _box(video, radius_px)
    var = (_box(video * video, radius_px) - mean * mean).clamp_min(0)
    a = var / (var + eps)
    b = mean - a * mean
    return _box(a, radius_px) * video + _box(b, radius_px)


def sharpen(video: torch.Tensor, amount: float = 0.0, sigma_px: float = 1.0) -> torch.Tensor:
    """Unsharp mask (Gonzalez & Woods, "Digital Image Processing", ch. 3): v + amount · (v − G_σ * v),
    clipped to 0..1 (display-encoded input).

    ``amount``: 0 = off, 1 = doubles the high frequencies; ``sigma_px``: Gaussian σ in pixels.
    Over-sharpening makes the halos at edges typical of cheap cameras.
    """
    if amount <= 0:
        return video
    import kornia

    k = 2 * math.ceil(3 * sigma_px) + 1
    blurred = kornia.filters.gaussian_blur2d(video, (k, k), (sigma_px, sigma_px), border_type="reflect")
    return (video + amount * (video - blurred)).clamp(0.0, 1.0)
