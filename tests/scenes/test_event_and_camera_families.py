"""Task families count_moving, order, revisit and ego_motion: oracle accuracy on rendered clips,
exact answer balance, determinism, the deciding key, and revisit's pose ground truth."""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest

from synth import scenes
from synth.scenes.task import ClipFormat
from synth.meshes import bounds
from synth.renderer import Renderer
from synth.sampling import ParamDraw, balanced_choice, sample_seed

CLIP = ClipFormat(fps=15, num_frames=30, width=64, height=64)
SEED = 3
# family -> (fixed params, the key that decides the answer)
FAMILIES = {
    "count_moving": ({}, "objects.moving"),
    "order": ({}, "objects.first"),
    "order-3": ({"objects.count": 3}, "objects.first"),
    "revisit": ({}, "object.changes_color"),
    "ego_motion": ({}, "motion.mover"),
}


@pytest.fixture(scope="module")
def renderer():
    r = Renderer(CLIP.width, CLIP.height)
    yield r
    r.release()


def build(family: str, index: int, fixed: dict | None = None, seed: int = SEED):
    """Sample ``index`` as the generator makes it, and its params."""
    base_fixed, _ = FAMILIES[family]
    fixed = {**base_fixed, **(fixed or {})}
    task = scenes.get(family.split("-")[0])
    draw = ParamDraw(np.random.default_rng(sample_seed(seed, index)), fixed)
    sample = task.build(draw, balanced_choice(seed, index, task.answers(fixed)), CLIP)
    return sample, draw.values


@pytest.mark.parametrize("family", FAMILIES)
def test_oracle_reads_the_answer_from_pixels(renderer, family):
    task = scenes.get(family.split("-")[0])
    n = 12 if family != "order-3" else 6
    correct = 0
    for i in range(n):
        sample, _ = build(family, i)
        frames = renderer.render(sample.scene, CLIP.times, CLIP.fps)
        correct += task.oracle(frames, sample.question, sample.options) == sample.answer_index
    assert correct >= n - 1, f"{family}: oracle {correct}/{n}"


@pytest.mark.parametrize("family", FAMILIES)
def test_answers_exactly_balanced(family):
    task = scenes.get(family.split("-")[0])
    k = len(task.answers(FAMILIES[family][0]))
    counts = Counter(build(family, i)[0].answer_index for i in range(3 * k))
    assert counts == {a: 3 for a in range(k)}


@pytest.mark.parametrize("family", FAMILIES)
def test_build_is_deterministic(family):
    (a, pa), (b, pb) = build(family, 5), build(family, 5)
    assert pa == pb and a.question == b.question and a.options == b.options and a.answer_index == b.answer_index


@pytest.mark.parametrize("family", FAMILIES)
def test_fixing_the_deciding_key_changes_only_the_answer(family):
    task = scenes.get(family.split("-")[0])
    _, key = FAMILIES[family]
    sample, params = build(family, 0)
    answers = task.answers(FAMILIES[family][0])
    other = next(a for a in answers if str(a) != str(params[key]))
    fixed = {key: type(params[key])(other)}
    changed, changed_params = build(family, 0, fixed)
    assert changed.answer_index != sample.answer_index
    assert changed.options == sample.options and changed.question == sample.question
    assert {k for k in params if params[k] != changed_params[k]} == {key}


@pytest.mark.parametrize("family", FAMILIES)
def test_every_shared_key_has_a_config_field(family):
    from synth.generate import NAMESPACES

    _, params = build(family, 0)
    for key in params:
        namespace, *rest = key.split(".")
        if len(rest) == 1:  # per-object keys (objects.0.color) need no field
            assert any(f.name == rest[0] for f in dataclasses.fields(NAMESPACES[namespace])), key


def test_revisit_same_pose_pairs_share_a_pose_and_a_turn_separates_them():
    for i in range(4):
        sample, _ = build("revisit", i)
        cam, times = sample.scene.camera, CLIP.times
        pairs = sample.extra["same_pose_pairs"]
        assert pairs and len(sample.extra["camera_pose"]) == CLIP.num_frames
        for a, b in pairs:
            (eye_a, look_a), (eye_b, look_b) = cam.pose(times[a]), cam.pose(times[b])
            assert np.allclose(eye_a, eye_b) and np.allclose(look_a, look_b, atol=1e-9)
            assert any(abs(cam.yaw_deg(times[k]) - cam.yaw_deg(times[a])) > 1 for k in range(a, b))
        # The first and last frames are the canonical revisit.
        assert [0, CLIP.num_frames - 1] in pairs


def test_revisit_colour_changes_out_of_view():
    changed = 0
    for i in range(6):
        sample, params = build("revisit", i)
        obj = sample.scene.objects[0]
        if obj.material.color_after is None:
            continue
        changed += 1
        t = obj.material.color_change_s
        world = next(m for n, m in sample.scene.instances(t) if n is obj)
        corners = (np.c_[bounds(obj.shape), np.ones(8)] @ world.T)[:, :3]
        px, depth = sample.scene.camera.project(corners, t, CLIP.width, CLIP.height)
        inside = (depth > 0) & (px[:, 0] >= 0) & (px[:, 0] <= CLIP.width) & (px[:, 1] >= 0) & (px[:, 1] <= CLIP.height)
        turn = params["camera.turn_deg"]
        assert not inside.any(), f"revisit {i}: object in view at the colour change (turn {turn:.0f} deg)"
        # ...and it is in view in the first frame, where the question is set up.
        px0, depth0 = sample.scene.camera.project(corners, 0.0, CLIP.width, CLIP.height)
        assert (depth0 > 0).all() and ((px0 >= 0) & (px0 <= CLIP.width)).all()
    assert changed == 3
