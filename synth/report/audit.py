"""The shortcut-audit section of ``synth report``: each dataset's ``evals/audit/audit.json`` as a table."""

from __future__ import annotations

import json
from pathlib import Path

from synth.eval.audit import table


def audit_section(roots: list[Path]) -> list[str]:
    """Markdown lines of the ``synth report`` section: the audit of every dataset in ``roots``
    that has ``evals/audit/audit.json`` (none: no section)."""
    lines: list[str] = []
    for root in dict.fromkeys(Path(r) for r in roots):
        path = root / "evals" / "audit" / "audit.json"
        if not path.is_file():
            continue
        result = json.loads(path.read_text())
        if not lines:
            lines += [
                "## Shortcut audit",
                "",
                "Learned probes (`synth audit`: standardised logistic regression on one frame area-averaged to "
                "a few pixels, on the question text, or on the clip's mean / max image; held-out groups). "
                "A single-frame or text probe above chance + margin is a shortcut; order-free summaries are "
                "held to what each family declares they may tell.",
                "",
            ]
        verdict = "passed" if result["passed"] else "FAILED: " + ", ".join(result["shortcuts"])
        lines += [f"`{root}` (n = {result['n']}, margin {result['margin']:g}): {verdict}", "", table(result), ""]
    return lines
