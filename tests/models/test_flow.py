"""model=flow: OpenCV dense optical flow reads direction, approach and ego-motion from real
frames; it abstains on what flow cannot tell; end to end through `synth eval`."""

import json

import cv2
import numpy as np
import pytest
from support.square_clips import make_dataset

from synth.cli import main
from synth.models.configs import FlowModelConfig
from synth.models.flow import DIRECTIONS, FlowModel, dense_flow, direction_votes, divergence, moving_share
from synth.models.prompts import build_asks
from synth.scoring.answers import score

SIZE = 64


def texture(size: int, seed: int = 0) -> np.ndarray:
    """(size, size, 3) uint8 smooth random texture: flow needs gradients everywhere."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size // 4, size // 4, 3), dtype=np.uint8)
    return cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)


def moving_patch(dx: float, dy: float, frames: int = 4, step: float = 3.0) -> np.ndarray:
    """(frames, SIZE, SIZE, 3): a 16-px textured patch on flat grey moving ``step`` px a frame
    along (dx, dy) (image y down)."""
    patch = texture(16, seed=1)
    out = np.full((frames, SIZE, SIZE, 3), 90, np.uint8)
    for t in range(frames):
        x, y = int(round(24 + dx * step * t)), int(round(24 + dy * step * t))
        out[t, y : y + 16, x : x + 16] = patch
    return out


@pytest.mark.parametrize("name", list(DIRECTIONS))
def test_direction_votes_pick_each_of_eight_directions(name):
    ux, uy = DIRECTIONS[name]
    frames = moving_patch(ux, -uy)  # option vectors point y up, images y down
    votes = direction_votes(dense_flow(frames), list(DIRECTIONS), min_px=1.0)
    assert list(DIRECTIONS)[int(np.argmax(votes))] == name


def test_divergence_tells_toward_from_away():
    base = texture(32, seed=2)
    frames = []
    for side in (16, 20, 24, 28):
        f = np.full((SIZE, SIZE, 3), 90, np.uint8)
        lo = (SIZE - side) // 2
        f[lo : lo + side, lo : lo + side] = cv2.resize(base, (side, side), interpolation=cv2.INTER_LINEAR)
        frames.append(f)
    growing = np.stack(frames)
    assert divergence(dense_flow(growing), 0.5) > 0
    assert divergence(dense_flow(growing[::-1].copy()), 0.5) < 0
    assert divergence(dense_flow(np.repeat(growing[:1], 3, axis=0)), 0.5) is None  # nothing moves


def test_moving_share_tells_camera_from_object_motion():
    wall = texture(SIZE + 24, seed=3)
    panning = np.stack([wall[8 : 8 + SIZE, 8 + 3 * t : 8 + 3 * t + SIZE] for t in range(4)])
    threshold = FlowModelConfig().camera_share
    assert moving_share(dense_flow(panning), 1.0) > 2 * threshold
    assert moving_share(dense_flow(moving_patch(1, 0, step=2.0)), 1.0) < threshold


def test_flow_abstains_where_flow_cannot_answer(tmp_path):
    root = make_dataset(tmp_path / "ds", n=1)
    record = json.loads((root / "manifest.jsonl").read_text().splitlines()[0])
    record = {**record, "question": "Did it spin clockwise?", "options": ["clockwise", "counter-clockwise"],
              "answer_index": 0, "answer": "clockwise"}  # fmt: skip
    from synth.models.frames import SampledClip

    ask = build_asks(record, "mcq", False)[0]
    reply = FlowModel(FlowModelConfig()).answer(ask, SampledClip(root / record["video"], 8), record)
    assert reply.startswith("abstain") and score(ask, reply)["parsed"] is None


def test_direction_falls_as_contrast_drops_into_sensor_noise():
    """Fog and low light shrink the object's contrast against the noise: flow loses the motion."""

    def accuracy(contrast: float) -> float:
        right = 0
        for seed in range(2):
            rng = np.random.default_rng(seed)
            for name, (ux, uy) in DIRECTIONS.items():
                frames = 90 + (moving_patch(ux, -uy).astype(float) - 90) * contrast + rng.normal(0, 4, (4, SIZE, SIZE, 3))
                votes = direction_votes(dense_flow(np.clip(frames, 0, 255).astype(np.uint8)), list(DIRECTIONS), 1.0)
                right += bool(votes.any()) and list(DIRECTIONS)[int(np.argmax(votes))] == name
        return right / 16

    assert accuracy(1.0) == 1.0 and accuracy(0.1) == 1.0
    assert accuracy(0.02) <= 0.25


def test_synth_eval_model_flow_end_to_end(tmp_path):
    root = make_dataset(tmp_path / "ds", n=8)
    assert main(["eval", f"data={root}", "model=flow", "eval.frames=6"]) == 0
    metrics = json.loads((root / "evals" / "flow" / "metrics.json").read_text())
    assert metrics["accuracy"] == 1.0 and metrics["invalid_rate"] == 0.0 and metrics["n"] == 8
    assert "flow" in (root / "evals" / "flow" / "report.md").read_text()
