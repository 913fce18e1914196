"""One vocabulary for conditions across the report's tables, plots and findings, and one order.

A condition is every degradation applied to a clip, in order, with all its parameters
(:func:`condition_key`). Its name says what a reader needs to tell it from the others:
``clean``; ``fog 5`` (the degradation, spaces for underscores, and its severity level);
``low light 5, ev -9`` (a parameter set apart from its severity level's table value); a
degradation recorded without a severity names its parameters set apart from their defaults or
varying across the conditions (``lens, k1 -0.2``, ``motion blur, length_px 8``); stages join
with `` + ``.

Severity grows to the right everywhere: conditions sort by degradation, then severity, then how
far an overridden parameter lies past its level in the direction the severity table moves it
(``ev -9`` lies past level 5's ``ev -5``); clean comes first.
"""

from __future__ import annotations

import json

from synth.degradations.registry import IDENTITY, REGISTRY
from synth.scoring.metrics import is_number


def condition_key(record: dict) -> str:
    """What identifies a record's condition: every degradation applied, in order, with all its params."""
    return json.dumps([[d["name"], d.get("params") or {}] for d in record.get("degradations") or []], sort_keys=True)


def _stages(key: str) -> list[tuple[str, dict]]:
    return [(name, params) for name, params in json.loads(key)]


def _level_table(name: str, severity) -> dict:
    """The severity level's table values of degradation ``name`` ({} without a level or a table)."""
    spec = REGISTRY.get(name)
    if spec is None or not isinstance(severity, int) or not 1 <= severity <= len(spec.severity):
        return {}
    return spec.severity[severity - 1]


def _level_reference(name: str, severity) -> dict:
    """The values a degradation at ``severity`` takes when nothing is set: the level's table over the defaults."""
    spec = REGISTRY.get(name)
    if spec is None:
        return {}
    return {**spec.defaults(), **_level_table(name, severity)}


def overrides(name: str, params: dict) -> dict:
    """The numeric params set apart from the severity level (or the defaults without a level)."""
    reference = _level_reference(name, params.get("severity"))
    return {k: v for k, v in sorted(params.items()) if k != "severity" and is_number(v) and k in reference and reference[k] != v}


def _number(value) -> str:
    return f"{value:g}"


def condition_names(records: list[dict]) -> dict[str, str]:
    """:func:`condition_key` -> its name in the report's one vocabulary (unique per key)."""
    keys = list(dict.fromkeys(condition_key(r) for r in records))
    varying: dict[str, set] = {}  # degradation name -> numeric params that differ among its severity-less records
    seen: dict[str, list[dict]] = {}
    for key in keys:
        for name, params in _stages(key):
            seen.setdefault(name, []).append(params)
    for name, all_params in seen.items():
        numeric = {k for p in all_params for k, v in p.items() if is_number(v) and k != "severity"}
        varying[name] = {k for k in numeric if len({json.dumps(p.get(k)) for p in all_params}) > 1}
    names = {}
    for key in keys:
        parts = []
        for name, params in _stages(key):
            text = name.replace("_", " ")
            severity = params.get("severity")
            if is_number(severity) and severity:
                extra = overrides(name, params)
                text += f" {_number(severity)}" + "".join(f", {k} {_number(v)}" for k, v in extra.items())
            else:  # no level: the params set apart from the defaults, and those that vary across conditions
                shown = sorted(set(overrides(name, params)) | varying[name])
                text += "".join(f", {k} {_number(params[k])}" for k in shown if is_number(params.get(k)))
            parts.append(text)
        names[key] = " + ".join(parts) or "clean"
    counts: dict[str, int] = {}
    for key in sorted(keys):  # the rare name two keys share gets numbered, in a stable order
        if list(names.values()).count(names[key]) > 1:
            counts[names[key]] = counts.get(names[key], 0) + 1
            names[key] = f"{names[key]} #{counts[names[key]]}"
    return names


def severity_order(key: str) -> tuple:
    """Sort key of a condition: clean first, then by stage names, severity, and how far its
    overridden params lie past their level in the direction severity moves them (for a
    degradation without a severity: how far its params lie from the values that do nothing)."""
    stages = _stages(key)
    if not stages:
        return (0,)
    parts = []
    for name, params in stages:
        severity = params.get("severity") if is_number(params.get("severity")) else 0
        spec = REGISTRY.get(name)
        past = 0.0
        if severity and spec is not None:
            for k, v in overrides(name, params).items():
                levels = [level[k] for level in spec.severity if k in level]
                sign = (levels[-1] > levels[0]) - (levels[-1] < levels[0]) if len(levels) > 1 else 1
                past += sign * (v - _level_reference(name, severity)[k])
        else:
            for k, nothing in IDENTITY.get(name, {}).items():
                if is_number(params.get(k)) and is_number(nothing):
                    past += abs(params[k] - nothing)
        parts.append((name, severity, past))
    return (len(stages), parts, key)


def ordered(keys) -> list[str]:
    """Condition keys in the report's order: clean first, severity growing."""
    return sorted(set(keys), key=severity_order)


def single_degradation(record: dict) -> dict | None:
    """The degradation when exactly one was applied, else None."""
    degradations = record.get("degradations") or []
    return degradations[0] if len(degradations) == 1 else None
