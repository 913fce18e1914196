"""Findings over one or more evaluated datasets: markdown tables and PNG plots (matplotlib).

* accuracy table: model x condition, accuracy with its Wilson 95 % interval, n, chance;
* accuracy against each swept variable, with interval bands;
* robustness curves: accuracy against severity per degradation (clean plotted at 0), the
  relative drop from clean, and McNemar's paired test between clean and degraded versions of
  the same samples. A degradation recorded without ``severity`` is plotted against its one
  numeric parameter that varies across the conditions (e.g. ``length_px``). Samples pair when they share (task, group, seed, sweep): the same scene
  rendered once clean and once degraded, in one dataset or across datasets.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from synth.eval.metrics import Outcome, condition_label, is_number, outcomes, summarize
from synth.eval.stats import mcnemar


@dataclass
class Evaluation:
    """One model's predictions on one dataset."""

    root: Path
    model: str
    records: list[dict]
    predictions: list[dict]
    variants: list[str]
    circular: bool


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
    """Per degradation applied alone: the params key its curve is drawn against (``severity`` when recorded)."""
    params_by_name: dict[str, list[dict]] = {}
    for o in items:
        if d := _single_degradation(o.record):
            params_by_name.setdefault(d["name"], []).append(d.get("params") or {})
    axes = {}
    for name, all_params in params_by_name.items():
        if all("severity" in p for p in all_params):
            axes[name] = "severity"
            continue
        numeric = sorted({k for p in all_params for k, v in p.items() if is_number(v)})
        varying = [k for k in numeric if len({p.get(k) for p in all_params}) > 1]
        if varying or numeric:
            axes[name] = (varying or numeric)[0]
    return axes


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _curve(ax, xs: list, summaries: list[dict], label: str) -> None:
    """Accuracy against ``xs`` with its Wilson interval as a band."""
    line = ax.plot(xs, [s["accuracy"] for s in summaries], marker="o", label=label)[0]
    lows, highs = [s["ci95"][0] for s in summaries], [s["ci95"][1] for s in summaries]
    ax.fill_between(xs, lows, highs, color=line.get_color(), alpha=0.15)


def _save(plt, fig, ax, path: Path, xlabel: str, ylabel: str = "accuracy") -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _by_model(evaluations: list[Evaluation], variant: str) -> dict[str, list[Outcome]]:
    merged: dict[str, list[Outcome]] = {}
    for ev in evaluations:
        if variant in ev.variants:
            merged.setdefault(ev.model, []).extend(outcomes(ev.records, ev.predictions, variant, ev.circular))
    return merged


def _group(items: list[Outcome], key_of) -> dict:
    groups: dict = {}
    for o in items:
        k = key_of(o)
        if k is not None:
            groups.setdefault(k, []).append(o)
    return groups


def _accuracy_section(models: dict[str, list[Outcome]], variant: str, out_dir: Path, plt) -> list[str]:
    conditions = sorted({condition_label(o.record) for items in models.values() for o in items})
    conditions.sort(key=lambda c: c != "clean")
    lines = [f"## Accuracy by condition (variant `{variant}`)", ""]
    lines.append("| model | " + " | ".join(conditions) + " | chance | invalid |")
    lines.append("|---" * (len(conditions) + 3) + "|")
    fig, ax = plt.subplots(figsize=(min(14, 3 + 0.4 * len(conditions) * len(models)), 4.5))
    width = 0.8 / max(1, len(models))
    for m, (model, items) in enumerate(sorted(models.items())):
        by_condition = _group(items, lambda o: condition_label(o.record))
        cells = [_fmt(summarize(by_condition.get(c, []))) for c in conditions]
        overall = summarize(items)
        lines.append(f"| {model} | " + " | ".join(cells) + f" | {overall['chance']:.3f} | {overall['invalid_rate']:.3f} |")
        sums = [summarize(by_condition.get(c, [])) for c in conditions]
        xs = [i + m * width for i in range(len(conditions))]
        accs = [s["accuracy"] or 0 for s in sums]
        errs = [[a - s["ci95"][0] for a, s in zip(accs, sums)], [s["ci95"][1] - a for a, s in zip(accs, sums)]]
        ax.bar(xs, accs, width, yerr=errs, capsize=3, label=model)
    chance = summarize([o for items in models.values() for o in items])["chance"]
    ax.axhline(chance, color="grey", linestyle="--", linewidth=1, label="chance")
    ticks = [c.replace(",", ",\n").replace("+", "+\n") for c in conditions]  # long labels: one parameter a line
    ax.set_xticks([i + width * (len(models) - 1) / 2 for i in range(len(conditions))], ticks, fontsize=7)
    name = f"accuracy_{_slug(variant)}.png"
    _save(plt, fig, ax, out_dir / name, "condition", "accuracy (95 % Wilson CI)")
    return lines + ["", f"![accuracy]({name})", ""]


