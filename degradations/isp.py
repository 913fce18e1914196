"""ISP: white balance, denoise, the tone/transfer curve that encodes for display, sharpening.

``video``: (T, 3, H, W) float32. ``white_balance`` and ``denoise`` act on linear light (as a
camera ISP does before tone mapping); ``tone`` encodes linear → display values 0..1; ``sharpen``
acts on encoded values (after the tone curve, as in a camera).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from synth.degradations._ops import by_frame_blocks, records_grad
from synth.degradations.color import linear_to_srgb


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
    if curve == "gamma":
        # clamp to [1e-12, 1] in one pass (pow's gradient/NaN-safe floor), then pow in place
        return video.clamp(1e-12, 1.0).pow_(1.0 / gamma)
    x = video.clamp(0.0, 1.0)
    if curve == "filmic":
        x = 3 * x * x - 2 * x * x * x
    return linear_to_srgb(x)


def _window_sum(x: torch.Tensor, k: int, dim: int) -> torch.Tensor:
    """Sums of ``k`` consecutive elements along ``dim`` (length n → n − k + 1), by doubling:
    sums of 2^j elements are built once and the binary digits of k picked from them, so a window
    costs O(log k) passes over the tensor instead of k (avg_pool2d loops over all k² taps)."""
    n = x.shape[dim]
    out_len = n - k + 1
    total: torch.Tensor | None = None
    span, offset = x, 0  # span holds sums of `size` consecutive elements
    size = 1
    while True:
        if k & size:
            part = span.narrow(dim, offset, out_len)
            total = part.clone() if total is None else total.add_(part)
            offset += size
        if size * 2 > k:
            return total  # type: ignore[return-value]
        m = span.shape[dim] - size
        span = span.narrow(dim, 0, m) + span.narrow(dim, size, m)
        size *= 2


# Windows up to this width are summed by k − 1 in-place adds of shifted views (fewest fresh
# allocations, which on CPU cost more than the adds: first-touch page faults of ~25 MB buffers).
_LINEAR_BOX_MAX_K = 9


def _box(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over a (2r+1)² window, reflect-padded. ``x``: (T, C, H, W); same shape out, contiguous.
    Separable (rows, then columns of the row sums), exact up to float rounding."""
    h, w = x.shape[-2:]
    k = 2 * radius + 1
    pad = F.pad(x, (radius, radius, radius, radius), mode="reflect" if radius < min(h, w) else "replicate")
    if records_grad(pad):
        return F.avg_pool2d(pad, k, stride=1)
    if k > _LINEAR_BOX_MAX_K:
        return _window_sum(_window_sum(pad, k, -1), k, -2).mul_(1.0 / (k * k))
    rows = torch.add(pad[..., :, 0:w], pad[..., :, 1 : 1 + w])
    for i in range(2, k):
        rows += pad[..., :, i : i + w]
    # the padded copy is consumed: its (larger) buffer holds the result, so no third allocation
    out = pad.view(-1)[: x.numel()].view(x.shape)
    torch.add(rows[..., 0:h, :], rows[..., 1 : 1 + h, :], out=out)
    for i in range(2, k):
        out += rows[..., i : i + h, :]
    return out.mul_(1.0 / (k * k))


def denoise(video: torch.Tensor, radius_px: int = 0, eps: float = 1e-3) -> torch.Tensor:
    """Edge-preserving ISP denoise: the self-guided filter of He, Sun & Tang 2013,
    "Guided image filtering", per channel.

    ``radius_px``: window radius in pixels (0 = off); ``eps``: regularisation in linear-light
    variance units: structure whose local variance is below ``eps`` is flattened, stronger
    edges survive. Strong settings give the waxy, detail-free look of phone video in low light.
    """
    if radius_px <= 0:
        return video
    return by_frame_blocks(lambda block: _guided_filter(block, radius_px, eps), video)


def _guided_filter(video: torch.Tensor, radius_px: int, eps: float) -> torch.Tensor:
    """:func:`denoise` on (T, C, H, W) frames, ``radius_px`` >= 1."""
    mean = _box(video, radius_px)
    if records_grad(video):
        var = (_box(video * video, radius_px) - mean * mean).clamp_min(0)
        a = var / (var + eps)
        return _box(a, radius_px) * video + _box(mean - a * mean, radius_px)
    # intermediates are this function's own, so the chain runs in place; `tmp` serves twice
    tmp = torch.mul(video, video)
    var = _box(tmp, radius_px).addcmul_(mean, mean, value=-1).clamp_min_(0)
    a = var.div_(torch.add(var, eps, out=tmp))
    b = mean.addcmul_(a, mean, value=-1)  # mean - a · mean
    return _box(a, radius_px).mul_(video).add_(_box(b, radius_px))


def sharpen(video: torch.Tensor, amount: float = 0.0, sigma_px: float = 1.0) -> torch.Tensor:
    """Unsharp mask (Gonzalez & Woods, "Digital Image Processing", ch. 3): v + amount · (v − G_σ * v),
    clipped to 0..1 (display-encoded input).

    ``amount``: 0 = off, 1 = doubles the high frequencies; ``sigma_px``: Gaussian σ in pixels.
    Over-sharpening makes the halos at edges typical of cheap cameras.
    """
    if amount <= 0:
        return video
    return by_frame_blocks(lambda block: _unsharp_mask(block, amount, sigma_px), video)


def _unsharp_mask(video: torch.Tensor, amount: float, sigma_px: float) -> torch.Tensor:
    """:func:`sharpen` on (T, C, H, W) frames, ``amount`` > 0."""
    import kornia

    k = 2 * math.ceil(3 * sigma_px) + 1
    blurred = kornia.filters.gaussian_blur2d(video, (k, k), (sigma_px, sigma_px), border_type="reflect")
    # v + amount (v − blurred), on the blur's own buffer: blurred ← v − blurred, then v + amount · it
    detail = blurred.sub_(video).neg_()
    return detail.mul_(amount).add_(video).clamp_(0.0, 1.0)
