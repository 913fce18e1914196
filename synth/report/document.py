"""Findings over one or more evaluated datasets: markdown tables and PNG plots (matplotlib).

* accuracy table: model x condition, accuracy with its Wilson 95 % interval, n, chance;
* accuracy against each swept variable, with interval bands;
* robustness curves: accuracy against severity per degradation (clean plotted at 0), the
  relative drop from clean, and McNemar's paired test between clean and degraded versions of
  the same samples. A degradation recorded without ``severity`` is plotted against its one
  numeric parameter that varies across the conditions (e.g. ``length_px``). Samples pair when
  they share (task, group, seed, sweep): the same scene rendered once clean and once degraded,
  in one dataset or across datasets.

Unlike runs are never pooled: a *run mode* is (question variant, circular evaluation, frame
count), and every mode gets its own sections, chance and tests, so no accuracy, chance or
McNemar pair mixes a circular with a plain evaluation, or one variant with another.

Plots: every model keeps one marker and line style in every plot (equal curves stay visible),
chance is a grey dashed line, legends sit outside the axes, and conditions are drawn under short
labels whose full parameters are listed in a table.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from synth.report.audit import audit_section
from synth.report.patch import patch_section
from synth.report.probe import probe_section
from synth.report.time_controls import time_controls_section
from synth.report.world import world_section
from synth.scoring.metrics import Outcome, condition_label, is_number, outcomes, summarize
from synth.scoring.stats import mcnemar

# Condition labels longer than this are drawn and tabled under a short name.
SHORT_LABEL_CHARS = 16
MARKERS = "osD^vP*X<>"
LINESTYLES = ("-", "--", "-.", ":")


@dataclass
class Evaluation:
    """One model's predictions on one dataset; ``frames``: frames sampled per clip (None: unknown)."""

    root: Path
    model: str
    records: list[dict]
    predictions: list[dict]
    variants: list[str]
    circular: bool
    frames: int | None = None


class Mode(NamedTuple):
    """What makes runs comparable: the question variant, circular evaluation, frames per clip."""

    variant: str
    circular: bool
    frames: int | None


def _fmt(summary: dict) -> str:
    if summary["n"] == 0:
        return "-"
    lo, hi = summary["ci95"]
    return f"{summary['accuracy']:.3f} [{lo:.3f}, {hi:.3f}] (n={summary['n']})"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


def _sort_values(values):
    def key(v):
        try:
            return (0, float(json.loads(v)), "")
        except (ValueError, TypeError):
            return (1, 0.0, str(v))

    return sorted(values, key=key)


def _pair_key(record: dict) -> tuple:
    return (record["task"], record.get("group"), record.get("seed"), json.dumps(record.get("sweep"), sort_keys=True))


def _single_degradation(record: dict) -> dict | None:
    """The degradation when exactly one was applied, else None."""
    degradations = record.get("degradations") or []
    return degradations[0] if len(degradations) == 1 else None


def _level_axes(items: list[Outcome]) -> dict[str, str]:
    """Per degradation applied alone: the params key its curve is drawn against: ``severity`` when
    every record has one and it determines the other params, else the numeric param that varies."""
    params_by_name: dict[str, list[dict]] = {}
    for o in items:
        if d := _single_degradation(o.record):
            params_by_name.setdefault(d["name"], []).append(d.get("params") or {})
    axes = {}
    for name, all_params in params_by_name.items():
        by_severity: dict = {}
        for p in all_params:
            by_severity.setdefault(p.get("severity"), set()).add(json.dumps(p, sort_keys=True))
        if None not in by_severity and all(len(v) == 1 for v in by_severity.values()):
            axes[name] = "severity"
            continue
        # Severity missing, or overridden params under one severity: the numeric param that varies.
        numeric = sorted({k for p in all_params for k, v in p.items() if is_number(v) and k != "severity"})
        varying = [k for k in numeric if len({p.get(k) for p in all_params}) > 1]
        if varying or numeric:
            axes[name] = (varying or numeric)[0]
    return axes


# ---------------------------------------------------------------- run modes and labels


def modes_of(evaluations: list[Evaluation]) -> list[Mode]:
    """Every run mode present, the first evaluation's first variant first."""
    found = []
    for ev in evaluations:
        for variant in ev.variants:
            mode = Mode(variant, ev.circular, ev.frames)
            if mode not in found:
                found.append(mode)
    return found[:1] + sorted(found[1:], key=lambda m: (m.variant, m.circular, m.frames or 0))


def _mode_text(mode: Mode, show_frames: bool) -> str:
    text = f"variant `{mode.variant}`" + (", circular" if mode.circular else "")
    return text + (f", {mode.frames} frames" if show_frames and mode.frames is not None else "")


