"""Physical laws of the degradation library (small CPU tensors; no outputs captured from the code)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import synth.degradations as D
from synth.degradations.motion import frame_drop_indices, global_motion, linear_kernel, shake_kernels
from synth.degradations.optics import circle_of_confusion_px, disc_kernel


def blob(h: int, w: int, cx: float, cy: float, sigma: float = 1.2) -> torch.Tensor:
    y, x = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    img = torch.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma**2)).float()
    return img.expand(1, 3, h, w).contiguous()


def centroid(img: torch.Tensor, around: tuple[float, float], radius: int = 6) -> tuple[float, float]:
    """Intensity centroid (x, y) of channel 0 in a window around a point."""
    a = img[0, 0].double()
    h, w = a.shape
    y, x = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    m = ((x - around[0]).abs() <= radius) & ((y - around[1]).abs() <= radius)
    wgt = a * m
    return float((wgt * x).sum() / wgt.sum()), float((wgt * y).sum() / wgt.sum())


def texture(t: int = 8, h: int = 64, w: int = 64, v: float = 2.0, seed: int = 0) -> torch.Tensor:
    """A smooth random texture translating right by ``v`` px/frame (periodic), linear 0.05..0.9."""
    g = torch.Generator().manual_seed(seed)
    spec = torch.randn(3, h, w, generator=g, dtype=torch.complex64)
    fy = torch.fft.fftfreq(h).view(h, 1)
    fx = torch.fft.fftfreq(w).view(1, w)
    base = torch.fft.ifft2(spec / (1 + 200 * (fx**2 + fy**2))).real
    base = (base - base.amin()) / (base.amax() - base.amin()) * 0.85 + 0.05
    freq = torch.fft.fft2(base)
    frames = [torch.fft.ifft2(freq * torch.exp(-2j * math.pi * fx * v * i)).real for i in range(t)]
    return torch.stack(frames).float()


# -- colour ------------------------------------------------------------------------------------


def test_srgb_standard_points_and_uint8_round_trip():
    # IEC 61966-2-1: sRGB 0.5 is 0.2140 linear; the two branches meet at 0.04045 / 0.0031308
    assert float(D.srgb_to_linear(torch.tensor(0.5))) == pytest.approx(0.21404, abs=1e-4)
    assert float(D.srgb_to_linear(torch.tensor(0.04045))) == pytest.approx(0.0031308, abs=1e-6)
    codes = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1).repeat(3, axis=3)
    back = D.to_uint8(D.linear_to_srgb(D.unprocess(codes)))
    assert np.array_equal(back, codes)


# -- sensor ------------------------------------------------------------------------------------


def test_photon_transfer_variance_linear_in_mean_with_conversion_gain():
    ev, fw, read = -3.0, 6000.0, 3.0
    levels = torch.tensor([0.02, 0.05, 0.1, 0.2, 0.4, 0.6])  # 15..450 e-: both Poisson paths
    flat = levels.view(-1, 1, 1, 1).expand(6, 3, 96, 96).contiguous()
    gen = torch.Generator().manual_seed(1)
    out = D.low_light(flat, ev=ev, full_well_e=fw, read_noise_e=read, bits=16, generator=gen)
    mean = out.mean(dim=(1, 2, 3)).double()
    var = out.var(dim=(1, 2, 3)).double()
    gain = 2.0**-ev  # the digital gain restoring brightness
    # gain back: the mean returns to the scene level
    assert torch.allclose(mean, levels.double(), rtol=0.01)
    slope, intercept = np.polyfit(mean.numpy(), var.numpy(), 1)
    # EMVA 1288: var = K * mean + K^2 read^2 with K = gain / full well (output units per electron)
    k = gain / fw
    assert slope == pytest.approx(k, rel=0.04)
    assert intercept == pytest.approx(k * k * read * read, abs=0.5 * k * k * read * read + 2e-7)
    pred = slope * mean.numpy() + intercept
    r2 = 1 - ((var.numpy() - pred) ** 2).sum() / ((var.numpy() - var.numpy().mean()) ** 2).sum()
    assert r2 > 0.995


def test_full_well_clips_and_overexposure_saturates():
    flat = torch.full((2, 3, 32, 32), 0.3)
    over = D.low_light(flat, ev=2.0, full_well_e=5000.0, generator=torch.Generator().manual_seed(0))
    assert torch.all(over == 1.0)  # 1.2 wells of charge: every pixel clips at full well
    bright = D.low_light(torch.full((1, 3, 16, 16), 5.0), ev=-1.0, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(bright, torch.full_like(bright, 2.0))  # full well, times the 2^1 gain


def test_low_light_takes_a_strided_input_as_its_contiguous_copy():
    """A warp before the sensor (lens) can hand it a strided tensor; the noise is the same."""
    video = torch.rand(3, 3, 16, 24).transpose(2, 3).contiguous().transpose(2, 3)  # strided, same values
    assert not video.is_contiguous()
    kwargs = dict(ev=-4, read_noise_e=8.0, row_noise_e=2.0, dark_current_e=8.0)
    strided = D.low_light(video, generator=torch.Generator().manual_seed(5), **kwargs)
    assert torch.equal(strided, D.low_light(video.contiguous(), generator=torch.Generator().manual_seed(5), **kwargs))


def test_row_noise_is_shared_along_rows():
    flat = torch.full((4, 3, 64, 64), 0.5)
    out = D.low_light(flat, ev=0.0, full_well_e=20000.0, row_noise_e=200.0, generator=torch.Generator().manual_seed(2))
    g = out.mean(dim=1)
    across_rows = g.mean(dim=2).var(dim=1).mean()  # variance of row means
    across_cols = g.mean(dim=1).var(dim=1).mean()  # variance of column means
    assert across_rows > 20 * across_cols
    assert float(across_rows.sqrt()) == pytest.approx(200.0 / 20000.0, rel=0.3)


def test_quantisation_has_2_pow_bits_levels():
    ramp = torch.linspace(0, 1, 4096).view(1, 1, 64, 64).expand(1, 3, 64, 64).contiguous()
    out = D.low_light(ramp, full_well_e=1e7, bits=4, generator=torch.Generator().manual_seed(0))
    assert len(torch.unique(out)) <= 16


# -- optics ------------------------------------------------------------------------------------


def opencv_distort(x: float, y: float, k1, k2, k3, p1, p2) -> tuple[float, float]:
    r2 = x * x + y * y
    radial = 1 + k1 * r2 + k2 * r2 * r2 + k3 * r2**3
    return x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x), y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y


@pytest.mark.parametrize("q", [(20.0, 14.0), (62.0, 47.0), (12.5, 50.0)])
def test_lens_moves_points_where_brown_conrady_says(q):
    h, w, f = 65, 81, 70.0
    coef = dict(k1=-0.25, k2=0.08, k3=0.0, p1=0.01, p2=-0.008)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    out = D.lens(blob(h, w, *q), focal_px=f, **coef)
    xd, yd = opencv_distort((q[0] - cx) / f, (q[1] - cy) / f, **coef)
    expect = (cx + f * xd, cy + f * yd)
    got = centroid(out, expect)
    assert got == pytest.approx(expect, abs=0.2)


def test_fisheye_is_equidistant():
    h, w, fov = 64, 96, 100.0
    f_src = (w / 2) / math.tan(math.radians(fov) / 2)
    f_fish = (w / 2) / math.radians(fov / 2)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    r_src = 30.0
    out = D.fisheye(blob(h, w, cx + r_src, cy), fov_deg=fov)
    r_expect = f_fish * math.atan(r_src / f_src)  # r = f * theta
    got = centroid(out, (cx + r_expect, cy))
    assert got[0] - cx == pytest.approx(r_expect, abs=0.25)


def test_vignette_follows_cos4():
    h, w, fov = 48, 64, 90.0
    out = D.vignette(torch.ones(1, 3, h, w), fov_deg=fov)
    f = (w / 2) / math.tan(math.radians(fov) / 2)
    r = math.hypot((w - 1) / 2, (h - 1) / 2)
    assert float(out[0, 0, 0, 0]) == pytest.approx(math.cos(math.atan(r / f)) ** 4, rel=1e-4)
    assert float(out[0, 0, h // 2, w // 2]) == pytest.approx(1.0, abs=1e-3)


def test_chromatic_aberration_magnifies_red_and_shrinks_blue():
    h, w, m = 64, 64, 0.05
    cx, cy = (w - 1) / 2, (h - 1) / 2
    out = D.chromatic_aberration(blob(h, w, cx + 20, cy), magnification=m)
    red, _ = centroid(out[:, 0:1], (cx + 21, cy))
    blue, _ = centroid(out[:, 2:3], (cx + 19, cy))
    green, _ = centroid(out[:, 1:2], (cx + 20, cy))
    assert red - cx == pytest.approx(20 * (1 + m), abs=0.1)
    assert blue - cx == pytest.approx(20 * (1 - m), abs=0.1)
    assert green - cx == pytest.approx(20, abs=0.05)


def test_circle_of_confusion_thin_lens_textbook_value():
    # 50 mm f/2 focused at 2 m, object at infinity: c = f^2 / (N (d_f - f)) = 0.641 mm
    c_px = circle_of_confusion_px(torch.tensor([math.inf, 2.0]), 3600, 50.0, 2.0, 2.0, 36.0)
    assert float(c_px[0]) == pytest.approx(2500 / (2 * 1950) * 100, rel=1e-4)  # 100 px per mm
    assert float(c_px[1]) == pytest.approx(0.0, abs=1e-6)  # in focus


def test_defocus_spreads_a_point_into_its_blur_circle_conserving_energy():
    h = w = 63
    img = torch.zeros(1, 3, h, w)
    img[..., 31, 31] = 1.0
    params = dict(f_number=1.4, focal_mm=50.0, focus_m=2.0, sensor_width_mm=9.0)
    out = D.defocus(img, **params)  # no depth: whole scene at infinity
    radius = float(circle_of_confusion_px(torch.tensor(math.inf), w, 50.0, 1.4, 2.0, 9.0)) / 2
    assert radius > 3
    assert float(out[0, 0].sum()) == pytest.approx(1.0, abs=1e-5)
    y, x = torch.meshgrid(torch.arange(h) - 31.0, torch.arange(w) - 31.0, indexing="ij")
    second_moment = float((out[0, 0] * (x * x + y * y)).sum())
    assert second_moment == pytest.approx(radius**2 / 2, rel=0.15)  # uniform disc: E[r^2] = R^2/2
    near = torch.full((1, h, w), 2.0)  # the same point at the focus distance stays sharp
    assert float(D.defocus(img, depth=near, **params)[0, 0, 31, 31]) == pytest.approx(1.0, abs=1e-5)


def test_psf_kernels_sum_to_one():
    for ker in (linear_kernel(7.3, 30.0), disc_kernel(4.2), *shake_kernels(4, 9.0, torch.Generator().manual_seed(0))):
        assert float(ker.sum()) == pytest.approx(1.0, abs=1e-5)
        assert float(ker.min()) >= 0


def test_linear_motion_kernel_has_the_length_of_the_motion():
    length = 12.0
    ker = linear_kernel(length, 0.0)
    c = ker.shape[0] // 2
    x = torch.arange(ker.shape[0]) - c
    px = ker.sum(dim=0)
    assert float((px * x).sum()) == pytest.approx(0.0, abs=1e-4)
    # uniform segment: variance L^2/12, plus at most 1/4 from bilinear splatting
    var = float((px * x * x).sum())
    assert length**2 / 12 <= var <= length**2 / 12 + 0.25
    assert float(ker.sum(dim=1)[c]) == pytest.approx(1.0, abs=1e-5)  # horizontal: one row


def test_motion_blur_and_shake_conserve_energy():
    img = torch.zeros(3, 3, 64, 64)
    img[..., 30:34, 28:36] = 1.0
    shaken = D.camera_shake(img, extent_px=9, generator=torch.Generator().manual_seed(3))
    for out in (D.motion_blur(img, length_px=9, angle_deg=37), shaken):
        assert torch.allclose(out.sum(dim=(2, 3)), img.sum(dim=(2, 3)), rtol=1e-4)
        assert float((out - img).abs().max()) > 0.1


# -- motion in time ----------------------------------------------------------------------------


def test_rolling_shutter_shifts_each_row_by_velocity_times_readout_delay():
    v = 4.0
    video = texture(t=4, v=v)
    assert global_motion(video)[:, 0] == pytest.approx([v] * 4, abs=0.1)
    out = D.rolling_shutter(video, readout_frac=1.0)
    for row, shift in ((0, 0), (16, 1), (32, 2), (48, 3)):  # delay row/H frames -> v*row/H px
        expect = torch.roll(video[1, :, row], shifts=shift, dims=-1)
        assert torch.allclose(out[1, :, row, 8:-8], expect[:, 8:-8], atol=0.02), row


def test_frame_drop_statistics_and_rate_change():
    idx, fps = frame_drop_indices(4000, 30.0, drop_prob=0.25, generator=torch.Generator().manual_seed(0))
    assert fps == 30.0 and idx[0] == 0
    assert torch.all(idx[1:] >= idx[:-1]) and torch.all(idx <= torch.arange(4000))
    repeats = float((idx[1:] == idx[:-1]).float().mean())
    assert repeats == pytest.approx(0.25, abs=0.03)
    video = texture(t=8)
    out, fps = D.frame_drop(video, 24.0, target_fps=12.0)
    assert fps == 12.0 and out.shape[0] == 4 and torch.equal(out[1], video[2])


# -- atmosphere --------------------------------------------------------------------------------


def test_fog_follows_koschmieder():
    beta, air = 0.05, [0.7, 0.8, 0.9]
    video = texture(t=2)
    depth = torch.tensor([5.0, 20.0, math.inf]).repeat_interleave(torch.tensor([22, 22, 20])).expand(2, 64, 64)
    out = D.fog(video, beta_per_m=beta, airlight=air, depth=depth.contiguous())
    a = torch.tensor(air).view(1, 3, 1, 1)
    t = torch.exp(-beta * depth.clamp(max=20.0)).unsqueeze(1)  # inf (backdrop) counts as far_m = 20 m
    assert torch.allclose(out, video * t + a * (1 - t), atol=1e-6)
    # the contrast left at depth d is exp(-beta d): a 15 m step costs a factor exp(-0.75)
    ratio = (out[..., 22:44] - a).abs().mean() / (out[..., :22] - a).abs().mean()
    expect = math.exp(-beta * 15) * (video[..., 22:44] - a).abs().mean() / (video[..., :22] - a).abs().mean()
    assert float(ratio) == pytest.approx(float(expect), rel=1e-4)


@pytest.mark.parametrize("name", ["rain", "snow"])
def test_weather_overlay_deterministic_and_denser_with_density(name):
    video = texture(t=4) * 0.3
    fn = getattr(D, name)
    a = fn(video, density=5, generator=torch.Generator().manual_seed(4))
    b = fn(video, density=5, generator=torch.Generator().manual_seed(4))
    c = fn(video, density=5, generator=torch.Generator().manual_seed(5))
    dense = fn(video, density=20, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert float((dense - video).abs().mean()) > 2 * float((a - video).abs().mean()) > 0


# -- registry, validation, pipeline -------------------------------------------------------------


def test_severity_tables_are_valid_and_params_plain():
    for name, spec in D.REGISTRY.items():
        assert len(spec.severity) == 5, name
        for level in range(1, 6):
            spec.make({"severity": level})
        for key, value in spec.defaults().items():
            assert isinstance(value, (int, float, str, bool, list)), (name, key)


@pytest.mark.parametrize(
    "name, values, message",
    [
        ("compression", {"crf": 99}, "crf=99: allowed 0..51 for h264"),
        ("compression", {"codec": "vp9", "crf": 64}, "crf=64: allowed 0..63 for vp9"),
        ("compression", {"codec": "mpeg2"}, "codec=mpeg2: allowed h264, hevc, vp9, av1, jpeg"),
        ("low_light", {"read_noise_e": -1.0}, "read_noise_e=-1.0: allowed 0..10000"),
        ("low_light", {"severity": 6}, "severity=6: allowed 0..5 (0 = explicit values)"),
        ("lens", {"k9": 1.0}, "unknown key 'k9'; allowed: k1, k2, k3, p1, p2, focal_px, severity"),
    ],
)
def test_out_of_range_parameters_name_key_and_range(name, values, message):
    with pytest.raises(D.ParamError) as err:
        D.Pipeline([(name, values)])
    assert str(err.value) == message


def test_unknown_degradation_lists_allowed():
    with pytest.raises(D.ParamError, match=r"^unknown degradation 'smog'; allowed: fog, rain"):
        D.Pipeline([("smog", {})])


def test_pipeline_orders_physically_whatever_the_listing_order():
    stages = [
        ("compression", {"crf": 30}), ("low_light", {"ev": -2.0}), ("fog", {"beta_per_m": 0.05}), ("lens", {"k1": -0.1})
    ]  # fmt: skip
    pipe = D.Pipeline(stages)
    assert [a["name"] for a in pipe.applied()] == ["fog", "lens", "low_light", "compression"]
    assert pipe.applied()[3]["params"]["crf"] == 30
    video = texture(t=4)
    a = pipe.apply(video, fps=24, seed=7)
    assert np.array_equal(a, D.Pipeline(list(reversed(stages))).apply(video, fps=24, seed=7))
    assert not np.array_equal(a, pipe.apply(video, fps=24, seed=8))


def test_severity_overrides_table_keys_only():
    p = D.REGISTRY["compression"].make({"severity": 2, "codec": "hevc"}).resolved()
    assert p["codec"] == "hevc" and p["crf"] == D.REGISTRY["compression"].severity[1]["crf"]


def test_external_video_round_trip_is_lossless_without_degradation():
    frames = (np.random.default_rng(0).integers(0, 256, (3, 16, 20, 3))).astype(np.uint8)
    assert np.array_equal(D.degrade_video(frames, [("white_balance", {})]), frames)
    assert np.array_equal(D.degrade_video(frames, []), frames)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * math.log10(255**2 / max(mse, 1e-10))


@pytest.mark.parametrize("name", [n for n in D.REGISTRY if n != "compression"])
def test_quality_falls_monotonically_with_severity(name):
    video = texture(t=8, v=3.0)
    depth = torch.full((8, 64, 64), 8.0)
    clean = D.Pipeline([]).apply(video)
    scores = []
    for level in range(1, 6):
        out = D.Pipeline([(name, {"severity": level})]).apply(video, fps=24, seed=0, depth=depth)
        scores.append(psnr(out, clean))
    assert all(b <= a + 0.05 for a, b in zip(scores, scores[1:])), scores
    assert scores[-1] < scores[0] - 0.5, scores


def test_denoise_flattens_noise_and_keeps_strong_edges():
    g = torch.Generator().manual_seed(0)
    step = torch.zeros(2, 3, 64, 64)
    step[..., 32:] = 0.8
    noisy = step + 0.01 * torch.randn(step.shape, generator=g)
    out = D.denoise(noisy, radius_px=3, eps=1e-3)  # noise variance 1e-4 << eps << edge variance 0.16
    flat = (slice(None), slice(None), slice(None), slice(4, 26))
    assert float(out[flat].std()) < 0.4 * float(noisy[flat].std())
    assert float((out[..., 31] - out[..., 32]).abs().mean()) > 0.7  # the edge survives


def test_strong_barrel_leaves_corners_no_ray_reaches_black():
    h = w = 96
    k1, f = -0.4, 96.0
    out = D.lens(torch.ones(1, 3, h, w), k1=k1, focal_px=f)
    # r_d = r (1 + k1 r^2) peaks at r = 1/sqrt(3|k1|): no ray lands beyond that distorted radius
    r_peak = 1 / math.sqrt(3 * abs(k1))
    rd_max = r_peak * (1 + k1 * r_peak**2)
    y, x = torch.meshgrid(torch.arange(h) - (h - 1) / 2, torch.arange(w) - (w - 1) / 2, indexing="ij")
    r = torch.sqrt(x * x + y * y) / f
    assert float(out[0, 0][r > rd_max + 0.02].max()) == 0.0
    assert float(out[0, 0][r < 0.3].min()) == pytest.approx(1.0, abs=1e-5)
