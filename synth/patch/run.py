"""``synth patch``: activation patching across paired clips, written to patch.json/md/png.

For every ordered pair (A, B) of siblings in one group whose answers differ, A's prompt is run
three ways: with A's clip (clean A), with B's clip (clean B: the same prompt, so only the video
differs) and, once per stage, with A's clip and that stage's activations taken from clean B.
The readout is the logit difference ``LD = logit(B's option letter) - logit(A's option letter)``
at the answer position; a stage's effect on one pair is

    effect = (LD_patched - LD_A) / (LD_B - LD_A)

0 when the patch changes nothing, 1 when it moves the answer all the way to B's. A pair flips
when its effect passes 0.5 (the patched logit difference crossed the midpoint between the clean
runs). Pairs whose clean difference ``|LD_B - LD_A|`` is below ``patch.min_clean_diff`` cannot
be normalised: they are counted and listed, never used.

Endpoints, measured on every run with the same pairs and normalisation:

* ``input``: A's prompt with B's pixel values (the processed video swapped in): must be 1;
* ``none``: A's own activations patched back into A at every stage at once: must be 0;
* ``same_answer``: A's prompt with the clip of a sibling C that has A's answer: ≈ 0 for a model
  that uses the answer and nothing else of the clip.

Means over pairs carry 95 % percentile-bootstrap intervals that resample groups (the ordered
pairs of one group share clips and are not independent).
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
from synth.models.frames import SampledClip
from synth.models.prompts import build_asks
from synth.patch.hooks import Patcher
from synth.probe.stages import resolve_stages, visual_token_ids

BOOTSTRAP = 1000
ENDPOINT_TOLERANCE = {"input": 0.01, "none": 0.01, "same_answer": 0.1}  # |effect - target| allowed
ENDPOINT_TARGET = {"input": 1.0, "none": 0.0, "same_answer": 0.0}


@dataclass
class PatchSettings:
    """``synth patch``'s settings (its Hydra ``patch`` node; ``frames`` and ``limit`` follow
    ``eval.frames`` and ``eval.limit``). ``min_clean_diff``: logits; pairs whose clean runs
    differ by less are counted as too small to normalise."""

    stages: Any = "auto"
    modules: List[str] = field(default_factory=list)
    min_clean_diff: float = 0.01
    frames: int = 8
    limit: int = 0
    seed: int = 0

    def validate(self) -> None:
        if self.min_clean_diff <= 0:
            raise UserError(f"patch.min_clean_diff={self.min_clean_diff}: must be > 0 (logits)")
        if self.frames < 1:
            raise UserError(f"eval.frames={self.frames}: must be an integer >= 1")
        if self.limit < 0:
            raise UserError(f"eval.limit={self.limit}: must be >= 0 (0 = every sample)")


def ordered_pairs(records: list[dict]) -> list[tuple[dict, dict]]:
    """Every ordered (A, B) of one group whose answers differ, in manifest order."""
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(str(r.get("group", r["id"])), []).append(r)
    return [(a, b) for members in groups.values() for a in members for b in members if a["answer"] != b["answer"]]


def same_answer_sibling(a: dict, records: list[dict]) -> dict | None:
    """The next record after ``a`` (cyclically, manifest order) with ``a``'s answer, or None."""
    at = next(i for i, r in enumerate(records) if r["id"] == a["id"])
    for r in records[at + 1 :] + records[:at]:
        if r["answer"] == a["answer"] and set(r["options"]) == set(a["options"]):
            return r
    return None


def grouped_mean_interval(values: list[float], groups: list[str], seed: int) -> tuple[float, list[float]]:
    """Mean of ``values`` and its 95 % percentile-bootstrap interval, resampling whole groups."""
    v, g = np.asarray(values, float), np.asarray(groups)
    unique = np.unique(g)
    members = [np.flatnonzero(g == u) for u in unique]
    rng = np.random.default_rng(seed)
    draws = [v[np.concatenate([members[i] for i in rng.integers(len(unique), size=len(unique))])].mean()
             for _ in range(BOOTSTRAP)]  # fmt: skip
    return float(v.mean()), [float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))]


def letter_token_ids(hf, prompt: str, letters: str) -> list[int]:
    """The first token the model would write for each option letter after ``prompt``."""
    tokenizer = hf.processor.tokenizer
    n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    ids = [tokenizer(prompt + letter, add_special_tokens=False)["input_ids"][n_prompt:] for letter in letters]
    if any(not i for i in ids) or len({i[0] for i in ids}) < len(ids):
        raise UserError(f"patch: the option letters {letters} do not start with distinct tokens after the prompt")
    return [i[0] for i in ids]