def _mode_slug(mode: Mode, show_frames: bool) -> str:
    slug = _slug(mode.variant) + ("_circular" if mode.circular else "")
    return slug + (f"_{mode.frames}f" if show_frames and mode.frames is not None else "")


def condition_key(record: dict) -> str:
    """What identifies a record's condition: every degradation applied, in order, with all its params."""
    return json.dumps([[d["name"], d.get("params") or {}] for d in record.get("degradations") or []], sort_keys=True)


def short_conditions(records: list[dict]) -> dict[str, str]:
    """:func:`condition_key` -> the name plots and tables use.

    The condition's label (:func:`synth.scoring.metrics.condition_label`: ``clean``, ``fog@2``)
    when it has at most :data:`SHORT_LABEL_CHARS` characters and no other condition shares it;
    otherwise its degradation names joined by ``+``, numbered ``#1, #2, ...`` where they repeat.
    """
    label_of = {}
    for r in records:
        label_of.setdefault(condition_key(r), (condition_label(r), "+".join(d["name"] for d in r.get("degradations") or [])))
    label_count: dict[str, int] = {}
    for label, _ in label_of.values():
        label_count[label] = label_count.get(label, 0) + 1
    renamed: dict[str, list[str]] = {}
    short = {}
    for key, (label, names) in sorted(label_of.items()):
        if len(label) <= SHORT_LABEL_CHARS and label_count[label] == 1:
            short[key] = label
        else:
            renamed.setdefault(names, []).append(key)
    for names, keys in renamed.items():
        for k, key in enumerate(keys, 1):
            short[key] = names if len(keys) == 1 and names not in short.values() else f"{names}#{k}"
    return short


def _conditions_table(records: list[dict], short: dict[str, str]) -> list[str]:
    """Short condition name -> every degradation applied, in order, with all its parameters."""
    first: dict[str, dict] = {}
    for r in records:
        first.setdefault(condition_key(r), r)
    rows = []
    for key, record in sorted(first.items(), key=lambda kv: short[kv[0]]):
        stages = []
        for d in record.get("degradations") or []:
            params = ", ".join(f"{k}={v:g}" if is_number(v) else f"{k}={v}" for k, v in sorted((d.get("params") or {}).items()))
            stages.append(f"{d['name']}({params})")
        if stages:
            rows.append(f"| {short[key]} | {' → '.join(stages)} |")
    if not rows:
        return []
    return ["## Conditions", "", "| condition | degradations applied, in order, with their parameters |", "|---|---|", *rows, ""]


# ---------------------------------------------------------------- plotting


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _style(index: int) -> dict:
    """One model's line style: its own marker, dash and marker size (hollow, larger first)."""
    return {
        "marker": MARKERS[index % len(MARKERS)],
        "linestyle": LINESTYLES[index % len(LINESTYLES)],
        "markersize": max(4.0, 10.0 - 1.5 * (index % 5)),
        "fillstyle": "none",
        "markeredgewidth": 1.5,
    }


def _curve(ax, xs: list, summaries: list[dict], label: str, style: dict) -> None:
    """Accuracy against ``xs`` with its Wilson interval as a band."""
    line = ax.plot(xs, [s["accuracy"] for s in summaries], label=label, **style)[0]
    lows, highs = [s["ci95"][0] for s in summaries], [s["ci95"][1] for s in summaries]
    ax.fill_between(xs, lows, highs, color=line.get_color(), alpha=0.12)


def _chance_line(ax, chance: float | None) -> None:
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle="--", linewidth=1, label=f"chance ({chance:.3g})")


def _save(plt, fig, ax, path: Path, xlabel: str, ylabel: str = "accuracy") -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(-0.03, 1.05)  # markers at 0 stay visible
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


# ---------------------------------------------------------------- sections


def _by_model(evaluations: list[Evaluation], mode: Mode) -> dict[str, list[Outcome]]:
    """Outcomes per model label of the evaluations run in ``mode``."""
    merged: dict[str, list[Outcome]] = {}
    for ev in evaluations:
        if mode.variant in ev.variants and (ev.circular, ev.frames) == (mode.circular, mode.frames):
            merged.setdefault(ev.model, []).extend(outcomes(ev.records, ev.predictions, mode.variant, ev.circular))
    return merged


def _group(items: list[Outcome], key_of) -> dict:
    groups: dict = {}
    for o in items:
        k = key_of(o)
        if k is not None:
            groups.setdefault(k, []).append(o)
    return groups


