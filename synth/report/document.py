"""Findings over one or more evaluated datasets: ``report.md`` with PNG plots (matplotlib), and
``report.html``, the same content on one self-contained page with a gallery of failing clips.

* findings first (:mod:`synth.report.findings`): per model the significant paired changes from
  clean with McNemar p, abstentions apart from wrong answers, audit, probes, world models;
* accuracy table: model x condition, accuracy over all items with its Wilson 95 % interval, n,
  and the share of abstentions (answers naming no option); not-run cells stay empty;
* accuracy against each swept variable, with interval bands;
* robustness curves: accuracy and abstentions against the conditions of each degradation applied
  alone, clean first and severity growing to the right, the relative drop from clean, and
  McNemar's paired test between clean and degraded versions of the same samples. Samples pair
  when they share (task, group, seed, sweep): the same scene rendered once clean and once
  degraded, in one dataset or across datasets.

Unlike runs are never pooled: a *run mode* is (question variant, circular evaluation, frame
count), and every mode gets its own sections, chance and tests, so no accuracy, chance or
McNemar pair mixes a circular with a plain evaluation, or one variant with another.

Conditions have one name everywhere (:mod:`synth.report.conditions`: ``fog 5``, ``low light 5,
ev -9``); every model keeps one colour, marker and line style in every plot
(:mod:`synth.report.plots`), and every plot's title names its run mode.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from synth.report.audit import audit_results, audit_section, audit_verdict
from synth.report.conditions import condition_key, condition_names, ordered, single_degradation
from synth.report.findings import bench_findings, mode_findings, pair_key, paired_changes
from synth.report.html import Answered, GalleryItem, write_html
from synth.report.patch import patch_section
from synth.report.plots import chance_line, line_style, model_styles, nudge, pyplot, save
from synth.report.probe import probe_docs, probe_section
from synth.report.time_controls import time_control_findings, time_controls_section
from synth.report.world import memory_section, world_evaluations, world_section
from synth.probe.run import gap_text
from synth.scoring.metrics import Outcome, is_number, outcomes, summarize


# The gallery of report.html: pairs shown per (model, condition) and in all.
GALLERY_PER_CONDITION = 3
GALLERY_MAX = 36


@dataclass
class Evaluation:
    """One model's predictions on one dataset in one run mode; ``frames``: frames sampled per clip (None: unknown)."""

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
        return "not run"
    lo, hi = summary["ci95"]
    return f"{summary['accuracy']:.3f} [{lo:.3f}, {hi:.3f}] (n={summary['n']})"


def _cell(summary: dict) -> str:
    """An accuracy cell with its abstentions (answers that named no option) when there are any."""
    text = _fmt(summary)
    if summary["n"] and summary["invalid_rate"]:
        text += f", abstained {summary['invalid_rate']:.3f}"
    return text


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


def _sort_values(values):
    def key(v):
        try:
            return (0, float(json.loads(v)), "")
        except (ValueError, TypeError):
            return (1, 0.0, str(v))

    return sorted(values, key=key)


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


def _conditions_table(records: list[dict], names: dict[str, str]) -> list[str]:
    """Condition name -> every degradation applied, in order, with all its parameters."""
    first: dict[str, dict] = {}
    for r in records:
        first.setdefault(condition_key(r), r)
    rows = []
    for key in ordered(first):
        stages = []
        for d in first[key].get("degradations") or []:
            params = ", ".join(f"{k}={v:g}" if is_number(v) else f"{k}={v}" for k, v in sorted((d.get("params") or {}).items()))
            stages.append(f"{d['name']}({params})")
        if stages:
            rows.append(f"| {names[key]} | {' → '.join(stages)} |")
    if not rows:
        return []
    return ["## Conditions", "", "| condition | degradations applied, in order, with their parameters |", "|---|---|", *rows, ""]


