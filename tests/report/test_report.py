"""Reports never mix unlike runs (variant, circular, frames), name conditions by their params, keep
equal curves visible; multirun datasets carry their sweep; preview.png is labelled."""

import json
import re

import numpy as np
from PIL import Image

from synth.cli import main
from synth.report.conditions import condition_names
from synth.report.document import Evaluation, write_report

OPTIONS = ["left", "right", "up", "down"]


def records(n: int, degradations: list | None = None, sweep: dict | None = None) -> list[dict]:
    """``n`` direction records; the same (group, seed) pairs across calls, so copies pair up."""
    return [
        {
            "id": f"s{i}" + ("_d" if degradations else ""), "task": "direction", "question": "Which way?",
            "options": OPTIONS, "answer_index": i % 4, "answer": OPTIONS[i % 4], "params": {},
            "group": f"g{i}", "seed": i, "sweep": sweep, "degradations": degradations or [],
        }
        for i in range(n)
    ]  # fmt: skip


def predictions(recs: list[dict], right, variant: str = "mcq", rotations: int = 1) -> list[dict]:
    """One line per (record, rotation); ``right(i)`` says whether sample ``i`` is answered right."""
    return [
        {"id": r["id"], "variant": variant, "rotation": k, "correct": bool(right(i)), "parsed": "left", "choices": 4}
        for i, r in enumerate(recs)
        for k in range(rotations)
    ]


def section(text: str, title_start: str) -> str:
    """The markdown section whose heading starts with ``title_start``."""
    match = re.search(rf"^## {re.escape(title_start)}.*?(?=^## |\Z)", text, re.S | re.M)
    assert match, f"no section {title_start!r}"
    return match.group(0)


def test_circular_and_plain_runs_are_never_pooled(tmp_path):
    clean, fog = records(16), records(16, [{"name": "fog", "params": {"severity": 2}}])
    evaluations = [
        # Circular on the clean set (always right), plain on the fog set (right on half).
        Evaluation(tmp_path / "clean", "m", clean, predictions(clean, lambda i: True, rotations=4), ["mcq"], True, 8),
        Evaluation(tmp_path / "fog", "m", fog, predictions(fog, lambda i: i % 2), ["mcq"], False, 8),
    ]
    text = write_report(evaluations, tmp_path / "out", "r").read_text()
    circular = section(text, "Accuracy by condition (variant `mcq`, circular)")
    plain = section(text, "Accuracy by condition (variant `mcq`)")
    assert "| m | 1.000" in circular and f"| {0.25**4:.3f} |" in circular  # chance of 4 rotations: 1/256
    assert "fog@2" not in circular and "| m | 0.500" in plain and "| 0.250 |" in plain
    # McNemar never pairs the circular clean run with the plain fog run: no clean in the plain mode.
    row = next(line for line in text.splitlines() if line.startswith("| m | fog 2 |"))
    assert [c.strip() for c in row.strip("|").split("|")][4:6] == ["-", "0"]  # relative drop, pairs
    assert "Accuracy by question variant and evaluation mode" in text
    assert (tmp_path / "out" / "accuracy_mcq_circular.png").is_file() and (tmp_path / "out" / "accuracy_mcq.png").is_file()


def test_variants_and_frame_counts_get_their_own_sections(tmp_path):
    recs = records(8)
    lines = predictions(recs, lambda i: True) + predictions(recs, lambda i: False, variant="none_answer")
    evaluations = [
        Evaluation(tmp_path / "a", "m", recs, lines, ["mcq", "none_answer"], False, 8),
        Evaluation(tmp_path / "b", "m", recs, predictions(recs, lambda i: i < 2), ["mcq"], False, 16),
    ]
    text = write_report(evaluations, tmp_path / "out", "r").read_text()
    assert "| m | 1.000" in section(text, "Accuracy by condition (variant `mcq`, 8 frames)")
    assert "| m | 0.000" in section(text, "Accuracy by condition (variant `none_answer`, 8 frames)")
    assert "| m | 0.250" in section(text, "Accuracy by condition (variant `mcq`, 16 frames)")


def test_conditions_have_one_name_and_their_params_in_a_table(tmp_path):
    lens = {"name": "lens", "params": {"k1": -0.2, "k2": 0.05, "chromatic_px": 1.5}}
    dark = {"name": "low_light", "params": {"severity": 5, "ev": -9, "read_noise_e": 8}}
    dark_less = {"name": "low_light", "params": {"severity": 5, "ev": -5, "read_noise_e": 8}}
    recs = records(4) + records(4, [lens, dark]) + records(4, [dark]) + records(4, [dark_less])
    names = condition_names(recs)
    assert sorted(names.values()) == ["clean", "lens, k1 -0.2, k2 0.05 + low light 5, ev -9", "low light 5", "low light 5, ev -9"]
    text = write_report([Evaluation(tmp_path, "m", recs, predictions(recs, lambda i: True), ["mcq"], False)], tmp_path / "o", "r").read_text()
    table = section(text, "Conditions")
    assert "| lens, k1 -0.2, k2 0.05 + low light 5, ev -9 | lens(chromatic_px=1.5, k1=-0.2, k2=0.05) → low_light(ev=-9, read_noise_e=8, severity=5) |" in table
    # Two low_light conditions share severity 5 but not ev: each keeps its own row, never pooled,
    # and the darker one (ev -9 past level 5's ev -5) comes after it: severity grows to the right.
    robustness = section(text, "Robustness")
    assert robustness.index("| m | low light 5 |") < robustness.index("| m | low light 5, ev -9 |")
    accuracy = section(text, "Accuracy by condition").splitlines()
    header = next(line for line in accuracy if line.startswith("| model |"))
    assert header.startswith("| model | clean | lens + low light 5, ev -9 | low light 5 | low light 5, ev -9 |") is False
    assert header.index("| low light 5 |") < header.index("| low light 5, ev -9 |")


