"""Transfer curves between linear light and 8-bit sRGB, and unprocessing of external video.

Sources: IEC 61966-2-1:1999 (sRGB transfer function); Brooks et al. 2019,
"Unprocessing Images for Learned Raw Denoising" (invert the ISP before adding sensor noise).

The one home of the sRGB curve for the whole package: scene colours (tuples), textures and pixel
arrays (numpy) and video tensors (torch). Importing this module does not import torch; the torch
paths import it when they run, so a caller that only converts colours or numpy arrays stays
torch-free.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    import torch


def _is_tensor(x: object) -> bool:
    """Whether ``x`` is a torch tensor (without importing torch: no tensor exists before it is)."""
    torch_module = sys.modules.get("torch")
    return torch_module is not None and isinstance(x, torch_module.Tensor)


def _as_float(x: torch.Tensor | np.ndarray) -> torch.Tensor:
    """uint8 (0..255) or float (0..1) array/tensor -> float32 tensor in 0..1."""
    import torch

    t = torch.as_tensor(x)
    if t.dtype == torch.uint8:
        return t.to(torch.float32) / 255.0
    return t.to(torch.float32)


def srgb_to_linear(x: torch.Tensor | np.ndarray | Sequence[float]) -> torch.Tensor | np.ndarray | tuple[float, ...]:
    """IEC 61966-2-1 decoding of sRGB-encoded values to linear light.

    * torch tensor, any shape, uint8 0..255 or float 0..1: float32 tensor, same shape, clipped to 0..1.
    * numpy array, any shape, float 0..1 (computed in its own float dtype, float32 stays float32)
      or uint8 0..255 (as float32): numpy array, same shape and dtype, not clipped.
    * a colour as a sequence of floats in 0..1 (computed in float64): tuple of floats.
    """
    if _is_tensor(x):
        return _srgb_to_linear_tensor(x)
    if isinstance(x, np.ndarray):
        c = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x
        return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return tuple(float(v) for v in srgb_to_linear(np.asarray(x, dtype=np.float64)))


def _srgb_to_linear_tensor(x: torch.Tensor) -> torch.Tensor:
    import torch

    from synth.degradations._ops import records_grad

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
    import torch

    from synth.degradations._ops import records_grad

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
    import torch

    t = torch.as_tensor(np.require(frames, requirements=["C", "W"]) if isinstance(frames, np.ndarray) else frames)
    if t.ndim != 4 or t.shape[-1] != 3:
        raise ValueError(f"frames must be (T, H, W, 3), got {tuple(t.shape)}")
    if device is not None:
        t = t.to(device)
    return _srgb_to_linear_tensor(t).permute(0, 3, 1, 2).contiguous()


def to_uint8(encoded: torch.Tensor) -> np.ndarray:
    """(T, 3, H, W) float display-encoded 0..1 -> (T, H, W, 3) numpy uint8 (rounded, clipped)."""
    import torch

    q = encoded.detach().clamp(0.0, 1.0).mul_(255.0).round_().to(torch.uint8)
    return q.permute(0, 2, 3, 1).contiguous().cpu().numpy()


def from_uint8(frames: np.ndarray, device: str | torch.device | None = None) -> torch.Tensor:
    """(T, H, W, 3) uint8 -> (T, 3, H, W) float32 0..1, still display-encoded (no transfer curve)."""
    import torch

    t = torch.as_tensor(np.require(frames, requirements=["C", "W"]))
    return (t.to(device) if device is not None else t).permute(0, 3, 1, 2).to(torch.float32) / 255.0
