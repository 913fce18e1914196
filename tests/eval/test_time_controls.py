"""Time controls (eval.controls=[reversed,shuffled]) end to end on a real mp4 direction set: the
reference models behave as the controls predict, twins are cached on their content, plain results
stay byte-identical, every adapter path sees the reordered frames, and the report and findings."""

import json
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from support.square_clips import make_dataset

from synth.cli import main
from synth.dataset import read_manifest
from synth.errors import UserError
from synth.eval.controls import (
    CONTROLS_FILE,
    control_metrics,
    control_order,
    reversal_of,
    shuffled_order,
    spearman_with_identity,
)
from synth.eval.runner import EvalSettings, evaluate
from synth.models.configs import (
    BlindModelConfig,
    CommandModelConfig,
    FlowModelConfig,
    OpenAIModelConfig,
    OracleModelConfig,
    RandomModelConfig,
    SingleFrameModelConfig,
)
from synth.models.frames import SampledClip
from synth.models.hf import video_metadata
from synth.models.prompts import build_asks
from synth.models.registry import build_model
from synth.report.document import Evaluation
from synth.report.time_controls import time_control_findings, time_controls_section
from synth.scenes import oracle_for

CONTROLS = ["reversed", "shuffled"]
QUIET = {"log": lambda message: None}

# A command model that knows each clip's answer from its id (the datasets cycle left, right, up,
# down) and never looks at the frames: right on every original, the same answer on every twin.
# It logs each request's frame indices.
APPEARANCE = textwrap.dedent(
    """
    import json, sys
    log = open(sys.argv[1], "a")
    for line in sys.stdin:
        request = json.loads(line)
        log.write(json.dumps([request["id"], request["frame_indices"]]) + "\\n"); log.flush()
        answer = ["left", "right", "up", "down"][int(request["id"][1:4]) % 4]
        print(json.dumps({"response": "ABCD"[request["options"].index(answer)]}), flush=True)
    """
)


@pytest.fixture(scope="module")
def direction_set(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("controls") / "ds", n=24)


def run_with_controls(root: Path, cfg, **settings) -> dict:
    model = build_model(cfg, oracle_for if cfg.kind in ("oracle", "single_frame") else None)
    return evaluate(root, read_manifest(root), model, EvalSettings(controls=CONTROLS, **settings), **QUIET)


def test_references_behave_as_the_controls_predict(direction_set):
    results = {
        cfg.kind: run_with_controls(direction_set, cfg)["controls"]
        for cfg in (OracleModelConfig(), FlowModelConfig(), SingleFrameModelConfig(), BlindModelConfig(), RandomModelConfig(seed=1))
    }
    for kind in ("oracle", "flow"):  # they read the motion: every answer flips with the clip
        reversal = results[kind]["reversed"]
        assert reversal["consistency"]["rate"] >= 0.95 and reversal["flip_rate"]["rate"] >= 0.95, kind
        assert reversal["consistency"]["n"] == 24 and reversal["consistency"]["chance"] == 0.25
    for kind in ("blind", "single_frame"):  # one answer whatever the order: never flips
        reversal, shuffle = results[kind]["reversed"], results[kind]["shuffled"]
        assert reversal["consistency"]["rate"] <= reversal["consistency"]["chance"], kind
        assert reversal["flip_rate"]["rate"] == 0 and shuffle["sensitivity"]["rate"] == 0, kind
    random = results["random"]  # an independent guess per twin: chance
    for entry in (random["reversed"]["consistency"], random["reversed"]["flip_rate"], random["shuffled"]["sensitivity"]):
        assert entry["ci95"][0] <= entry["chance"] <= entry["ci95"][1], entry
    assert results["flow"]["reversed"]["by_task"]["direction"]["consistency"]["rate"] >= 0.95
    assert list(results["flow"]["reversed"]["by_condition"]) == ["clean"]


