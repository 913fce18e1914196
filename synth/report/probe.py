"""The probe section of ``synth report``: each probed (dataset, model) pair's table and plot."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from synth.probe.run import probe_markdown


def probe_section(evaluations, out_dir: Path) -> list[str]:
    """Markdown lines for ``synth report``: each evaluated (dataset, model) pair's probe.json, its
    table and plot (copied into ``out_dir``); empty when none was probed."""
    lines = []
    for root, model in sorted({(str(ev.root), ev.model) for ev in evaluations}):
        probe_dir = Path(root) / "evals" / model / "probe"
        if not (probe_dir / "probe.json").is_file():
            continue
        doc = json.loads((probe_dir / "probe.json").read_text())
        png = f"probe_{Path(root).name}_{model}.png"
        if (probe_dir / "probe.png").is_file():
            shutil.copyfile(probe_dir / "probe.png", out_dir / png)
        lines += [probe_markdown(doc, heading="###").rstrip(), "", f"![probe {model}]({png})", ""]
    if lines:
        lines = ["## Probes: where the model loses what it saw", "",
                 "Linear-probe score per stage (`synth probe`, docs/probes.md) against the verbal accuracy on the same samples.",
                 ""] + lines  # fmt: skip
    return lines
