"""The shortcut-audit section of ``synth report``: each dataset's ``evals/audit/audit.json`` as a table."""

from __future__ import annotations

import json
from pathlib import Path

from synth.eval.audit import table, verdict_text


def audit_results(roots: list[Path]) -> list[tuple[Path, dict]]:
    """``(dataset, audit.json)`` of every dataset in ``roots`` that has one."""
    found = []
    for root in dict.fromkeys(Path(r) for r in roots):
        path = root / "evals" / "audit" / "audit.json"
        if path.is_file():
            found.append((root, json.loads(path.read_text())))
    return found


def audit_verdict(result: dict) -> str:
    """The verdict line of one audit.json; files written before verdicts weighed intervals (no
    ``verdict`` key) get a line asking for a rerun."""
    if "verdict" not in result:
        return "written by an older synth audit (no interval verdict): rerun `synth audit`"
    return verdict_text(result)


def audit_section(roots: list[Path]) -> list[str]:
    """Markdown lines of the ``synth report`` section: the audit of every dataset in ``roots``
    that has ``evals/audit/audit.json`` (none: no section)."""
    lines: list[str] = []
    for root, result in audit_results(roots):
        if not lines:
            lines += [
                "## Shortcut audit",
                "",
                "Learned probes (`synth audit`: standardised logistic regression on one frame area-averaged to "
                "a few pixels, on the question text, or on the clip's mean / max image; held-out groups). "
                "Each probe's 95 % interval is weighed against its limit (chance + margin; order-free summaries "
                "are held to what each family declares they may tell): pass when every upper bound is within "
                "it, shortcut when a lower bound is above it, otherwise inconclusive at this n.",
                "",
            ]
        lines += [f"`{root}` (n = {result['n']}, margin {result['margin']:g}): {audit_verdict(result)}", "", table(result), ""]
    return lines
