"""The "Time controls" section of the report and its findings lines.

For every evaluated model whose ``evals/<model>/controls.jsonl`` holds twins, or whose last
``synth eval`` asked for them (``eval.controls=[reversed,shuffled]``, listed in its
``metrics.json``), the control metrics of :mod:`synth.eval.controls` are recomputed from the
twins and the model's predictions (as the rest of the report is), per dataset, question variant
and condition, with a table per task where a dataset holds several; samples whose twin is
undefined (a family's reversal, too few frames to shuffle) are listed with the reason.

Findings (:func:`time_control_findings`), per dataset, model and task:

* *answers from appearance, not motion*: accurate on the originals whose answer reversal flips
  (Wilson lower bound above chance) while its answer flips on under half of their reversed twins
  (the flip rate's upper bound below 0.5);
* *reads frame order*: reversal consistency nearer to 1 than to chance (its lower bound above
  (1 + chance) / 2, so a guesser does not pass by luck) and flipping on over half of the reversed
  twins whose answer flips (lower bound above 0.5; a family whose answers all survive reversal
  cannot show it), with the share of answers a shuffle changes.
"""

from __future__ import annotations

import json
from pathlib import Path

from synth.eval.controls import CONTROLS, CONTROLS_FILE, control_metrics
from synth.results import read_predictions

DEFAULT_FRAMES = 8  # ``eval.frames``' default, for runs whose metrics.json does not say
COLUMNS = (
    ("reversed", "consistency", "reversal consistency"),
    ("reversed", "consistency_truth", "reversed: accuracy (mapped answer)"),
    ("reversed", "flip_rate", "flip rate"),
    ("reversed", "original_accuracy", "accuracy on originals that flip"),
    ("shuffled", "sensitivity", "shuffled: answers changed"),
)


def control_results(evaluations: list) -> list[tuple[str, str, dict]]:
    """``(dataset name, model, controls)`` per dataset, model and twin variant, ``controls`` as
    :func:`synth.eval.controls.control_metrics` returns it. ``evaluations``: the report's
    evaluations (objects with ``root``, ``model``, ``records``, ``predictions``, ``frames``); one
    dataset and model appearing in several run modes is read once."""
    results, seen = [], set()
    for ev in evaluations:
        if (ev.root, ev.model) in seen:
            continue
        seen.add((ev.root, ev.model))
        folder = Path(ev.root) / "evals" / ev.model
        twins, asked = read_predictions(folder / CONTROLS_FILE), _last_run_controls(folder / "metrics.json")
        for variant in dict.fromkeys([*(line["variant"] for line in twins), *asked]):
            of_variant = [line for line in twins if line["variant"] == variant]
            controls = [c for c in CONTROLS if c in asked.get(variant, ()) or any(line.get("control") == c for line in of_variant)]
            metrics = control_metrics(ev.records, ev.predictions, of_variant, variant, controls, ev.frames or DEFAULT_FRAMES)
            results.append((Path(ev.root).name, ev.model, metrics))
    return results


def _last_run_controls(metrics_path: Path) -> dict[str, list[str]]:
    """``{variant: controls}`` the last ``synth eval`` run asked for (its ``metrics.json``), so that a
    control whose every sample was skipped still shows."""
    try:
        controls = json.loads(metrics_path.read_text()).get("controls") or {}
    except (OSError, ValueError, AttributeError):
        return {}
    return {controls["variant"]: [c for c in controls if c in CONTROLS]} if "variant" in controls else {}


def _cell(entry: dict | None) -> str:
    if not entry or not entry["n"]:
        return "-"
    lo, hi = entry["ci95"]
    return f"{entry['rate']:.2f} [{lo:.2f}, {hi:.2f}] (chance {entry['chance']:.2f}, n={entry['n']})"


def _row(label: list[str], controls: dict, pick) -> str:
    cells = [_cell(pick(controls[c])[key]) if c in controls and pick(controls[c]) else "-" for c, key, _ in COLUMNS]
    return "| " + " | ".join(label + cells) + " |"


