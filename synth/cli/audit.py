"""synth audit data=DIR [audit.features=[first,middle,last,text,mean,max]] [audit.strict=false] [audit.margin=0.1] [audit.folds=5] [audit.size=12]

Looks for shortcuts: learned probes (standardised logistic regression, scored on held-out groups)
try to read the answer from one frame, from the question text, and from order-free summaries of
the clip. The verdict weighs each probe's 95 % interval against its limit: pass (every upper bound
within it), shortcut (a lower bound above it) or inconclusive at n=... (too few samples to tell;
it names the n that would decide). Writes DIR/evals/audit/audit.json and prints a table and the
verdict; `synth report` shows it.

  audit.features   first, middle, last, any integer frame index (-1 = last), text (question and
                   options, bag of words), mean and max (per-pixel mean / max over the clip)
  audit.margin     the limit: chance + margin (a single-frame or text probe whose 95 % lower bound is
                   above it is a shortcut)
  audit.strict     exit with status 2 when any single-frame or text probe is a shortcut
  audit.folds      outer GroupKFold folds over the manifest's `group`
  audit.size       frames are area-averaged to size x size x 3 pixels
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List

from synth.dataset import read_manifest
from synth.errors import UserError
from synth.eval.audit import DEFAULT_FEATURES, audit, parse_features, strict_failure, table, verdict_text
from synth.io import write_atomic

AUDIT_DIR = Path("evals") / "audit"


@dataclass
class AuditKeys:
    features: List[Any] = field(default_factory=lambda: list(DEFAULT_FEATURES))
    strict: bool = False
    margin: float = 0.1
    folds: int = 5
    size: int = 12


@dataclass
class Config:
    data: str = ""
    audit: AuditKeys = field(default_factory=AuditKeys)


def _ceiling(task: str) -> float | None:
    """The family's declared order-free ceiling (None for a family this install does not know)."""
    from synth import scenes

    return scenes.TASKS[task].order_free_ceiling if task in scenes.TASKS else None


def run(cfg: Config) -> None:
    if not cfg.data:
        raise UserError("data: required, the dataset directory (data=DIR)")
    keys = cfg.audit
    features = parse_features(list(keys.features))
    if not 0.0 <= keys.margin < 1.0:
        raise UserError(f"audit.margin={keys.margin}: allowed 0 <= margin < 1")
    if keys.folds < 2:
        raise UserError(f"audit.folds={keys.folds}: must be >= 2")
    if not 1 <= keys.size <= 64:
        raise UserError(f"audit.size={keys.size}: allowed 1..64")
    root = Path(cfg.data)
    records = read_manifest(root)
    result = audit(root, records, features, folds=keys.folds, margin=keys.margin, size=keys.size, ceilings=_ceiling)
    out = root / AUDIT_DIR / "audit.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"verdict: {verdict_text(result)}")
    print(f"-> {out}")
    failure = strict_failure(result)
    if keys.strict and failure:
        raise UserError(failure)