def _curve(ax, xs: list, summaries: list[dict], label: str, style: dict) -> None:
    """Accuracy against ``xs`` with its Wilson interval as a band."""
    ax.plot(xs, [s["accuracy"] for s in summaries], label=label, **line_style(style))
    lows, highs = [s["ci95"][0] for s in summaries], [s["ci95"][1] for s in summaries]
    ax.fill_between(xs, lows, highs, color=style["color"], alpha=0.12)


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


def _accuracy_section(models: dict[str, list[Outcome]], title: str, name: str, names: dict, styles: dict, out_dir: Path, plt) -> list[str]:
    every = [o for items in models.values() for o in items]
    conditions = ordered(condition_key(o.record) for o in every)
    lines = [f"## Accuracy by condition ({title})", "",
             "Accuracy over all items with its Wilson 95 % interval; *abstained*: the share of answers that named no "
             "option (counted wrong in the accuracy, never pooled with wrong options); *not run*: the model was not "
             "evaluated on that condition.", ""]  # fmt: skip
    lines.append("| model | " + " | ".join(names[c] for c in conditions) + " | chance | abstained (all) |")
    lines.append("|---" * (len(conditions) + 3) + "|")
    fig, ax = plt.subplots(figsize=(min(14, 3 + 0.45 * len(conditions) * max(1, len(models))), 4.5))
    width = 0.8 / max(1, len(models))
    missing_x = []
    for m, (model, items) in enumerate(sorted(models.items())):
        by_condition = _group(items, lambda o: condition_key(o.record))
        sums = [summarize(by_condition.get(c, [])) for c in conditions]
        overall = summarize(items)
        lines.append(f"| {model} | " + " | ".join(map(_cell, sums)) + f" | {overall['chance']:.3f} | {overall['invalid_rate']:.3f} |")
        run = [(i + m * width, s) for i, s in enumerate(sums) if s["n"]]
        missing_x += [i + m * width for i, s in enumerate(sums) if not s["n"]]
        if not run:
            continue
        xs = [x for x, _ in run]
        accs = [s["accuracy"] for _, s in run]
        errs = [[a - s["ci95"][0] for a, (_, s) in zip(accs, run)], [s["ci95"][1] - a for a, (_, s) in zip(accs, run)]]
        color = styles[model]["color"]
        ax.bar(xs, accs, width, yerr=errs, capsize=3, label=model, color=color, alpha=0.85, ecolor="black")
        abstained = [s["invalid_rate"] or 0.0 for _, s in run]
        if any(abstained):
            ax.bar(xs, abstained, width, bottom=accs, color="white", edgecolor=color, hatch="///", linewidth=0.8)
    if any(summarize(items)["invalid_rate"] for items in models.values()):
        ax.bar([0], [0], 0, color="white", edgecolor="grey", hatch="///", label="abstained (no option named)")
    if missing_x:
        ax.plot(missing_x, [0.02] * len(missing_x), "x", color="grey", markersize=6, linestyle="none", label="not run")
    chance_line(ax, summarize(every)["chance"])
    ticks = [names[c].replace(" + ", " +\n") for c in conditions]
    ax.set_xticks([i + width * (len(models) - 1) / 2 for i in range(len(conditions))], ticks, fontsize=7)
    save(plt, fig, ax, out_dir / name, f"Accuracy by condition ({title})", "condition (severity grows to the right)", "accuracy (95 % Wilson CI)")
    return lines + ["", f"![accuracy by condition ({title})]({name})", ""]


