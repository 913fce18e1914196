"""synth bench: measure render, encode, end-to-end, scaling, memory and degradation speed.

  synth bench [quick=true] [out=docs/performance.md] [device=auto]
              [sections=[render,encode,generate,workers,memory,degrade,profile]]

Prints a markdown table (metric, value, unit, goal) and the machine it ran on; with ``out=`` the
table is also written there. Timings are wall-clock medians of repeated runs on this machine.
``sections=[profile]`` (`make profile`) times each stage of `synth generate` per clip;
``sections=[gpu]`` (`make bench-gpu`) is the run for a GPU machine: render at 256² and 1080p,
the camera model on ``device``, generate on every core, probe features of a tiny model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import List

from synth.bench import BENCHES, GROUPS, Row, table, table_line
from synth.delivery import resolve_device
from synth.errors import UserError
from synth.io import write_atomic

SECTIONS = tuple(BENCHES)
DEFAULT_SECTIONS = ("render", "encode", "generate", "workers", "memory", "degrade")


@dataclass
class Config:
    quick: bool = False
    out: str = ""
    sections: List[str] = field(default_factory=lambda: list(DEFAULT_SECTIONS))
    device: str = "auto"  # where torch runs: auto (a GPU if present), cpu, cuda, cuda:N


def run(cfg: Config) -> None:
    sections = [name for s in cfg.sections for name in GROUPS.get(s, (s,))]
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise UserError(f"sections: unknown {', '.join(unknown)}; allowed {', '.join((*SECTIONS, *GROUPS))}")
    device = str(resolve_device(cfg.device))
    rows: list[Row] = []
    for section in sections:
        part = BENCHES[section](cfg.quick, device)
        rows += part
        for row in part:
            print(table_line(row), flush=True)
    text = table(rows)
    print()
    print(text)
    if cfg.out:
        write_atomic(Path(cfg.out), text)
