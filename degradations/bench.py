"""Throughput of the camera model, for ``synth bench`` / ``make bench``."""

from __future__ import annotations

import time

import numpy as np
import torch

from synth.degradations.pipeline import Pipeline
from synth.degradations.registry import REGISTRY

# Every non-codec degradation at severity 3, except the alternatives to one already in the
# stack (a camera has one lens model and one exposure): fisheye and overexposure.
STACK = [n for n, s in REGISTRY.items() if n not in ("fisheye", "overexposure", "compression")]


def _frames_per_s(pipe: Pipeline, video: torch.Tensor, repeats: int = 3) -> float:
    pipe.apply(video[:2], fps=30.0)  # warm-up: kernels, allocator
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        pipe.apply(video, fps=30.0, seed=1)
        if video.is_cuda:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return video.shape[0] / best


def degradations_bench(
    size: int = 256, frames: int = 32, device: str | None = None
) -> list[tuple[str, float, str, float | None]]:
    """[(name, value, unit, goal)]: frames/s of the full non-codec stack (uint8 out) at size²,
    of the same stack without the sensor noise, and of one h264 round trip (crf 28)."""
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    g = torch.Generator().manual_seed(0)
    video = torch.rand(frames, 3, size, size, generator=g).to(dev)
    depth = (2 + 20 * torch.rand(frames, size, size, generator=g)).to(dev)
    stack = Pipeline([(n, {"severity": 3}) for n in STACK])
    stack_fps = _frames_per_s(stack, video)
    codec = Pipeline([("compression", {"severity": 2})])
    rows = [
        (f"degradations: full non-codec stack ({len(STACK)} stages) {size}² {dev.type}", stack_fps, "frames/s", 500.0),
        (f"degradations: h264 crf 28 round trip {size}²", _frames_per_s(codec, video), "frames/s", None),
    ]
    with_depth = Pipeline([(n, {"severity": 3}) for n in ("fog", "defocus")])
    start = time.perf_counter()
    with_depth.apply(video, fps=30.0, depth=depth)
    depth_fps = frames / (time.perf_counter() - start)
    rows.append((f"degradations: fog + depth-varying defocus {size}²", depth_fps, "frames/s", None))
    return rows


def stage_profile(size: int = 256, frames: int = 32) -> dict[str, float]:
    """Frames/s of each stage alone (linear in, uint8 out), to find the slow ones. Best of three
    runs: on a shared 2-core machine a single run swings by several times."""
    video = torch.rand(frames, 3, size, size, generator=torch.Generator().manual_seed(0))
    return {n: float(np.round(_frames_per_s(Pipeline([(n, {"severity": 3})]), video, 3), 1)) for n in STACK}


if __name__ == "__main__":
    for row in degradations_bench():
        print(row)
    print(stage_profile())
