"""`synth degrade` on a dataset carries ground truth through: unchanged by stages that move no
pixels, warped like the picture (and the tracks) by lens distortion, re-indexed by frame drops."""

from __future__ import annotations

import numpy as np
import pytest

import synth.degradations as D
from synth.cli import main
from synth.delivery import degrade_seed
from synth.dataset import read_gt, read_manifest

BRIGHT_ON_BLACK = ["background.kind=solid", "background.color=black", "object.color=white", "light.ambient=0.35",
                   "object.shape=sphere", "motion.mid_x=1.2", "motion.mid_y=0.7"]  # fmt: skip
LENS = {"k1": -0.3, "focal_px": 40.0}


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    root = tmp_path_factory.mktemp("gt") / "clean"
    args = ["generate", "task=direction", "n=1", f"out={root}", "gt=true", "render.width=64", "render.height=48",
            "clip.fps=8", "clip.seconds=1", "progress=false", "video.lossless=true", *BRIGHT_ON_BLACK]  # fmt: skip
    assert main(args) == 0
    return root


def test_stages_that_move_no_pixels_leave_gt_unchanged(clean, tmp_path):
    out = tmp_path / "dark"
    assert main(["degrade", f"src={clean}", f"out={out}", "degradation=[low_light,motion_blur]",
                 "degradation.low_light.ev=-3", "degradation.motion_blur.length_px=3", "video.lossless=true"]) == 0  # fmt: skip
    rid = read_manifest(out)[0]["id"]
    before, after = read_gt(clean, rid), read_gt(out, rid)
    assert set(after) == set(before) == {"depth", "normals", "instances", "flow"}
    for name in before:
        assert np.array_equal(np.asarray(after[name]), np.asarray(before[name]), equal_nan=True), name
    assert main(["verify", f"data={out}"]) == 0


def test_lens_and_frame_drops_move_gt_with_the_tracks(clean, tmp_path):
    out = tmp_path / "bent"
    assert main(["degrade", f"src={clean}", f"out={out}", "degradation=[lens,frame_drop]", "seed=3",
                 *(f"degradation.lens.{k}={v}" for k, v in LENS.items()), "degradation.frame_drop.drop_prob=0.5",
                 "video.lossless=true"]) == 0  # fmt: skip
    c, r = read_manifest(clean)[0], read_manifest(out)[0]
    gt, src = read_gt(out, r["id"]), read_gt(clean, c["id"])
    pipe = D.Pipeline([("lens", LENS), ("frame_drop", {"drop_prob": 0.5})])
    shown, _ = pipe.frame_indices(c["num_frames"], c["fps"], degrade_seed(3, c["id"]))
    assert len(set(shown.tolist())) < len(shown)  # some frames were dropped (repeats)
    assert gt["depth"].shape == (r["num_frames"], 48, 64)
    # re-indexed by the drops, warped by the lens's own map
    expect = pipe.warp_labels({k: np.asarray(v)[shown] for k, v in src.items()}, fill={"depth": np.inf})
    for name in gt:
        assert np.array_equal(np.asarray(gt[name]), expect[name], equal_nan=True), name
    # the warped instance mask sits where the degraded track says the object is
    track = r["tracks"][0]
    ys, xs = np.mgrid[0:48, 0:64] + 0.5
    shift = 0.0
    for k, mask in enumerate(np.asarray(gt["instances"]) == track["instance_id"]):
        assert mask.any()
        seen = np.array([xs[mask].mean(), ys[mask].mean()])
        assert np.abs(seen - track["center_px"][k]).max() < 1.0, k
        clean_mask = np.asarray(src["instances"])[shown[k]] == track["instance_id"]
        moved = np.array([xs[clean_mask].mean(), ys[clean_mask].mean()])
        shift = max(shift, np.abs(seen - moved).max())
    assert shift > 2.0  # the lens moved it: the check can fail
    # lens corners where no ray lands carry no surface
    assert np.isinf(np.asarray(gt["depth"])[:, 0, 0]).all() and (np.asarray(gt["instances"])[:, 0, 0] == 0).all()
    assert main(["verify", f"data={out}"]) == 0


def test_flow_is_carried_through_the_forward_map():
    """A uniform flow of +2 px in x becomes, after a barrel lens, the displacement between the
    lens images of p and p + (2, 0): smaller towards the edges."""
    pipe = D.Pipeline([("lens", LENS)])
    flow = np.zeros((1, 48, 64, 2), np.float32)
    flow[..., 0] = 2.0
    out = pipe.warp_labels({"flow": flow})["flow"][0]
    centre, edge = out[24, 32, 0], out[24, 8, 0]
    assert 1.8 < centre <= 2.05 and edge < centre - 0.1
