"""Accuracy with Wilson 95 % intervals, overall and broken down by every axis a dataset varies.

A *prediction* is one line of ``predictions.jsonl`` (one ask). An *outcome* is one sample under
one variant: right only if every rotation asked was right (circular evaluation). Chance is the
probability that uniform guessing gets the outcome right: the product of 1/choices over its asks.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from synth.scoring.stats import wilson_interval

# Numeric params with more distinct values than this are reported in equal-count bins.
MAX_DISTINCT_VALUES = 12
NUMERIC_BINS = 5


@dataclass
class Outcome:
    """One sample under one variant. ``invalid``: asks whose answer named no option."""

    record: dict
    variant: str
    correct: bool
    asks: int
    invalid: int
    chance: float


def outcomes(records: list[dict], predictions: list[dict], variant: str, circular: bool) -> list[Outcome]:
    """Outcomes for ``variant``, in manifest order, for every record with at least one prediction.

    Without ``circular`` only rotation 0 counts (a cache may also hold other rotations).
    """
    by_sample: dict[str, list[dict]] = {}
    for line in predictions:
        if line["variant"] == variant and (circular or line["rotation"] == 0):
            by_sample.setdefault(line["id"], []).append(line)
    result = []
    for record in records:
        asks = by_sample.get(str(record["id"]))
        if not asks:
            continue
        result.append(
            Outcome(
                record=record,
                variant=variant,
                correct=all(a["correct"] for a in asks),
                asks=len(asks),
                invalid=sum(a["parsed"] is None for a in asks),
                chance=math.prod(1 / a["choices"] for a in asks),
            )
        )
    return result


def summarize(group: list[Outcome]) -> dict:
    """``accuracy, ci95 [lo, hi], n, correct, chance, invalid_rate`` of a list of outcomes."""
    n = len(group)
    correct = sum(o.correct for o in group)
    asks = sum(o.asks for o in group)
    lo, hi = wilson_interval(correct, n)
    return {
        "accuracy": correct / n if n else None,
        "ci95": [lo, hi],
        "n": n,
        "correct": correct,
        "chance": sum(o.chance for o in group) / n if n else None,
        "invalid_rate": sum(o.invalid for o in group) / asks if asks else None,
    }


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def degradation_level(degradation: dict) -> str:
    """How strong a degradation was: its ``severity`` when recorded, else its scalar params (``k=v,...``)."""
    params = degradation.get("params") or {}
    if "severity" in params:
        return f"{params['severity']:g}"
    scalars = [(k, v) for k, v in sorted(params.items()) if is_number(v) or isinstance(v, str)]
    return ",".join(f"{k}={v:g}" if is_number(v) else f"{k}={v}" for k, v in scalars)


def condition_label(record: dict) -> str:
    """``clean``, or the degradations applied in order as ``name@level`` joined by ``+``."""
    parts = []
    for d in record.get("degradations") or []:
        level = degradation_level(d)
        parts.append(f"{d['name']}@{level}" if level else d["name"])
    return "+".join(parts) or "clean"


def _value_key(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _group_by(items: list[Outcome], key_of) -> dict[str, list[Outcome]]:
    groups: dict[str, list[Outcome]] = {}
    for item in items:
        key = key_of(item)
        if key is not None:
            groups.setdefault(key, []).append(item)
    return groups


def _param_groups(items: list[Outcome], key: str) -> dict[str, list[Outcome]]:
    values = [o.record["params"].get(key) for o in items]
    distinct = {_value_key(v) for v in values}
    numeric = all(is_number(v) for v in values)
    if len(distinct) <= MAX_DISTINCT_VALUES or not numeric:
        return _group_by(items, lambda o: _value_key(o.record["params"].get(key)))
    ordered = sorted(values)
    edges = [ordered[min(len(ordered) - 1, len(ordered) * i // NUMERIC_BINS)] for i in range(NUMERIC_BINS)]
    edges.append(ordered[-1])

    def bin_of(o: Outcome) -> str:
        v = o.record["params"][key]
        i = max(j for j in range(NUMERIC_BINS) if v >= edges[j])
        return f"[{edges[i]:.4g}, {edges[i + 1]:.4g}]"

    return _group_by(items, bin_of)


def _summaries(groups: dict[str, list[Outcome]]) -> dict[str, dict]:
    return {key: summarize(group) for key, group in groups.items()}


def breakdowns(items: list[Outcome]) -> dict:
    """Summaries by task, condition, every ``params`` key, sweep value and degradation level (severity)."""
    params = sorted({k for o in items for k in o.record.get("params", {})})
    sweeps = _group_by(items, lambda o: (o.record.get("sweep") or {}).get("variable"))
    by_degradation: dict[str, dict] = {}
    for name in sorted({d["name"] for o in items for d in o.record.get("degradations") or []}):

        def level_key(o: Outcome, name=name):
            found = [d for d in o.record.get("degradations") or [] if d["name"] == name]
            return degradation_level(found[0]) if found else None

        by_degradation[name] = _summaries(_group_by(items, level_key))
    return {
        "by_task": _summaries(_group_by(items, lambda o: o.record["task"])),
        "by_condition": _summaries(_group_by(items, lambda o: condition_label(o.record))),
        "by_param": {k: _summaries(_param_groups([o for o in items if k in o.record["params"]], k)) for k in params},
        "by_sweep": {
            variable: _summaries(_group_by(group, lambda o: _value_key(o.record["sweep"]["value"])))
            for variable, group in sweeps.items()
        },
        "by_degradation": by_degradation,
    }


def compute_metrics(records: list[dict], predictions: list[dict], variants: list[str], circular: bool) -> dict:
    """The ``metrics.json`` object: the first variant's summary and breakdowns, then every variant's summary."""
    per_variant = {v: outcomes(records, predictions, v, circular) for v in variants}
    primary = per_variant[variants[0]]
    return {
        "variant": variants[0],
        "circular": circular,
        **summarize(primary),
        **breakdowns(primary),
        "by_variant": {v: summarize(items) for v, items in per_variant.items()},
    }