def _sweep_section(models: dict[str, list[Outcome]], title: str, suffix: str, names: dict, styles: dict, out_dir: Path, plt) -> list[str]:
    variables = sorted({(o.record.get("sweep") or {}).get("variable") for v in models.values() for o in v} - {None})
    lines = []
    for variable in variables:
        lines += [f"## Accuracy against `{variable}` ({title})", "",
                  "| model | condition | value | accuracy [95 % CI] | abstained |", "|---|---|---|---|---|"]  # fmt: skip
        fig, ax = plt.subplots(figsize=(6, 3.5))
        swept_all = []
        curves = []
        for model, items in sorted(models.items()):
            swept = [o for o in items if (o.record.get("sweep") or {}).get("variable") == variable]
            swept_all += swept
            by_condition = _group(swept, lambda o: condition_key(o.record))
            for condition in ordered(by_condition):
                by_value = _group(by_condition[condition], lambda o: json.dumps(o.record["sweep"]["value"]))
                values = _sort_values(by_value)
                sums = [summarize(by_value[v]) for v in values]
                for v, s in zip(values, sums):
                    lines.append(f"| {model} | {names[condition]} | {v} | {_fmt(s)} | {s['invalid_rate']:.3f} |")
                curves.append((model, names[condition], values, sums))
        numeric = all(is_number(json.loads(v)) for _, _, values, _ in curves for v in values)
        spread = [json.loads(v) for _, _, values, _ in curves for v in values] if numeric else []
        step = (max(spread) - min(spread)) * 0.012 if spread and max(spread) > min(spread) else 0.0
        categories = _sort_values({v for _, _, values, _ in curves for v in values}) if not numeric else []
        for k, (model, condition, values, sums) in enumerate(curves):
            offset = nudge(k, len(curves), step if numeric else 0.04)
            xs = [json.loads(v) + offset for v in values] if numeric else [categories.index(v) + offset for v in values]
            label = model if len({c for _, c, _, _ in curves}) == 1 else f"{model} / {condition}"
            _curve(ax, xs, sums, label, styles[model])
        if not numeric:
            ax.set_xticks(range(len(categories)), categories, rotation=20)
        chance_line(ax, summarize(swept_all)["chance"])
        name = f"sweep_{_slug(variable)}{suffix}.png"
        save(plt, fig, ax, out_dir / name, f"Accuracy against {variable} ({title})", variable)
        lines += ["", f"![accuracy against {variable} ({title})]({name})", ""]
    return lines


