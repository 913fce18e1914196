"""Tracks follow the video through geometric degradations: lens distortion moves them, frame
drops and rate changes re-index them (in `synth generate` and `synth degrade` alike)."""

from __future__ import annotations

import numpy as np

from synth.dataset import read_gt, read_manifest
from synth.video import read_clip
from support.cli import SMALL, synth

BRIGHT_ON_BLACK = ["background.kind=solid", "background.color=black", "object.color=white", "light.ambient=0.35",
                   "object.shape=sphere", "motion.mid_x=1.2", "motion.mid_y=0.7", "clip.seconds=2"]  # fmt: skip
LENS = ["degradation.lens.k1=-0.3", "degradation.lens.focal_px=40"]


def centroids(frames: np.ndarray) -> np.ndarray:
    mask = frames.max(axis=-1) > 60
    ys, xs = np.mgrid[0 : frames.shape[1], 0 : frames.shape[2]] + 0.5
    return np.array([[xs[m].mean(), ys[m].mean()] for m in mask])


def test_generated_tracks_follow_lens_distortion_and_frame_drops(tmp_path):
    clean, bent = tmp_path / "clean", tmp_path / "bent"
    synth("generate", *SMALL, "n=1", f"out={clean}", *BRIGHT_ON_BLACK, "video.lossless=true")
    synth("generate", *SMALL, "n=1", f"out={bent}", *BRIGHT_ON_BLACK, "video.lossless=true", "gt=true",
          "degradation=[lens,frame_drop]", *LENS, "degradation.frame_drop.target_fps=4")  # fmt: skip
    c, b = read_manifest(clean)[0], read_manifest(bent)[0]
    frames, fps = read_clip(bent / b["video"])
    track = np.array(b["tracks"][0]["center_px"])
    assert fps == 4.0 and b["num_frames"] == len(frames) == len(track) == 8
    # Every second source frame is shown (8 fps -> 4 fps): positions are the clean ones re-indexed,
    # and so is the ground truth.
    assert np.allclose(b["tracks"][0]["position"], c["tracks"][0]["position"][::2])
    assert read_gt(bent, b["id"])["depth"].shape[0] == 8
    assert synth("verify", f"data={bent}").returncode == 0
    seen = centroids(frames)
    assert np.abs(seen - track).max() < 1.0
    unwarped = np.array(c["tracks"][0]["center_px"])[::2]
    assert np.abs(seen - unwarped).max() > 2.0  # the lens moved the object: the test can fail


def test_degrade_moves_the_tracks_of_a_dataset(tmp_path):
    clean, bent = tmp_path / "clean", tmp_path / "bent"
    synth("generate", *SMALL, "n=1", f"out={clean}", *BRIGHT_ON_BLACK, "video.lossless=true")
    synth("degrade", f"src={clean}", f"out={bent}", "degradation=[lens]", *LENS, "video.lossless=true")
    record = read_manifest(bent)[0]
    frames, _ = read_clip(bent / record["video"])
    assert np.abs(centroids(frames) - np.array(record["tracks"][0]["center_px"])).max() < 1.0
