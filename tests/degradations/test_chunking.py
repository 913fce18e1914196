"""The camera model over a stream of chunks equals the camera model over the whole clip: every
temporal stage (windows with margins, retiming, the codec's one running encoder) and the seeded
noise (drawn per frame), for chunk sizes that cut the clip anywhere; memory does not grow with length."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import synth.degradations as D
from synth.degradations.registry import REGISTRY


def clip(t: int = 12, h: int = 24, w: int = 32, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A panning texture (so rolling shutter sees motion), linear light, and a depth ramp."""
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(3, h, w + 2 * t, generator=g)
    video = torch.stack([base[:, :, i : i + w] for i in range(t)]) * 0.9
    depth = (1 + torch.arange(h, dtype=torch.float32)).view(1, h, 1).expand(t, h, w) * (1 + torch.rand(t, 1, 1, generator=g))
    return video, depth.contiguous()


def chunks(video: torch.Tensor, depth: torch.Tensor | None, sizes: list[int]):
    i, k = 0, 0
    while i < len(video):
        n = sizes[k % len(sizes)]
        yield video[i : i + n], (depth[i : i + n] if depth is not None else None)
        i, k = i + n, k + 1


def chunked(pipe: D.Pipeline, video, depth, sizes, fps=24.0, seed=5) -> np.ndarray:
    return np.concatenate(list(pipe.stream(chunks(video, depth, sizes), fps=fps, seed=seed)))


TEMPORAL = [
    ("motion_blur", {"length_px": 5.0, "angle_deg": 30.0}),
    ("camera_shake", {"extent_px": 6.0}),
    ("rolling_shutter", {"readout_frac": 0.8}),
    ("rain", {"density": 10.0}),
    ("snow", {"density": 6.0}),
    ("low_light", {"ev": -4.0, "read_noise_e": 4.0, "row_noise_e": 1.0, "dark_current_e": 2.0}),
    ("frame_drop", {"drop_prob": 0.3}),
    ("frame_drop", {"stutter_prob": 0.2, "stutter_frames": 3}),
    ("frame_drop", {"target_fps": 10.0}),
    ("compression", {"codec": "h264", "crf": 30, "preset": "ultrafast"}),
    ("compression", {"codec": "vp9", "crf": 40, "preset": "ultrafast"}),
]


@pytest.mark.parametrize("name, params", TEMPORAL, ids=[f"{n}-{'-'.join(p)}" for n, p in TEMPORAL])
def test_every_temporal_stage_streams_like_the_whole_clip(name, params):
    video, depth = clip()
    pipe = D.Pipeline([(name, params)])
    whole = pipe.apply(video, fps=24.0, seed=5, depth=depth)
    for sizes in ([1], [5], [2, 7, 1]):
        out = chunked(pipe, video, depth, sizes)
        assert out.shape == whole.shape
        if REGISTRY[name].domain in ("retime", "uint8"):
            assert np.array_equal(out, whole), (name, sizes)  # integer paths: bit-exact
        else:
            assert np.abs(out.astype(int) - whole).max() <= 1, (name, sizes)  # float paths: 1 DN
    # the stage really acts (not a trivially equal identity)
    ident = D.Pipeline([]).apply(video)
    assert out.shape != ident.shape or not np.array_equal(out, ident)


def test_full_stack_with_depth_and_codec_streams_like_the_whole_clip():
    video, depth = clip(t=14)
    names = [n for n in REGISTRY if n not in ("fisheye", "overexposure", "compression")]
    pipe = D.Pipeline([(n, {"severity": 3}) for n in names] + [("compression", {"crf": 28, "preset": "ultrafast"})])
    without = D.Pipeline([(n, {"severity": 3}) for n in names])
    assert np.abs(chunked(without, video, depth, [3]).astype(int) - without.apply(video, 24.0, 5, depth)).max() <= 1
    assert np.array_equal(chunked(pipe, video, depth, [4, 1]), pipe.apply(video, 24.0, 5, depth))


