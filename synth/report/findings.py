"""The findings at the top of ``report.md``, generated from the data.

Per run mode and model: every condition whose paired change from clean is significant
(McNemar's exact two-sided p < :data:`ALPHA` on the same samples clean and degraded), with the
accuracies, the change and its 95 % interval, b, c and p, and how many of the lost answers were
abstentions (no option named) rather than wrong options; "no significant change" where that is
the result. Then each shortcut audit's verdict, each probe's binding gap (or why there is none)
and each world model's consistency.

The interval of a paired difference is Agresti & Min's (2005) adjusted Wald interval: 0.5 added
to each cell of the 2 x 2 table ("Simple improved confidence intervals for comparing matched
proportions", Statistics in Medicine 24:729-740).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from synth.report.conditions import condition_key, ordered
from synth.scoring.metrics import Outcome, summarize
from synth.scoring.stats import Z95, mcnemar

ALPHA = 0.05


@dataclass
class PairedChange:
    """One model's accuracy on one condition against clean, on the samples present in both.

    ``lost``: pairs right clean and wrong degraded (McNemar's b), ``lost_abstained``: of those, the
    ones whose degraded answer named no option; ``change`` = degraded - clean accuracy on the
    pairs, with its 95 % interval ``change_ci``."""

    model: str
    condition: str
    clean: dict
    degraded: dict
    pairs: int
    test: dict
    change: float
    change_ci: tuple[float, float]
    lost_abstained: int

    @property
    def significant(self) -> bool:
        return self.pairs > 0 and self.test["p_exact"] < ALPHA


def pair_key(record: dict) -> tuple:
    """Samples pair when they share (task, group, seed, sweep): one scene, clean and degraded."""
    return (record["task"], record.get("group"), record.get("seed"), json.dumps(record.get("sweep"), sort_keys=True))


def paired_difference_ci(b: int, c: int, n: int) -> tuple[float, float]:
    """95 % interval of (degraded - clean) accuracy from ``b`` (right clean only), ``c`` (right
    degraded only) of ``n`` pairs: Agresti-Min adjusted Wald (0.5 added to each of the 4 cells)."""
    if n == 0:
        return (-1.0, 1.0)
    m = n + 2
    p_b, p_c = (b + 0.5) / m, (c + 0.5) / m
    diff = p_c - p_b
    half = Z95 * math.sqrt(max(0.0, (p_b + p_c - diff * diff) / m))
    return max(-1.0, diff - half), min(1.0, diff + half)


def paired_changes(model: str, items: list[Outcome]) -> list[PairedChange]:
    """Every degraded condition of ``items`` (one model, one run mode) against its clean twins."""
    clean = {pair_key(o.record): o for o in items if not o.record.get("degradations")}
    by_condition: dict[str, list[Outcome]] = {}
    for o in items:
        if o.record.get("degradations"):
            by_condition.setdefault(condition_key(o.record), []).append(o)
    changes = []
    for key in ordered(by_condition):
        group = by_condition[key]
        pairs = [(clean[k], o) for o in group if (k := pair_key(o.record)) in clean]
        b = sum(a.correct and not d.correct for a, d in pairs)
        c = sum(d.correct and not a.correct for a, d in pairs)
        abstained = sum(a.correct and not d.correct and d.invalid > 0 for a, d in pairs)
        changes.append(PairedChange(
            model=model, condition=key, clean=summarize([a for a, _ in pairs]), degraded=summarize(group),
            pairs=len(pairs), test=mcnemar(b, c), change=(c - b) / len(pairs) if pairs else 0.0,
            change_ci=paired_difference_ci(b, c, len(pairs)), lost_abstained=abstained,
        ))  # fmt: skip
    return changes


def _p(p: float) -> str:
    return f"{p:.2g}" if p < 0.001 else f"{p:.3g}"


def change_text(ch: PairedChange, names: dict[str, str]) -> str:
    """One significant change in words: accuracies, change with interval, McNemar, abstentions."""
    lo, hi = ch.change_ci
    text = (f"{names[ch.condition]}: {ch.clean['accuracy']:.3f} → {ch.degraded['accuracy']:.3f} "
            f"(change {ch.change:+.3f}, 95 % CI [{lo:+.3f}, {hi:+.3f}]; McNemar b = {ch.test['b']}, "
            f"c = {ch.test['c']}, p = {_p(ch.test['p_exact'])}, {ch.pairs} pairs)")  # fmt: skip
    lost = ch.test["b"]
    if lost and ch.lost_abstained == lost:
        text += f"; all {lost} lost answers are abstentions (no option named), not wrong options"
    elif ch.lost_abstained:
        text += f"; {ch.lost_abstained} of the {lost} lost answers are abstentions (no option named), {lost - ch.lost_abstained} wrong options"
    elif lost:
        text += f"; all {lost} lost answers are wrong options (none abstained)"
    return text


def mode_findings(models: dict[str, list[Outcome]], names: dict[str, str], mode_text: str) -> list[str]:
    """Markdown bullets for one run mode: per model its significant changes or "no significant change"."""
    changes = {model: paired_changes(model, items) for model, items in sorted(models.items())}
    tests = sum(len(v) for v in changes.values())
    if not tests:
        return [f"- {mode_text}: no clean and degraded versions of the same samples, so no paired test."]
    lines = [f"- {mode_text}: {tests} paired tests against clean (McNemar exact, two-sided; significant: p < {ALPHA:g}, "
             "not corrected for the number of tests)."]  # fmt: skip
    for model, found in changes.items():
        significant = [ch for ch in found if ch.significant]
        if not found:
            lines.append(f"  - **{model}**: not run on clean and a degraded condition; no paired test.")
        elif not significant:
            worst = min(found, key=lambda ch: ch.test["p_exact"])
            lines.append(f"  - **{model}**: no significant change under any condition "
                         f"(smallest p = {_p(worst.test['p_exact'])} at "
                         f"{names[worst.condition]}).")  # fmt: skip
        else:
            lines.append(f"  - **{model}**: " + "; ".join(change_text(ch, names) for ch in significant) + ".")
        abstaining = [(names[key], s) for key, s in _abstention_by_condition(models[model]) if s["invalid_rate"]]
        if abstaining:
            lines.append(f"    Abstentions (no option named) of **{model}**: "
                         + ", ".join(f"{name} {s['invalid_rate']:.3f}" for name, s in abstaining) + ".")  # fmt: skip
    return lines


def _abstention_by_condition(items: list[Outcome]) -> list[tuple[str, dict]]:
    groups: dict[str, list[Outcome]] = {}
    for o in items:
        groups.setdefault(condition_key(o.record), []).append(o)
    return [(key, summarize(groups[key])) for key in ordered(groups)]


def bench_findings(audits: list[tuple[Path, dict]], audit_verdict, probes: list[tuple[str, dict]], gap_text,
                   worlds: list[tuple[str, dict]]) -> list[str]:  # fmt: skip
    """Bullets for the shortcut audits, the probes' binding gaps and the world models' consistency."""
    lines = []
    for root, result in audits:
        lines.append(f"- Shortcut audit of `{Path(root).name}`: {audit_verdict(result)}.")
    for name, doc in probes:
        lines.append(f"- Probe of {name} (target {doc['target']}): binding gap {gap_text(doc)}.")
    for name, summary in worlds:
        parts = [f"{label} {summary[key]:.3f}" for key, label in
                 (("self_consistency_ssim", "self-consistency SSIM"), ("fidelity_ssim", "fidelity SSIM"))
                 if summary.get(key) is not None]  # fmt: skip
        lines.append(f"- World model {name}: " + (", ".join(parts) if parts else "no revisits scored")
                     + f" over {summary.get('n_revisits', 0)} revisits.")  # fmt: skip
    return lines
