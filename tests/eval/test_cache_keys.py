"""Caches keyed on content: a cached answer is reused only for the same clip bytes (sha256), prompt,
frames, model config and the code versions of the model adapter (an oracle's too) and the scorer."""

from __future__ import annotations

import json
import shutil

import pytest
from support.square_clips import make_dataset, oracle_for

from synth.dataset import read_manifest
from synth.eval.runner import EvalSettings, evaluate
from synth.models.configs import OracleModelConfig
from synth.models.reference import OracleModel
from synth.models.registry import build_model


@pytest.fixture
def dataset(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("cache") / "ds", n=4)


def run(root) -> tuple[dict, list[str]]:
    said: list[str] = []
    metrics = evaluate(root, read_manifest(root), build_model(OracleModelConfig(), oracle_for), EvalSettings(), said.append)
    return metrics, said


def test_a_replaced_clip_is_asked_again_and_scored_on_its_new_content(dataset):
    first, _ = run(dataset)
    assert first["accuracy"] == 1.0
    # s000's square moves left; put s001's clip (moving right) in its place, as a re-rendered dataset would.
    shutil.copyfile(dataset / "clips" / "s001.mp4", dataset / "clips" / "s000.mp4")
    lines = [json.loads(t) for t in (dataset / "manifest.jsonl").read_text().splitlines()]
    lines[0]["sha256"] = lines[1]["sha256"]
    (dataset / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))

    second, said = run(dataset)
    assert "oracle: 4 asks, 3 cached, 1 to ask" in said, said
    assert any(m.startswith("1 cached predictions were made from a clip whose content has changed") for m in said), said
    assert second["accuracy"] == 0.75  # the new clip's answer (right) is scored, not the cached one
    predictions = [json.loads(t) for t in (dataset / "evals" / "oracle" / "predictions.jsonl").read_text().splitlines()]
    assert next(p for p in predictions if p["id"] == "s000")["parsed"] == "right"
    assert {p["clip_sha256"] for p in predictions if p["id"] == "s000"} == {lines[1]["sha256"]}


def test_a_new_oracle_version_is_asked_again(dataset, monkeypatch):
    run(dataset)
    _, said = run(dataset)
    assert "oracle: 4 asks, 4 cached, 0 to ask" in said, said
    monkeypatch.setattr(OracleModel, "version", OracleModel.version + 1)
    _, said = run(dataset)
    assert "oracle: 4 asks, 0 cached, 4 to ask" in said, said
    assert any("model/oracle/scorer version" in m for m in said), said


def test_a_new_scorer_version_is_asked_again(dataset, monkeypatch):
    import synth.eval.runner

    run(dataset)
    monkeypatch.setattr(synth.eval.runner, "SCORER_VERSION", synth.eval.runner.SCORER_VERSION + 1)
    _, said = run(dataset)
    assert "oracle: 4 asks, 0 cached, 4 to ask" in said, said
