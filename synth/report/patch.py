"""The patch section of ``synth report``: for each (dataset, model) with a ``synth patch`` run,
where the signal is present (the probe's score per stage, when probed) beside where it is used
(the patch effect per stage), the endpoints, and the patch plot."""

from __future__ import annotations

import json
import shutil
from pathlib import Path


def _cell(value, ci=None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")


def present_vs_used(patch: dict, probe: dict | None) -> list[str]:
    """Markdown table: stage, probe score (present), patch effect and flip rate (used)."""
    scores = {s["name"]: s for s in (probe or {}).get("stages", [])}
    metric = (probe or {}).get("metric", "probe")
    lines = [f"| stage | present: probe {metric} [95 %] | used: patch effect [95 %] | flip rate |", "|---|---|---|---|"]
    for s in patch["stages"]:
        p = scores.get(s["name"])
        lines.append(f"| {s['name']} | {_cell(p['score'], p['ci95']) if p else '–'} | {_cell(s['effect'], s['ci95'])} "
                     f"| {_cell(s['flip_rate'])} |")  # fmt: skip
    return lines


def patch_section(evaluations, out_dir: Path) -> list[str]:
    """Markdown lines for ``synth report``: each evaluated (dataset, model) pair's patch.json
    (with its probe.json beside it when there is one) and plot (copied into ``out_dir``);
    empty when none was patched."""
    lines = []
    for root, model in sorted({(str(ev.root), ev.model) for ev in evaluations}):
        base = Path(root) / "evals" / model
        if not (base / "patch" / "patch.json").is_file():
            continue
        doc = json.loads((base / "patch" / "patch.json").read_text())
        probe_path = base / "probe" / "probe.json"
        probe = json.loads(probe_path.read_text()) if probe_path.is_file() else None
        png = f"patch_{Path(root).name}_{model}.png"
        if (base / "patch" / "patch.png").is_file():
            shutil.copyfile(base / "patch" / "patch.png", out_dir / png)
        ends = ", ".join(f"{name} {_cell(row['effect'])} (expected {row['target']:.0f}"
                         + ("" if row["ok"] is None else ", ok" if row["ok"] else ", **off**") + ")"
                         for name, row in doc["endpoints"].items())  # fmt: skip
        lines += [f"### {model} on `{Path(root).name}`: {doc['n_pairs']} ordered pairs "
                  f"({doc['n_too_small']} with a clean difference below {doc['min_clean_diff']} left out)", "",
                  f"Endpoints: {ends}.", "", *present_vs_used(doc, probe), "", f"![patch {model}]({png})", ""]  # fmt: skip
    if lines:
        lines = ["## Patching: where the model uses what it saw", "",
                 "Probe score (is the answer readable at this stage?) beside the patch effect (does replacing this "
                 "stage with the paired clip's move the answer?), `synth patch`, docs/probes.md.", ""] + lines  # fmt: skip
    return lines
