"""Full-reference quality of frames against a reference: PSNR and SSIM.

Both follow ``kornia.metrics`` on sRGB scaled to [0, 1]. SSIM: Gaussian window 11 (smaller on
frames smaller than that), sigma 1.5 (Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli (2004),
"Image quality assessment: from error visibility to structural similarity", IEEE TIP 13(4)).

PSNR has one cap, :data:`PSNR_CAP_DB` = 60 dB, so identical frames score a finite number (one
8-bit level of error everywhere is 48.1 dB; a single frame's PSNR rarely passes 60 dB unless
nothing changed). A caller that pools the error over many frames, where the PSNR of a clip that
differs a little passes 60 dB, passes its own ``cap_db`` (``synth calibrate``: 99 dB).

Frames are uint8 sRGB arrays (N, H, W, 3); each function gives one value per frame, or for PSNR
with ``per_frame=False`` one value of the error pooled over all N frames (a clip's PSNR).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

PSNR_CAP_DB = 60.0


def _unit(frames: np.ndarray) -> torch.Tensor:
    """(N, 3, H, W) float32 in [0, 1] of uint8 frames (N, H, W, 3)."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255.0


def psnr(a: np.ndarray, b: np.ndarray, cap_db: float = PSNR_CAP_DB, per_frame: bool = True) -> np.ndarray | float:
    """PSNR in dB of uint8 frames ``a`` against ``b`` (both (N, H, W, 3)), capped at ``cap_db``
    (identical frames score ``cap_db``): float64 (N,) per frame, or with ``per_frame=False`` one
    float of the mean squared error over all N frames."""
    squared = (_unit(a) - _unit(b)) ** 2
    mse = squared.flatten(1).mean(1) if per_frame else squared.mean()[None]
    with np.errstate(divide="ignore"):
        values = np.minimum(10 * np.log10(1.0 / mse.double().numpy()), cap_db)
    return values if per_frame else float(values[0])


def ssim(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean SSIM (N,) float64 in [-1, 1] (1 = identical) of uint8 frames ``a`` against ``b`` (both
    (N, H, W, 3)): each frame's SSIM map averaged over its pixels and channels (kornia, window 11,
    or the frame's odd size when smaller)."""
    import kornia

    window = min(11, a.shape[1] | 1, a.shape[2] | 1)
    values = kornia.metrics.ssim(_unit(a), _unit(b), window_size=window, max_val=1.0)
    return values.flatten(1).mean(1).double().numpy()
