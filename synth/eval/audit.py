"""Shortcut audit: can one frame, the question text, or an order-free summary of a clip tell the
answer? A learned probe answers that honestly (a solver written by hand only finds what its
author thought of).

Each *probe* is a standardised logistic regression (scikit-learn ``StandardScaler`` +
``LogisticRegressionCV``, its regularisation picked by an inner grouped cross-validation) from one
*feature* of a sample to its ``answer_index``, scored on held-out samples: outer ``GroupKFold``
over the manifest's ``group``, so samples of one base scene (a sweep) never sit on both sides.

Features (``audit.features``):

* ``first``, ``middle``, ``last`` or an integer frame index (negative counts from the end): one
  frame, area-averaged to ``size`` x ``size`` x 3 (``middle`` is frame ``T // 2``);
* ``text``: the question and its options, as a bag of words;
* ``mean``, ``max``: order-free summaries of the whole clip (the per-pixel mean / max over time,
  area-averaged the same way).

Verdicts weigh each probe's 95 % Wilson interval against its *limit*, so a small audit is never
read as a clean one. A single-frame or text probe's limit is chance + ``margin``. Order-free
summaries may legitimately tell part of the answer: a family declares how much in
:attr:`synth.scenes.task.Task.order_free_ceiling` (the answer that survives time reversal), and a
summary probe's limit is that ceiling (or chance, whichever is higher) plus the margin.

* ``shortcut``: the lower bound lies above the limit;
* ``pass``: the upper bound lies within chance + margin, and the audit is large enough that a
  probe scoring exactly chance would pass too (a smaller audit cannot tell chance from the
  limit, so it passes nothing); a summary probe whose upper bound is within its ceiling's limit
  but not within chance + margin is ``allowed``;
* ``inconclusive``: anything else, with the n at which the same accuracy would decide
  (:func:`needed_n`).

The audit as a whole: ``shortcut`` when a single-frame or text probe is one, ``pass`` only when
every probe passes (or is allowed), else ``inconclusive at n=...`` with the n that would decide.
Chance is the accuracy of always naming the most common answer (``1 / options`` when balanced).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from synth.errors import UserError
from synth.scoring.probe import INNER_FOLDS, LogisticSettings, cross_validated_predictions, group_folds
from synth.scoring.stats import wilson_interval
from synth.video import read_clip

SUMMARIES = ("mean", "max")
NAMED_FRAMES = ("first", "middle", "last")
DEFAULT_FEATURES = ("first", "middle", "last", "text", "mean", "max")
# The regularisation strengths the inner cross-validation picks from (inverse L2 weight).
C_GRID = (0.001, 0.01, 0.1, 1.0)
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Feature:
    """One probe input: ``kind`` is ``frame`` (then ``index`` is set), ``text`` or ``summary``."""

    name: str
    kind: str
    index: int | None = None

    @property
    def strict(self) -> bool:
        """Whether ``audit.strict`` counts this probe: single frames and text always."""
        return self.kind in ("frame", "text")

    def frame_index(self, num_frames: int) -> int:
        """The frame a ``frame`` feature reads from a clip of ``num_frames`` frames."""
        named = {"first": 0, "middle": num_frames // 2, "last": num_frames - 1}
        index = named.get(self.name, self.index)
        return index + num_frames if index < 0 else index


def parse_features(names: list) -> list[Feature]:
    """Features from ``audit.features`` values (names or integer frame indices); UserError on bad ones."""
    if not names:
        raise UserError("audit.features: empty; allowed first, middle, last, text, mean, max or frame indices")
    out: list[Feature] = []
    for raw in names:
        name = str(raw).strip()
        if name in NAMED_FRAMES:
            out.append(Feature(name, "frame"))
        elif name == "text":
            out.append(Feature(name, "text"))
        elif name in SUMMARIES:
            out.append(Feature(name, "summary"))
        elif _is_int(name):
            out.append(Feature(f"frame {int(name)}", "frame", int(name)))
        else:
            raise UserError(
                f"audit.features: unknown feature '{name}'; allowed first, middle, last, text, mean, max "
                "or an integer frame index"
            )
    if len({f.name for f in out}) != len(out):
        raise UserError("audit.features: a feature is listed twice")
    return out


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def downsample(image: np.ndarray, size: int) -> np.ndarray:
    """Area-average an (H, W, 3) image (any dtype, 0..255) to (size * size * 3,) float32 in [0, 1]."""
    import cv2

    small = cv2.resize(np.asarray(image, dtype=np.float32), (size, size), interpolation=cv2.INTER_AREA)
    return (small / 255.0).reshape(-1)


def sample_features(frames: np.ndarray, record: dict, features: list[Feature], size: int) -> dict[str, object]:
    """Every feature of one sample: image features as (size*size*3,) float32, ``text`` as a string.
    ``frames``: the decoded clip, uint8 (T, H, W, 3)."""
    out: dict[str, object] = {}
    for f in features:
        if f.kind == "text":
            out[f.name] = record["question"] + " || " + " | ".join(record["options"])
        elif f.kind == "summary":
            summary = frames.mean(axis=0) if f.name == "mean" else frames.max(axis=0)
            out[f.name] = downsample(summary, size)
        else:
            index = f.frame_index(len(frames))
            if not 0 <= index < len(frames):
                raise UserError(f"{record['video']}: {f.name} is past its {len(frames)} decoded frames")
            out[f.name] = downsample(frames[index], size)
    return out


def check_frames(records: list[dict], features: list[Feature]) -> None:
    """Every frame feature must exist in every clip (by the manifest's ``num_frames``)."""
    for f in features:
        if f.kind != "frame" or f.index is None:
            continue
        for r in records:
            t = int(r["num_frames"])
            if not -t <= f.index < t:
                raise UserError(
                    f"audit.features: frame {f.index} is outside sample {r['id']}'s {t} frames "
                    f"(allowed {-t}..{t - 1})"
                )


# The audit's class probe: C by inner-CV accuracy; a training side of one group predicts its most
# common answer.
LOGISTIC = LogisticSettings(c_grid=C_GRID, tol=1e-3, quiet=True)


def held_out_predictions(kind: str, x: list | np.ndarray, y: np.ndarray, groups: np.ndarray, folds: int) -> np.ndarray:
    """Predicted ``y`` of every sample by a probe fitted on the other groups (outer GroupKFold).

    One BLAS thread: these fits are small, and threads only fight over the cores (10-20x slower
    on a busy machine).
    """
    from threadpoolctl import threadpool_limits

    x = x if kind == "text" else np.asarray(x, dtype=np.float32)
    splits = group_folds(y, groups, folds, stratified=False)
    with threadpool_limits(1):
        return cross_validated_predictions(x, y, groups, splits, LOGISTIC, text=kind == "text")


# Past this many samples decisive_n stops looking: an accuracy this close to its limit decides nothing useful.
MAX_DECISIVE_N = 1_000_000


def _wilson_at(accuracy: float, n: int) -> tuple[float, float]:
    """The Wilson 95 % interval of ``accuracy`` observed on ``n`` samples (fractional successes allowed)."""
    return wilson_interval(accuracy * n, n)


def decisive_n(accuracy: float, limit: float) -> int | None:
    """The smallest n at which a probe scoring ``accuracy`` has a 95 % interval wholly on one side of
    ``limit`` (None: not below :data:`MAX_DECISIVE_N`, e.g. an accuracy at the limit itself)."""

    def decided(n: int) -> bool:
        lo, hi = _wilson_at(accuracy, n)
        return hi <= limit if accuracy <= limit else lo > limit

    if not decided(MAX_DECISIVE_N):
        return None
    lo, hi = 1, MAX_DECISIVE_N
    while lo < hi:  # the interval narrows as n grows: bisect on n
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if decided(mid) else (mid + 1, hi)
    return lo


def verdict(ci95: tuple[float, float], n: int, chance: float, margin: float, feature: Feature, ceiling: float | None) -> tuple[str, float]:
    """``(verdict, limit)`` of one probe from its 95 % interval ``ci95`` on ``n`` samples.

    ``shortcut`` when the lower bound is above ``limit``; ``pass`` when the upper bound is within
    chance + margin and ``n`` is large enough that a probe scoring exactly chance would pass too
    (:func:`decisive_n`: smaller audits cannot tell chance from the limit, so they pass nothing);
    ``allowed`` for a summary probe within its family's order-free ceiling + margin (same power
    rule); else ``inconclusive``.
    """
    lo, hi = ci95
    limit = chance + margin
    if feature.kind == "summary" and ceiling is not None:
        limit = min(1.0, max(chance, ceiling) + margin)
    if lo > limit:
        return "shortcut", limit
    powered = n >= (decisive_n(chance, chance + margin) or math.inf)
    if powered and hi <= chance + margin:
        return "pass", limit
    if powered and hi <= limit:
        return "allowed", limit
    return "inconclusive", limit


def needed_n(accuracy: float, chance: float, margin: float, limit: float) -> int | None:
    """The n that would decide an inconclusive probe: its accuracy's interval clear of ``limit``, and
    enough samples for a probe at chance to pass (None: no n up to :data:`MAX_DECISIVE_N`)."""
    needs = [decisive_n(accuracy, limit), decisive_n(chance, chance + margin)]
    return None if None in needs else max(needs)


def overall_verdict(probes: list[dict]) -> tuple[str, int | None]:
    """The audit's verdict and, when ``inconclusive``, the n that would decide every open probe
    (None: some probe would not decide below :data:`MAX_DECISIVE_N`)."""
    if any(p["verdict"] == "shortcut" and p["strict"] for p in probes):
        return "shortcut", None
    open_probes = [p for p in probes if p["verdict"] == "inconclusive"]
    if not open_probes:
        return "pass", None
    needed = [p["decisive_n"] for p in open_probes]
    return "inconclusive", None if None in needed else max(needed)


def verdict_text(result: dict) -> str:
    """One line: ``pass``, ``shortcut: family/feature, ...`` or ``inconclusive at n=...`` with the n that would decide."""
    if result["verdict"] == "pass":
        return f"pass at n={result['n']}: every probe's 95 % upper bound is within its limit"
    if result["verdict"] == "shortcut":
        return "shortcut: " + ", ".join(result["shortcuts"])
    decide = result["decisive_n"]
    open_probes = [f"{p['task']}/{p['feature']}" for p in result["probes"] if p["verdict"] == "inconclusive"]
    needed = f"about n={decide} samples per family would decide" if decide else f"no n up to {MAX_DECISIVE_N:,} would decide (an accuracy at its limit)"
    return f"inconclusive at n={result['n']}: {len(open_probes)} probe(s) undecided ({', '.join(open_probes)}); {needed}"


def audit(
    root: Path,
    records: list[dict],
    features: list[Feature],
    *,
    folds: int = 5,
    margin: float = 0.1,
    size: int = 12,
    ceilings: Callable[[str], float | None] = lambda task: None,
) -> dict:
    """Run every probe on every task family in ``records``; the content of ``audit.json``.

    ``ceilings(task)``: the family's order-free ceiling (None: chance). Clips are decoded one at a
    time (memory: one clip) and reduced to the features at once.
    """
    check_frames(records, features)
    by_task: dict[str, list[dict]] = {}
    for r in records:
        by_task.setdefault(r["task"], []).append(r)
    probes = []
    needs_video = any(f.kind != "text" for f in features)
    for task, items in by_task.items():
        groups = np.array([str(r.get("group", r["id"])) for r in items])
        n_groups = len(np.unique(groups))
        if n_groups < 2:
            raise UserError(f"data={root}: task {task} has {n_groups} group(s); the audit needs at least 2 (more samples)")
        task_folds = min(folds, n_groups)
        y = np.array([int(r["answer_index"]) for r in items])
        columns: dict[str, list] = {f.name: [] for f in features}
        for r in items:
            frames = read_clip(root / r["video"])[0] if needs_video else np.zeros((1, 1, 1, 3), np.uint8)
            for name, value in sample_features(frames, r, features, size).items():
                columns[name].append(value)
        chance = float(np.bincount(y).max() / len(y))
        ceiling = ceilings(task)
        for f in features:
            predicted = held_out_predictions(f.kind, columns[f.name], y, groups, task_folds)
            correct = int((predicted == y).sum())
            accuracy = correct / len(y)
            lo, hi = wilson_interval(correct, len(y))
            result, limit = verdict((lo, hi), len(y), chance, margin, f, ceiling)
            probes.append({
                "task": task, "feature": f.name, "kind": f.kind, "n": len(y), "correct": correct,
                "accuracy": accuracy, "ci95": [lo, hi], "chance": chance, "limit": limit,
                "order_free_ceiling": ceiling if f.kind == "summary" else None,
                "strict": f.strict, "verdict": result,
                "decisive_n": needed_n(accuracy, chance, margin, limit) if result == "inconclusive" else None,
            })  # fmt: skip
    overall, needed = overall_verdict(probes)
    return {
        "format": FORMAT_VERSION,
        "data": str(root),
        "n": len(records),
        "features": [f.name for f in features],
        "image_size": [size, size, 3],
        "folds": folds,
        "margin": margin,
        "probe": "StandardScaler + LogisticRegressionCV (Cs " + ", ".join(map(str, C_GRID)) + f", inner GroupKFold {INNER_FOLDS})",
        "probes": probes,
        "shortcuts": [f"{p['task']}/{p['feature']}" for p in probes if p["verdict"] == "shortcut"],
        "verdict": overall,
        "decisive_n": needed,
        "passed": overall == "pass",
    }


def table(result: dict) -> str:
    """The audit as a markdown table (one row per probe)."""
    lines = [
        "| family | feature | accuracy [95 % CI] | chance | limit | n | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in result["probes"]:
        lo, hi = p["ci95"]
        mark = f"**{p['verdict']}**" if p["verdict"] == "shortcut" else p["verdict"]
        if p["verdict"] == "inconclusive":
            mark += f" (n={p['decisive_n']} would decide)" if p.get("decisive_n") else ""
        lines.append(
            f"| {p['task']} | {p['feature']} | {p['accuracy']:.3f} [{lo:.3f}, {hi:.3f}] | {p['chance']:.3f} "
            f"| {p['limit']:.3f} | {p['n']} | {mark} |"
        )
    return "\n".join(lines)


def strict_failure(result: dict) -> str | None:
    """The one-line error of ``audit.strict=true``, or None when no counted probe is a shortcut."""
    bad = [p for p in result["probes"] if p["strict"] and p["verdict"] == "shortcut"]
    if not bad:
        return None
    worst = ", ".join(f"{p['task']}/{p['feature']} {p['accuracy']:.3f} (95 % lower bound {p['ci95'][0]:.3f} > {p['limit']:.3f})" for p in bad)
    return f"audit.strict: {len(bad)} probe(s) above chance + margin {result['margin']:g}: {worst}"
