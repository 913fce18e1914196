"""``synth probe``: collect stage features and answers, fit the probes, write probe.json/md/png.

``probe.json`` (in ``<dataset>/evals/<model>/probe/``): ``target``, ``metric`` (``accuracy`` or
``r2``), ``chance``, ``verbal_accuracy`` (with ``verbal_ci95``, the model's own answers on the
same samples, parsed as ``synth eval`` does, over all of them), ``verbal_invalid_rate`` (answers
that named no option), ``verbal_chance`` (uniform guessing) and ``verbal_chance_corrected``
((accuracy - chance) / (1 - chance): 0 at chance, 1 when always right), ``binding_gap`` with
``binding_gap_reason`` and ``stages``: in model order, ``{name, score, ci95, control, n, dims}``.

The binding gap (best probe score at or after the projector minus the verbal accuracy) compares
like with like only when the probe reads the question's own answer (``probe.target=answer``) and
some stage reads it at all (its 95 % lower bound above chance): otherwise it is null and
``binding_gap_reason`` says why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List

import numpy as np

from synth.dataset import limited
from synth.errors import UserError
from synth.io import write_atomic
from synth.probe.features import collect, load_stage
from synth.probe.gt_targets import GT_TARGETS
from synth.probe.probes import chance_level, is_numeric, probe_stage
from synth.probe.stages import resolve_stages
from synth.scenes.params import NON_NEGATIVE, ranged
from synth.scoring.stats import wilson_interval


@dataclass
class ProbeSettings:
    """``synth probe``'s settings (also its Hydra ``probe`` node; ``frames`` and ``limit`` follow
    ``eval.frames`` and ``eval.limit`` there). ``pool``: (time bins, rows, columns) per stage."""

    target: str = "answer"
    stages: Any = "auto"  # "auto", "all" or a list of stage names
    modules: List[str] = field(default_factory=list)
    pool: List[int] = field(default_factory=lambda: [4, 2, 2])
    folds: int = 5
    frames: int = 8
    limit: int = 0
    seed: int = ranged(NON_NEGATIVE, 0)

    def validate(self) -> None:
        if len(self.pool) != 3 or any(int(p) < 1 for p in self.pool):
            raise UserError(f"probe.pool={list(self.pool)}: three integers >= 1 (time bins, rows, columns)")
        if self.folds < 2:
            raise UserError(f"probe.folds={self.folds}: must be >= 2")
        if self.frames < 1:
            raise UserError(f"eval.frames={self.frames}: must be an integer >= 1")
        if self.limit < 0:
            raise UserError(f"eval.limit={self.limit}: must be >= 0 (0 = every sample)")


def target_labels(records: list[dict], target: str) -> list:
    """The probe's label per record: the answer text, or ``params[target]``."""
    if target == "answer":
        return [r["answer"] for r in records]
    missing = [r["id"] for r in records if target not in (r.get("params") or {})]
    if missing:
        keys = sorted({k for r in records for k in (r.get("params") or {})})
        raise UserError(f"probe.target={target}: not in the params of sample {missing[0]}; allowed answer, {', '.join(keys)}")
    return [r["params"][target] for r in records]


def binding_gap(target: str, numeric: bool, chance: float, verbal: float, stages: list[dict]) -> tuple[float | None, str | None]:
    """``(gap, None)``, or ``(None, reason)`` where the gap would compare unlike things: a target
    other than the question's answer, an R² target, or no stage whose 95 % lower bound is above chance."""
    if target != "answer":
        return None, f"target {target} is not the question's answer: the verbal accuracy answers another question"
    if numeric:
        return None, "an R² target has no verbal accuracy to compare with"
    after = [s for s in stages if s["name"] != "vision"]
    if not after:
        return None, "no stage at or after the projector was probed"
    best = max(stages, key=lambda s: s["ci95"][0])
    if best["ci95"][0] <= chance:
        return None, (f"no stage reads the answer above chance (best 95 % lower bound {best['ci95'][0]:.3f} "
                      f"at {best['name']}, chance {chance:.3f}): nothing to bind")  # fmt: skip
    return max(s["score"] for s in after) - verbal, None


