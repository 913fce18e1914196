"""synth report data=DIR [data=DIR2 ...] [out=DIR] [overwrite=false]

Tables and PNG plots over every model evaluated on the given datasets (their evals/*/):
accuracy per model x condition with Wilson 95 % intervals and chance, accuracy against each
swept variable, robustness curves per degradation, relative drop from clean and McNemar tests;
for world-model evaluations (synth world), a table per model and consistency against time away.
Default out: <first DIR>/evals/report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import List

from synth.dataset import read_manifest
from synth.errors import UserError
from synth.report.document import Evaluation, write_report
from synth.results import read_predictions


@dataclass
class Config:
    data: List[str] = field(default_factory=list)
    out: str = ""
    overwrite: bool = False


def load_evaluations(root: Path) -> list[Evaluation]:
    """Every evals/<model>/ under ``root`` that has predictions and metrics."""
    records = read_manifest(root)
    found = []
    for metrics_path in sorted((root / "evals").glob("*/metrics.json")):
        try:
            metrics = json.loads(metrics_path.read_text())
            variants, circular = list(metrics["by_variant"]), metrics["circular"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise UserError(f"{metrics_path}: not a synth eval metrics file ({exc}); rerun `synth eval`") from None
        predictions = read_predictions(metrics_path.parent / "predictions.jsonl")
        # frames: a run mode of its own (reports never pool 8-frame and 16-frame runs)
        found.append(Evaluation(root, metrics_path.parent.name, records, predictions, variants, circular, metrics.get("frames")))
    return found


def run(cfg: Config) -> None:
    if not cfg.data:
        raise UserError("data: required, one or more evaluated dataset directories (data=DIR [data=DIR2 ...])")
    evaluations, world_roots = [], []
    for data in cfg.data:
        found = load_evaluations(Path(data))
        has_world = any((Path(data) / "evals").glob("*/world.json"))
        if not found and not has_world:
            raise UserError(f"data={data}: no evaluations (run `synth eval data={data} model=...` first)")
        evaluations += found
        world_roots += [Path(data)] if has_world else []
    out = Path(cfg.out) if cfg.out else Path(cfg.data[0]) / "evals" / "report"
    if (out / "report.md").exists() and not cfg.overwrite:
        raise UserError(f"out={out}: already holds a report.md; pass overwrite=true to replace it")
    path = write_report(evaluations, out, "synth report", world_roots=world_roots)
    print(path)
