"""The binding gap is given only where it compares like with like: the question's own answer,
read above chance by some stage; otherwise it is null and probe.md says why. The verbal accuracy
keeps invalid answers apart and comes with a chance-corrected figure."""

from __future__ import annotations

import pytest

from synth.probe.run import probe_markdown, summarize

OPTIONS = ["left", "right", "up", "down"]


def stage(name: str, score: float, lo: float, hi: float) -> dict:
    return {"name": name, "score": score, "ci95": [lo, hi], "control": 0.25, "n": 64, "dims": 8}


def answers(n: int, right: int, invalid: int) -> list[dict]:
    """``right`` correct answers, ``invalid`` that named no option, the rest wrong options."""
    return [{"correct": i < right, "parsed": None if i >= n - invalid else "left", "choices": 4} for i in range(n)]


def labels(n: int) -> list[str]:
    return [OPTIONS[i % 4] for i in range(n)]


def doc_of(target: str, stages: list[dict], verbal: list[dict]) -> dict:
    return {"model": "tiny", "frames": 4, "pool": [4, 2, 2], **summarize(target, labels(len(verbal)), verbal, stages)}


def test_null_when_every_stage_reads_at_chance_and_every_answer_is_invalid():
    """The issue's tiny random model: every stage at 0.24 vs 0.25, verbal answers all invalid."""
    stages = [stage("vision", 0.24, 0.14, 0.37), stage("projector", 0.24, 0.14, 0.37), stage("llm.0", 0.23, 0.14, 0.36)]
    doc = doc_of("answer", stages, answers(64, 0, 64))
    assert doc["binding_gap"] is None and "no stage reads the answer above chance" in doc["binding_gap_reason"]
    assert doc["verbal_accuracy"] == 0.0 and doc["verbal_invalid_rate"] == 1.0
    assert doc["verbal_chance_corrected"] == pytest.approx(-1 / 3)
    text = probe_markdown(doc)
    assert "Binding gap: none: no stage reads the answer above chance" in text and "invalid (no option named) 1.000" in text


def test_null_for_a_target_other_than_the_questions_answer():
    """probe.target=background.color read perfectly is not compared with the direction answers."""
    stages = [stage("vision", 1.0, 0.94, 1.0), stage("projector", 0.97, 0.9, 0.99)]
    doc = doc_of("background.color", stages, answers(64, 16, 0))
    assert doc["binding_gap"] is None and "not the question's answer" in doc["binding_gap_reason"]
    assert "Binding gap: none: target background.color" in probe_markdown(doc)


def test_given_when_a_stage_reads_the_answer_above_chance():
    stages = [stage("vision", 0.95, 0.87, 0.98), stage("projector", 0.9, 0.8, 0.95), stage("llm.0", 0.6, 0.48, 0.71)]
    doc = doc_of("answer", stages, answers(64, 32, 8))
    assert doc["binding_gap"] == pytest.approx(0.9 - 0.5) and doc["binding_gap_reason"] is None
    assert doc["verbal_invalid_rate"] == pytest.approx(8 / 64)
    assert doc["verbal_chance_corrected"] == pytest.approx((0.5 - 0.25) / 0.75)
    assert "Binding gap: +0.400" in probe_markdown(doc)