def time_controls_section(evaluations: list) -> list[str]:
    """Markdown lines of the section (none when no evaluation has twins)."""
    results = control_results(evaluations)
    if not results:
        return []
    header = "| " + " | ".join(["dataset", "model", "variant", "condition"] + [t for _, _, t in COLUMNS]) + " |"
    lines = [
        "## Time controls",
        "",
        "Each sample asked again on its own sampled frames in another order (docs/evaluation.md, \"Time controls\"):",
        "*reversed* (last to first; each family declares what its answer becomes: left <-> right, the same count)",
        "and *shuffled* (a seeded order far from both). A model that reads motion is reversal-consistent (its",
        "answer on the reversed twin is the mapping of its own original answer) and flips where the mapping",
        "flips; one that answers from appearance changes nothing. Wilson 95 % intervals; chance = a uniform",
        "random answer.",
        "",
        header,
        "|---" * (4 + len(COLUMNS)) + "|",
    ]
    by_task = []
    for dataset, model, controls in results:
        variant = controls["variant"]
        conditions = sorted({k for c in CONTROLS if c in controls for k in controls[c]["by_condition"]})
        for condition in conditions:
            lines.append(_row([dataset, model, variant, condition], controls, lambda e, k=condition: e["by_condition"].get(k)))
        tasks = sorted({k for c in CONTROLS if c in controls for k in controls[c]["by_task"]})
        if len(tasks) > 1:
            by_task += [_row([dataset, model, variant, task], controls, lambda e, k=task: e["by_task"].get(k)) for task in tasks]
    if by_task:
        lines += ["", "By task:", "", header.replace("| condition |", "| task |"), "|---" * (4 + len(COLUMNS)) + "|", *by_task]
    skipped = sorted({(dataset, control, task, entry["n"], entry["reason"])
                      for dataset, _, controls in results for control in CONTROLS if control in controls
                      for task, entry in controls[control]["skipped"].items()})  # fmt: skip
    if skipped:
        lines += ["", "Skipped (no twin):", ""]
        lines += [f"- {dataset}, {control}: {n} `{task}` samples: {reason}" for dataset, control, task, n, reason in skipped]
    return lines + [""]


def _above_chance(entry: dict) -> bool:
    return entry["n"] > 0 and entry["ci95"][0] > entry["chance"]


def _near_one(entry: dict) -> bool:
    """Lower bound above the midpoint of chance and 1."""
    return entry["n"] > 0 and entry["ci95"][0] > (1 + entry["chance"]) / 2


def time_control_findings(evaluations: list) -> list[str]:
    """Findings lines (markdown, no bullet) from the time controls of ``evaluations`` (as for
    :func:`control_results`): per dataset, model and task, a model accurate on originals whose
    answer reversal flips that does not flip ("answers from appearance, not motion"), and a model
    reversal-consistent far above chance that flips ("reads frame order")."""
    lines = []
    for dataset, model, controls in control_results(evaluations):
        reversal = controls.get("reversed", {}).get("by_task", {})
        shuffle = controls.get("shuffled", {}).get("by_task", {})
        for task in sorted(set(reversal) | set(shuffle)):
            where = f"**{model}** on {dataset} (`{task}`, {controls['variant']})"
            entry = reversal.get(task)
            if entry and _above_chance(entry["original_accuracy"]) and entry["flip_rate"]["ci95"][1] < 0.5:
                lines.append(
                    f"{where}: accurate on the originals ({_cell(entry['original_accuracy'])}) but its answer flips on "
                    f"only {_cell(entry['flip_rate'])} of their reversed twins: it answers from appearance, not motion."
                )
            elif entry and _near_one(entry["consistency"]) and entry["flip_rate"]["ci95"][0] > 0.5:
                changed = f"; a shuffle changes {_cell(shuffle[task]['sensitivity'])} of its answers" if task in shuffle else ""
                lines.append(f"{where} reads frame order: reversal-consistent {_cell(entry['consistency'])}{changed}.")
    return lines