def test_twins_are_cached_on_their_content_and_plain_results_stay_byte_identical(tmp_path):
    root = make_dataset(tmp_path / "ds", n=8)
    records, out = read_manifest(root), root / "evals" / "flow"
    plain = evaluate(root, records, build_model(FlowModelConfig()), EvalSettings(), **QUIET)
    predictions, metrics = (out / "predictions.jsonl").read_bytes(), (out / "metrics.json").read_text()
    assert not (out / CONTROLS_FILE).exists()

    messages = []
    with_controls = evaluate(root, records, build_model(FlowModelConfig()), EvalSettings(controls=CONTROLS), log=messages.append)
    assert "flow: 24 asks, 8 cached, 16 to ask" in messages
    assert (out / "predictions.jsonl").read_bytes() == predictions
    assert {k: v for k, v in with_controls.items() if k != "controls"} == plain
    twins = [json.loads(t) for t in (out / CONTROLS_FILE).read_text().splitlines()]
    assert len(twins) == 16 and {t["control"] for t in twins} == set(CONTROLS)
    first = next(t for t in twins if t["control"] == "reversed")
    assert first["order"] == list(range(8))[::-1] and first["correct"] is True
    assert all(t["correct"] is None for t in twins if t["control"] == "shuffled")  # no right answer

    # A plain run keeps the twins for later; a twin whose order differs from the rule's is asked again.
    evaluate(root, records, build_model(FlowModelConfig()), EvalSettings(), **QUIET)
    assert (out / "metrics.json").read_text() == metrics and len((out / CONTROLS_FILE).read_text().splitlines()) == 16
    twins[0]["order"] = list(range(8))
    (out / CONTROLS_FILE).write_text("".join(json.dumps(t) + "\n" for t in twins))
    messages.clear()
    evaluate(root, records, build_model(FlowModelConfig()), EvalSettings(controls=CONTROLS), log=messages.append)
    assert "flow: 24 asks, 23 cached, 1 to ask" in messages


def test_shuffled_order_is_seeded_and_far_from_both_orders():
    order = shuffled_order(8, 3, "s003")
    assert order == shuffled_order(8, 3, "s003") and sorted(order) == list(range(8))
    assert abs(spearman_with_identity(order)) < 0.2
    assert order not in (tuple(range(8)), tuple(range(8))[::-1])
    assert len({shuffled_order(8, 3, f"s{i:03d}") for i in range(10)}) == 10  # one per sample
    assert spearman_with_identity(tuple(range(8))) == 1.0 and spearman_with_identity(tuple(range(8))[::-1]) == -1.0
    record = {"id": "x", "seed": 1, "num_frames": 2}
    assert control_order("reversed", record, 8) == ((1, 0), "")
    assert control_order("shuffled", record, 8)[0] is None  # 2 frames cannot be shuffled


def test_every_adapter_path_sees_the_reordered_frames(direction_set, tmp_path):
    record = read_manifest(direction_set)[1]  # moves right
    clip = SampledClip(direction_set / record["video"], 8)
    twin = clip.reordered(tuple(range(8))[::-1])
    assert twin.indices == clip.indices[::-1] and twin.timeline == clip.indices == sorted(clip.indices)
    np.testing.assert_array_equal(twin.frames, clip.frames[::-1])
    np.testing.assert_array_equal(twin.middle_frame, clip.middle_frame)  # a still picture has no order
    # hf: processors that write timestamps see the clock of the plain clip, never the reordering
    assert video_metadata(twin, 12)["frames_indices"] == clip.indices
    # openai: frames go as images in the order shown; the clip file itself cannot be reordered
    ask = build_asks(record, "mcq", False)[0]
    openai = build_model(OpenAIModelConfig(name="m", video_url=True))
    assert openai.request_body(ask, clip)["messages"][0]["content"][0]["type"] == "video_url"
    with pytest.raises(UserError, match="video_url"):
        openai.request_body(ask, twin)
    # command: the twin's request lists the frames in the order shown
    log = tmp_path / "requests.log"
    script = tmp_path / "appearance.py"
    script.write_text(APPEARANCE)
    run_with_controls(direction_set, CommandModelConfig(cmd=f"{sys.executable} {script} {log}"), limit=2)
    requests = [json.loads(t) for t in log.read_text().splitlines()]
    plain, reversed_twin = [indices for sample, indices in requests if sample == record["id"]][:2]
    assert reversed_twin == plain[::-1]