def summarize(target: str, labels: list, answers: list[dict], stages: list[dict]) -> dict:
    """The probe.json document."""
    numeric = is_numeric(labels)
    right = sum(bool(a["correct"]) for a in answers)
    verbal = right / len(answers) if answers else 0.0
    invalid = sum(a.get("parsed") is None for a in answers) / len(answers) if answers else 0.0
    verbal_chance = sum(1 / a["choices"] for a in answers if a.get("choices")) / len(answers) if answers else 0.0
    chance = chance_level(labels)
    gap, reason = binding_gap(target, numeric, chance, verbal, stages)
    return {
        "target": target,
        "metric": "r2" if numeric else "accuracy",
        "chance": chance,
        "verbal_accuracy": verbal,
        "verbal_ci95": list(wilson_interval(right, len(answers))),
        "verbal_invalid_rate": invalid,
        "verbal_chance": verbal_chance,
        "verbal_chance_corrected": (verbal - verbal_chance) / (1 - verbal_chance) if verbal_chance < 1 else None,
        "binding_gap": gap,
        "binding_gap_reason": reason,
        "n": len(answers),
        "stages": stages,
    }


def run_probe(root: Path, records: list[dict], hf, settings: ProbeSettings, log=print) -> dict:
    """Collect (cached), fit, write; returns the probe.json document."""
    settings.validate()
    records = limited(root, records, settings.limit)
    geometry = settings.target if settings.target in GT_TARGETS else ""
    if settings.target.startswith("gt.") and not geometry:
        raise UserError(f"probe.target={settings.target}: allowed ground-truth targets {', '.join(GT_TARGETS)}")
    labels = None if geometry else target_labels(records, settings.target)
    if labels is not None and len(set(map(str, labels))) < 2:
        raise UserError(f"probe.target={settings.target}: every sample has the same value; nothing to probe")
    groups = [r.get("group", r["id"]) for r in records]
    if len(set(map(str, groups))) < settings.folds:
        raise UserError(f"probe.folds={settings.folds}: the data have {len(set(map(str, groups)))} groups; use at most that many folds")
    stages = resolve_stages(hf.model, settings.stages, [str(m) for m in settings.modules], per_cell=bool(geometry))
    out_dir = root / "evals" / hf.label / "probe"
    pool = tuple(int(p) for p in settings.pool)
    answers = collect(root, records, hf, stages, settings.frames, pool, out_dir, log, geometry)
    ids = [str(r["id"]) for r in records]
    if geometry:  # one row per cell with valid ground truth, grouped by its sample's group
        target = load_stage(out_dir, ids, "target", geometry)  # (n, cells, C)
        keep = np.isfinite(target).all(axis=-1).reshape(-1)
        labels = target.reshape(-1, target.shape[-1])[keep]
        groups = list(np.repeat(np.asarray([str(g) for g in groups]), target.shape[1])[keep])
    results = []
    for stage in stages:
        x = load_stage(out_dir, ids, stage.name, geometry)
        if geometry:
            x = x.reshape(-1, x.shape[-1])[keep]
        results.append({"name": stage.name, **probe_stage(x, labels, groups, settings.folds, settings.seed)})
    doc = {"model": hf.label, "frames": settings.frames, "pool": list(pool),
           **summarize(settings.target, labels, [answers[i] for i in ids], results)}  # fmt: skip
    write_atomic(out_dir / "probe.json", json.dumps(doc, indent=2) + "\n")
    write_atomic(out_dir / "probe.md", probe_markdown(doc))
    plot_probe(doc, out_dir / "probe.png")
    return doc


