"""Honest plots: cells not run are absent (the legend says "not run"), one colour and marker per
model across the whole report, titles naming the run mode, and modes that never overwrite each
other; world reports carry no eval leftovers and keep equal curves visible."""

from __future__ import annotations

import json

import pytest
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from synth.cli import main
from synth.report.document import Evaluation, write_report
from synth.report.plots import model_styles

OPTIONS = ["left", "right", "up", "down"]


def records(n: int, degradations: list | None = None) -> list[dict]:
    return [{"id": f"s{i}" + ("_" + degradations[0]["name"] + str(degradations[0]["params"]["severity"]) if degradations else ""),
             "task": "direction", "question": "Which way?", "options": OPTIONS, "answer_index": i % 4,
             "answer": OPTIONS[i % 4], "params": {}, "group": f"g{i}", "seed": i, "sweep": None,
             "degradations": degradations or []} for i in range(n)]  # fmt: skip


def lines(recs: list[dict], right) -> list[dict]:
    return [{"id": r["id"], "variant": "mcq", "rotation": 0, "choices": 4, "parsed": r["answer"] if right(i) else "up",
             "correct": bool(right(i))} for i, r in enumerate(recs)]  # fmt: skip


@pytest.fixture
def figures(monkeypatch) -> dict:
    """Every figure the report saves, by file name, kept open for inspection."""
    saved: dict = {}
    original = Figure.savefig

    def keep(self, path, *args, **kwargs):
        saved[str(path).rsplit("/", 1)[-1]] = self
        return original(self, path, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    return saved


def two_models(tmp_path):
    """``a`` run on clean, fog 2 and fog 5; ``b`` only on clean and fog 5 (fog 2 not run)."""
    clean, fog2, fog5 = records(8), records(8, [{"name": "fog", "params": {"severity": 2}}]), records(8, [{"name": "fog", "params": {"severity": 5}}])
    a = Evaluation(tmp_path, "a", clean + fog2 + fog5, lines(clean + fog2 + fog5, lambda i: True), ["mcq"], False, 8)
    b = Evaluation(tmp_path, "b", clean + fog5, lines(clean + fog5, lambda i: i % 2), ["mcq"], False, 8)
    return [a, b]


def test_cells_not_run_are_absent_not_zero(tmp_path, figures):
    text = write_report(two_models(tmp_path), tmp_path / "out", "r").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| b | "))
    assert [c.strip() for c in row.strip("|").split("|")][1:4] == ["0.500 [0.215, 0.785] (n=8)", "not run", "0.500 [0.215, 0.785] (n=8)"]
    ax = figures["accuracy_mcq.png"].axes[0]
    bars = {c.get_label(): len(c.patches) for c in ax.containers if isinstance(c, BarContainer) and not c.get_label().startswith("_")}
    assert bars["a"] == 3 and bars["b"] == 2  # no zero-height bar for the cell b never ran
    assert "not run" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert ax.get_title() == "Accuracy by condition (variant mcq)"
    # the robustness curve of b skips fog 2, and its x axis grows in severity: clean, fog 2, fog 5
    robust = figures["robustness_fog.png"].axes
    assert [t.get_text() for t in robust[1].get_xticklabels()] == ["clean", "fog 2", "fog 5"]
    b_line = next(line for line in robust[0].get_lines() if line.get_label() == "b")
    assert len(b_line.get_xdata()) == 2 and "missing point: not run" in [t.get_text() for t in robust[0].get_legend().get_texts()]


def test_one_colour_and_marker_per_model_across_the_report(tmp_path, figures):
    write_report(two_models(tmp_path), tmp_path / "out", "r")
    styles = model_styles(["b", "a"])
    assert styles == model_styles(["a", "b"]) and styles["a"]["color"] != styles["b"]["color"]
    bar_colours = {c.get_label(): c.patches[0].get_facecolor()[:3] for c in figures["accuracy_mcq.png"].axes[0].containers
                   if isinstance(c, BarContainer) and not c.get_label().startswith("_")}  # fmt: skip
    curves = {line.get_label(): line for line in figures["robustness_fog.png"].axes[0].get_lines()}
    from matplotlib.colors import to_rgb

    for model in ("a", "b"):
        colour = to_rgb(styles[model]["color"])
        assert bar_colours[model] == pytest.approx(colour, abs=1e-3) and to_rgb(curves[model].get_color()) == colour
        assert curves[model].get_marker() == styles[model]["marker"]


def test_a_circular_run_keeps_the_plain_runs_section(tmp_path):
    """Through the CLI: eval plain, then eval circular; both modes stay in the report."""
    from support.square_clips import make_dataset

    data = make_dataset(tmp_path / "d", n=4)
    assert main(["eval", f"data={data}", "model=random"]) == 0
    assert main(["eval", f"data={data}", "model=random", "eval.circular=true"]) == 0
    single = (data / "evals" / "random" / "report.md").read_text()
    assert "## Accuracy by condition (variant `mcq`)" in single and "## Accuracy by condition (variant `mcq`, circular)" in single
    assert main(["report", f"data={data}", f"out={tmp_path / 'r'}"]) == 0
    text = (tmp_path / "r" / "report.md").read_text()
    for title in ("variant `mcq`)", "variant `mcq`, circular)"):
        section = text[text.index(f"## Accuracy by condition ({title}"):]
        assert "| random |" in section.split("\n## ")[0]


def world_root(tmp_path):
    """Two world models with identical scores (frozen exactly under oracle)."""
    root = tmp_path / "w"
    revisit = {"time_away": 4, "self_consistency_ssim": 0.9, "fidelity_ssim": 0.8}
    summary = {"by_time_away": {}, "n_revisits": 2, "fidelity_psnr": 30.0, "fidelity_ssim": 0.8, "self_consistency_psnr": 31.0,
               "self_consistency_ssim": 0.9, "object_delta_e": 1.0, "object_presence": 1.0}  # fmt: skip
    for label in ("frozen", "oracle"):
        (root / "evals" / label).mkdir(parents=True)
        (root / "evals" / label / "world.json").write_text(json.dumps(summary))
        clips = [{"revisits": [revisit, {**revisit, "time_away": 8}]}]
        (root / "evals" / label / "world_revisits.jsonl").write_text("".join(json.dumps(c) + "\n" for c in clips))
    return root


def test_a_world_report_has_no_eval_leftovers_and_keeps_equal_curves_apart(tmp_path, figures):
    root = world_root(tmp_path)
    text = write_report([], tmp_path / "out", "world", world_roots=(root,)).read_text()
    assert f"Datasets: `{root}`" in text and "Wilson" not in text
    assert "World model frozen: self-consistency SSIM 0.900, fidelity SSIM 0.800 over 2 revisits" in text
    ax = figures["world_consistency.png"].axes[0]
    frozen, oracle = (next(line for line in ax.get_lines() if line.get_label() == m) for m in ("frozen", "oracle"))
    assert list(frozen.get_ydata()) == list(oracle.get_ydata())
    assert list(frozen.get_xdata()) != list(oracle.get_xdata())  # nudged apart, so frozen shows beside oracle
    assert frozen.get_marker() != oracle.get_marker() and frozen.get_color() != oracle.get_color()
