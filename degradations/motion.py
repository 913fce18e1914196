"""Motion during the exposure and in the frame timeline, for external video.

Rendered clips get exact shutter blur and rolling shutter from the renderer (it integrates
the scene over the shutter interval); use these only on footage where that is not possible.
``video``: (T, 3, H, W) float32 linear light in and out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from synth.degradations._ops import (
    cached, convolve, frame_generators, frame_uniform, pixel_grid, sample, splat_kernel, stream_key, to_grid,
)  # fmt: skip


def _odd_size(extent_px: float) -> int:
    return 2 * math.ceil(extent_px / 2 + 1) + 1


def linear_kernel(length_px: float, angle_deg: float) -> torch.Tensor:
    """PSF of uniform linear motion: a segment ``length_px`` long at ``angle_deg`` (0 = +x,
    counter-clockwise as seen on screen). Returns (k, k) float32 summing to 1."""
    n = max(2, math.ceil(length_px * 4))
    # midpoints of n equal slices of the exposure: the samples' spread is exactly the path's
    s = (torch.arange(n) + 0.5) * (length_px / n) - length_px / 2
    a = math.radians(angle_deg)
    pts = torch.stack([s * math.cos(a), -s * math.sin(a)], dim=-1)
    return splat_kernel(pts[None], _odd_size(length_px))[0]


def motion_blur(video: torch.Tensor, length_px: float = 0.0, angle_deg: float = 0.0) -> torch.Tensor:
    """Uniform linear motion blur: the exposure integrates the image along a straight path.

    ``length_px``: blur length in pixels (0 = off); ``angle_deg``: direction. Energy is
    conserved (the PSF sums to 1). Source: the standard linear-motion PSF, e.g. Gonzalez & Woods,
    "Digital Image Processing", ch. 5 (image restoration).
    """
    if length_px <= 0:
        return video
    return convolve(video, linear_kernel(length_px, angle_deg).to(video.device))


def shake_kernels(
    frames: int, extent_px: float, generator: torch.Generator | Sequence[torch.Generator], steps: int = 64
) -> torch.Tensor:
    """Random camera-shake PSFs, one per frame: (T, k, k) float32, each summing to 1.

    Trajectories follow Boracchi & Foi 2012, "Modeling the performance of image restoration from
    motion blur": a random walk whose velocity gets Gaussian impulses and a pull back to the
    start (inertia plus a steadying hand), rescaled so the path spans ``extent_px`` pixels.
    ``generator``: one for all frames, or one per frame (frame i's path from generator i only).
    """
    if isinstance(generator, torch.Generator):
        dev = generator.device
        impulses = torch.randn(frames, steps, 2, generator=generator, device=dev)
    else:
        dev = generator[0].device if frames else torch.device("cpu")
        impulses = torch.stack([torch.randn(steps, 2, generator=g, device=g.device) for g in generator])
        impulses = impulses.reshape(frames, steps, 2)
    vel = torch.zeros(frames, 2, device=dev)
    pos = torch.zeros(frames, 2, device=dev)
    path = []
    for i in range(steps):
        vel = 0.7 * vel + impulses[:, i] - 0.1 * pos
        pos = pos + vel
        path.append(pos)
    pts = torch.stack(path, dim=1)
    pts = pts - pts.mean(dim=1, keepdim=True)
    span = (pts.amax(dim=1) - pts.amin(dim=1)).amax(dim=1).clamp_min(1e-6)
    pts = pts * (extent_px / span).view(frames, 1, 1)
    return splat_kernel(pts.cpu(), _odd_size(extent_px))


def camera_shake(
    video: torch.Tensor,
    extent_px: float = 0.0,
    generator: torch.Generator | None = None,
    index: torch.Tensor | None = None,
) -> torch.Tensor:
    """Hand-held camera shake: each frame blurred by its own random trajectory PSF
    (:func:`shake_kernels`). ``extent_px``: size of the trajectory in pixels (0 = off). Frame i's
    path comes from a generator seeded by (a key drawn from ``generator``, ``index[i]``), its
    number in the clip ((T,) int, default 0..T-1): independent of the other frames processed."""
    if extent_px <= 0:
        return video
    gens = frame_generators(generator, index, video.shape[0], torch.device("cpu"))
    return convolve(video, shake_kernels(video.shape[0], extent_px, gens).to(video.device))


def global_motion(video: torch.Tensor) -> torch.Tensor:
    """Image translation from each frame to the next by phase correlation (Kuglin & Hines 1975),
    sub-pixel by a parabola through the peak. Returns (T, 2) (dx, dy) pixels per frame; the last
    frame repeats the previous estimate."""
    t, _, h, w = video.shape
    if t < 2:
        return torch.zeros(t, 2, device=video.device)
    gray = video.mean(dim=1)
    win = torch.outer(torch.hann_window(h, device=video.device), torch.hann_window(w, device=video.device))
    spec = torch.fft.rfft2((gray - gray.mean(dim=(1, 2), keepdim=True)).mul_(win))
    cross = spec[1:] * spec[:-1].conj()
    # the cross-power spectrum normalised to unit magnitude (sgn: z / |z|, 0 where z = 0) in one pass
    corr = torch.fft.irfft2(cross.sgn_(), s=(h, w))
    flat = corr.reshape(t - 1, -1).argmax(dim=1)
    py, px = flat // w, flat % w
    # sub-pixel peak for all frame pairs at once: the three samples around each peak go to the CPU
    # (a few numbers), where float64 reproduces 0.5 (c₋ − c₊) / (c₋ − 2c₀ + c₊) on Python floats
    pair = torch.arange(t - 1, device=video.device)
    c0 = corr[pair, py, px].cpu()
    shifts = []
    for p, n, cm, cp in (
        (px, w, corr[pair, py, (px - 1) % w], corr[pair, py, (px + 1) % w]),
        (py, h, corr[pair, (py - 1) % h, px], corr[pair, (py + 1) % h, px]),
    ):
        cm, cp = cm.cpu(), cp.cpu()
        denom = (cm - 2 * c0 + cp).double()
        sub = torch.where(denom.abs() > 1e-12, 0.5 * (cm - cp).double() / denom, torch.zeros_like(denom))
        shifts.append(((p.cpu() + n // 2) % n - n // 2).double() + sub)
    motion = torch.stack(shifts, dim=1).to(device=video.device, dtype=torch.float32)
    return torch.cat([motion, motion[-1:]], dim=0)


@cached
def _identity_grid(h: int, w: int, device: torch.device) -> torch.Tensor:
    """Grid (H, W, 2) that samples every pixel at itself (cached, read-only)."""
    x, y = pixel_grid(h, w, device)
    return to_grid(x, y, h, w)


def rolling_shutter(video: torch.Tensor, readout_frac: float = 0.0) -> torch.Tensor:
    """Rolling-shutter skew: row y is read ``readout_frac`` · y / H frame intervals after row 0.

    Source: Liang, Chang & Chen 2008, "Analysis and compensation of rolling shutter effect".
    The image motion comes from :func:`global_motion` (camera pan/tilt), so each row is displaced
    by velocity × its readout delay; independent object motion is not skewed (the renderer does
    that exactly). ``readout_frac``: readout time / frame interval, 0..1 (0 = global shutter).
    """
    if readout_frac <= 0:
        return video
    t, _, h, w = video.shape
    v = global_motion(video)
    delay = readout_frac * torch.arange(h, dtype=torch.float32, device=video.device) / h  # frame intervals
    # source = pixel − velocity · delay(row), written straight in grid units (−1..1 spans w−1, h−1 px)
    velocity = v * torch.tensor([2 / max(w - 1, 1), 2 / max(h - 1, 1)], device=video.device)
    identity = _identity_grid(h, w, video.device)
    return sample(video, torch.addcmul(identity, velocity.view(t, 1, 1, 2), delay.view(1, h, 1, 1), value=-1))


def frame_drop_indices(
    frames: int,
    fps: float,
    drop_prob: float = 0.0,
    stutter_prob: float = 0.0,
    stutter_frames: int = 3,
    target_fps: float = 0.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, float]:
    """Which source frame each output frame shows, and the output rate.

    ``drop_prob``: each frame is lost with this probability and the previous one shown again;
    ``stutter_prob``: a frame freezes for ``stutter_frames`` frames, then the stream jumps to the
    present (both keep the timeline); ``target_fps`` > 0: resample the timeline to that rate by
    showing the latest frame captured at each output instant inside the clip (changes the frame
    count). Each frame's draws are keyed by (a key drawn from ``generator``, its index), so the
    indices for a clip's first n frames are the first entries of those for any longer clip: a
    stream can be retimed as it arrives. Indices never decrease.
    Returns (indices (T_out,) int64, output fps).
    """
    key = stream_key(generator)
    frame = np.arange(frames)
    idx = frame
    if drop_prob > 0:
        # a dropped frame shows the last kept one: the running maximum of the kept indices
        dropped = (frame_uniform(key, frame, stream=1) < drop_prob) & (frame > 0)
        idx = np.maximum.accumulate(np.where(dropped, 0, frame))
    if stutter_prob > 0:
        # a freeze starting at s shows frame s for stutter_frames frames; a start inside a running
        # freeze extends it (still showing the first start's picture)
        starts = frame[frame_uniform(key, frame, stream=2) < stutter_prob]
        if len(starts):
            head = np.maximum.accumulate(np.where(np.diff(starts, prepend=-stutter_frames) >= stutter_frames, starts, 0))
            last = np.searchsorted(starts, frame, side="right") - 1  # latest start <= frame
            frozen = (last >= 0) & (frame < starts[last] + stutter_frames)
            idx = np.where(frozen, idx[head[np.maximum(last, 0)]], idx)
    out_fps = fps
    if target_fps > 0:
        # output frame k is the instant k / target_fps; it exists while that instant lies inside the
        # input (k / target_fps < frames / fps), so a longer input only appends output frames
        n_out = math.floor(frames * target_fps / fps + 1e-9) + 2
        src = np.floor(np.arange(n_out, dtype=np.float64) * fps / target_fps + 1e-9).astype(np.int64)
        idx, out_fps = idx[src[src < frames]], target_fps
    idx = torch.from_numpy(np.ascontiguousarray(idx, dtype=np.int64))
    return idx, out_fps


def frame_drop(
    video: torch.Tensor,
    fps: float,
    drop_prob: float = 0.0,
    stutter_prob: float = 0.0,
    stutter_frames: int = 3,
    target_fps: float = 0.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, float]:
    """Frame drops, stutter and frame-rate change (see :func:`frame_drop_indices`).
    Returns (video (T_out, 3, H, W), output fps)."""
    idx, out_fps = frame_drop_indices(
        video.shape[0], fps, drop_prob, stutter_prob, stutter_frames, target_fps, generator
    )
    return video[idx.to(video.device)], out_fps
