"""Rebuild the demo section of ``docs/evaluation.md`` from a real ``make demo`` run.

Run from the repository root (the venv must exist; ``-o setup`` keeps make from reinstalling it)::

    .venv/bin/python docs/build_eval_doc.py            # runs `make -o setup demo`, then writes the section
    .venv/bin/python docs/build_eval_doc.py --no-run   # rewrites it from the last run's data/demo (timing kept)
    .venv/bin/python docs/build_eval_doc.py --no-run --demo DIR   # from a run made with `make demo DEMO=DIR`

The section between the ``<!-- begin demo -->`` and ``<!-- end demo -->`` markers gets the
demo recipe exactly as make expands it (``.venv/bin/synth`` shown as ``synth``), the measured
time and machine, the findings section of the report ``make demo`` wrote (quoted as it is),
its accuracy table, and its plots (copied to ``docs/img/demo/``). ``tests/package/test_docs.py``
checks that the quoted commands still are the Makefile's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "evaluation.md"
IMG = REPO / "docs" / "img" / "demo"
DEMO = REPO / "data" / "demo"
TIMING = IMG / "timing.json"
BEGIN, END = "<!-- begin demo", "<!-- end demo -->"


def demo_commands() -> list[str]:
    """The demo recipe as make expands it, with ``synth`` for ``.venv/bin/synth`` (echo lines dropped)."""
    out = subprocess.run(["make", "-s", "-n", "-o", "setup", "demo", "BIN=.venv/bin"], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return [line.replace(".venv/bin/synth", "synth") for line in out.splitlines() if line and not line.startswith("echo")]


def run_demo() -> dict:
    start = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(["make", "-o", "setup", "demo"], cwd=REPO, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    load = os.getloadavg()[0]
    return {"wall_s": round(time.monotonic() - start, 1), "cpu_s": round(cpu, 1), "load": round(load, 1)}


def _table(text: str, heading: str) -> list[str]:
    """The markdown table lines that follow the first heading starting with ``heading``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            rows.append(line)
        elif rows:
            break
    return rows


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def findings(report: str) -> list[str]:
    """The report's own findings: the lines under ``## Findings``, up to the next heading."""
    lines = report.splitlines()
    start = lines.index("## Findings") + 1
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("#"))
    return [line for line in lines[start:end] if line.strip() and not line.startswith("Accuracy with Wilson")]


def section(timing: dict, demo: Path = DEMO) -> str:
    report = (demo / "evals" / "report.md").read_text()
    IMG.mkdir(parents=True, exist_ok=True)
    pictures = sorted(p.name for p in (demo / "evals").glob("*.png"))
    for old in IMG.glob("*.png"):  # figures of an earlier report that this one no longer draws
        if old.name not in pictures:
            old.unlink()
    for name in pictures:
        shutil.copy(demo / "evals" / name, IMG / name)
    cpu_model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), platform.processor())  # fmt: skip
    accuracy = _table(report, "## Accuracy by condition")
    conditions = _table(report, "## Conditions")
    lines = [
        f"{BEGIN}: written by docs/build_eval_doc.py from a `make demo` run; edit that script, not this section -->",
        "## The demo (what `make demo` runs)",
        "",
        "The demo recipe, as make runs it (after setting up `.venv`):",
        "",
        "<!-- docs-test: skip quoted from the Makefile: `make demo` runs it; tests/package/test_docs.py checks the quote -->",
        "```",
        *demo_commands(),
        "```",
        "",
        f"Measured: {timing['wall_s']:.0f} s wall, {timing['cpu_s']:.0f} s CPU on {platform.machine()}, "
        f"{os.cpu_count()} cores ({cpu_model}), no GPU, Mesa llvmpipe; load average {timing['load']:g} at the end "
        "(the machine was shared with other jobs, so the wall time is pessimistic).",
        "",
        "The report (`data/demo/evals/report.md`, and `report.html`: the same on one page with a gallery of",
        "the clips each model got right clean and wrong degraded) opens with its findings, quoted here as written:",
        "",
        *findings(report),
        "",
        "The optical-flow baseline reads the direction from every clean clip, as the oracle does. In dense",
        "fog its losses are abstentions (\"nothing moves\": no option named, counted apart from wrong",
        "options); in the dark they are wrong options, as are all of the oracle's. `single_frame` and `blind`",
        "stay at chance (one frame and the question text do not tell the direction), `random` within its",
        "interval of chance.",
        "Accuracy by condition, with Wilson 95 % intervals and the share of abstentions:",
        "",
        *accuracy,
        "",
        *conditions,
        "",
        *[f"![{name}](img/demo/{name})" for name in pictures],
        "",
        END,
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-run", action="store_true", help="use the last run's data/demo and timing")
    parser.add_argument("--demo", type=Path, default=DEMO, help="the demo's folder (make demo DEMO=...)")
    args = parser.parse_args()
    if args.no_run:
        timing = json.loads(TIMING.read_text())
    else:
        timing = run_demo()
        IMG.mkdir(parents=True, exist_ok=True)
        TIMING.write_text(json.dumps(timing) + "\n")
    text = DOC.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    DOC.write_text(text[:start] + section(timing, args.demo) + text[end:])
    print(f"wrote {DOC.relative_to(REPO)} ({timing})")


if __name__ == "__main__":
    main()