class _Runner:
    """One model, its patcher and the forward passes of one recipient prompt."""

    def __init__(self, root: Path, hf, stages, frames: int):
        self.root, self.hf, self.stages, self.frames = root, hf, stages, frames
        self.visual_ids = None
        self.patcher = None
        self._videos: dict[str, tuple] = {}  # each clip is decoded once

    def inputs(self, prompt: str, record: dict):
        if record["id"] not in self._videos:
            self._videos[record["id"]] = self.hf.video(SampledClip(self.root / record["video"], self.frames), record)
        return self.hf.inputs([prompt], [self._videos[record["id"]]])

    def logits(self, inputs, mode: str = "off", donor: dict | None = None):
        """(vocab,) float logits at the answer position after one forward pass."""
        import torch

        if self.patcher is None:
            self.visual_ids = torch.as_tensor(visual_token_ids(self.hf.model, self.hf.processor))
            self.patcher = Patcher(self.hf.model, self.stages, None)
        self.patcher.visual_mask = torch.isin(inputs["input_ids"][0].cpu(), self.visual_ids)
        self.patcher.start(mode, donor)
        try:
            with torch.inference_mode():
                out = self.hf.model(**inputs, logits_to_keep=1)
        finally:
            self.patcher.mode = "off"
        return out.logits[0, -1].float().cpu()

    def close(self):
        if self.patcher is not None:
            self.patcher.remove()


def measure_pairs(root: Path, records: list[dict], hf, stages, settings: PatchSettings, log=print) -> dict:
    """Per-pair readings: ``{"pairs": [{a, b, group, clean, effects: {stage: e}, input, none,
    same_answer}], "too_small": [{a, b, clean}], "unscorable": [{a, b}]}``."""
    runner = _Runner(root, hf, stages, settings.frames)
    pairs = ordered_pairs(records)
    if not pairs:
        raise UserError("patch: no group holds two siblings with different answers "
                        "(generate a paired sweep, e.g. sweep.variable=motion.direction)")  # fmt: skip
    by_a: dict[str, list[dict]] = {}
    for a, b in pairs:
        by_a.setdefault(a["id"], []).append(b)
    a_records = {r["id"]: r for r in records}
    out = {"pairs": [], "too_small": [], "unscorable": []}
    log(f"patch {hf.label}: {len(pairs)} ordered pairs in {len({str(a.get('group', a['id'])) for a, _ in pairs})} groups, "
        f"{len(stages)} stages")  # fmt: skip
    try:
        for a_id, bs in by_a.items():
            a = a_records[a_id]
            ask = build_asks(a, "mcq", False)[0]
            prompt = hf.prompt(ask)
            letters = letter_token_ids(hf, prompt, ask.letters)
            inputs_a = runner.inputs(prompt, a)
            logits_a = runner.logits(inputs_a, "record")
            acts_a = runner.patcher.recording
            logits_none = runner.logits(inputs_a, "patch", acts_a)
            sibling = same_answer_sibling(a, records)
            logits_same = runner.logits(runner.inputs(prompt, sibling)) if sibling else None
            for b in bs:
                if b["answer"] not in ask.options:
                    out["unscorable"].append({"a": a_id, "b": b["id"]})
                    continue
                ia, ib = letters[ask.options.index(a["answer"])], letters[ask.options.index(b["answer"])]

                def ld(logits):
                    return float(logits[ib] - logits[ia])

                inputs_b = runner.inputs(prompt, b)
                logits_b = runner.logits(inputs_b, "record")
                acts_b = runner.patcher.recording
                clean = ld(logits_b) - ld(logits_a)
                if abs(clean) < settings.min_clean_diff:
                    out["too_small"].append({"a": a_id, "b": b["id"], "clean": clean})
                    continue

                def effect(logits):
                    return (ld(logits) - ld(logits_a)) / clean

                swapped = {k: (inputs_b[k] if k.startswith("pixel_values") else v) for k, v in inputs_a.items()}
                pair = {"a": a_id, "b": b["id"], "group": str(a.get("group", a_id)), "clean": clean,
                        "input": effect(runner.logits(swapped)), "none": effect(logits_none),
                        "same_answer": None if logits_same is None else effect(logits_same),
                        "effects": {s.name: effect(runner.logits(inputs_a, "patch", {s.name: acts_b[s.name]}))
                                    for s in stages}}  # fmt: skip
                out["pairs"].append(pair)
    finally:
        runner.close()
    return out


def summarize(readings: dict, stages, settings: PatchSettings) -> dict:
    """The patch.json document (without the model's name and frames)."""
    pairs = readings["pairs"]
    groups = [p["group"] for p in pairs]

    def stat(values, groups_of):
        if not values:
            return {"effect": None, "ci95": None, "n_pairs": 0}
        mean, ci = grouped_mean_interval(values, groups_of, settings.seed)
        return {"effect": mean, "ci95": ci, "n_pairs": len(values)}

    stage_rows = []
    for s in stages:
        values = [p["effects"][s.name] for p in pairs]
        flips = sum(v > 0.5 for v in values)
        stage_rows.append({"name": s.name, **stat(values, groups), "flip_rate": flips / len(values) if values else None})
    endpoints = {}
    for name in ("input", "none", "same_answer"):
        kept = [(p[name], p["group"]) for p in pairs if p[name] is not None]
        row = stat([v for v, _ in kept], [g for _, g in kept])
        row["target"] = ENDPOINT_TARGET[name]
        row["ok"] = None if row["effect"] is None else abs(row["effect"] - ENDPOINT_TARGET[name]) <= ENDPOINT_TOLERANCE[name]
        endpoints[name] = row
    return {
        "readout": "logit(B option) - logit(A option) at the answer position, normalised by the clean runs",
        "hooks": "torch forward hooks",
        "min_clean_diff": settings.min_clean_diff,
        "n_pairs": len(pairs),
        "n_too_small": len(readings["too_small"]),
        "too_small": readings["too_small"],
        "n_unscorable": len(readings["unscorable"]),
        "stages": stage_rows,
        "endpoints": endpoints,
    }


