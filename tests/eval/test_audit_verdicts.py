"""Audit verdicts weigh each probe's 95 % interval against its limit: a small audit is
inconclusive (and names the n that would decide), a large clean one passes, a planted shortcut
is found at any n that shows it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from synth.eval.audit import Feature, audit, decisive_n, needed_n, parse_features, verdict, verdict_text
from synth.scoring.stats import wilson_interval

OPTIONS = ["left", "right", "up", "down"]
WORDS = ["red", "blue", "green", "cube", "ball", "small", "large", "shiny", "matte", "bright"]


def text_records(n: int, planted: bool, seed: int = 0) -> list[dict]:
    """``n`` four-option records, one group each; the question names the answer when ``planted``,
    else it is drawn from words that say nothing about it."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        answer = i % 4
        words = " ".join(rng.choice(WORDS, 3))
        question = f"Which way does the {words} object move? hint {OPTIONS[answer]}x" if planted else f"Which way does the {words} object move?"
        out.append({"id": f"s{i}", "task": "direction", "question": question, "options": OPTIONS,
                    "answer_index": answer, "group": f"g{i}", "num_frames": 8, "video": f"clips/s{i}.mp4"})  # fmt: skip
    return out


def run_text_audit(n: int, planted: bool) -> dict:
    return audit(Path("."), text_records(n, planted), parse_features(["text"]), folds=5, margin=0.1)


def test_a_small_clean_audit_is_inconclusive_and_names_the_n_that_decides():
    res = run_text_audit(16, planted=False)
    (probe,) = res["probes"]
    assert probe["verdict"] == "inconclusive" and res["verdict"] == "inconclusive" and not res["passed"]
    assert verdict_text(res).startswith("inconclusive at n=16")


def test_a_large_clean_audit_passes():
    res = run_text_audit(600, planted=False)
    (probe,) = res["probes"]
    assert probe["ci95"][1] <= probe["chance"] + 0.1 and probe["verdict"] == "pass"
    assert res["verdict"] == "pass" and res["passed"] and verdict_text(res).startswith("pass at n=600")


@pytest.mark.parametrize("n", [16, 600])
def test_a_planted_shortcut_is_a_shortcut_at_small_and_large_n(n):
    res = run_text_audit(n, planted=True)
    (probe,) = res["probes"]
    assert probe["ci95"][0] > probe["limit"] and probe["verdict"] == "shortcut"
    assert res["verdict"] == "shortcut" and res["shortcuts"] == ["direction/text"] and not res["passed"]


def test_the_issues_case_a_probe_at_0_06_on_16_samples_is_not_a_pass():
    """0.06 [0.01, 0.28] against chance 0.25 at n=16: the upper bound is within chance + 0.1, but
    16 samples cannot tell chance from the limit (a probe at exactly chance would not pass)."""
    ci = wilson_interval(1, 16)
    assert ci[1] <= 0.35
    assert verdict(ci, 16, 0.25, 0.1, Feature("first", "frame"), None) == ("inconclusive", pytest.approx(0.35))


def test_verdicts_at_the_edges_of_the_interval():
    frame = Feature("first", "frame")
    assert verdict(wilson_interval(250, 1000), 1000, 0.25, 0.1, frame, None)[0] == "pass"
    assert verdict(wilson_interval(8, 16), 16, 0.25, 0.1, frame, None)[0] == "inconclusive"
    assert verdict(wilson_interval(15, 16), 16, 0.25, 0.1, frame, None)[0] == "shortcut"
    # A summary probe within its family's order-free ceiling is allowed, above it a shortcut.
    summary = Feature("mean", "summary")
    assert verdict(wilson_interval(900, 1000), 1000, 0.5, 0.1, summary, 1.0)[0] == "allowed"
    assert verdict(wilson_interval(900, 1000), 1000, 0.5, 0.1, summary, 0.5) == ("shortcut", pytest.approx(0.6))


def test_decisive_n_is_where_the_interval_leaves_the_limit():
    n = decisive_n(0.25, 0.35)
    assert wilson_interval(0.25 * n, n)[1] <= 0.35 < wilson_interval(0.25 * (n - 1), n - 1)[1]
    assert decisive_n(0.35, 0.35) is None  # an accuracy at its limit never decides
    assert decisive_n(0.9, 0.35) < 16
    # A probe at chance needs 88 samples before its (asymmetric) interval fits under chance + 0.1.
    assert needed_n(0.25, 0.25, 0.1, 0.35) == 88