def probe_markdown(doc: dict, heading: str = "#") -> str:
    metric = doc["metric"]
    lines = [
        f"{heading} Probe: {doc['model']}, target {doc['target']} ({metric})",
        "",
        f"n = {doc['n']}, probe chance {doc['chance']:.3f}; {verbal_text(doc)}",
        "",
        f"Binding gap: {gap_text(doc)}",
        "",
        f"| stage | {metric} | 95 % interval | control | selectivity | dims |",
        "|---|---|---|---|---|---|",
    ]
    for s in doc["stages"]:
        lines.append(f"| {s['name']} | {s['score']:.3f} | [{s['ci95'][0]:.3f}, {s['ci95'][1]:.3f}] | "
                     f"{s['control']:.3f} | {s['score'] - s['control']:+.3f} | {s['dims']} |")  # fmt: skip
    lines += ["", "![probe](probe.png)" if heading == "#" else ""]
    return "\n".join(lines).rstrip() + "\n"


def verbal_text(doc: dict) -> str:
    """The model's own answers: accuracy over all samples with its interval, invalid answers apart,
    and the chance-corrected figure (files from before these keys show what they have)."""
    text = f"verbal accuracy {doc['verbal_accuracy']:.3f} [{doc['verbal_ci95'][0]:.3f}, {doc['verbal_ci95'][1]:.3f}]"
    if "verbal_invalid_rate" in doc:
        text += f", invalid (no option named) {doc['verbal_invalid_rate']:.3f}"
    if doc.get("verbal_chance_corrected") is not None:
        text += f", chance-corrected {doc['verbal_chance_corrected']:+.3f} (verbal chance {doc['verbal_chance']:.3f})"
    return text


def gap_text(doc: dict) -> str:
    """The binding gap, or why there is none."""
    if doc["binding_gap"] is not None:
        return f"{doc['binding_gap']:+.3f} (best probe at or after the projector minus the verbal accuracy)"
    return "none: " + (doc.get("binding_gap_reason") or "not computed for this target")


def plot_probe(doc: dict, path: Path) -> None:
    """Score by stage, vision encoder to last LLM layer: the direct readings (vision, projector,
    last prompt position) and the LLM's visual-token readings as two lines with their 95 %
    intervals, the controls as grey crosses, the verbal accuracy and chance as horizontal lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stages = doc["stages"]
    bases = list(dict.fromkeys(s["name"].removesuffix(".visual") for s in stages))
    at = {b: i for i, b in enumerate(bases)}
    fig, ax = plt.subplots(figsize=(max(6.4, 0.5 * len(bases) + 2.5), 3.6))
    per_cell = doc["target"].startswith("gt.")
    for visual, style, label in ((False, "-", "probe (vision, projector, last prompt position)"),
                                 (True, "--", "probe (LLM visual tokens" + (", per cell)" if per_cell else ", mean)"))):  # fmt: skip
        line = [s for s in stages if s["name"].endswith(".visual") == visual]
        if not line:
            continue
        xs = [at[s["name"].removesuffix(".visual")] for s in line]
        err = [[s["score"] - s["ci95"][0] for s in line], [s["ci95"][1] - s["score"] for s in line]]
        ax.errorbar(xs, [s["score"] for s in line], yerr=err, marker="o" if not visual else "s", ls=style, capsize=3,
                    label=label)  # fmt: skip
    ax.plot([at[s["name"].removesuffix(".visual")] for s in stages], [s["control"] for s in stages], "x",
            color="grey", label="control (permuted labels)")  # fmt: skip
    if doc["metric"] == "accuracy":
        ax.axhline(doc["verbal_accuracy"], color="C3", label="verbal accuracy")
    ax.axhline(doc["chance"], color="grey", ls="--", lw=1, label="chance")
    ax.set_xticks(range(len(bases)), bases, rotation=45, ha="right")
    ax.set_ylabel(doc["metric"])
    ax.set_title(f"{doc['model']}: {doc['target']} (n={doc['n']})")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=2, fontsize=8)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
