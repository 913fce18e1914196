"""The evaluations a report covers, one per run mode found on disk, so modes never overwrite each other.

``synth eval`` keeps one ``predictions.jsonl`` per model label, and every line it ever asked with
the same model config and frame count stays there (other variants, other rotations). A plain
run and a circular run of the same model therefore both live in that file, whatever order they
ran in, while ``metrics.json`` holds only the last run's summary. The report reads the modes
from the predictions: for each question variant a plain mode (rotation 0 of every sample asked),
and a circular mode over the samples asked in every rotation of their options. The frame count
comes from ``metrics.json`` (a run with another frame count replaces the cache: give it its own
``model.label`` to keep both).
"""

from __future__ import annotations

import json
from pathlib import Path

from synth.dataset import read_manifest
from synth.errors import UserError
from synth.report.document import Evaluation
from synth.results import read_predictions


def run_modes(predictions: list[dict]) -> list[tuple[str, bool]]:
    """``(variant, circular)`` of every mode the lines answer: plain for each variant asked, circular
    where some sample was asked in every rotation of its options."""
    rotations: dict[tuple[str, str], set[int]] = {}
    choices: dict[tuple[str, str], int] = {}
    for line in predictions:
        key = (line["variant"], str(line["id"]))
        rotations.setdefault(key, set()).add(int(line["rotation"]))
        choices[key] = int(line.get("choices") or 0)
    modes = []
    for variant in dict.fromkeys(v for v, _ in rotations):
        keys = [k for k in rotations if k[0] == variant]
        if any(0 in rotations[k] for k in keys):
            modes.append((variant, False))
        if any(choices[k] > 1 and rotations[k] >= set(range(choices[k])) for k in keys):
            modes.append((variant, True))
    return modes


def load_evaluations(root: Path) -> list[Evaluation]:
    """Every run mode of every ``evals/<model>/`` under ``root`` that has predictions and metrics."""
    records = read_manifest(root)
    found = []
    for metrics_path in sorted((root / "evals").glob("*/metrics.json")):
        try:
            metrics = json.loads(metrics_path.read_text())
            last_variants, last_circular = list(metrics["by_variant"]), bool(metrics["circular"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise UserError(f"{metrics_path}: not a synth eval metrics file ({exc}); rerun `synth eval`") from None
        predictions = read_predictions(metrics_path.parent / "predictions.jsonl")
        modes = run_modes(predictions) or [(v, last_circular) for v in last_variants]
        for variant, circular in modes:
            # frames: a run mode of its own (reports never pool 8-frame and 16-frame runs)
            found.append(Evaluation(root, metrics_path.parent.name, records, predictions, [variant], circular, metrics.get("frames")))
    return found