def run_patch(root: Path, records: list[dict], hf, settings: PatchSettings, log=print) -> dict:
    """Measure, write ``evals/<model>/patch/`` (patch.json, patch.md, patch.png); returns patch.json."""
    settings.validate()
    records = limited(root, records, settings.limit)
    stages = resolve_stages(hf.model, settings.stages, [str(m) for m in settings.modules], key="patch")
    readings = measure_pairs(root, records, hf, stages, settings, log)
    doc = {"model": hf.label, "frames": settings.frames, **summarize(readings, stages, settings)}
    for name, row in doc["endpoints"].items():
        if row["ok"] is False:
            log(f"patch: endpoint {name} is {row['effect']:.3f}, expected {row['target']:.0f} "
                f"(within {ENDPOINT_TOLERANCE[name]})")  # fmt: skip
    if doc["n_too_small"]:
        log(f"patch: {doc['n_too_small']} of {doc['n_too_small'] + doc['n_pairs']} pairs have a clean logit difference "
            f"below {settings.min_clean_diff} and are left out")  # fmt: skip
    out_dir = root / "evals" / hf.label / "patch"
    out_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(out_dir / "patch.json", json.dumps(doc, indent=2) + "\n")
    write_atomic(out_dir / "patch.md", patch_markdown(doc))
    plot_patch(doc, out_dir / "patch.png")
    return doc


def _fmt(row: dict, key: str = "effect") -> str:
    if row[key] is None:
        return "–"
    ci = row.get("ci95")
    return f"{row[key]:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if key == "effect" and ci else "")


def patch_markdown(doc: dict, heading: str = "#") -> str:
    unscorable = f", {doc['n_unscorable']} without B's answer among A's options" if doc["n_unscorable"] else ""
    lines = [
        f"{heading} Patch: {doc['model']}, {doc['n_pairs']} ordered pairs",
        "",
        f"Effect = (LD_patched − LD_A) / (LD_B − LD_A), LD = logit(B's option) − logit(A's option); "
        f"95 % intervals bootstrap groups. {doc['n_too_small']} pairs with |LD_B − LD_A| < {doc['min_clean_diff']} "
        f"left out{unscorable}.",
        "",
        "| endpoint | effect [95 %] | expected | ok |",
        "|---|---|---|---|",
    ]
    for name, row in doc["endpoints"].items():
        ok = "–" if row["ok"] is None else ("yes" if row["ok"] else "**no**")
        lines.append(f"| {name} | {_fmt(row)} | {row['target']:.0f} | {ok} |")
    lines += ["", "| stage | effect [95 %] | flip rate | pairs |", "|---|---|---|---|"]
    for s in doc["stages"]:
        lines.append(f"| {s['name']} | {_fmt(s)} | {_fmt(s, 'flip_rate')} | {s['n_pairs']} |")
    lines += ["", "![patch](patch.png)" if heading == "#" else ""]
    return "\n".join(lines).rstrip() + "\n"


def plot_patch(doc: dict, path: Path) -> None:
    """Effect by stage, vision encoder to last LLM layer: the last-position line and the
    visual-token line with their 95 % intervals; the endpoints' 0 and 1 as horizontal lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stages = [s for s in doc["stages"] if s["effect"] is not None]
    bases = list(dict.fromkeys(s["name"].removesuffix(".visual") for s in doc["stages"]))
    at = {b: i for i, b in enumerate(bases)}
    fig, ax = plt.subplots(figsize=(max(6.4, 0.5 * len(bases) + 2.5), 3.6))
    for visual, style, label in ((False, "-", "patched: vision, projector, last position"),
                                 (True, "--", "patched: LLM visual-token positions")):  # fmt: skip
        line = [s for s in stages if s["name"].endswith(".visual") == visual]
        if line:
            err = [[s["effect"] - s["ci95"][0] for s in line], [s["ci95"][1] - s["effect"] for s in line]]
            ax.errorbar([at[s["name"].removesuffix(".visual")] for s in line], [s["effect"] for s in line], yerr=err,
                        marker="s" if visual else "o", ls=style, capsize=3, label=label)  # fmt: skip
    ax.axhline(1, color="grey", lw=1, label="whole input (1)")
    ax.axhline(0, color="grey", ls="--", lw=1, label="no patch (0)")
    ax.set_xticks(range(len(bases)), bases, rotation=45, ha="right")
    ax.set_ylabel("effect (normalised logit difference)")
    ax.set_title(f"{doc['model']}: activation patching (pairs={doc['n_pairs']})")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=2, fontsize=8)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
