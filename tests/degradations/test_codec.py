"""The codec stage runs real encoders: the container holds the asked codec, quality follows crf."""

from __future__ import annotations

import math

import numpy as np
import pytest

import synth.degradations as D
from synth.degradations.codec import CODECS, encode, probe_codec


def clip(t: int = 8, h: int = 64, w: int = 64) -> np.ndarray:
    """Smooth gradients with a moving disc, (T, H, W, 3) uint8."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    frames = []
    for i in range(t):
        disc = ((x - 10 - 4 * i) ** 2 + (y - 32) ** 2) < 64
        r = 60 + 120 * x / w + 60 * disc
        g = 40 + 150 * y / h
        b = 200 - 100 * disc + 20 * np.sin(x / 3)
        frames.append(np.stack([r, g, b], axis=-1))
    return np.clip(np.stack(frames), 0, 255).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * math.log10(255**2 / max(mse, 1e-10))


@pytest.mark.parametrize("codec", list(CODECS))
def test_container_holds_the_asked_codec_and_decodes_every_frame(codec, tmp_path):
    frames = clip()
    path = tmp_path / f"c{CODECS[codec][1]}"
    encode(frames, path, 24.0, codec=codec, crf=CODECS[codec][2][0] + 10, preset="ultrafast", gop=4)
    assert probe_codec(path) == CODECS[codec][3]
    out = D.compression(frames, fps=24.0, codec=codec, crf=CODECS[codec][2][0] + 10, preset="ultrafast")
    assert out.shape == frames.shape and out.dtype == np.uint8
    assert 25.0 < psnr(out, frames) < 99.0  # lossy, but the picture survives


def test_higher_crf_means_lower_quality_and_fewer_bytes(tmp_path):
    frames = clip()
    scores, sizes = [], []
    for crf in (10, 30, 50):
        scores.append(psnr(D.compression(frames, fps=24.0, crf=crf), frames))
        encode(frames, tmp_path / f"{crf}.mp4", 24.0, crf=crf)
        sizes.append((tmp_path / f"{crf}.mp4").stat().st_size)
    assert scores[0] > scores[1] > scores[2]
    assert sizes[0] > sizes[1] > sizes[2]


def test_bitrate_mode_and_odd_sizes():
    frames = clip(t=6, h=33, w=47)
    out = D.compression(frames, fps=24.0, codec="h264", bitrate_kbps=50)
    assert out.shape == frames.shape
    assert psnr(out, frames) > 20


def test_encodes_are_deterministic(tmp_path):
    frames = clip()
    for name in ("a.mp4", "b.mp4"):
        encode(frames, tmp_path / name, 24.0, codec="h264", crf=30)
    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes()


def test_compression_severity_lowers_quality():
    frames = clip()
    video = D.unprocess(frames)
    scores = [psnr(D.Pipeline([("compression", {"severity": s})]).apply(video, fps=24), frames) for s in (1, 3, 5)]
    assert scores[0] > scores[1] > scores[2]


def test_pipeline_codec_runs_last_on_8bit_frames():
    frames = clip()
    pipe = D.Pipeline([("compression", {"crf": 20}), ("white_balance", {"red_gain": 1.3})])
    out = pipe.apply(D.unprocess(frames), fps=24)
    balanced = D.to_uint8(D.linear_to_srgb(D.white_balance(D.unprocess(frames), red_gain=1.3)))
    expect = D.compression(balanced, fps=24, crf=20)
    assert np.array_equal(out, expect)
