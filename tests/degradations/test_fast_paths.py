"""The speed-ups of the degradation library compute what the plain formulas do: cached warp grids
and falloff maps follow their parameters, in-place work never touches the caller's tensors, the
fast box filter and the layered defocus match their textbook forms, and autograd still works."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import synth.degradations as D
from synth.degradations._ops import remap
from synth.degradations.isp import _box
from synth.degradations.optics import _lens_grid, circle_of_confusion_px, disc_kernel
from synth.degradations.pipeline import stage_seed
from synth.degradations.registry import REGISTRY


def clip(t: int = 3, h: int = 24, w: int = 32, seed: int = 0) -> torch.Tensor:
    return torch.rand(t, 3, h, w, generator=torch.Generator().manual_seed(seed))


def test_lens_cache_follows_coefficients_and_size():
    from kornia.geometry.calibration import undistort_points

    _lens_grid.cache_clear()
    for k1, (h, w) in ((-0.1, (24, 32)), (-0.3, (24, 32)), (-0.1, (20, 30)), (-0.1, (24, 32))):
        video = clip(2, h, w)
        f = float(w)
        x, y = torch.meshgrid(torch.arange(w, dtype=torch.float32), torch.arange(h, dtype=torch.float32), indexing="xy")
        pts = torch.stack([x, y], dim=-1).reshape(1, -1, 2)
        K = torch.tensor([[[f, 0.0, (w - 1) / 2], [0.0, f, (h - 1) / 2], [0.0, 0.0, 1.0]]])
        src = undistort_points(pts, K, torch.tensor([[k1, 0.0, 0.0, 0.0, 0.0]]), num_iters=20).reshape(h, w, 2)
        expected = remap(video, src[..., 0], src[..., 1])  # mild lenses: every pixel has a ray
        assert torch.allclose(D.lens(video, k1=k1), expected, atol=1e-5)


def test_vignette_and_chromatic_aberration_caches_follow_parameters():
    h, w = 17, 41
    flat = torch.ones(1, 3, h, w)
    for fov in (60.0, 100.0, 60.0):
        f = (w / 2) / math.tan(math.radians(fov) / 2)
        r2 = ((w - 1) / 2) ** 2
        edge = float(D.vignette(flat, fov_deg=fov)[0, 0, h // 2, 0])
        assert edge == pytest.approx((f * f / (f * f + r2)) ** 2, rel=1e-5)
    video = clip(1, h, w)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    x, y = torch.meshgrid(torch.arange(w, dtype=torch.float32), torch.arange(h, dtype=torch.float32), indexing="xy")
    for m in (0.01, -0.02, 0.01):
        out = D.chromatic_aberration(video, magnification=m)
        red = remap(video[:, :1], cx + (x - cx) / (1 + m), cy + (y - cy) / (1 + m))
        blue = remap(video[:, 2:], cx + (x - cx) / (1 - m), cy + (y - cy) / (1 - m))
        assert torch.allclose(out[:, :1], red, atol=1e-6) and torch.allclose(out[:, 2:], blue, atol=1e-6)
        assert torch.equal(out[:, 1], video[:, 1])


@pytest.mark.parametrize("name", [n for n, s in REGISTRY.items() if s.domain in ("linear", "encode", "encoded")])
def test_stages_leave_their_input_alone_and_repeat_exactly(name):
    spec = REGISTRY[name]
    values = spec.make({"severity": 3}).resolved()
    video = clip(4, 32, 40) * 0.9
    depth = 1 + 10 * clip(4, 32, 40, seed=1)[:, 0]
    before = video.clone()
    outs = []
    for _ in range(2):
        gen = torch.Generator().manual_seed(stage_seed(7, name))
        outs.append(spec.call(video, values, {"fps": 30.0, "depth": depth, "generator": gen}))
        assert torch.equal(video, before), f"{name} modified its input"
    assert torch.equal(outs[0], outs[1])


def test_shot_noise_leaves_electrons_alone():
    e = torch.tensor([0.0, 3.0, 50.0, 500.0]).repeat(1000)
    before = e.clone()
    noisy = D.sensor.shot_noise(e, torch.Generator().manual_seed(0))
    assert torch.equal(e, before) and noisy.shape == e.shape


@pytest.mark.parametrize("radius", [1, 2, 4, 5, 12, 30])
def test_box_filter_matches_average_pooling(radius):
    x = clip(2, 29, 33) * 3
    mode = "reflect" if radius < 29 else "replicate"
    ref = F.avg_pool2d(F.pad(x, (radius,) * 4, mode=mode), 2 * radius + 1, stride=1)
    out = _box(x, radius)
    assert out.shape == x.shape and out.is_contiguous()
    assert torch.allclose(out, ref, atol=2e-6 * (2 * radius + 1))


def test_depth_varying_defocus_matches_layer_interpolation():
    video = clip(2, 40, 48)
    depth = 0.3 + 6 * clip(2, 40, 48, seed=3)[:, 0]
    params = dict(f_number=1.8, focal_mm=50.0, focus_m=1.0, sensor_width_mm=36.0)
    radius = circle_of_confusion_px(depth, 48, 50.0, 1.8, 1.0, 36.0) / 2
    r_max = float(radius.max())
    levels = torch.linspace(0.0, r_max, max(2, min(6, math.ceil(r_max) + 1)))
    stack = torch.stack([video if r == 0 else D.optics.convolve(video, disc_kernel(float(r))) for r in levels])
    pos = (radius / (r_max / (len(levels) - 1))).clamp(0, len(levels) - 1)
    lo = pos.floor().long().clamp(max=len(levels) - 2)
    frac = (pos - lo).unsqueeze(1)
    idx = lo.unsqueeze(0).unsqueeze(2).expand(1, 2, 3, 40, 48)
    expected = torch.gather(stack, 0, idx)[0] * (1 - frac) + torch.gather(stack, 0, idx + 1)[0] * frac
    assert torch.allclose(D.defocus(video, depth=depth, **params), expected, atol=1e-6)


@pytest.mark.parametrize(
    "fn",
    [D.linear_to_srgb, D.srgb_to_linear, lambda v: D.denoise(v, radius_px=2), lambda v: D.tone(v, curve="filmic"),
     lambda v: D.rolling_shutter(v, readout_frac=0.5), lambda v: D.lens(v, k1=-0.1)],
)  # fmt: skip
def test_fast_paths_keep_autograd_and_values(fn):
    x = clip(3, 16, 20).requires_grad_()
    y = fn(x)
    y.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    with torch.no_grad():
        assert torch.allclose(fn(x), y, atol=1e-6)


@pytest.mark.parametrize("per_frame", [False, True])
def test_fft_convolution_matches_direct_and_ignores_chunking(per_frame):
    """Kernels of FFT_TAPS taps or more go through the FFT: the result equals direct reflect-padded
    convolution (conv2d with the flipped kernel) within float rounding, and a frame's result does
    not depend on the frames it came with."""
    from synth.degradations._ops import FFT_TAPS, convolve

    video = clip(3, 40, 56)
    g = torch.Generator().manual_seed(1)
    kernels = torch.rand(3, 23, 23, generator=g) if per_frame else disc_kernel(11.0)
    assert kernels.shape[-1] ** 2 >= FFT_TAPS
    out = convolve(video, kernels)
    ker = kernels if per_frame else kernels.expand(3, -1, -1)
    pad = ker.shape[-1] // 2
    padded = F.pad(video, (pad, pad, pad, pad), mode="reflect")
    direct = torch.stack([F.conv2d(padded[i : i + 1], ker[i].flip(-1, -2).expand(3, 1, -1, -1), groups=3)[0]
                          for i in range(3)])  # fmt: skip
    assert out.shape == video.shape
    assert torch.allclose(out, direct, rtol=0, atol=1e-5 * float(ker.sum(dim=(-1, -2)).max()))
    one = convolve(video[1:2], kernels[1:2] if per_frame else kernels)
    assert torch.equal(one[0], out[1])
