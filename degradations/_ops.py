"""Small tensor helpers shared by the stages: pixel grids, warping, per-frame convolution, per-frame seeds."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F


def pixel_grid(h: int, w: int, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel-centre coordinates (x, y), each (H, W) float32; pixel (0, 0) centre is at (0, 0)."""
    ys = torch.arange(h, dtype=torch.float32, device=device)
    xs = torch.arange(w, dtype=torch.float32, device=device)
    y, x = torch.meshgrid(ys, xs, indexing="ij")
    return x, y


def remap(video: torch.Tensor, src_x: torch.Tensor, src_y: torch.Tensor) -> torch.Tensor:
    """Output pixel (y, x) takes ``video`` at source pixel coordinates (src_y, src_x), bilinear.

    ``video``: (T, C, H, W); ``src_x``/``src_y``: (H, W) or (T, H, W) in pixels. Sources outside
    the frame read black, as OpenCV's ``remap`` with BORDER_CONSTANT does.
    """
    _, _, h, w = video.shape
    return sample(video, to_grid(src_x, src_y, h, w))


def to_grid(src_x: torch.Tensor, src_y: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Source pixel coordinates (each (H, W) or (T, H, W)) of an H×W frame -> grid (..., H, W, 2)
    for :func:`sample`."""
    # align_corners=True makes -1/+1 the centres of the edge pixels, matching pixel_grid
    gx = src_x / max(w - 1, 1) * 2 - 1
    gy = src_y / max(h - 1, 1) * 2 - 1
    return torch.stack([gx, gy], dim=-1)


def sample(video: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """:func:`remap` with the source positions already normalised for ``grid_sample``.

    ``grid``: (H, W, 2) or (T, H, W, 2), (x, y) in -1..1 (align_corners=True convention), e.g. a
    cached warp. Frames stay the batch dimension: CPU grid_sample parallelises over it, so one
    expanded (stride-0) grid beats folding frames into channels.
    """
    if grid.ndim == 3:
        grid = grid.expand(video.shape[0], -1, -1, -1)
    return F.grid_sample(video, grid, mode="bilinear", padding_mode="zeros", align_corners=True)


def records_grad(*tensors: torch.Tensor) -> bool:
    """True when autograd is recording through any of ``tensors``. The fast paths that write into
    their own buffers (in place, ``out=``) would break the graph, so they fall back to the plain
    out-of-place formula then."""
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def cached(fn):  # type: ignore[no-untyped-def]
    """``functools.lru_cache`` for warp/falloff/kernel builders that depend only on (shape, params,
    device): the returned tensors are shared between calls, so callers must never modify them.
    Eight entries per builder: a pipeline uses one or two, and a 4K warp grid is 66 MB. Built as
    plain tensors outside any no-grad/inference context the first caller happens to be in, so a
    cached tensor serves autograd callers too."""
    memo = functools.lru_cache(maxsize=8)(fn)

    @functools.wraps(fn)
    def build(*args):  # type: ignore[no-untyped-def]
        with torch.inference_mode(False), torch.no_grad():
            return memo(*args)

    build.cache_clear = memo.cache_clear  # type: ignore[attr-defined]
    return build


# Elements per block of :func:`by_frame_blocks`: four 256² RGB frames, 3 MB of float32, so a
# stage's dozen temporaries of a block stay in the 32 MB L3 cache, where those of a 32-frame chunk
# (25 MB each) stream through memory once per pass. Measured on 2 CPU cores at 256², CPU time on
# one thread: the guided filter 2.3 -> 1.4 ms a frame, the unsharp mask 1.1 -> 0.8; blocks of one
# or two such frames lose more in per-call overhead than they gain. Larger frames go one a block.
BLOCK_ELEMENTS = 4 * 3 * 256 * 256


def by_frame_blocks(fn: Callable[..., torch.Tensor], video: torch.Tensor, *args: torch.Tensor | None) -> torch.Tensor:
    """``fn(video[i:i+n], *(a[i:i+n] for a in args))`` for consecutive blocks of ``n`` frames
    (:data:`BLOCK_ELEMENTS` elements, at least one frame),
    written into one (T, ...) output: a per-frame stage's chain of passes then runs on a block that
    fits in cache instead of streaming the whole chunk through memory once per pass. The result
    equals ``fn(video, *args)`` bit for bit when ``fn`` treats frames independently and returns the
    same shape (None in ``args`` passes through). Under autograd (or for one block) ``fn`` runs on
    the whole tensor: writing blocks into a buffer would cut the graph."""
    t = video.shape[0]
    block = max(1, BLOCK_ELEMENTS // max(1, video[0].numel()))
    if t <= block or records_grad(video, *(a for a in args if a is not None)):
        return fn(video, *args)
    out: torch.Tensor | None = None
    for start in range(0, t, block):
        part = fn(video[start : start + block], *(None if a is None else a[start : start + block] for a in args))
        if out is None:
            out = torch.empty((t, *part.shape[1:]), dtype=part.dtype, device=part.device)
        out[start : start + block] = part
    assert out is not None
    return out


# Kernels with at least this many taps (after dropping all-zero rows and columns) are applied
# through the FFT: direct depthwise convolution costs taps x pixels, the FFT a few log(pixels)
# per pixel. Measured on 2 CPU cores: at 1920x1080 a 39x39 disc (defocus at severity 3) takes
# 0.41 s a frame directly and 0.11 s through the FFT; at 256² a 7x7 disc is faster directly.
FFT_TAPS = 400


def convolve(video: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Convolve each frame with its own normalised kernel, reflect-padded borders.

    ``video``: (T, C, H, W); ``kernels``: (k, k) for all frames or (T, k, k), k odd. Kernels of
    :data:`FFT_TAPS` taps or more go through the FFT (same result within float rounding, about
    1e-6); the method depends only on the kernel, never on how many frames come at once.
    """
    t, c, h, w = video.shape
    k = kernels.shape[-1]
    ker = kernels.expand(t, k, k) if kernels.ndim == 2 else kernels
    # kernels are point-spread functions; conv2d correlates, so flip to convolve
    ker = ker.flip(-1, -2)
    pad = k // 2
    mode = "reflect" if pad < min(h, w) else "replicate"
    x = F.pad(video.reshape(1, t * c, h, w), (pad, pad, pad, pad), mode=mode)
    # rows/columns that are zero in every frame's kernel add nothing: drop them and the input
    # margin they would have read (a horizontal motion PSF is one row of its k×k square)
    support = ker.ne(0).any(dim=0)
    rows, cols = support.any(dim=1).nonzero().flatten(), support.any(dim=0).nonzero().flatten()
    if len(rows) and len(cols):
        r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
        ker = ker[:, r0:r1, c0:c1]
        x = x[..., r0 : r0 + h + r1 - r0 - 1, c0 : c0 + w + c1 - c0 - 1]
    ker = ker.to(video.dtype)
    if ker.shape[-2] * ker.shape[-1] >= FFT_TAPS and video.dtype in (torch.float32, torch.float64):
        return _fft_correlate(x.reshape(t, c, *x.shape[-2:]), ker)
    weight = ker.repeat_interleave(c, dim=0).unsqueeze(1)
    return F.conv2d(x, weight, groups=t * c).reshape(t, c, h, w)


def _fft_correlate(x: torch.Tensor, ker: torch.Tensor) -> torch.Tensor:
    """``conv2d`` without padding (cross-correlation, "valid" part) through the FFT.

    ``x``: (T, C, H + kh - 1, W + kw - 1) padded frames; ``ker``: (T, kh, kw); returns (T, C, H, W).
    Correlating with ``ker`` is convolving with it flipped; the circular convolution's wrapped
    rows and columns all fall in the first kh - 1 / kw - 1, which are cut."""
    kh, kw = ker.shape[-2:]
    size = x.shape[-2:]
    spectrum = torch.fft.rfft2(x)
    spectrum.mul_(torch.fft.rfft2(ker.flip(-1, -2), s=size).unsqueeze(1))
    return torch.fft.irfft2(spectrum, s=size)[..., kh - 1 :, kw - 1 :].contiguous()


def splat_kernel(points: torch.Tensor, size: int) -> torch.Tensor:
    """Rasterise sample points of a path (pixel offsets from the kernel centre) into a PSF.

    ``points``: (T, N, 2) (dx, dy) in pixels; returns (T, size, size) kernels, each summing to 1
    (bilinear splatting, so sub-pixel paths keep their exact centroid).
    """
    t, n, _ = points.shape
    c = size // 2
    px = (points[..., 0] + c).clamp(0, size - 1.0001)
    py = (points[..., 1] + c).clamp(0, size - 1.0001)
    x0, y0 = px.floor(), py.floor()
    fx, fy = px - x0, py - y0
    x0, y0 = x0.long(), y0.long()
    ker = torch.zeros(t, size * size, dtype=torch.float32, device=points.device)
    for dx, dy, wgt in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        ker.scatter_add_(1, (y0 + dy) * size + (x0 + dx), wgt)
    ker = ker / ker.sum(dim=1, keepdim=True)
    return ker.reshape(t, size, size)


# -- randomness keyed by frame ------------------------------------------------------------------
# A random stage draws each frame's numbers from a generator seeded by (its stream key, the frame's
# index in the clip), never from one generator run over the clip: then a frame's noise is the same
# whether the clip is processed whole or in chunks of any size, in any order.

_U64 = np.uint64


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (Steele, Lea & Flood 2014), elementwise on uint64 (wraps mod 2^64)."""
    with np.errstate(over="ignore"):
        x = (x + _U64(0x9E3779B97F4A7C15)) & _U64(0xFFFFFFFFFFFFFFFF)
        x = ((x ^ (x >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)) & _U64(0xFFFFFFFFFFFFFFFF)
        x = ((x ^ (x >> _U64(27))) * _U64(0x94D049BB133111EB)) & _U64(0xFFFFFFFFFFFFFFFF)
        return x ^ (x >> _U64(31))


def stream_key(generator: torch.Generator | None) -> int:
    """One 62-bit key drawn from ``generator`` (None = seed 0): what a stage's per-frame draws are keyed by."""
    gen = generator if generator is not None else torch.Generator().manual_seed(0)
    return int(torch.randint(0, 2**62, (1,), generator=gen, device=gen.device))


def frame_hash(key: int, index: np.ndarray | torch.Tensor, stream: int = 0) -> np.ndarray:
    """Per-frame 64-bit hashes (uint64, shape of ``index``) of (``key``, ``stream``, frame index)."""
    idx = np.asarray(index.cpu() if isinstance(index, torch.Tensor) else index, dtype=np.int64).astype(_U64)
    return _splitmix64(_splitmix64(np.full_like(idx, key) ^ _U64(stream)) ^ idx)


def frame_uniform(key: int, index: np.ndarray | torch.Tensor, stream: int = 0) -> np.ndarray:
    """Per-frame uniform numbers in [0, 1) (float64, shape of ``index``) keyed by (key, stream, index)."""
    return (frame_hash(key, index, stream) >> _U64(11)).astype(np.float64) * 2.0**-53


def frame_generators(
    generator: torch.Generator | None, index: torch.Tensor | None, frames: int, device: torch.device
) -> list[torch.Generator]:
    """One generator per frame on ``device``, seeded by (a key drawn from ``generator``, the frame's
    index in the clip). ``index``: (T,) absolute frame numbers (None = 0..frames-1)."""
    idx = torch.arange(frames) if index is None else index
    seeds = frame_hash(stream_key(generator), idx) >> _U64(1)  # manual_seed takes < 2^63
    return [torch.Generator(device=device).manual_seed(int(s)) for s in seeds]
