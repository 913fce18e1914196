"""The probe section of ``synth report``: each probed (dataset, model) pair's table and plot."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from synth.probe.run import probe_markdown


def _probed(evaluations) -> list[tuple[Path, str, Path]]:
    """``(dataset, model, probe folder)`` of every evaluated pair that has a probe.json."""
    found = []
    for root, model in sorted({(str(ev.root), ev.model) for ev in evaluations}):
        probe_dir = Path(root) / "evals" / model / "probe"
        if (probe_dir / "probe.json").is_file():
            found.append((Path(root), model, probe_dir))
    return found


def probe_docs(evaluations) -> list[tuple[str, dict]]:
    """``("model on dataset", probe.json)`` of every probed (dataset, model) pair."""
    return [(f"{model} on {root.name}", json.loads((d / "probe.json").read_text())) for root, model, d in _probed(evaluations)]


def probe_section(evaluations, out_dir: Path) -> list[str]:
    """Markdown lines for ``synth report``: each evaluated (dataset, model) pair's probe.json, its
    table and plot (copied into ``out_dir``); empty when none was probed."""
    lines = []
    for root, model, probe_dir in _probed(evaluations):
        doc = json.loads((probe_dir / "probe.json").read_text())
        png = f"probe_{root.name}_{model}.png"
        if (probe_dir / "probe.png").is_file():
            shutil.copyfile(probe_dir / "probe.png", out_dir / png)
        lines += [probe_markdown(doc, heading="###").rstrip(), "", f"![probe {model}]({png})", ""]
    if lines:
        lines = ["## Probes: where the model loses what it saw", "",
                 "Linear-probe score per stage (`synth probe`, docs/probes.md) against the verbal accuracy on the same samples; "
                 "the binding gap only where the probe reads the question's own answer above chance.",
                 ""] + lines  # fmt: skip
    return lines
