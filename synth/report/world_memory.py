"""The world-memory section of ``synth report``: per dataset, every world model that reports
the memory it held (``frames_held`` in world.json), its active window and store beside its
self-consistency by time away: a sliding window, pose retrieval and full memory side by side."""

from __future__ import annotations

import json
from pathlib import Path


def _cell(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def memory_section(roots: list[Path]) -> list[str]:
    """Markdown lines for the world models under ``roots`` whose world.json carries
    ``frames_held``; nothing when none does."""
    lines = []
    for root in roots:
        found = []
        for path in sorted((Path(root) / "evals").glob("*/world.json")):
            doc = json.loads(path.read_text())
            if doc.get("frames_held"):
                found.append((path.parent.name, doc))
        if not found:
            continue
        bins = sorted({b for _, doc in found for b in doc["by_time_away"]}, key=lambda b: int(b.split("-")[0]))
        lines += [f"### `{Path(root).name}`", "",
                  "| model | window (frames) | store (frames) | " + " | ".join(f"away {b}" for b in bins) + " |",
                  "|---" * (3 + len(bins)) + "|"]  # fmt: skip
        for label, doc in found:
            held = doc["frames_held"]
            cells = [_cell(doc["by_time_away"].get(b, {}).get("self_consistency_ssim")) for b in bins]
            lines.append(f"| {label} | {held['window']:g} | {held['store']:g} | " + " | ".join(cells) + " |")
        lines.append("")
    if lines:
        lines = ["## World models: memory held against consistency", "",
                 "Self-consistency SSIM per time away (frames) beside the frames each model held, means over clips "
                 "(`window`: the active context, `store`: frames kept outside it and retrieved by pose; "
                 "docs/world-models.md).", ""] + lines  # fmt: skip
    return lines
