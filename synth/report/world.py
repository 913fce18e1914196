"""The world-model section of ``synth report``: per model a table of the scores by time away,
and one plot of self-consistency and fidelity (SSIM) against time away with 95 % intervals.

Intervals are percentile bootstraps over clips (revisits of one clip are not independent):
:data:`BOOTSTRAP` resamples of the clips with replacement, seeded, the mean per time away
recomputed on each (B. Efron, R. Tibshirani (1993), "An Introduction to the Bootstrap", ch. 13).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from synth.report.plots import line_style, nudge
from synth.results import read_predictions
from synth.world.runner import SUMMARY_KEYS

BOOTSTRAP = 1000
PLOTTED = (("self_consistency_ssim", "self-consistency SSIM"), ("fidelity_ssim", "fidelity SSIM"))
HEADERS = {
    "n_revisits": "revisits",
    "fidelity_psnr": "fidelity PSNR",
    "fidelity_ssim": "fidelity SSIM",
    "self_consistency_psnr": "self-cons. PSNR",
    "self_consistency_ssim": "self-cons. SSIM",
    "object_delta_e": "object dE00",
    "object_presence": "presence",
}


def world_evaluations(root: Path) -> list[tuple[str, dict, list[list[dict]]]]:
    """``(label, world.json, revisits per clip)`` of every ``evals/<label>/world.json`` under ``root``."""
    found = []
    for path in sorted((root / "evals").glob("*/world.json")):
        lines = read_predictions(path.parent / "world_revisits.jsonl")
        found.append((path.parent.name, json.loads(path.read_text()), [line["revisits"] for line in lines]))
    return found


def _cell(value) -> str:
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{value:.3f}"


def _table(summary: dict) -> list[str]:
    columns = ["n_revisits", *[k for k in SUMMARY_KEYS if k != "n_revisits"]]
    lines = ["| time away (frames) | " + " | ".join(HEADERS[c] for c in columns) + " |"]
    lines.append("|---" * (len(columns) + 1) + "|")
    for label, row in [*summary["by_time_away"].items(), ("all", summary)]:
        lines.append(f"| {label} | " + " | ".join(_cell(row[c]) for c in columns) + " |")
    return lines


def curve(clips: list[list[dict]], key: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean of ``key`` per time away (frames) over the revisits of ``clips``, with the 2.5 % and
    97.5 % percentiles of its clip bootstrap: ``(time_away, mean, lo, hi)``."""
    aways = np.array(sorted({rv["time_away"] for clip in clips for rv in clip}))
    sums = np.zeros((len(clips), len(aways)))
    counts = np.zeros((len(clips), len(aways)))
    index = {a: i for i, a in enumerate(aways)}
    for c, clip in enumerate(clips):
        for rv in clip:
            sums[c, index[rv["time_away"]]] += rv[key]
            counts[c, index[rv["time_away"]]] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums.sum(0) / counts.sum(0)
        picks = np.random.default_rng(seed).integers(0, len(clips), (BOOTSTRAP, len(clips)))
        boot = sums[picks].sum(1) / counts[picks].sum(1)
    lo, hi = np.nanpercentile(boot, [2.5, 97.5], axis=0) if len(clips) else (mean, mean)
    return aways, mean, lo, hi


def world_section(evaluations: list[tuple], out_dir: Path, plt, styles: dict[str, dict]) -> list[str]:
    """Markdown lines (and ``world_consistency.png`` in ``out_dir``) for ``evaluations``, the
    ``(root, label, world.json, revisits per clip)`` of every world-model evaluation
    (:func:`world_evaluations` of each dataset); nothing when there is none. ``styles``: each
    model's colour, marker and line style (:func:`synth.report.plots.model_styles`); curves are
    nudged apart along time away so equal ones (a frozen model under the oracle) stay visible."""
    if not evaluations:
        return []
    many = len({root for root, *_ in evaluations}) > 1
    lines = ["## World models: revisit consistency", ""]
    lines += ["Per revisit (a frame with the camera pose of an earlier frame), means over revisits; object keys",
              "over revisited objects; time away = frames the objects in view were out of view (docs/world-models.md).", ""]  # fmt: skip
    fig, axes = plt.subplots(1, len(PLOTTED), figsize=(5 * len(PLOTTED), 3.6), squeeze=False)
    for n, (root, label, summary, clips) in enumerate(evaluations):
        name = f"{label} ({Path(root).name})" if many else label
        lines += [f"### {name}", "", *_table(summary), ""]
        if not any(clips):
            continue
        for ax, (key, title) in zip(axes[0], PLOTTED):
            x, mean, lo, hi = curve(clips, key)
            step = (x.max() - x.min()) * 0.015 if len(x) > 1 else 0.0
            x = x + nudge(n, len(evaluations), step)
            style = styles[label]
            ax.plot(x, mean, label=name, **line_style(style))
            ax.fill_between(x, lo, hi, color=style["color"], alpha=0.15, linewidth=0)
            ax.set_title(f"World models: {title} against time away", fontsize=9)
            ax.set_xlabel("time away (frames)")
            ax.set_ylim(-0.05, 1.05)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_dir / "world_consistency.png", dpi=110)
    plt.close(fig)
    lines += ["![consistency and fidelity against time away, 95 % clip-bootstrap bands](world_consistency.png)", ""]
    return lines


def memory_section(evaluations: list[tuple]) -> list[str]:
    """Markdown lines for the world models of ``evaluations`` (as for :func:`world_section`) whose
    world.json carries ``frames_held``: per dataset, the active window and store beside
    self-consistency by time away (a sliding window, pose retrieval and full memory side by side);
    nothing when none does."""
    lines = []
    for root in dict.fromkeys(root for root, *_ in evaluations):
        found = [(label, doc) for r, label, doc, _ in evaluations if r == root and doc.get("frames_held")]
        if not found:
            continue
        bins = sorted({b for _, doc in found for b in doc["by_time_away"]}, key=lambda b: int(b.split("-")[0]))
        lines += [f"### `{Path(root).name}`", "",
                  "| model | window (frames) | store (frames) | " + " | ".join(f"away {b}" for b in bins) + " |",
                  "|---" * (3 + len(bins)) + "|"]  # fmt: skip
        for label, doc in found:
            held = doc["frames_held"]
            cells = [_cell(doc["by_time_away"].get(b, {}).get("self_consistency_ssim")) for b in bins]
            lines.append(f"| {label} | {held['window']:g} | {held['store']:g} | " + " | ".join(cells) + " |")
        lines.append("")
    if lines:
        lines = ["## World models: memory held against consistency", "",
                 "Self-consistency SSIM per time away (frames) beside the frames each model held, means over clips "
                 "(`window`: the active context, `store`: frames kept outside it and retrieved by pose; "
                 "docs/world-models.md).", ""] + lines  # fmt: skip
    return lines