def test_a_model_that_answers_from_appearance_is_named_in_the_findings(direction_set, tmp_path):
    script = tmp_path / "appearance.py"
    script.write_text(APPEARANCE)
    cfg = CommandModelConfig(cmd=f"{sys.executable} {script} {tmp_path / 'log'}", label="appearance")
    controls = run_with_controls(direction_set, cfg)["controls"]
    assert controls["reversed"]["original_accuracy"]["rate"] == 1.0 and controls["reversed"]["flip_rate"]["rate"] == 0
    for reference in (FlowModelConfig(), BlindModelConfig(), RandomModelConfig(seed=1)):
        run_with_controls(direction_set, reference)
    records = read_manifest(direction_set)
    evaluations = [
        Evaluation(direction_set, label, records,
                   [json.loads(t) for t in (direction_set / "evals" / label / "predictions.jsonl").read_text().splitlines()],
                   ["mcq"], False, 8)
        for label in ("appearance", "flow", "blind", "random")
    ]  # fmt: skip
    findings = time_control_findings(evaluations)
    assert any(line.startswith("**appearance**") and "answers from appearance, not motion" in line for line in findings)
    assert any(line.startswith("**flow**") and "reads frame order" in line for line in findings)
    assert len(findings) == 2  # nothing about the models at chance
    section = "\n".join(time_controls_section(evaluations))
    assert section.startswith("## Time controls") and "| ds | appearance | mcq | clean | 0.00 [" in section


def test_undefined_reversals_are_skipped_with_the_family_s_reason():
    records = [
        {"id": "a", "task": "order", "params": {"objects.count": 3}, "options": ["the blue cube", "the red cone", "the x"],
         "answer_index": 0, "num_frames": 12, "seed": 0, "degradations": []},
        {"id": "b", "task": "order", "params": {"objects.count": 2}, "options": ["the blue cube", "the red cone"],
         "answer_index": 0, "num_frames": 12, "seed": 0, "degradations": []},
    ]  # fmt: skip
    assert reversal_of(records[1])[0] == {"the blue cube": "the red cone", "the red cone": "the blue cube"}
    line = {"variant": "mcq", "rotation": 0, "parsed": "the blue cube", "correct": True, "choices": 2}
    originals = [{**line, "id": "a"}, {**line, "id": "b"}]
    twins = [{**line, "id": "b", "control": "reversed", "parsed": "the red cone"}]
    metrics = control_metrics(records, originals, twins, "mcq", ["reversed"], 8)["reversed"]
    assert metrics["consistency"]["n"] == 1 and metrics["consistency"]["rate"] == 1.0
    assert metrics["skipped"] == {"order": {"n": 1, "reason": "with objects.count=3 the reversed clip's first mover is "
                                                             "the original's last, which the answer does not name"}}


def test_cli_controls_and_their_validation(direction_set, capsys):
    assert main(["eval", f"data={direction_set}", "model=blind", "model.label=blind_cli", "eval.controls=[reversed,shuffled]"]) == 0
    out = capsys.readouterr().out
    assert "blind_cli: reversed: consistency 0.000" in out and "blind_cli: shuffled: answers changed 0.000" in out
    metrics = json.loads((direction_set / "evals" / "blind_cli" / "metrics.json").read_text())
    assert set(metrics["controls"]) == {"variant", "reversed", "shuffled"}
    for bad in (["eval.controls=[backwards]"], ["eval.controls=reversed", "eval.variant=none_answer"]):
        assert main(["eval", f"data={direction_set}", "model=blind", *bad]) == 2
        assert "eval.controls" in capsys.readouterr().err
