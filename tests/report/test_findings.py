"""The findings section opens report.md and is generated from the data: significant paired
changes with size, interval and McNemar p, abstentions apart from wrong answers, "no
significant change" said plainly, and the benches' verdicts (audit, probe, world)."""

from __future__ import annotations

import json
import re

from synth.report.document import Evaluation, write_report
from synth.report.findings import paired_difference_ci

OPTIONS = ["left", "right", "up", "down"]
FOG5 = {"name": "fog", "params": {"severity": 5, "beta_per_m": 0.12}}


def records(n: int, degradations: list | None = None) -> list[dict]:
    return [{"id": f"s{i}" + ("_d" if degradations else ""), "task": "direction", "question": "Which way?", "options": OPTIONS,
             "answer_index": i % 4, "answer": OPTIONS[i % 4], "params": {}, "group": f"g{i}", "seed": i, "sweep": None,
             "degradations": degradations or []} for i in range(n)]  # fmt: skip


def lines(recs: list[dict], answer) -> list[dict]:
    """``answer(i)``: "right", "wrong" or "abstain" for sample ``i``."""
    out = []
    for i, r in enumerate(recs):
        kind = answer(i)
        parsed = {"right": r["answer"], "wrong": "up" if r["answer"] != "up" else "down", "abstain": None}[kind]
        out.append({"id": r["id"], "variant": "mcq", "rotation": 0, "choices": 4, "parsed": parsed, "correct": kind == "right",
                    "response": parsed or "nothing moves"})  # fmt: skip
    return out


def findings(text: str) -> str:
    return re.search(r"^## Findings\n(.*?)(?=^## )", text, re.S | re.M).group(1)


def demo_like(tmp_path) -> str:
    """flow loses 9 of 24 in fog 5, every one an abstention; blind stays at chance: no change."""
    clean, fog = records(24), records(24, [FOG5])
    both = clean + fog
    flow = lines(clean, lambda i: "right") + lines(fog, lambda i: "abstain" if i < 9 else "right")
    blind = lines(both, lambda i: "right" if i % 4 == 0 else "wrong")
    evaluations = [Evaluation(tmp_path, "flow", both, flow, ["mcq"], False, 8), Evaluation(tmp_path, "blind", both, blind, ["mcq"], False, 8)]
    return write_report(evaluations, tmp_path / "out", "demo-like").read_text()


def test_findings_come_first_and_state_the_change_with_p_and_abstentions(tmp_path):
    text = demo_like(tmp_path)
    assert text.index("## Findings") < text.index("## Conditions") < text.index("## Accuracy by condition")
    found = findings(text)
    flow = next(line for line in found.splitlines() if "**flow**" in line)
    assert "fog 5: 1.000 → 0.625 (change -0.375" in flow and "McNemar b = 9, c = 0, p = 0.00391" in flow
    assert "all 9 lost answers are abstentions (no option named), not wrong options" in flow
    assert "Abstentions (no option named) of **flow**: fog 5 0.375" in found
    assert "**blind**: no significant change under any condition" in found


def test_abstentions_per_condition_in_the_tables(tmp_path):
    text = demo_like(tmp_path)
    row = next(line for line in text.splitlines() if line.startswith("| flow | 1.000"))
    assert "0.625 [0.427, 0.788] (n=24), abstained 0.375" in row
    robustness = next(line for line in text.splitlines() if line.startswith("| flow | fog 5 |"))
    cells = [c.strip() for c in robustness.strip("|").split("|")]
    assert cells[3] == "0.375" and cells[6:8] == ["9", "9"]  # abstained; b and lost to abstention


def test_the_paired_interval_excludes_zero_for_nine_losses_of_twenty_four():
    lo, hi = paired_difference_ci(9, 0, 24)
    assert -0.6 < lo < hi < 0 and paired_difference_ci(0, 0, 24)[0] < 0 < paired_difference_ci(0, 0, 24)[1]


def test_findings_name_the_audit_probe_and_world_verdicts(tmp_path):
    clean = records(8)
    root = tmp_path / "ds"
    (root / "evals" / "audit").mkdir(parents=True)
    (root / "evals" / "audit" / "audit.json").write_text(json.dumps({
        "n": 8, "margin": 0.1, "verdict": "inconclusive", "decisive_n": 88, "shortcuts": [], "passed": False,
        "probes": [{"task": "direction", "feature": "first", "kind": "frame", "n": 8, "correct": 2, "accuracy": 0.25,
                    "ci95": [0.07, 0.59], "chance": 0.25, "limit": 0.35, "strict": True, "verdict": "inconclusive", "decisive_n": 88}]}))  # fmt: skip
    (root / "evals" / "m" / "probe").mkdir(parents=True)
    (root / "evals" / "m" / "probe" / "probe.json").write_text(json.dumps({
        "model": "m", "target": "answer", "metric": "accuracy", "chance": 0.25, "verbal_accuracy": 0.0, "verbal_ci95": [0, 0.3],
        "verbal_invalid_rate": 1.0, "verbal_chance": 0.25, "verbal_chance_corrected": -1 / 3, "binding_gap": None,
        "binding_gap_reason": "no stage reads the answer above chance", "n": 8,
        "stages": [{"name": "vision", "score": 0.25, "ci95": [0.07, 0.59], "control": 0.25, "n": 8, "dims": 4}]}))  # fmt: skip
    text = write_report([Evaluation(root, "m", clean, lines(clean, lambda i: "right"), ["mcq"], False, 8)], tmp_path / "out", "r").read_text()
    found = findings(text)
    assert "Shortcut audit of `ds`: inconclusive at n=8" in found and "about n=88" in found
    assert "Probe of m on ds (target answer): binding gap none: no stage reads the answer above chance" in found
    assert "no clean and degraded versions of the same samples" in found
