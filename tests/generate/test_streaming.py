"""Frames stream through generate in bounded chunks: the writer, the picked-frame reader, the
ground-truth layout (and the old one), and memory that does not grow with the clip's length."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import synth.generate as generate
from synth.dataset import GT_ARRAYS, GroundTruthWriter, read_gt
from synth.models.frames import SampledClip, sample_indices
from synth.video import EncodeSettings, VideoWriter, count_frames, read_clip, read_frames, write_clip

RNG = np.random.default_rng(3)
FRAMES = (RNG.random((13, 24, 32, 3)) * 255).astype(np.uint8)


def test_chunked_writer_equals_one_write_and_picked_frames_decode_alone(tmp_path):
    lossless = EncodeSettings(lossless=True)
    write_clip(FRAMES, tmp_path / "whole.mkv", 10.0, lossless)
    with VideoWriter(tmp_path / "chunked.mkv", 10.0, lossless) as out:
        for start in range(0, len(FRAMES), 4):
            out.write(FRAMES[start : start + 4])
    assert out.frames == len(FRAMES)
    assert (tmp_path / "whole.mkv").read_bytes() == (tmp_path / "chunked.mkv").read_bytes()
    assert np.array_equal(read_clip(tmp_path / "chunked.mkv")[0], FRAMES)
    assert count_frames(tmp_path / "chunked.mkv") == len(FRAMES)
    picked = [12, 0, 5, 5]
    assert np.array_equal(read_frames(tmp_path / "chunked.mkv", picked), FRAMES[picked])
    clip = SampledClip(tmp_path / "chunked.mkv", 4)
    assert clip.indices == sample_indices(len(FRAMES), 4)
    assert np.array_equal(clip.frames, FRAMES[clip.indices])
    assert np.array_equal(clip.middle_frame, FRAMES[[6]])


def test_a_failed_stream_leaves_no_partial_clip(tmp_path):
    path = tmp_path / "broken.mp4"
    with pytest.raises(KeyError):
        with VideoWriter(path, 10.0, EncodeSettings()) as out:
            out.write(FRAMES[:4])
            raise KeyError("renderer failed")
    assert not path.exists()


def _truth(start: int, count: int, h: int = 6, w: int = 5) -> dict[str, np.ndarray]:
    """Ground truth whose every value names its frame (start + k)."""
    frames = np.arange(start, start + count, dtype=np.float32)
    return {name: np.broadcast_to(frames.reshape(-1, *[1] * (2 + len(tail))), (count, h, w, *tail)).astype(dtype)
            for name, (dtype, tail) in GT_ARRAYS.items()}  # fmt: skip


def test_a_signal_inside_the_encoder_start_leaves_no_clip_and_no_encoder(tmp_path, monkeypatch):
    """The CLI turns SIGTERM/SIGHUP into a KeyboardInterrupt, which can land while the feeder
    thread starts (ffmpeg already running, the thread not yet reported in); the writer's exit must
    still stop ffmpeg and remove the file, not fail with "cannot join thread before it is started"."""
    import threading

    started = []

    def interrupted_start(thread):
        started.append(thread)
        raise KeyboardInterrupt("SIGHUP")

    out = tmp_path / "c.mp4"
    writer = VideoWriter(out, 10.0, EncodeSettings())
    with monkeypatch.context() as patch:
        patch.setattr(threading.Thread, "start", interrupted_start)
        with pytest.raises(KeyboardInterrupt), writer:
            writer.write(np.zeros((4, 32, 32, 3), np.uint8))
    assert started and writer._proc.poll() is not None and not out.exists()


def test_ground_truth_written_in_chunks_follows_retiming_and_old_npz_still_reads(tmp_path):
    shown = np.array([0, 0, 2, 3, 5, 6, 6, 8])  # stutter and drops: rendered frame per stored frame
    writer = GroundTruthWriter(tmp_path / "gt" / "a", 6, 5, 9, shown)
    for start in range(0, 9, 4):
        writer.write(start, _truth(start, min(4, 9 - start)))
    writer.close()
    gt = read_gt(tmp_path, "a")
    assert set(gt) == set(GT_ARRAYS)
    assert isinstance(gt["depth"], np.memmap)  # mapped: slicing reads only those frames
    for name, (dtype, tail) in GT_ARRAYS.items():
        assert gt[name].shape == (8, 6, 5, *tail) and gt[name].dtype == dtype
        assert np.array_equal(gt[name].reshape(8, -1)[:, 0], shown)
    # Format 1 datasets keep their gt/<id>.npz, read by the same function.
    old = _truth(0, 3)
    np.savez_compressed(tmp_path / "gt" / "b.npz", **old)
    again = read_gt(tmp_path, "b")
    assert all(np.array_equal(again[k], old[k]) for k in GT_ARRAYS)
    assert read_gt(tmp_path, "missing") is None


def _peak_bytes(frames: int, root) -> int:
    cfg = generate.Config(gt=True, render=generate.RenderConfig(32, 32), clip=generate.ClipConfig(8.0, frames / 8.0))
    maker = generate.SampleMaker(cfg)
    maker.make(generate.Job(0), root)  # warm up: shaders compiled, imports done
    tracemalloc.start()
    try:
        maker.make(generate.Job(1), root)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        maker.renderer.release()


def test_generate_memory_does_not_grow_with_clip_length(tmp_path, monkeypatch):
    monkeypatch.setattr(generate, "CHUNK_FRAMES", 4)
    for sub in ("clips", "gt"):
        (tmp_path / sub).mkdir()
    short, long = _peak_bytes(8, tmp_path), _peak_bytes(32, tmp_path)
    per_frame_output = 32 * 32 * (3 + 28)  # an sRGB frame and its ground truth
    # Holding the clip would add a frame's output per frame; streaming adds only its track entries.
    assert (long - short) / 24 < per_frame_output / 4, (short, long)
