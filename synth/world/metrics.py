"""Colour and object scores of generated frames (PSNR and SSIM per frame are
:mod:`synth.degradations.quality`'s, at its 60 dB cap).

* CIELAB: ``kornia.color.rgb_to_lab`` (sRGB, D65).
* CIEDE2000 colour difference: G. Sharma, W. Wu, E. N. Dalal (2005), "The CIEDE2000
  color-difference formula: implementation notes, supplementary test data, and mathematical
  observations", Color Research & Application 30(1):21-30 (equations (1)-(22), k_L = k_C =
  k_H = 1), checked against that paper's test pairs in tests/world/test_world.py.
"""

from __future__ import annotations

import math

import numpy as np

# Object scores need this many ground-truth pixels; fewer and the object is too small to judge.
MIN_OBJECT_PIXELS = 4
# An object is present when it stands out from its surroundings at least this share as much as
# in the ground truth (CIEDE2000 between the mean colours inside the mask and in a ring around it).
PRESENCE_SHARE = 0.5
# Below this contrast (CIEDE2000) in the ground truth, presence is not decidable.
MIN_CONTRAST = 5.0
# Pixels within this CIEDE2000 of the object's true mean colour count as the object when finding it.
MATCH_DELTA_E = 15.0


def _tensor(frames: np.ndarray):
    import torch

    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255.0


def lab(frames: np.ndarray) -> np.ndarray:
    """CIELAB (N, H, W, 3) float64 (L in 0..100) of uint8 sRGB frames (N, H, W, 3)."""
    import kornia

    return kornia.color.rgb_to_lab(_tensor(frames)).permute(0, 2, 3, 1).double().numpy()


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference between CIELAB colours (..., 3), broadcast; Sharma et al.
    (2005), equations (1)-(22), with k_L = k_C = k_H = 1."""
    L1, a1, b1 = np.moveaxis(np.asarray(lab1, dtype=np.float64), -1, 0)
    L2, a2, b2 = np.moveaxis(np.asarray(lab2, dtype=np.float64), -1, 0)
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.where((a1p == 0) & (b1 == 0), 0.0, np.degrees(np.arctan2(b1, a1p)) % 360)
    h2p = np.where((a2p == 0) & (b2 == 0), 0.0, np.degrees(np.arctan2(b2, a2p)) % 360)
    chroma_zero = c1p * c2p == 0
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(chroma_zero, 0.0, dh)
    d_l, d_c = L2 - L1, c2p - c1p
    d_h = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh) / 2)
    l_bar, cp_bar = (L1 + L2) / 2, (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_bar = np.where(
        chroma_zero,
        h_sum,
        np.where(np.abs(h1p - h2p) <= 180, h_sum / 2, np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2)),
    )
    t = (
        1
        - 0.17 * np.cos(np.radians(h_bar - 30))
        + 0.24 * np.cos(np.radians(2 * h_bar))
        + 0.32 * np.cos(np.radians(3 * h_bar + 6))
        - 0.20 * np.cos(np.radians(4 * h_bar - 63))
    )
    d_theta = 30 * np.exp(-(((h_bar - 275) / 25) ** 2))
    r_c = 2 * np.sqrt(cp_bar**7 / (cp_bar**7 + 25.0**7))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / np.sqrt(20 + (l_bar - 50) ** 2)
    s_c = 1 + 0.045 * cp_bar
    s_h = 1 + 0.015 * cp_bar * t
    r_t = -np.sin(np.radians(2 * d_theta)) * r_c
    return np.sqrt((d_l / s_l) ** 2 + (d_c / s_c) ** 2 + (d_h / s_h) ** 2 + r_t * (d_c / s_c) * (d_h / s_h))


def object_scores(generated_lab: np.ndarray, truth_lab: np.ndarray, mask: np.ndarray) -> dict | None:
    """Scores of one object in one generated frame, inside its ground-truth mask.

    ``generated_lab`` / ``truth_lab``: CIELAB (H, W, 3) of the generated frame and of the render;
    ``mask``: (H, W) bool, the object's ground-truth instance mask. Returns None when the mask has
    fewer than :data:`MIN_OBJECT_PIXELS` pixels, else

    * ``delta_e``: CIEDE2000 between the mean CIELAB colours inside the mask (generated vs true);
    * ``present``: 1.0 if the generated mask region stands out from a 2-pixel ring around it at
      least :data:`PRESENCE_SHARE` as much as in the render (contrast = CIEDE2000 between the
      mean colours inside and in the ring), else 0.0; NaN when the render's contrast is under
      :data:`MIN_CONTRAST` or there is no ring (undecidable);
    * ``position_px``: distance in pixels from the mask's centroid to the centroid of the
      generated pixels within :data:`MATCH_DELTA_E` of the object's true mean colour, searched
      in the mask's bounding box grown by twice its size on every side; NaN when fewer than a
      quarter of the mask's pixel count match (not found).
    """
    from scipy.ndimage import binary_dilation

    count = int(mask.sum())
    if count < MIN_OBJECT_PIXELS:
        return None
    true_mean = truth_lab[mask].mean(0)
    generated_mean = generated_lab[mask].mean(0)
    ring = binary_dilation(mask, iterations=2) & ~mask
    present = math.nan
    if ring.any():
        true_contrast = float(ciede2000(true_mean, truth_lab[ring].mean(0)))
        if true_contrast >= MIN_CONTRAST:
            contrast = float(ciede2000(generated_mean, generated_lab[ring].mean(0)))
            present = float(contrast >= PRESENCE_SHARE * true_contrast)
    ys, xs = np.nonzero(mask)
    h, w = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    y0, y1 = max(0, ys.min() - 2 * h), min(mask.shape[0], ys.max() + 2 * h + 1)
    x0, x1 = max(0, xs.min() - 2 * w), min(mask.shape[1], xs.max() + 2 * w + 1)
    match = ciede2000(generated_lab[y0:y1, x0:x1], true_mean) < MATCH_DELTA_E
    position = math.nan
    if match.sum() >= max(1, count / 4):
        my, mx = np.nonzero(match)
        position = float(math.hypot(mx.mean() + x0 - xs.mean(), my.mean() + y0 - ys.mean()))
    return {"delta_e": float(ciede2000(generated_mean, true_mean)), "present": present, "position_px": position}
