"""synth verify: re-hash every clip and check a dataset against its manifest.

  synth verify data=DIR

Exits 0 and prints a summary if the dataset verifies; otherwise prints each problem and exits 1.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from synth.dataset import read_manifest, verify
from synth.errors import UserError


@dataclass
class Config:
    data: str = ""


def run(cfg: Config) -> None:
    if not cfg.data:
        raise UserError("data: required, the dataset directory (data=DIR)")
    if not Path(cfg.data).is_dir():
        raise UserError(f"data={cfg.data}: no such directory")
    problems = verify(cfg.data)
    for p in problems:
        print(p)
    if problems:
        print(f"{cfg.data}: {len(problems)} problem(s)", file=sys.stderr)
        raise SystemExit(1)
    print(f"{cfg.data}: OK, {len(read_manifest(cfg.data))} samples verified")