def _sweep_section(models: dict[str, list[Outcome]], out_dir: Path, plt) -> list[str]:
    variables = sorted({(o.record.get("sweep") or {}).get("variable") for v in models.values() for o in v} - {None})
    lines = []
    for variable in variables:
        lines += [f"## Accuracy against `{variable}`", "", "| model | condition | value | accuracy [95 % CI] |", "|---|---|---|---|"]
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for model, items in sorted(models.items()):
            swept = [o for o in items if (o.record.get("sweep") or {}).get("variable") == variable]
            for condition, group in sorted(_group(swept, lambda o: condition_label(o.record)).items()):
                by_value = _group(group, lambda o: json.dumps(o.record["sweep"]["value"]))
                values = _sort_values(by_value)
                sums = [summarize(by_value[v]) for v in values]
                for v, s in zip(values, sums):
                    lines.append(f"| {model} | {condition} | {v} | {_fmt(s)} |")
                numeric = all(isinstance(json.loads(v), (int, float)) for v in values)
                xs = [json.loads(v) for v in values] if numeric else list(range(len(values)))
                _curve(ax, xs, sums, f"{model} / {condition}")
                if not numeric:
                    ax.set_xticks(xs, values, rotation=20)
        name = f"sweep_{_slug(variable)}.png"
        _save(plt, fig, ax, out_dir / name, variable)
        lines += ["", f"![{variable}]({name})", ""]
    return lines


def _robustness_section(models: dict[str, list[Outcome]], out_dir: Path, plt) -> list[str]:
    axes = _level_axes([o for items in models.values() for o in items])
    if not axes:
        return []
    lines = [
        "## Robustness",
        "",
        "Relative drop = (clean - degraded) / clean. McNemar (1947) on pairs of the same sample clean and degraded:",
        "b = right clean only, c = right degraded only; exact two-sided binomial p, and chi-square with continuity correction.",
        "",
        "| model | degradation | level | accuracy [95 % CI] | relative drop | pairs | b | c | p exact | chi2 cc | p chi2 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, axis in sorted(axes.items()):

        def level_of(o: Outcome, name=name, axis=axis):
            d = _single_degradation(o.record)
            value = (d.get("params") or {}).get(axis) if d and d["name"] == name else None
            return float(value) if is_number(value) else None

        fig, ax = plt.subplots(figsize=(6, 3.5))
        for model, items in sorted(models.items()):
            clean = [o for o in items if not o.record.get("degradations")]
            clean_summary = summarize(clean)
            clean_by_pair = {_pair_key(o.record): o.correct for o in clean}
            by_level = _group(items, level_of)
            points = [(0.0, clean_summary)] if clean else []
            for level in sorted(by_level):
                group = by_level[level]
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
            _curve(ax, [p[0] for p in points], [p[1] for p in points], model)
        _save(plt, fig, ax, out_dir / f"robustness_{_slug(name)}.png", f"{name} {axis} (clean at 0)")
    lines.append("")
    lines += [f"![{name}](robustness_{_slug(name)}.png)" for name in sorted(axes)]
    return lines + [""]


def _variant_section(evaluations: list[Evaluation]) -> list[str]:
    variants = sorted({v for ev in evaluations for v in ev.variants})
    if variants == ["mcq"]:
        return []
    lines = ["## Accuracy by question variant", "", "| model | variant | accuracy [95 % CI] | chance | invalid |", "|---|---|---|---|---|"]
    for variant in variants:
        for model, items in sorted(_by_model(evaluations, variant).items()):
            s = summarize(items)
            lines.append(f"| {model} | {variant} | {_fmt(s)} | {s['chance']:.3f} | {s['invalid_rate']:.3f} |")
    return lines + [""]


def write_report(evaluations: list[Evaluation], out_dir: Path, title: str, world_roots: tuple = ()) -> Path:
    """Write ``report.md`` and its PNGs into ``out_dir``; returns the report's path. ``world_roots``:
    datasets whose world-model evaluations (``synth world``) get a section too."""
    plt = _pyplot()
    out_dir.mkdir(parents=True, exist_ok=True)
    primary = evaluations[0].variants[0]
    models = _by_model(evaluations, primary)
    lines = [f"# {title}", "", "Datasets: " + ", ".join(sorted({f"`{ev.root}`" for ev in evaluations})), ""]
    lines += ["Accuracy with Wilson (1927) 95 % score intervals; chance = expected accuracy of uniform guessing.", ""]
    lines += _accuracy_section(models, primary, out_dir, plt)
    lines += _variant_section(evaluations)
    lines += _sweep_section(models, out_dir, plt)
    lines += _robustness_section(models, out_dir, plt)
    from synth.world.report import world_section

    lines += world_section(list(world_roots), out_dir, plt)
    path = out_dir / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_single_report(evaluation: Evaluation, out_dir: Path) -> Path:
    """The per-evaluation report written beside ``predictions.jsonl``."""
    return write_report([evaluation], out_dir, f"{evaluation.model} on {evaluation.root.name}")
