"""Tests that prove the patching instrument: its endpoints hold on tiny Qwen2-VL and
LLaVA-OneVision (whole input = 1, nothing = 0, a same-answer sibling = 0), and a planted model
whose answer position first reads the clip in decoder layer 1 shows the effect appear exactly
there."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("transformers")
pytest.importorskip("torchvision")

from support.paired_squares import write_direction_dataset  # noqa: E402

from synth.cli import main  # noqa: E402
from synth.models.configs import HFModelConfig  # noqa: E402
from synth.models.registry import build_model  # noqa: E402
from synth.patch.run import PatchSettings, grouped_mean_interval, run_patch  # noqa: E402
from synth.probe.tiny import build_tiny  # noqa: E402


@pytest.mark.parametrize("arch", ["qwen2_vl", "llava_onevision"])
def test_endpoints_hold_on_tiny_models(arch, tmp_path):
    # 8 clips: 4 groups of two directions; clips of one direction are identical (no jitter), so
    # each A has a same-answer sibling whose video is A's own and whose options are rotated
    root, _ = write_direction_dataset(tmp_path / "ds", 8)
    model_dir = build_tiny(arch, tmp_path / arch)
    assert main(["patch", f"data={root}", f"model.path={model_dir}", "eval.frames=4", "patch.min_clean_diff=1e-6",
                 "patch.stages=[projector,llm.1]"]) == 0  # fmt: skip
    out = root / "evals" / arch / "patch"
    doc = json.loads((out / "patch.json").read_text())
    assert (out / "patch.md").is_file() and (out / "patch.png").is_file()
    assert doc["n_pairs"] + doc["n_too_small"] == 8 and doc["n_pairs"] >= 4
    ends = doc["endpoints"]
    assert ends["input"]["effect"] == pytest.approx(1, abs=1e-3) and ends["input"]["ok"]
    assert ends["none"]["effect"] == pytest.approx(0, abs=1e-3) and ends["none"]["ok"]
    assert ends["same_answer"]["effect"] == pytest.approx(0, abs=1e-3) and ends["same_answer"]["ok"]
    assert [s["name"] for s in doc["stages"]] == ["projector", "llm.1", "llm.1.visual"]
    for s in doc["stages"]:
        assert set(s) == {"name", "effect", "ci95", "flip_rate", "n_pairs"} and s["n_pairs"] == doc["n_pairs"]
    by_name = {s["name"]: s for s in doc["stages"]}
    # the projector's output is all the LLM sees of the clip; the last layer's answer position is all the head reads
    assert by_name["projector"]["effect"] == pytest.approx(1, abs=1e-3)
    assert by_name["llm.1"]["effect"] == pytest.approx(1, abs=1e-3) and by_name["llm.1"]["flip_rate"] == 1
    assert by_name["llm.1.visual"]["effect"] == pytest.approx(0, abs=1e-3)  # nothing reads them afterwards


def test_planted_stage_shows_the_effect_exactly_at_and_after_it(tmp_path):
    """Decoder layer 0's attention output is zeroed: no position reads another there, so the
    answer position first reads the clip in layer 1 (the planted stage)."""
    import torch

    root, records = write_direction_dataset(tmp_path / "ds", 8, jitter=True)
    hf = build_model(HFModelConfig(path=str(build_tiny("llava_onevision", tmp_path / "planted"))))
    layer0 = hf.model.model.language_model.layers[0]
    with torch.no_grad():
        layer0.self_attn.o_proj.weight.zero_()
    doc = run_patch(root, records, hf, PatchSettings(frames=4, min_clean_diff=1e-6), log=lambda m: None)
    effect = {s["name"]: s["effect"] for s in doc["stages"]}
    assert effect["llm.0"] == pytest.approx(0, abs=1e-4)  # before the planted stage: nothing to move
    assert effect["llm.1"] == pytest.approx(1, abs=1e-4)  # at it (the last layer): all of it
    for name in ("vision", "projector", "llm.0.visual"):  # everything layer 1 reads the clip from
        assert effect[name] == pytest.approx(1, abs=1e-4), name
    assert effect["llm.1.visual"] == pytest.approx(0, abs=1e-4)
    assert doc["endpoints"]["input"]["ok"] and doc["endpoints"]["none"]["ok"]


def test_grouped_interval_resamples_groups():
    mean, (lo, hi) = grouped_mean_interval([1.0, 1.0, 0.0, 0.0], ["g0", "g0", "g1", "g1"], seed=0)
    assert mean == 0.5 and lo == 0.0 and hi == 1.0  # two groups: a draw holds both pairs of a group or none


def test_patch_bad_input_is_one_line(tmp_path, capsys):
    root, _ = write_direction_dataset(tmp_path / "ds", 4)
    for bad, key in [(["patch.min_clean_diff=0"], "patch.min_clean_diff"), (["eval.frames=0"], "eval.frames")]:
        assert main(["patch", f"data={root}", "model.path=nowhere", *bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"synth: error: {key}") and err.count("\n") == 1, err


def test_patch_errors_name_its_own_keys(tmp_path, capsys):
    root, _ = write_direction_dataset(tmp_path / "ds", 4)
    model = build_tiny("qwen2_vl", tmp_path / "tiny")
    for bad, start in [("patch.stages=[nope]", "patch.stages=nope: not a stage of this model"),
                       ("patch.modules=[nope]", "patch.modules: module 'nope' must match")]:  # fmt: skip
        assert main(["patch", f"data={root}", f"model.path={model}", bad]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith(f"synth: error: {start}") and "Traceback" not in "".join(err), err


def test_report_section_sets_presence_beside_use(tmp_path):
    from types import SimpleNamespace

    from synth.report.patch import patch_section

    base = tmp_path / "ds" / "evals" / "m"
    (base / "patch").mkdir(parents=True)
    (base / "probe").mkdir()
    row = {"effect": 0.0, "ci95": [0.0, 0.0], "n_pairs": 4, "target": 0, "ok": True}
    patch = {"n_pairs": 4, "n_too_small": 1, "min_clean_diff": 0.01,
             "endpoints": {"input": {**row, "effect": 1.0, "target": 1}, "none": row, "same_answer": row},
             "stages": [{"name": "vision", "effect": 0.9, "ci95": [0.8, 1.0], "flip_rate": 1.0, "n_pairs": 4},
                        {"name": "llm.0", "effect": 0.1, "ci95": [0.0, 0.2], "flip_rate": 0.0, "n_pairs": 4}]}  # fmt: skip
    (base / "patch" / "patch.json").write_text(json.dumps(patch))
    (base / "probe" / "probe.json").write_text(json.dumps(
        {"metric": "accuracy", "stages": [{"name": "vision", "score": 0.97, "ci95": [0.9, 1.0]}]}))  # fmt: skip
    lines = patch_section([SimpleNamespace(root=tmp_path / "ds", model="m")], tmp_path)
    text = "\n".join(lines)
    assert "## Patching" in text and "1 with a clean difference below 0.01 left out" in text
    assert "| vision | 0.970 [0.90, 1.00] | 0.900 [0.80, 1.00] | 1.000 |" in text
    assert "| llm.0 | – | 0.100 [0.00, 0.20] | 0.000 |" in text
    assert patch_section([SimpleNamespace(root=tmp_path / "none", model="m")], tmp_path) == []