def test_equal_curves_stay_visible_beside_a_chance_line(tmp_path):
    clean, noisy = records(8), records(8, [{"name": "noise", "params": {"severity": 3}}])
    both = clean + noisy
    same = predictions(both, lambda i: i % 4 == 0)
    evaluations = [Evaluation(tmp_path, m, both, same, ["mcq"], False, 8) for m in ("blind", "single_frame")]
    write_report(evaluations, tmp_path / "out", "r")
    image = np.asarray(Image.open(tmp_path / "out" / "robustness_noise.png").convert("RGB")).astype(int)

    def pixels(rgb):
        return int((np.abs(image - np.array(rgb)).sum(axis=-1) < 40).sum())

    assert pixels((31, 119, 180)) > 50 and pixels((255, 127, 14)) > 50  # matplotlib's first two colours
    assert pixels((128, 128, 128)) > 50  # the grey chance line


def test_multirun_records_its_value_as_the_sweep_and_the_report_draws_it(tmp_path):
    out = tmp_path / "rot"
    small = ["n=2", "render.width=32", "render.height=32", "clip.fps=4", "clip.seconds=1", "progress=false"]
    assert main(["generate", "-m", "object.rotation_deg=0,10", f"out={out}", *small]) == 0
    for value in (0, 10):
        root = out / f"object.rotation_deg={value}"
        record = json.loads((root / "manifest.jsonl").read_text().splitlines()[0])
        assert record["sweep"] == {"variable": "object.rotation_deg", "value": float(value)}
        assert json.loads((root / "dataset.json").read_text())["config"]["sweep"]["variable"] == "object.rotation_deg"
        assert main(["eval", f"data={root}", "model=random"]) == 0
    roots = [f"data={out}/object.rotation_deg={v}" for v in (0, 10)]
    assert main(["report", *roots, f"out={tmp_path / 'report'}"]) == 0
    text = (tmp_path / "report" / "report.md").read_text()
    assert "| random | clean | 0.0 |" in text and "| random | clean | 10.0 |" in text
    assert (tmp_path / "report" / "sweep_object.rotation_deg.png").is_file()


def test_multirun_without_out_puts_each_job_below_the_default_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    small = ["n=1", "render.width=32", "render.height=32", "clip.fps=4", "clip.seconds=1", "progress=false"]
    assert main(["generate", "-m", "object.rotation_deg=0,10", *small]) == 0
    for value in (0, 10):
        assert (tmp_path / "data" / "direction" / f"object.rotation_deg={value}" / "dataset.json").is_file()


def test_preview_labels_rows_and_columns(tmp_path):
    root = tmp_path / "ds"
    assert main(["generate", "n=2", f"out={root}", "render.width=32", "render.height=32", "clip.fps=4",
                 "clip.seconds=1", "progress=false"]) == 0  # fmt: skip
    sheet = np.asarray(Image.open(root / "preview.png").convert("L"))
    height, width = sheet.shape
    assert height > 2 * 32 and width > 4 * 32  # a header row and a label column besides the 2 x 4 frames
    label_column, header = sheet[:, : width - 4 * 32], sheet[: height - 2 * 32, width - 4 * 32 :]
    assert (label_column < 100).sum() > 50 and (header < 100).sum() > 50  # dark text on white



def test_synth_report_keeps_runs_with_other_frame_counts_apart(tmp_path):
    """Through the CLI: the same model at eval.frames=4 on one dataset and 8 on its copy."""
    from support.square_clips import make_dataset

    a, b = make_dataset(tmp_path / "a", n=4), make_dataset(tmp_path / "b", n=4)
    assert main(["eval", f"data={a}", "model=random", "eval.frames=4"]) == 0
    assert main(["eval", f"data={b}", "model=random"]) == 0
    assert main(["report", f"data={a}", f"data={b}", f"out={tmp_path / 'r'}"]) == 0
    text = (tmp_path / "r" / "report.md").read_text()
    assert "## Accuracy by condition (variant `mcq`, 4 frames)" in text
    assert "## Accuracy by condition (variant `mcq`, 8 frames)" in text
