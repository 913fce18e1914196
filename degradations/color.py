"""Transfer curves between linear light and 8-bit sRGB, and unprocessing of external video.

Sources: IEC 61966-2-1:1999 (sRGB transfer function); Brooks et al. 2019,
"Unprocessing Images for Learned Raw Denoising" (invert the ISP before adding sensor noise).
"""

from __future__ import annotations

import numpy as np
import torch

from synth.degradations._ops import records_grad


def _as_float(x: torch.Tensor | np.ndarray) -> torch.Tensor:
    """uint8 (0..255) or float (0..1) array/tensor -> float32 tensor in 0..1."""
    t = torch.as_tensor(x)
    if t.dtype == torch.uint8:
        return t.to(torch.float32) / 255.0
    return t.to(torch.float32)


def srgb_to_linear(x: torch.Tensor | np.ndarray) -> torch.Tensor:
    """IEC 61966-2-1 decoding. ``x``: any shape, uint8 0..255 or float 0..1 (sRGB-encoded).

    Returns float32 linear light, same shape, 0..1.
    """
    v = _as_float(x).clamp(0.0, 1.0)
    if records_grad(v):
        return torch.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    # the power branch on its own buffer, then the linear toe written over it where it applies
    # (the mask is evaluated before the toe scales v in place: arguments run left to right)
    curve = v.add(0.055).div_(1.055).pow_(2.4)
    return torch.where(v <= 0.04045, v.div_(12.92), curve, out=curve)


def linear_to_srgb(x: torch.Tensor) -> torch.Tensor:
    """IEC 61966-2-1 encoding. ``x``: any shape, float linear light (clipped to 0..1 first, as a display does).

    Returns float32 sRGB-encoded values, same shape, 0..1.
    """
    v = x.to(torch.float32).clamp(0.0, 1.0)
    # clamp_min keeps pow's gradient/NaN-free on the branch torch.where discards
    if records_grad(v):
        return torch.where(v <= 0.0031308, v * 12.92, 1.055 * v.clamp_min(0.0031308) ** (1 / 2.4) - 0.055)
    # the power branch is built on its own buffer and the linear toe written over it where it
    # applies (the mask is evaluated before the toe scales v in place: arguments run left to right)
    curve = v.clamp_min(0.0031308).pow_(1 / 2.4).mul_(1.055).sub_(0.055)
    return torch.where(v <= 0.0031308, v.mul_(12.92), curve, out=curve)


def unprocess(frames: torch.Tensor | np.ndarray, device: str | torch.device | None = None) -> torch.Tensor:
    """External 8-bit video back to linear light (the step Brooks et al. 2019 call unprocessing).

    ``frames``: (T, H, W, 3) uint8 sRGB (numpy or tensor). Returns (T, 3, H, W) float32 linear, 0..1.
    Only the sRGB transfer curve is inverted: a camera's own tone curve and white balance are
    unknown for arbitrary footage, and sRGB is the standard every consumer video declares.
    """
    t = torch.as_tensor(np.require(frames, requirements=["C", "W"]) if isinstance(frames, np.ndarray) else frames)
    if t.ndim != 4 or t.shape[-1] != 3:
        raise ValueError(f"frames must be (T, H, W, 3), got {tuple(t.shape)}")
    if device is not None:
        t = t.to(device)
    return srgb_to_linear(t).permute(0, 3, 1, 2).contiguous()


def to_uint8(encoded: torch.Tensor) -> np.ndarray:
    """(T, 3, H, W) float display-encoded 0..1 -> (T, H, W, 3) numpy uint8 (rounded, clipped)."""
    q = encoded.detach().clamp(0.0, 1.0).mul_(255.0).round_().to(torch.uint8)
    return q.permute(0, 2, 3, 1).contiguous().cpu().numpy()


def from_uint8(frames: np.ndarray, device: str | torch.device | None = None) -> torch.Tensor:
    """(T, H, W, 3) uint8 -> (T, 3, H, W) float32 0..1, still display-encoded (no transfer curve)."""
    t = torch.as_tensor(np.require(frames, requirements=["C", "W"]))
    return (t.to(device) if device is not None else t).permute(0, 3, 1, 2).to(torch.float32) / 255.0
