"""What every plot of the report shares: one colour, marker and line style per model across the
whole report, curves nudged apart so equal ones stay visible, chance as a grey dashed line, a
title naming what the plot shows, the legend outside the axes."""

from __future__ import annotations

from pathlib import Path

MARKERS = "osD^vP*X<>"
LINESTYLES = ("-", "--", "-.", ":")
# Horizontal nudge between models' points on a categorical axis (1 = one condition apart).
NUDGE = 0.06


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def model_styles(models) -> dict[str, dict]:
    """Model label -> its ``color``, ``marker``, ``linestyle`` and ``markersize``, the same in
    every plot of a report (labels sorted, so the same set of models always gets the same styles)."""
    styles = {}
    for i, model in enumerate(sorted(set(models))):
        styles[model] = {
            "color": f"C{i % 10}",
            "marker": MARKERS[i % len(MARKERS)],
            "linestyle": LINESTYLES[i % len(LINESTYLES)],
            "markersize": max(4.0, 9.0 - 1.2 * (i % 5)),
        }
    return styles


def line_style(style: dict) -> dict:
    """Keyword arguments of ``ax.plot`` for a model's curve: hollow markers, larger first."""
    return {**style, "fillstyle": "none", "markeredgewidth": 1.5}


def nudge(index: int, count: int, spacing: float = NUDGE) -> float:
    """The x offset of the ``index``-th of ``count`` curves, centred on 0."""
    return (index - (count - 1) / 2) * spacing


def chance_line(ax, chance: float | None) -> None:
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle="--", linewidth=1, label=f"chance ({chance:.3g})")


def save(plt, fig, ax, path: Path, title: str, xlabel: str, ylabel: str = "accuracy", ylim=(-0.03, 1.05)) -> None:
    """Label, title, legend outside the axes; write ``path`` and close the figure."""
    ax.set_title(title.replace("`", ""), fontsize=9)  # markdown's code quotes mean nothing in a plot
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ylim:
        ax.set_ylim(*ylim)  # markers at 0 stay visible
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
