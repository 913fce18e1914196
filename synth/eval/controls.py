"""Time controls: each ask again on a twin of its clip, the same sampled frames in another order,
and what the answers on the twins say about whether a model reads frame order.

``eval.controls=[reversed,shuffled]`` (default none). A twin is made at evaluation time from the
frames the sampler chose (:mod:`synth.models.frames`), so no dataset grows; it is asked the same
question with the same options (the run's first variant, ``mcq`` or ``open``, first rotation) and
cached in ``evals/<model>/controls.jsonl`` like any prediction, keyed on its content: the line
holds the control's name and the order shown (``order``: which sampled frame stands at each
position), and a line whose order differs from the one the rule gives now is asked again.

* ``reversed``: the sampled frames last to first. Each task family declares how reversal maps its
  answers (``Task.reversal`` in :mod:`synth.scenes`: left <-> right, toward <-> away, the same
  answer for counts, or undefined); samples whose mapping is undefined get no twin and are
  listed as skipped with the family's reason.
* ``shuffled``: the sampled frames in a seeded order far from both the original and its reverse:
  of :data:`SHUFFLE_DRAWS` permutations drawn from a generator seeded by (the sample's seed, its
  id), the one whose Spearman rank correlation with the original order is nearest 0 (the first
  on ties), so deterministic per sample. A motion question has no right answer on it. Needs 3
  sampled frames or more.

Metrics (:func:`control_metrics`; each a rate with its Wilson 95 % interval, n and the rate a
uniform random answer would reach) pair a sample's answer on the original (``o``) with its
answer on the twin (``t``); ``m`` is the family's reversal mapping on the options, ``a`` the
right answer; an answer that names no option is ``None``:

* reversal consistency: ``t == m(o)``, the mapping applied to the model's own original answer
  (``o`` None counts as inconsistent); chance 1/choices;
* reversal consistency with the truth: ``t == m(a)``, i.e. accuracy on the reversed twin;
* reversal flip rate: ``t != o`` over the samples whose answer the mapping changes
  (``m(a) != a``); chance 1 - 1/choices. ``original_accuracy`` is the accuracy on those samples'
  originals: accurate there and not flipping means answers from appearance, not motion;
* shuffle sensitivity: ``t != o`` over every sample with a shuffled twin; chance 1 - 1/choices.

Each is given overall, by task and by condition (clean, or the degradations applied).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np

from synth import scenes
from synth.models.frames import sample_indices
from synth.models.prompts import Ask, build_asks
from synth.scoring.metrics import condition_label
from synth.scoring.stats import wilson_interval

CONTROLS = ("reversed", "shuffled")
# The question variants a twin can be asked in (a removed or added "None of the above" has no reversal).
CONTROL_VARIANTS = ("mcq", "open")
CONTROLS_FILE = "controls.jsonl"
SHUFFLE_DRAWS = 16
MIN_SHUFFLE_FRAMES = 3


def spearman_with_identity(order: tuple[int, ...]) -> float:
    """Spearman rank correlation of ``order`` (a permutation of 0..n-1) with 0..n-1: 1 for the
    original order, -1 for its reverse."""
    n = len(order)
    squared = sum((shown - position) ** 2 for position, shown in enumerate(order))
    return 1.0 - 6.0 * squared / (n * (n * n - 1))


def shuffled_order(n: int, seed: int, sample_id: str) -> tuple[int, ...]:
    """The ``shuffled`` twin's order of ``n`` >= :data:`MIN_SHUFFLE_FRAMES` sampled frames: of
    :data:`SHUFFLE_DRAWS` seeded permutations, the one with |Spearman| nearest 0."""
    key = hashlib.sha256(f"shuffled|{seed}|{sample_id}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(key[:8], "little"))
    draws = [tuple(int(i) for i in rng.permutation(n)) for _ in range(SHUFFLE_DRAWS)]
    return min(draws, key=lambda order: abs(spearman_with_identity(order)))  # min keeps the first of ties


def control_order(control: str, record: dict, frames: int) -> tuple[tuple[int, ...] | None, str]:
    """The order a ``control`` twin of ``record`` shows its sampled frames in (``frames`` per
    clip, counted from the manifest's ``num_frames``), or None and why there is no twin."""
    n = len(sample_indices(int(record["num_frames"]), frames))
    if control == "reversed":
        return tuple(range(n))[::-1], ""
    if n < MIN_SHUFFLE_FRAMES:
        return None, f"{n} frames sampled: a shuffle needs {MIN_SHUFFLE_FRAMES} or more"
    return shuffled_order(n, int(record.get("seed") or 0), str(record["id"])), ""


def reversal_of(record: dict) -> tuple[dict[str, str] | None, str]:
    """Each option of ``record`` mapped to the option that is right on the reversed clip when it
    was right on the original (the family's declared ``reversal``), or None and why not.

    A family's answers are its options (``left``) or positions among them (``first``, ``0``: the
    options name objects); the mapping is carried over accordingly."""
    try:
        family = scenes.get(record["task"])
    except KeyError:
        return None, f"task {record['task']} is not a known family"
    params = record.get("params") or {}
    answers, mapping = family.answers(params), family.reversed_answers(params)
    if mapping is None:
        return None, family.reversal_note
    options = list(record["options"])
    if set(options) == set(answers):
        return {o: mapping[o] for o in options}, ""
    if len(options) == len(answers):
        return {options[i]: options[answers.index(mapping[a])] for i, a in enumerate(answers)}, ""
    return None, f"the options do not match the family's answers {answers}"


def control_asks(record: dict, variant: str, controls: list[str], frames: int) -> list[Ask]:
    """The twins of ``record``'s first ask under ``variant``, one per control that defines one."""
    ask = build_asks(record, variant, circular=False)[0]
    twins = []
    for control in controls:
        order, _ = control_order(control, record, frames)
        if order is None:
            continue
        if control == "shuffled":
            twins.append(replace(ask, control=control, frame_order=order, correct_index=None, answer_index=None))
            continue
        mapping, _ = reversal_of(record)
        if mapping is None:
            continue
        right = mapping[record["options"][record["answer_index"]]]
        twins.append(replace(ask, control=control, frame_order=order, answer_index=list(record["options"]).index(right),
                             correct_index=ask.options.index(right) if ask.options else None))  # fmt: skip
    return twins


def shown_order(ask: Ask) -> list[int] | None:
    """The ``order`` a prediction line of ``ask`` holds (None for a plain ask)."""
    return None if ask.frame_order is None else list(ask.frame_order)


# ---------------------------------------------------------------- metrics


def rate(hits: list[bool], chances: list[float]) -> dict:
    """``rate, ci95 [lo, hi] (Wilson), n, count, chance`` of boolean outcomes, ``chances`` being
    each outcome's probability under a uniform random answer."""
    n, count = len(hits), sum(hits)
    lo, hi = wilson_interval(count, n)
    return {"rate": count / n if n else None, "ci95": [lo, hi], "n": n, "count": count,
            "chance": sum(chances) / n if n else None}  # fmt: skip


def _pairs(records: list[dict], originals: list[dict], twins: list[dict], variant: str, control: str) -> list:
    """``(record, original line, twin line)`` of every record with both, in manifest order."""
    plain = {line["id"]: line for line in originals if line["variant"] == variant and line["rotation"] == 0}
    twin = {line["id"]: line for line in twins if line.get("control") == control and line["variant"] == variant}
    return [(r, plain[i], twin[i]) for r in records if (i := str(r["id"])) in plain and i in twin]


def _reversed_rates(pairs: list) -> dict:
    consistent, truth, flipped, accurate, c_consistent, c_flip, c_accurate = [], [], [], [], [], [], []
    for record, original, twin in pairs:
        mapping, _ = reversal_of(record)
        if mapping is None:
            continue
        answer = record["options"][record["answer_index"]]
        p = 1 / original["choices"]
        consistent.append(original["parsed"] is not None and twin["parsed"] == mapping.get(original["parsed"]))
        truth.append(twin["parsed"] == mapping[answer])
        c_consistent.append(p)
        if mapping[answer] != answer:
            flipped.append(twin["parsed"] != original["parsed"])
            accurate.append(bool(original["correct"]))
            c_flip.append(1 - p)
            c_accurate.append(p)
    return {
        "consistency": rate(consistent, c_consistent),
        "consistency_truth": rate(truth, c_consistent),
        "flip_rate": rate(flipped, c_flip),
        "original_accuracy": rate(accurate, c_accurate),
    }


def _shuffled_rates(pairs: list) -> dict:
    changed = [twin["parsed"] != original["parsed"] for _, original, twin in pairs]
    return {"sensitivity": rate(changed, [1 - 1 / original["choices"] for _, original, _ in pairs])}


def _skipped(records: list[dict], control: str, frames: int) -> dict[str, dict]:
    """Per task, how many of ``records`` get no ``control`` twin and why (the first reason met)."""
    skipped: dict[str, dict] = {}
    for record in records:
        order, why = control_order(control, record, frames)
        if order is not None and control == "reversed":
            _, why = reversal_of(record)
        if why:
            entry = skipped.setdefault(record["task"], {"n": 0, "reason": why})
            entry["n"] += 1
    return skipped


def control_metrics(records: list[dict], originals: list[dict], twins: list[dict], variant: str,
                    controls: list[str], frames: int) -> dict:  # fmt: skip
    """The ``controls`` object of ``metrics.json``: per control its rates (see the module
    docstring) overall, ``by_task`` and ``by_condition``, and per task the records asked in
    ``variant`` (``originals``) that have no twin, and why (``skipped``)."""
    result: dict = {"variant": variant}
    asked = {line["id"] for line in originals if line["variant"] == variant and line["rotation"] == 0}
    asked_records = [r for r in records if str(r["id"]) in asked]
    for control in controls:
        pairs = _pairs(records, originals, twins, variant, control)
        rates = _reversed_rates if control == "reversed" else _shuffled_rates
        by_task: dict[str, list] = {}
        by_condition: dict[str, list] = {}
        for pair in pairs:
            by_task.setdefault(pair[0]["task"], []).append(pair)
            by_condition.setdefault(condition_label(pair[0]), []).append(pair)
        result[control] = {
            **rates(pairs),
            "by_task": {task: rates(group) for task, group in by_task.items()},
            "by_condition": {condition: rates(group) for condition, group in by_condition.items()},
            "skipped": _skipped(asked_records, control, frames),
        }
    return result


def _rate_text(summary: dict) -> str:
    if not summary["n"]:
        return "- (n=0)"
    lo, hi = summary["ci95"]
    return f"{summary['rate']:.3f} [{lo:.3f}, {hi:.3f}] (chance {summary['chance']:.3f}, n={summary['n']})"


def control_summary(controls: dict | None) -> list[str]:
    """One line per control of ``metrics.json``'s ``controls`` (none without controls)."""
    lines = []
    for control, entry in (controls or {}).items():
        if control == "variant":
            continue
        skipped = sum(s["n"] for s in entry["skipped"].values())
        tail = f"; {skipped} samples skipped" if skipped else ""
        if control == "reversed":
            lines.append(f"reversed: consistency {_rate_text(entry['consistency'])}, "
                         f"flip rate {_rate_text(entry['flip_rate'])}{tail}")  # fmt: skip
        else:
            lines.append(f"shuffled: answers changed {_rate_text(entry['sensitivity'])}{tail}")
    return lines
