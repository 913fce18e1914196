"""Task families rotation, speed_compare, approach, depth_order and trajectory: the pixel-only
oracle answers clean clips, answers are balanced, builds are deterministic and paired, and the
middle frame does not give the answer away."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import synth.scenes.params  # noqa: F401  (registers the params module)
from synth import scenes
from synth.scenes import get
from synth.scenes.task import ClipFormat
from synth.scenes.wording import OPTION_POSITIONS
from synth.renderer import Renderer
from synth.sampling import ParamDraw, balanced_choice, sample_seed

# family -> the key that decides the answer
DECIDING_KEY = {
    "rotation": "rotation.direction",
    "speed_compare": "speed_compare.faster",
    "approach": "approach.direction",
    "depth_order": "depth_order.closer",
    "trajectory": "trajectory.path",
}
FAMILIES = list(DECIDING_KEY)
CLIP = ClipFormat(fps=15, num_frames=24, width=64, height=64)
SEED = 11
CLIPS_PER_FAMILY = 24  # divisible by 2 and 3: whole answer blocks


@pytest.fixture(scope="module")
def renderer():
    r = Renderer(CLIP.width, CLIP.height)
    yield r
    r.release()


def build(family: str, index: int, fixed: dict | None = None, answer: str | None = None):
    task = get(family)
    if answer is None:
        answer = balanced_choice(SEED, index, task.answers(fixed or {}))
    draw = ParamDraw(np.random.default_rng(sample_seed(SEED, index)), fixed)
    return task.build(draw, answer, CLIP), draw.values, answer


def correct_option(family: str, sample, answer: str) -> bool:
    """Whether the sample's correct option is ``answer`` (two-object families answer by position)."""
    if family in ("speed_compare", "depth_order"):
        return sample.answer_index == OPTION_POSITIONS.index(answer)
    return sample.options[sample.answer_index] == answer


@pytest.mark.parametrize("family", FAMILIES)
def test_oracle_answers_clean_clips(renderer, family):
    task = get(family)
    right = 0
    for i in range(CLIPS_PER_FAMILY):
        sample, _, _ = build(family, i)
        frames = renderer.render(sample.scene, CLIP.times, CLIP.fps)
        right += task.oracle(frames, sample.question, sample.options) == sample.answer_index
    assert right / CLIPS_PER_FAMILY >= 0.95, f"{family}: oracle {right}/{CLIPS_PER_FAMILY}"


@pytest.mark.parametrize("family", FAMILIES)
def test_answers_balanced_and_built_as_asked(family):
    answers = get(family).answers({})
    seen = []
    for i in range(3 * len(answers)):
        sample, _, answer = build(family, i)
        assert correct_option(family, sample, answer)
        seen.append(answer)
    assert sorted(seen) == sorted(answers * 3)


@pytest.mark.parametrize("family", FAMILIES)
def test_build_is_deterministic(family):
    a, params_a, _ = build(family, 5)
    b, params_b, _ = build(family, 5)
    assert params_a == params_b
    assert (a.question, a.options, a.answer_index) == (b.question, b.options, b.answer_index)


@pytest.mark.parametrize("family", FAMILIES)
def test_fixing_the_deciding_key_changes_the_answer_only(family):
    key = DECIDING_KEY[family]
    base, params, answer = build(family, 3)
    for other in get(family).answers({}):
        if other == answer:
            continue
        flipped, flipped_params, _ = build(family, 3, fixed={key: other}, answer=answer)
        assert correct_option(family, flipped, other)
        assert flipped.options == base.options and flipped.question == base.question
        assert {k: v for k, v in flipped_params.items() if k != key} == {k: v for k, v in params.items() if k != key}


@pytest.mark.parametrize("family", FAMILIES)
def test_middle_frame_is_the_same_whatever_the_answer(renderer, family):
    """No single-frame shortcut: with every other draw fixed, the middle frame does not change
    with the answer (depth_order: both objects keep their projected size and place; only
    perspective on their sides may shift a few edge pixels)."""
    task = get(family)
    mid_time = CLIP.times[CLIP.num_frames // 2 : CLIP.num_frames // 2 + 1]
    for i in range(4):
        mids = []
        for answer in task.answers({}):
            sample, _, _ = build(family, i, fixed={DECIDING_KEY[family]: answer})
            mids.append(renderer.render(sample.scene, mid_time, CLIP.fps)[0].astype(np.float32))
        for other in mids[1:]:
            differs = np.abs(other - mids[0]).max(axis=-1) > 40
            assert differs.mean() < 0.01, f"{family} sample {i}: middle frames differ on {differs.mean():.1%}"


@pytest.mark.parametrize("family", FAMILIES)
def test_every_drawn_key_is_in_the_params_schema(family):
    _, params, _ = build(family, 0)
    for key in params:
        namespace, *rest = key.split(".")
        if rest and rest[0].isdigit():
            continue  # per-item keys such as distractors.0.x
        schema = getattr(scenes.params, "".join(p.title() for p in namespace.split("_")) + "Params")
        assert rest[0] in {f.name for f in dataclasses.fields(schema)}, key
