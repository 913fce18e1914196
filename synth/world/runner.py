"""Run a world model on every ``world`` clip of a dataset, cache each video as it arrives, score
every revisit, write the summary.

Per clip, the inputs a model reads are exported once beside the clip, in ``world/<id>/``:
``conditioning_<k>.png`` (the first K frames) and ``inputs.json`` (the request without frames:
actions, camera path, intrinsics, units). Output in ``<dataset>/evals/<model label>/``:
``generated/<id>.mkv`` (the model's video, lossless FFV1), ``world_revisits.jsonl`` (one line per
clip: id, fingerprint, clip_sha256, video, and per revisit its frames, time away, image scores
and object scores) and ``world.json`` (means over all revisits and per time-away bin, see :func:`summarize`).

Resuming, as for ``synth eval``: a cached line is reused when its fingerprint (model config, the
adapter's code version, :data:`SCORE_VERSION`) and its clip's sha256 match and its video is on
disk; anything else is generated again, and the run says how many because their clip's content
changed. The first error stops the run; what was generated so far stays cached.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np

from synth.dataset import read_gt
from synth.degradations.quality import psnr, ssim
from synth.errors import UserError
from synth.io import drop_empty_on_failure, write_atomic
from synth.results import CLIP_CHANGED, RUN_CHANGED, read_predictions, split_cached, stale_lines, write_predictions
from synth.world.metrics import lab, object_scores
from synth.world.models import Truth, WorldModel, held_summary
from synth.world.revisits import revisits

SCORE_VERSION = 1  # bump when the revisit scores change (cached outputs are then scored again)
IMAGE_KEYS = ("fidelity_psnr", "fidelity_ssim", "self_consistency_psnr", "self_consistency_ssim")
SUMMARY_KEYS = (*IMAGE_KEYS, "object_delta_e", "object_presence", "n_revisits")


def world_records(root: Path, records: list[dict]) -> list[dict]:
    """The ``world`` records of a dataset; a :class:`UserError` when there are none, one has no
    ground truth or its frames no longer match its camera path."""
    found = [r for r in records if r["task"] == "world"]
    if not found:
        raise UserError(f"data={root}: no world clips (make them with `synth generate task=world gt=true ...`)")
    for r in found:
        if read_gt(root, r["id"]) is None:
            raise UserError(f"data={root}: {r['id']} has no ground truth; world scores need it (generate with gt=true)")
        if len(r["extra"]["camera_to_world"]) != r["num_frames"]:
            raise UserError(
                f"data={root}: {r['id']} has {r['num_frames']} frames but a camera path of "
                f"{len(r['extra']['camera_to_world'])} (retimed by a degradation?); world scores need the frames as rendered"
            )
    return found


def export_inputs(root: Path, record: dict, frames: np.ndarray) -> tuple[dict, list[str]]:
    """Write ``world/<id>/`` (conditioning PNGs and ``inputs.json``) unless there already, and
    return the request (see :mod:`synth.world.models`) and the absolute PNG paths."""
    from PIL import Image

    extra = record["extra"]
    k = int(extra["conditioning_frames"])
    folder = root / "world" / record["id"]
    folder.mkdir(parents=True, exist_ok=True)
    pngs = []
    for i in range(k):
        path = folder / f"conditioning_{i:03d}.png"
        if not path.is_file():
            Image.fromarray(frames[i]).save(path)
        pngs.append(str(path.resolve()))
    inputs = {
        "id": record["id"],
        "num_frames": record["num_frames"],
        "fps": record["fps"],
        "width": record["width"],
        "height": record["height"],
        "keys": extra["actions"]["keys"],
        "mouse": extra["actions"]["mouse"],
        "camera_to_world": extra["camera_to_world"],
        "intrinsics": extra["intrinsics"],
        "action_units": extra["action_units"],
    }
    if not (folder / "inputs.json").is_file():
        write_atomic(folder / "inputs.json", json.dumps({**inputs, "conditioning": [Path(p).name for p in pngs]}) + "\n")
    request = {
        **inputs,
        "conditioning": frames[:k].copy(),
        "keys": np.asarray(inputs["keys"], dtype=np.uint8),
        "mouse": np.asarray(inputs["mouse"], dtype=np.float32),
        "camera_to_world": np.asarray(inputs["camera_to_world"], dtype=np.float64),
        "intrinsics": np.asarray(inputs["intrinsics"], dtype=np.float64),
    }
    return request, pngs


def truth_of(root: Path, record: dict, frames: np.ndarray) -> Truth:
    gt = read_gt(root, record["id"])
    extra = record["extra"]
    return Truth(frames, gt["instances"], extra["in_view"], extra["instance_ids"])


def score_clip(record: dict, generated: np.ndarray, truth: Truth) -> list[dict]:
    """Per revisit of ``record`` (:func:`synth.world.revisits.revisits`): ``frame``,
    ``first_visit``, ``time_away`` (frames), fidelity (generated vs render at the revisit) and
    self-consistency (generated revisit vs generated first visit) as PSNR and SSIM, and per
    revisited object ``name``, ``time_away`` and :func:`synth.world.metrics.object_scores`
    (NaN as null)."""
    found = revisits(record)
    if not found:
        return []
    j = np.array([r.frame for r in found])
    i = np.array([r.first_visit for r in found])
    scores = {
        "fidelity_psnr": psnr(generated[j], truth.frames[j]),
        "fidelity_ssim": ssim(generated[j], truth.frames[j]),
        "self_consistency_psnr": psnr(generated[j], generated[i]),
        "self_consistency_ssim": ssim(generated[j], generated[i]),
    }
    generated_lab, truth_lab = lab(generated[j]), lab(truth.frames[j])
    out = []
    for n, revisit in enumerate(found):
        instances = np.asarray(truth.instances[revisit.frame])
        objects = []
        for name, away in revisit.objects:
            s = object_scores(generated_lab[n], truth_lab[n], instances == truth.instance_ids[name])
            if s is not None:
                objects.append({"name": name, "time_away": away, **{k: _finite(v) for k, v in s.items()}})
        line = {"frame": revisit.frame, "first_visit": revisit.first_visit, "time_away": revisit.time_away}
        out.append({**line, **{k: round(float(v[n]), 6) for k, v in scores.items()}, "objects": objects})
    return out


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 6)


def _mean(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return round(float(np.mean(values)), 6) if values else None


def bin_label(time_away: int, bin_frames: int) -> str:
    """The time-away bin of ``time_away`` frames: ``"7"`` for one-frame bins, ``"5-9"`` else."""
    lo = (time_away // bin_frames) * bin_frames
    return str(lo) if bin_frames == 1 else f"{lo}-{lo + bin_frames - 1}"


def _means(revisit_lines: list[dict], object_lines: list[dict]) -> dict:
    out = {key: _mean([r[key] for r in revisit_lines]) for key in IMAGE_KEYS}
    out["object_delta_e"] = _mean([o["delta_e"] for o in object_lines])
    out["object_presence"] = _mean([o["present"] for o in object_lines])
    out["n_revisits"] = len(revisit_lines)
    return out


def summarize(revisit_lines: list[dict], bin_frames: int = 1) -> dict:
    """``world.json``: :data:`SUMMARY_KEYS` as means over every revisit (object keys over every
    revisited object), and the same per time-away bin under ``by_time_away`` (a revisit falls in
    the bin of its time away, an object in that of its own), bins in increasing order. Means
    skip undecidable values; a key with none is null."""
    objects = [o for r in revisit_lines for o in r["objects"]]
    bins: dict[int, tuple[list, list]] = {}
    for r in revisit_lines:
        bins.setdefault(r["time_away"] // bin_frames, ([], []))[0].append(r)
    for o in objects:
        bins.setdefault(o["time_away"] // bin_frames, ([], []))[1].append(o)
    by_time = {bin_label(b * bin_frames, bin_frames): _means(*bins[b]) for b in sorted(bins)}
    return {**_means(revisit_lines, objects), "by_time_away": by_time}


def fingerprint(model: WorldModel) -> str:
    """What made and scored a clip's output, as 16 hex digits: model config, the adapter's code
    version and :data:`SCORE_VERSION` (the clip's content is keyed on its own)."""
    blob = json.dumps({"model": model.fingerprint(), "version": model.version, "score": SCORE_VERSION}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def check_video(video: np.ndarray, record: dict, label: str) -> np.ndarray:
    expect = (record["num_frames"], record["height"], record["width"], 3)
    if video.shape != expect or video.dtype != np.uint8:
        raise UserError(
            f"model {label}: returned a {video.dtype} array shaped {video.shape} for {record['id']}; expected {expect} uint8"
        )
    return video


def run_world(
    root: Path, records: list[dict], model: WorldModel, bin_frames: int = 1, limit: int = 0, log=print
) -> dict:
    """Generate, cache, score; returns the summary and writes it to ``evals/<label>/world.json``."""
    from synth.video import EncodeSettings, read_clip, write_clip

    if bin_frames < 1:
        raise UserError(f"bin_frames={bin_frames}: must be an integer >= 1 (frames per time-away bin)")
    if limit < 0:
        raise UserError(f"limit={limit}: must be >= 0 (0 = every clip)")
    records = world_records(root, records)
    if limit:
        records = records[:limit]
    out_dir = root / "evals" / model.label
    lines_path = out_dir / "world_revisits.jsonl"
    run_fp = fingerprint(model)
    wanted = {r["id"]: r for r in records}
    lossless = EncodeSettings(lossless=True)

    def why_stale(line: dict, record: dict | None) -> str | None:
        if record is None:  # a clip outside this run (limit=): kept for later runs
            return None
        if line.get("fingerprint") != run_fp:
            return RUN_CHANGED
        if line.get("clip_sha256") != record["sha256"]:
            return CLIP_CHANGED
        video = f"generated/{record['id']}{lossless.extension}"  # not a path read from the file
        return None if line.get("video") == video and (out_dir / video).is_file() else "video missing"

    cached, kept, stale = split_cached(read_predictions(lines_path), lambda line: line.get("id"), wanted, why_stale)
    for message in stale_lines(stale, "world-model videos", "generated again"):
        log(message)
    pending = [r for r in records if r["id"] not in cached]
    log(f"{model.label}: {len(records)} clips, {len(cached)} cached, {len(pending)} to generate")
    import torch

    # The scores run on a few small frames at a time: one thread beats a pool (8x on 2 busy cores).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        # a run that generated nothing leaves no empty lines file or folder behind
        with drop_empty_on_failure(lines_path, out_dir / "generated"), open(lines_path, "a") as append:
            (out_dir / "generated").mkdir(parents=True, exist_ok=True)
            for record in pending:
                frames, _ = read_clip(root / record["video"])
                request, pngs = export_inputs(root, record, frames)
                truth = truth_of(root, record, frames)
                tmp = out_dir / "generated" / f".tmp-{record['id']}.npy"
                files = {"conditioning_png": pngs, "output": str(tmp.resolve())}
                try:
                    video = check_video(model.generate({**request, **files}, truth), record, model.label)
                finally:
                    tmp.unlink(missing_ok=True)  # the model's own output file, read by now
                name = f"generated/{record['id']}{lossless.extension}"
                write_clip(video, out_dir / f".tmp-{record['id']}{lossless.extension}", record["fps"], lossless)
                (out_dir / f".tmp-{record['id']}{lossless.extension}").replace(out_dir / name)
                line = {"id": record["id"], "fingerprint": run_fp, "clip_sha256": record["sha256"], "video": name,
                        "revisits": score_clip(record, video, truth), "frames_held": model.frames_held}  # fmt: skip
                cached[record["id"]] = line
                append.write(json.dumps(line) + "\n")
                append.flush()
    finally:
        torch.set_num_threads(threads)
        model.close()
    ordered = [cached[r["id"]] for r in records if r["id"] in cached]
    write_predictions(lines_path, ordered + kept)
    summary = summarize([rv for line in ordered for rv in line["revisits"]], bin_frames)
    summary["frames_held"] = held_summary([line.get("frames_held") for line in ordered])
    write_atomic(out_dir / "world.json", json.dumps(summary, indent=2) + "\n")
    return summary