def test_noise_of_a_frame_depends_on_its_index_not_on_its_neighbours():
    video, _ = clip(t=6)
    pipe = D.Pipeline([("low_light", {"ev": -5.0, "read_noise_e": 6.0})])
    whole = pipe.apply(video, seed=2)
    # frames 3..5 alone are not frames 0..2 of a new clip: their noise follows their index
    tail = np.concatenate(list(pipe.stream([(video[:3], None), (video[3:], None)], seed=2)))
    assert np.array_equal(tail, whole)
    again = pipe.apply(video[3:], seed=2)
    assert not np.array_equal(again, whole[3:])  # indices 0..2: other noise
    assert not np.array_equal(whole, pipe.apply(video, seed=3))


def test_retimed_prefix_is_stable_and_indices_match_frame_indices():
    pipe = D.Pipeline([("frame_drop", {"drop_prob": 0.4, "stutter_prob": 0.1, "target_fps": 20.0})])
    long, fps = pipe.frame_indices(90, 30.0, seed=1)
    for n in (1, 7, 31, 60):
        short, _ = pipe.frame_indices(n, 30.0, seed=1)
        assert np.array_equal(short, long[: len(short)])
        assert len(short) == int(np.ceil(n * 20.0 / 30.0 - 1e-9))  # output instants k/20 < n/30 s
    assert fps == 20.0 and np.all(np.diff(long) >= 0)


@pytest.mark.parametrize("name", ["compression", "rolling_shutter"])
def test_frames_in_flight_do_not_grow_with_clip_length(name):
    """A stream holds a bounded number of frames whatever the clip length (no timing: the count of
    frames pulled from the source but not yet delivered; for the codec that includes what sits in
    ffmpeg's pipes and queues, so the frames are large enough that a pipe holds only a few)."""
    params = {"readout_frac": 0.5} if name == "rolling_shutter" else {"preset": "ultrafast"}
    pipe = D.Pipeline([(name, params), ("low_light", {"ev": -2.0})])
    # chunk + reach; for the codec, chunk + what ffmpeg's thread queues and the pipe of compressed
    # frames between encoder and decoder hold: that depends on timing (18-36 frames over eight idle
    # runs, more when the decoder is starved of CPU), never on length; a whole-clip design holds 144
    bound = 6 if name == "rolling_shutter" else 64
    h, w = (96, 128) if name == "compression" else (16, 16)
    for t in (48, 144):
        video = torch.rand(1, 3, h, w).expand(t, -1, -1, -1)
        pulled = delivered = peak = 0

        def source():
            nonlocal pulled
            for i in range(0, t, 4):
                pulled += len(video[i : i + 4])
                yield video[i : i + 4], None

        for out in pipe.stream(source()):
            peak = max(peak, pulled - delivered)
            delivered += len(out)
        assert delivered == t and peak <= bound, (t, peak)


def test_parts_of_a_window_on_threads_give_the_frames_of_the_whole_window(monkeypatch):
    """The camera model cuts a window into parts of frames and runs them on torch's threads at once:
    the frames are the same whatever the cuts and the thread count."""
    import synth.degradations.pipeline as P

    video, _ = clip(t=11)
    names = [n for n in REGISTRY if n not in ("fisheye", "overexposure", "compression")]
    pipe = D.Pipeline([(n, {"severity": 3}) for n in names])
    threads = torch.get_num_threads()
    outs = {}
    try:
        for frames_a_part, n in ((100, 1), (2, 1), (2, 2), (3, 3)):
            monkeypatch.setattr(P, "PART_ELEMENTS", frames_a_part * video[0].numel())
            torch.set_num_threads(n)
            outs[frames_a_part, n] = pipe.apply(video, fps=24.0, seed=5)
    finally:
        torch.set_num_threads(threads)
    whole = outs.pop((100, 1))
    for key, out in outs.items():
        assert np.array_equal(out, whole), key
    assert P.part_frames(*video.shape[-2:]) == 3  # the last setting really cut the window