def _accuracy_section(models: dict[str, list[Outcome]], title: str, name: str, short: dict, styles: dict, out_dir: Path, plt) -> list[str]:
    every = [o for items in models.values() for o in items]
    conditions = sorted({short[condition_key(o.record)] for o in every}, key=lambda c: (c != "clean", c))
    lines = [f"## Accuracy by condition ({title})", ""]
    lines.append("| model | " + " | ".join(conditions) + " | chance | invalid |")
    lines.append("|---" * (len(conditions) + 3) + "|")
    fig, ax = plt.subplots(figsize=(min(14, 3 + 0.4 * len(conditions) * len(models)), 4.5))
    width = 0.8 / max(1, len(models))
    for m, (model, items) in enumerate(sorted(models.items())):
        by_condition = _group(items, lambda o: short[condition_key(o.record)])
        sums = [summarize(by_condition.get(c, [])) for c in conditions]
        overall = summarize(items)
        lines.append(f"| {model} | " + " | ".join(map(_fmt, sums)) + f" | {overall['chance']:.3f} | {overall['invalid_rate']:.3f} |")
        xs = [i + m * width for i in range(len(conditions))]
        accs = [s["accuracy"] or 0 for s in sums]
        errs = [[a - s["ci95"][0] for a, s in zip(accs, sums)], [s["ci95"][1] - a for a, s in zip(accs, sums)]]
        ax.bar(xs, accs, width, yerr=errs, capsize=3, label=model, hatch="/\\.x-o"[styles[model] % 6] * 2, alpha=0.85)
    _chance_line(ax, summarize(every)["chance"])
    ticks = [c.replace("+", "+\n") for c in conditions]
    ax.set_xticks([i + width * (len(models) - 1) / 2 for i in range(len(conditions))], ticks, fontsize=7)
    _save(plt, fig, ax, out_dir / name, "condition", "accuracy (95 % Wilson CI)")
    return lines + ["", f"![accuracy]({name})", ""]


def _sweep_section(models: dict[str, list[Outcome]], title: str, suffix: str, short: dict, styles: dict, out_dir: Path, plt) -> list[str]:
    variables = sorted({(o.record.get("sweep") or {}).get("variable") for v in models.values() for o in v} - {None})
    lines = []
    for variable in variables:
        lines += [f"## Accuracy against `{variable}` ({title})", "", "| model | condition | value | accuracy [95 % CI] |", "|---|---|---|---|"]
        fig, ax = plt.subplots(figsize=(6, 3.5))
        swept_all = []
        for model, items in sorted(models.items()):
            swept = [o for o in items if (o.record.get("sweep") or {}).get("variable") == variable]
            swept_all += swept
            for condition, group in sorted(_group(swept, lambda o: short[condition_key(o.record)]).items()):
                by_value = _group(group, lambda o: json.dumps(o.record["sweep"]["value"]))
                values = _sort_values(by_value)
                sums = [summarize(by_value[v]) for v in values]
                for v, s in zip(values, sums):
                    lines.append(f"| {model} | {condition} | {v} | {_fmt(s)} |")
                numeric = all(is_number(json.loads(v)) for v in values)
                xs = [json.loads(v) for v in values] if numeric else list(range(len(values)))
                _curve(ax, xs, sums, f"{model} / {condition}", _style(styles[model]))
                if not numeric:
                    ax.set_xticks(xs, values, rotation=20)
        _chance_line(ax, summarize(swept_all)["chance"])
        name = f"sweep_{_slug(variable)}{suffix}.png"
        _save(plt, fig, ax, out_dir / name, variable)
        lines += ["", f"![{variable}]({name})", ""]
    return lines


