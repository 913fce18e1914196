"""Each family's declared time-reversal mapping (``Task.reversal``) against its own pixel oracle:
rendered clips played backwards are answered as the mapping says (the mapping as the time
controls apply it to a record's options, synth.eval.controls.reversal_of); a family whose mapping
is undefined for some answer set says why."""

from __future__ import annotations

import numpy as np
import pytest

from synth import scenes
from synth.eval.controls import reversal_of
from synth.renderer import Renderer
from synth.sampling import ParamDraw, balanced_choice, sample_seed
from synth.scenes.task import SAME, ClipFormat, Task

CLIP = ClipFormat(fps=15, num_frames=30, width=64, height=64)
SEED = 5
# case -> (family, fixed params): every family on its defaults, plus the answer sets fixed params change
CASES = {name: (name, {}) for name in scenes.TASKS}
CASES["direction-8-static"] = ("direction", {"motion.directions": 8, "motion.include_static": True})
CLIPS = 4  # per case (direction-8-static: one per answer)


@pytest.fixture(scope="module")
def renderer():
    r = Renderer(CLIP.width, CLIP.height)
    yield r
    r.release()


def test_every_family_declares_its_reversal():
    for name, task in scenes.TASKS.items():
        declared = type(task).reversal
        assert isinstance(declared, dict) or declared == SAME or type(task).reversal_note != Task.reversal_note, name
        if isinstance(declared, dict):  # a mapping is a permutation of the answers it covers
            assert sorted(declared.values()) == sorted(declared), name


def test_an_undefined_answer_set_is_skipped_with_the_reason():
    order = scenes.get("order")
    assert order.reversed_answers({}) == {"0": "1", "1": "0"}
    assert order.reversed_answers({"objects.count": 3}) is None
    assert "objects.count=3" in order.reversal_note
    record = {"task": "order", "params": {"objects.count": 3}, "options": ["the a", "the b", "the c"], "answer_index": 0}
    assert reversal_of(record) == (None, order.reversal_note)
    assert reversal_of({**record, "task": "no_such_family"})[0] is None


@pytest.mark.parametrize("case", CASES)
def test_the_oracle_answers_reversed_clips_as_the_mapping_says(renderer, case):
    family, fixed = CASES[case]
    task = scenes.get(family)
    answers = task.answers(fixed)
    n = len(answers) if len(answers) > 4 else CLIPS
    checked, wrong = 0, []
    for i in range(n):
        draw = ParamDraw(np.random.default_rng(sample_seed(SEED, i)), fixed)
        sample = task.build(draw, balanced_choice(SEED, i, answers), CLIP)
        frames = renderer.render(sample.scene, CLIP.times, CLIP.fps)
        if task.oracle(frames, sample.question, sample.options) != sample.answer_index:
            continue  # the oracle misread the original; nothing to compare
        record = {"task": family, "params": draw.values, "options": sample.options, "answer_index": sample.answer_index}
        mapping, why = reversal_of(record)
        assert mapping is not None, why
        backwards = sample.options[task.oracle(np.ascontiguousarray(frames[::-1]), sample.question, sample.options)]
        checked += 1
        if backwards != mapping[sample.options[sample.answer_index]]:
            wrong.append((i, sample.options[sample.answer_index], backwards))
    assert checked >= n - 1, f"{case}: the oracle read only {checked}/{n} originals"
    assert not wrong, f"{case}: reversed clips answered against the mapping: {wrong}"
