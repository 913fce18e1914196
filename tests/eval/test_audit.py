"""`synth audit`: no task family gives its answer away in one frame or in its text (learned
probes, held-out groups), the probes do find a shortcut that is there, and the command's
contract (audit.json, strict mode, bad input)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from synth import scenes
from synth.cli import main
from synth.scoring.stats import wilson_interval

# Small clips: the probes see 12 x 12 pixels, so larger renders would only cost time.
CLIP = ["render.width=32", "render.height=32", "clip.fps=6", "clip.seconds=2", "progress=false", "seed=5"]
N_FAMILY = 56
# Families whose questions need a longer clip (world: out, away and back).
LONGER = {"world": ["clip.seconds=4"]}
MARGIN = 0.1


def generate(out: Path, task: str, n: int, *extra: str) -> Path:
    assert main(["generate", f"task={task}", f"n={n}", *CLIP, *extra, f"out={out}"]) == 0
    return out


def audit(data: Path, *extra: str) -> int:
    return main(["audit", f"data={data}", *extra])


def result(data: Path) -> dict:
    return json.loads((data / "evals" / "audit" / "audit.json").read_text())


def significant_shortcuts(res: dict) -> list[str]:
    """Single-frame and text probes whose 95 % Wilson lower bound is above chance + margin: at
    n = 56 a point estimate would cross the margin by luck in some of the ~44 probes, a lower
    bound above it does not (the CLI itself, meant for n >= 400, compares the point estimate)."""
    bad = []
    for p in res["probes"]:
        lo, _ = wilson_interval(p["correct"], p["n"])
        if p["strict"] and lo > p["chance"] + res["margin"]:
            bad.append(f"{p['task']}/{p['feature']}: {p['accuracy']:.2f} (lower bound {lo:.2f}, chance {p['chance']:.2f})")
    return bad


@pytest.mark.parametrize("family", list(scenes.TASKS))
def test_no_family_tells_its_answer_in_one_frame_or_its_text(tmp_path, family):
    data = generate(tmp_path / family, family, N_FAMILY, *LONGER.get(family, []))
    assert audit(data, "audit.features=[first,middle,last,text]", "audit.folds=4") == 0
    assert significant_shortcuts(result(data)) == []


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    """ego_motion as it was before its fix: the wall's noise pattern at the same place in every
    sample, so where the wall sits in the first frame tells whether the camera moved."""
    out = tmp_path_factory.mktemp("planted") / "ego_same_wall"
    return generate(out, "ego_motion", N_FAMILY, "wall.texture_x=0", "wall.texture_y=0")


@pytest.fixture(scope="module")
def planted_audit(planted) -> tuple[int, str, str, dict]:
    """``synth audit audit.strict=true`` on the planted set, once: (status, stdout, stderr, audit.json)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = audit(planted, "audit.features=[first,middle,-1,text,max]", "audit.strict=true", "audit.folds=4")
    return status, out.getvalue(), err.getvalue(), result(planted)


def test_the_audit_finds_a_shortcut_that_is_there(planted_audit):
    _, stdout, _, res = planted_audit
    by_feature = {p["feature"]: p for p in res["probes"]}
    assert by_feature["first"]["verdict"] == "shortcut" and by_feature["first"]["accuracy"] >= 0.8
    assert any(s.startswith("ego_motion/first") for s in significant_shortcuts(res))
    assert not res["passed"] and "ego_motion/first" in res["shortcuts"]
    # The middle frame is the same whoever moved (the camera is back at its mid-clip place): no
    # shortcut, though 56 samples are too few to pass it (a probe at chance needs about 100).
    assert by_feature["middle"]["verdict"] == "inconclusive" and by_feature["middle"]["decisive_n"] > N_FAMILY
    assert "| ego_motion | first |" in stdout


def test_strict_mode_exits_2_with_one_line(planted_audit):
    status, _, stderr, res = planted_audit
    err = stderr.strip().splitlines()
    assert status == 2 and len(err) == 1
    assert err[0].startswith("synth: error: audit.strict:") and "ego_motion/first" in err[0]
    # The figures are still written: strict mode judges them, it does not hide them.
    assert res["features"] == ["first", "middle", "frame -1", "text", "max"]


def test_audit_json_schema(planted_audit):
    res = planted_audit[3]
    assert res["format"] == 1 and res["n"] == N_FAMILY and res["folds"] == 4 and res["margin"] == MARGIN
    assert res["image_size"] == [12, 12, 3] and set(res) >= {"data", "probe", "probes", "shortcuts", "passed", "verdict", "decisive_n"}
    for p in res["probes"]:
        assert set(p) == {"task", "feature", "kind", "n", "correct", "accuracy", "ci95", "chance", "limit",
                          "order_free_ceiling", "strict", "verdict", "decisive_n"}  # fmt: skip
        assert p["task"] == "ego_motion" and p["n"] == N_FAMILY and p["accuracy"] == p["correct"] / p["n"]
        assert p["ci95"][0] <= p["accuracy"] <= p["ci95"][1] and p["chance"] == 0.5
        assert p["verdict"] in ("pass", "allowed", "inconclusive", "shortcut") and p["strict"] == (p["kind"] != "summary")
    summary = next(p for p in res["probes"] if p["feature"] == "max")
    # ego_motion's answer survives time reversal: order-free summaries may tell it.
    assert summary["order_free_ceiling"] == 1.0 and summary["verdict"] != "shortcut"


@pytest.mark.parametrize(
    "args, message",
    [
        (["audit.features=[first,sideways]"], "audit.features: unknown feature 'sideways'"),
        (["audit.features=[40]"], "audit.features: frame 40 is outside"),
        (["audit.folds=1"], "audit.folds=1"),
        (["audit.margin=1.5"], "audit.margin=1.5"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, planted, capsys, args, message):
    data = tmp_path / "copy"
    data.mkdir()
    for name in ("manifest.jsonl", "dataset.json"):
        (data / name).write_bytes((planted / name).read_bytes())
    assert audit(data, *args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"synth: error: {message}")
    assert not (data / "evals").exists()


def test_missing_dataset_is_one_line(tmp_path, capsys):
    assert audit(tmp_path / "nowhere") == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_report_shows_the_audit(planted, planted_audit, tmp_path):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["eval", f"data={planted}", "model=random"]) == 0
        assert main(["report", f"data={planted}", f"out={tmp_path / 'report'}"]) == 0
    text = (tmp_path / "report" / "report.md").read_text()
    assert "## Shortcut audit" in text and "shortcut: ego_motion/first" in text and "| ego_motion | first |" in text