def _robustness_section(models: dict[str, list[Outcome]], title: str, suffix: str, styles: dict, out_dir: Path, plt) -> list[str]:
    every = [o for items in models.values() for o in items]
    axes = _level_axes(every)
    if not axes:
        return []
    lines = [
        f"## Robustness ({title})",
        "",
        "Relative drop = (clean - degraded) / clean. McNemar (1947) on pairs of the same sample clean and degraded:",
        "b = right clean only, c = right degraded only; exact two-sided binomial p, and chi-square with continuity correction.",
        "",
        "| model | degradation | level | accuracy [95 % CI] | relative drop | pairs | b | c | p exact | chi2 cc | p chi2 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    names = {}
    for name, axis in sorted(axes.items()):

        def level_of(o: Outcome, name=name, axis=axis):
            d = _single_degradation(o.record)
            value = (d.get("params") or {}).get(axis) if d and d["name"] == name else None
            return float(value) if is_number(value) else None

        fig, ax = plt.subplots(figsize=(6, 3.5))
        drawn = []
        for model, items in sorted(models.items()):
            clean = [o for o in items if not o.record.get("degradations")]
            clean_summary = summarize(clean)
            clean_by_pair = {_pair_key(o.record): o.correct for o in clean}
            by_level = _group(items, level_of)
            points = [(0.0, clean_summary)] if clean else []
            drawn += clean
            for level in sorted(by_level):
                group = by_level[level]
                drawn += group
                s = summarize(group)
                points.append((level, s))
                paired = [(clean_by_pair[k], o.correct) for o in group if (k := _pair_key(o.record)) in clean_by_pair]
                test = mcnemar(sum(a and not b for a, b in paired), sum(b and not a for a, b in paired))
                drop = (
                    f"{(clean_summary['accuracy'] - s['accuracy']) / clean_summary['accuracy']:+.1%}"
                    if clean and clean_summary["accuracy"]
                    else "-"
                )
                lines.append(
                    f"| {model} | {name} | {axis}={level:g} | {_fmt(s)} | {drop} | {len(paired)} | {test['b']} "
                    f"| {test['c']} | {test['p_exact']:.3g} | {test['chi2_cc']:.3g} | {test['p_chi2_cc']:.3g} |"
                )
            points.sort(key=lambda p: p[0])  # clean at 0 may lie right of the levels (ev < 0)
            _curve(ax, [p[0] for p in points], [p[1] for p in points], model, _style(styles[model]))
        _chance_line(ax, summarize(drawn)["chance"])
        names[name] = f"robustness_{_slug(name)}{suffix}.png"
        _save(plt, fig, ax, out_dir / names[name], f"{name} {axis} (clean at 0)")
    lines.append("")
    lines += [f"![{name}]({file})" for name, file in names.items()]
    return lines + [""]


def _modes_section(evaluations: list[Evaluation], modes: list[Mode], show_frames: bool) -> list[str]:
    lines = [
        "## Accuracy by question variant and evaluation mode",
        "",
        "Runs that differ in question variant, circular evaluation or frames per clip are not pooled:",
        "each has its own sections below, with its own chance; no test pairs one run mode with another.",
        "",
        "| model | run mode | datasets | accuracy [95 % CI] | chance | invalid |",
        "|---|---|---|---|---|---|",
    ]
    for mode in modes:
        for model, items in sorted(_by_model(evaluations, mode).items()):
            s = summarize(items)
            roots = sorted({ev.root.name for ev in evaluations if ev.model == model and mode.variant in ev.variants
                            and (ev.circular, ev.frames) == (mode.circular, mode.frames)})  # fmt: skip
            lines.append(
                f"| {model} | {_mode_text(mode, show_frames)} | {', '.join(roots)} | {_fmt(s)} "
                f"| {s['chance']:.3f} | {s['invalid_rate']:.3f} |"
            )
    return lines + [""]


def write_report(evaluations: list[Evaluation], out_dir: Path, title: str, world_roots: tuple = ()) -> Path:
    """Write ``report.md`` and its PNGs into ``out_dir``; returns the report's path. ``world_roots``:
    datasets whose world-model evaluations (``synth world``) get a section too."""
    plt = _pyplot()
    out_dir.mkdir(parents=True, exist_ok=True)
    modes = modes_of(evaluations)
    show_frames = len({m.frames for m in modes}) > 1
    every_model = sorted({ev.model for ev in evaluations})
    styles = {model: i for i, model in enumerate(every_model)}
    records = [r for ev in evaluations for r in ev.records]
    short = short_conditions(records)
    lines = [f"# {title}", "", "Datasets: " + ", ".join(sorted({f"`{ev.root}`" for ev in evaluations})), ""]
    lines += ["Accuracy with Wilson (1927) 95 % score intervals; chance = expected accuracy of uniform guessing.", ""]
    if len(modes) > 1:
        lines += _modes_section(evaluations, modes, show_frames)
    lines += _conditions_table(records, short)
    for mode in modes:
        models = _by_model(evaluations, mode)
        text = _mode_text(mode, show_frames)
        suffix = "" if len(modes) == 1 else "_" + _mode_slug(mode, show_frames)
        accuracy_png = f"accuracy_{_mode_slug(mode, show_frames) if len(modes) > 1 else _slug(mode.variant)}.png"
        lines += _accuracy_section(models, text, accuracy_png, short, styles, out_dir, plt)
        lines += _sweep_section(models, text, suffix, short, styles, out_dir, plt)
        lines += _robustness_section(models, text, suffix, styles, out_dir, plt)
    lines += time_controls_section(evaluations)
    lines += world_section(list(world_roots), out_dir, plt)
    lines += probe_section(evaluations, out_dir)
    lines += patch_section(evaluations, out_dir)
    lines += audit_section([ev.root for ev in evaluations])
    path = out_dir / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_single_report(evaluation: Evaluation, out_dir: Path) -> Path:
    """The per-evaluation report written beside ``predictions.jsonl``."""
    return write_report([evaluation], out_dir, f"{evaluation.model} on {evaluation.root.name}")
