"""Task `direction`: the pixel-only oracle reads the answer from rendered frames (4 and 8 ways,
with distractors and textured backgrounds), the middle frame does not, fixing the direction
changes nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from synth.scenes import get
from synth.scenes.task import ClipFormat
from synth.renderer import Renderer
from synth.sampling import ParamDraw, balanced_choice, sample_seed

CLIP = ClipFormat(fps=15, num_frames=20, width=64, height=64)
TASK = get("direction")


@pytest.fixture(scope="module")
def renderer():
    r = Renderer(CLIP.width, CLIP.height)
    yield r
    r.release()


def build(index: int, fixed: dict, seed: int = 2):
    answer = balanced_choice(seed, index, TASK.answers(fixed))
    draw = ParamDraw(np.random.default_rng(sample_seed(seed, index)), fixed)
    return TASK.build(draw, answer, CLIP), draw.values


@pytest.mark.parametrize(
    "fixed",
    [{}, {"motion.directions": 8}, {"distractors.count": 2, "background.kind": "checker"},
     {"background.kind": "noise", "object.texture": "stripes"}],  # fmt: skip
)
def test_oracle_reads_the_direction_from_pixels(renderer, fixed):
    n = 16
    right = middle_right = 0
    for i in range(n):
        sample, _ = build(i, fixed)
        frames = renderer.render(sample.scene, CLIP.times, CLIP.fps)
        right += TASK.oracle(frames, sample.question, sample.options) == sample.answer_index
        still = np.repeat(frames[len(frames) // 2][None], len(frames), axis=0)
        middle_right += TASK.oracle(still, sample.question, sample.options) == sample.answer_index
    assert right >= 0.95 * n
    # The middle frame alone carries no direction: the oracle falls to its fixed guess (chance).
    assert middle_right <= n / len(TASK.answers(fixed)) + 1


def test_eight_directions_are_balanced_and_fixing_one_changes_only_it():
    answers = [build(i, {"motion.directions": 8})[0] for i in range(16)]
    counts = np.bincount([s.answer_index for s in answers], minlength=8)
    assert counts.tolist() == [2] * 8
    _, base = build(3, {})
    _, fixed = build(3, {"motion.direction": "up" if base["motion.direction"] != "up" else "down"})
    changed = {k for k in base if base[k] != fixed[k]}
    assert changed == {"motion.direction"}


def test_a_fixed_direction_outside_the_answer_set_is_refused():
    with pytest.raises(ValueError, match="motion.direction=up-left: allowed left, right, up, down"):
        build(0, {"motion.direction": "up-left"})