def _robustness_section(models: dict[str, list[Outcome]], title: str, suffix: str, names: dict, styles: dict, out_dir: Path, plt) -> list[str]:
    every = [o for items in models.values() for o in items]
    degradations = sorted({d["name"] for o in every if (d := single_degradation(o.record))})
    if not degradations:
        return []
    lines = [
        f"## Robustness ({title})",
        "",
        "Relative drop = (clean - degraded) / clean. McNemar (1947) on pairs of the same sample clean and degraded:",
        "b = right clean only, c = right degraded only; exact two-sided binomial p, and chi-square with continuity correction.",
        "Abstained: the share of answers that named no option; lost to abstention: of the b lost answers, those that named no option.",
        "",
        "| model | condition | accuracy [95 % CI] | abstained | relative drop | pairs | b | lost to abstention | c | p exact | chi2 cc | p chi2 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    changes = {model: {ch.condition: ch for ch in paired_changes(model, items)} for model, items in sorted(models.items())}
    # each model's outcomes by condition ("clean" or the degradations' key), grouped once for every plot
    conditions = {model: _group(items, lambda o: condition_key(o.record) if o.record.get("degradations") else "clean")
                  for model, items in models.items()}  # fmt: skip
    plots = []
    for degradation in degradations:
        keys = ordered(condition_key(o.record) for o in every if (d := single_degradation(o.record)) and d["name"] == degradation)
        axis = ["clean", *keys]
        fig, (ax, ax_abstain) = plt.subplots(2, 1, figsize=(6.5, 4.8), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
        drawn = []
        for m, model in enumerate(sorted(models)):
            by_condition = conditions[model]
            clean_summary = summarize(by_condition.get("clean", []))
            for key in keys:
                if key not in by_condition:
                    continue
                s = summarize(by_condition[key])
                ch = changes[model][key]
                drop = (f"{(clean_summary['accuracy'] - s['accuracy']) / clean_summary['accuracy']:+.1%}"
                        if clean_summary["n"] and clean_summary["accuracy"] else "-")  # fmt: skip
                t = ch.test
                lines.append(
                    f"| {model} | {names[key]} | {_fmt(s)} | {s['invalid_rate']:.3f} | {drop} | {ch.pairs} | {t['b']} "
                    f"| {ch.lost_abstained} | {t['c']} | {t['p_exact']:.3g} | {t['chi2_cc']:.3g} | {t['p_chi2_cc']:.3g} |"
                )
            present = [(i, by_condition[c]) for i, c in enumerate(axis) if c in by_condition]
            if not present:
                continue
            drawn += [o for _, group in present for o in group]
            offset = nudge(m, len(models))
            xs = [i + offset for i, _ in present]
            sums = [summarize(group) for _, group in present]
            _curve(ax, xs, sums, model, styles[model])
            ax_abstain.plot(xs, [s["invalid_rate"] for s in sums], **line_style(styles[model]))
        not_run = [model for model in models if any(c not in conditions[model] for c in axis)]
        if not_run:
            ax.plot([], [], " ", label="missing point: not run")
        chance_line(ax, summarize(drawn)["chance"])
        ax_abstain.set_ylabel("abstained", fontsize=8)
        ax_abstain.set_ylim(-0.03, 1.05)
        ax_abstain.set_xticks(range(len(axis)), [names.get(c, c) for c in axis], fontsize=7, rotation=15)
        ax_abstain.set_xlabel(f"{degradation.replace('_', ' ')}: condition (severity grows to the right)")
        name = f"robustness_{_slug(degradation)}{suffix}.png"
        ax.set_title(f"Robustness to {degradation.replace('_', ' ')} ({title})".replace("`", ""), fontsize=9)
        ax.set_ylabel("accuracy (95 % Wilson CI)")
        ax.set_ylim(-0.03, 1.05)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
        fig.savefig(out_dir / name, dpi=100, bbox_inches="tight")
        plt.close(fig)
        plots.append((degradation, name))
    lines.append("")
    lines += [f"![robustness to {d.replace('_', ' ')} ({title})]({file})" for d, file in plots]
    return lines + [""]


def _modes_section(evaluations: list[Evaluation], modes: list[Mode], show_frames: bool) -> list[str]:
    lines = [
        "## Accuracy by question variant and evaluation mode",
        "",
        "Runs that differ in question variant, circular evaluation or frames per clip are not pooled:",
        "each has its own sections below, with its own chance; no test pairs one run mode with another.",
        "",
        "| model | run mode | datasets | accuracy [95 % CI] | chance | abstained |",
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


def _gallery_items(evaluations: list[Evaluation], modes: list[Mode], show_frames: bool, names: dict) -> tuple[list[GalleryItem], int]:
    """Per run mode and model, the pairs right clean and wrong degraded (at most
    :data:`GALLERY_PER_CONDITION` per condition), worst conditions first; and how many clean and
    degraded pairs there were in all."""
    items, pairs = [], 0
    for mode in modes:
        runs = [ev for ev in evaluations if mode.variant in ev.variants and (ev.circular, ev.frames) == (mode.circular, mode.frames)]
        for model in sorted({ev.model for ev in runs}):
            clean, degraded = {}, {}
            for ev in (ev for ev in runs if ev.model == model):
                lines = {p["id"]: p for p in ev.predictions if p["variant"] == mode.variant and p["rotation"] == 0}
                for o in outcomes(ev.records, ev.predictions, mode.variant, ev.circular):
                    line = lines.get(str(o.record["id"]))
                    if line is None:
                        continue
                    seen = Answered(ev.root / o.record.get("video", ""), int(o.record.get("num_frames") or 1), str(line.get("response", "")),
                                    line.get("parsed"), o.correct)  # fmt: skip
                    if o.record.get("degradations"):
                        degraded.setdefault(condition_key(o.record), []).append((o.record, seen))
                    else:
                        clean[pair_key(o.record)] = seen
            for key in sorted(degraded, key=lambda k: -sum(1 for r, a in degraded[k] if not a.correct)):
                pairs += sum(pair_key(r) in clean for r, _ in degraded[key])
                broke = [(r, clean[pair_key(r)], a) for r, a in degraded[key]
                         if pair_key(r) in clean and clean[pair_key(r)].correct and not a.correct]  # fmt: skip
                for record, before, after in broke[:GALLERY_PER_CONDITION]:
                    items.append(GalleryItem(model, _mode_text(mode, show_frames), names[key], record["question"],
                                             list(record["options"]), record["answer"], before, after))  # fmt: skip
    return items, pairs


def _findings_section(evaluations, modes, show_frames, names, worlds, world_roots) -> list[str]:
    lines = ["## Findings", ""]
    for mode in modes:
        lines += mode_findings(_by_model(evaluations, mode), names, _mode_text(mode, show_frames))
    roots = [ev.root for ev in evaluations]
    named = [(label if len(world_roots) < 2 else f"{label} ({Path(root).name})", summary)
             for root, label, summary, _ in worlds]  # fmt: skip
    lines += [f"- {line}" for line in time_control_findings(evaluations)]
    lines += bench_findings(audit_results(roots), audit_verdict, probe_docs(evaluations), gap_text, named)
    return lines + [""]


def write_report(evaluations: list[Evaluation], out_dir: Path, title: str, world_roots: tuple = ()) -> Path:
    """Write ``report.md``, its PNGs and ``report.html`` into ``out_dir``; returns the report's
    path. ``world_roots``: datasets whose world-model evaluations (``synth world``) get a section too."""
    plt = pyplot()
    out_dir.mkdir(parents=True, exist_ok=True)
    modes = modes_of(evaluations)
    show_frames = len({m.frames for m in modes}) > 1
    worlds = [(root, *found) for root in world_roots for found in world_evaluations(Path(root))]  # read once
    styles = model_styles([ev.model for ev in evaluations] + [label for _, label, _, _ in worlds])
    records = [r for ev in evaluations for r in ev.records]
    names = condition_names(records)
    datasets = sorted({f"`{ev.root}`" for ev in evaluations} | {f"`{root}`" for root in world_roots})
    lines = [f"# {title}", "", "Datasets: " + ", ".join(datasets), ""]
    lines += _findings_section(evaluations, modes, show_frames, names, worlds, world_roots)
    if evaluations:
        lines += ["Accuracy with Wilson (1927) 95 % score intervals; chance = expected accuracy of uniform guessing.", ""]
    if len(modes) > 1:
        lines += _modes_section(evaluations, modes, show_frames)
    lines += _conditions_table(records, names)
    for mode in modes:
        models = _by_model(evaluations, mode)
        text = _mode_text(mode, show_frames)
        suffix = "" if len(modes) == 1 else "_" + _mode_slug(mode, show_frames)
        accuracy_png = f"accuracy_{_mode_slug(mode, show_frames) if len(modes) > 1 else _slug(mode.variant)}.png"
        lines += _accuracy_section(models, text, accuracy_png, names, styles, out_dir, plt)
        lines += _sweep_section(models, text, suffix, names, styles, out_dir, plt)
        lines += _robustness_section(models, text, suffix, names, styles, out_dir, plt)
    lines += time_controls_section(evaluations)
    lines += world_section(worlds, out_dir, plt, styles)
    lines += memory_section(worlds)
    lines += probe_section(evaluations, out_dir)
    lines += patch_section(evaluations, out_dir)
    lines += audit_section([ev.root for ev in evaluations])
    path = out_dir / "report.md"
    path.write_text("\n".join(lines) + "\n")
    items, pairs = _gallery_items(evaluations, modes, show_frames, names)
    write_html(path, out_dir / "report.html", title, items[:GALLERY_MAX], max(0, len(items) - GALLERY_MAX), pairs)
    return path
