"""synth bench: measure render, encode, end-to-end, scaling, memory and degradation speed.

  synth bench [quick=true] [out=docs/performance.md] [sections=[render,encode,generate,workers,memory,degrade]]

Prints a markdown table (metric, value, unit, goal) and the machine it ran on; with ``out=`` the
table is also written there. Timings are wall-clock medians of repeated runs on this machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import List

from synth.bench import BENCHES, Row, table, table_line
from synth.errors import UserError

SECTIONS = tuple(BENCHES)


@dataclass
class Config:
    quick: bool = False
    out: str = ""
    sections: List[str] = field(default_factory=lambda: list(SECTIONS))


def run(cfg: Config) -> None:
    unknown = [s for s in cfg.sections if s not in SECTIONS]
    if unknown:
        raise UserError(f"sections: unknown {', '.join(unknown)}; allowed {', '.join(SECTIONS)}")
    rows: list[Row] = []
    for section in cfg.sections:
        part = BENCHES[section](cfg.quick)
        rows += part
        for row in part:
            print(table_line(row), flush=True)
    text = table(rows)
    print()
    print(text)
    if cfg.out:
        Path(cfg.out).write_text(text)
