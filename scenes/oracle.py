"""Pixel-only helpers oracles build on: they read decoded frames (uint8 (T, H, W, 3) sRGB) and
the option text, never a sample's parameters or tracks."""

from __future__ import annotations

import numpy as np

from synth.degradations.color import srgb_to_linear
from synth.scenes.palette import COLORS
from synth.scenes.wording import option_colors


def foreground(frames: np.ndarray, threshold: float = 30.0) -> np.ndarray:
    """Moving-pixel masks (T, H, W) bool: distance from the per-pixel temporal median, so the
    static background and static objects drop out."""
    f = frames.astype(np.float32)
    median = np.median(f, axis=0)
    return np.linalg.norm(f - median, axis=-1) > threshold


def color_mask(frames: np.ndarray, color: str, tolerance: float = 0.35) -> np.ndarray:
    """Pixels (T, H, W) bool whose chromaticity is close to the named colour's, robust to shading:
    compares normalised RGB directions, ignoring dark pixels."""
    f = frames.astype(np.float32) + 1.0
    ref = np.asarray(COLORS[color], dtype=np.float32) * 255 + 1.0
    fn = f / np.linalg.norm(f, axis=-1, keepdims=True)
    rn = ref / np.linalg.norm(ref)
    bright = f.max(axis=-1) > 40
    return bright & (np.linalg.norm(fn - rn, axis=-1) < tolerance * 0.5)


def centroids(masks: np.ndarray) -> np.ndarray:
    """Per-frame centroid (T, 2) as (x, y) pixels of boolean masks; NaN where a mask is empty."""
    out = np.full((len(masks), 2), np.nan)
    for k, m in enumerate(masks):
        ys, xs = np.nonzero(m)
        if len(xs):
            out[k] = xs.mean(), ys.mean()
    return out


def _chroma_direction(linear_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit hue direction and chroma of linear RGB: white light (ambient, specular) adds the
    same amount to every channel, so subtracting the smallest channel removes it."""
    chroma = linear_rgb - linear_rgb.min(axis=-1, keepdims=True)
    norm = np.linalg.norm(chroma, axis=-1, keepdims=True)
    return chroma / np.maximum(norm, 1e-6), norm[..., 0]


def object_mask(frames: np.ndarray, color: str, contrast: float = 25.0, min_chroma: float = 0.04) -> np.ndarray:
    """Pixels (T, H, W) bool of the object of a named colour, robust to shading and highlights.

    A pixel belongs to it if it differs from its row's background (read off the left and right
    image borders, where these families keep no object: that covers solid and vertical-gradient
    backgrounds) and its hue in linear light is nearer ``color`` than any other chromatic colour.
    """
    f = frames.astype(np.float32)
    border = np.concatenate([f[:, :, :2], f[:, :, -2:]], axis=2)
    row_background = np.median(border, axis=2, keepdims=True)
    differs = np.linalg.norm(f - row_background, axis=-1) > contrast
    hue, chroma = _chroma_direction(srgb_to_linear(f / 255.0))
    names = [c for c in COLORS if c != "white"]
    refs, _ = _chroma_direction(np.array([srgb_to_linear(COLORS[c]) for c in names]))
    nearest = np.argmax(hue @ refs.T, axis=-1)
    return differs & (chroma > min_chroma) & (nearest == names.index(color))


def color_track(frames: np.ndarray, color: str) -> np.ndarray:
    """Per-frame centroid (T, 2) of the object of a named colour; NaN where none is seen."""
    return centroids(object_mask(frames, color))


def travel_px(frames: np.ndarray, color: str) -> float:
    """How far the object of a colour moved: distance between its mean centroid over the first
    and over the last third of the clip (averaging thirds beats single-frame noise)."""
    c = color_track(frames, color)
    third = max(1, len(c) // 3)
    d = np.nanmean(c[-third:], axis=0) - np.nanmean(c[:third], axis=0)
    return float(np.hypot(*d)) if np.all(np.isfinite(d)) else 0.0


def most_travelled(frames: np.ndarray, options: list[str]) -> int:
    """Index of the option (naming an object by colour) whose object moved the most pixels."""
    return int(np.argmax([travel_px(frames, c) if c else 0.0 for c in option_colors(options)]))


def color_tracks(frames: np.ndarray, colors: list[str], min_pixels: int = 3) -> dict[str, np.ndarray]:
    """Per colour, the centroid (T, 2) of its bright pixels per frame (NaN where fewer than
    ``min_pixels``): the brightness floor keeps dark backgrounds (navy ~ blue) out."""
    bright = frames.max(axis=-1) > 90
    tracks = {}
    for color in colors:
        masks = color_mask(frames, color) & bright
        track = centroids(masks)
        track[masks.sum(axis=(1, 2)) < min_pixels] = np.nan
        tracks[color] = track
    return tracks


def displacement(track: np.ndarray) -> np.ndarray:
    """Distance (T,) in pixels of a centroid track from its first finite position (NaN before)."""
    finite = np.flatnonzero(np.isfinite(track[:, 0]))
    if not len(finite):
        return np.full(len(track), np.nan)
    return np.linalg.norm(track - track[finite[0]], axis=1)
