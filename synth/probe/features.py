"""One forward pass per sample: every stage's features and the model's verbal answer, cached.

Cache in ``<probe dir>/features/`` (per-cell geometry features: ``features-gt.depth/`` ...):
``<id>.npz`` (one float16 vector per stage, written atomically) and ``samples.jsonl`` (one line
per sample, appended as it comes: id, fingerprint, clip_sha256, response, parsed option, correct,
bytes). A sample is reused when its line carries this run's fingerprint (model config, frames,
stages, pooling, the adapter's and the scorer's code versions), its prompt and its clip's sha256,
and its ``.npz`` exists; anything else is computed again, as in ``synth eval``'s cache.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np

from synth.io import write_atomic
from synth.models.frames import SampledClip
from synth.models.prompts import build_asks
from synth.probe.gt_targets import gt_target
from synth.probe.stages import Recorder, Stage, stage_features, visual_token_ids
from synth.results import CLIP_CHANGED, RUN_CHANGED, read_predictions, split_cached, stale_lines, write_predictions
from synth.scoring.answers import SCORER_VERSION, score


def features_dir(out_dir: Path, geometry: str = "") -> Path:
    return out_dir / (f"features-{geometry}" if geometry else "features")


def run_fingerprint(model_fp: dict, frames: int, stages: list[Stage], pool: tuple[int, int, int], geometry: str = "",
                    version: int = 1) -> str:  # fmt: skip
    """What made a sample's features, as 16 hex digits; ``version``: the model adapter's code version."""
    blob = {"model": model_fp, "frames": frames, "stages": [s.name for s in stages], "pool": list(pool),
            "versions": [version, SCORER_VERSION]}  # fmt: skip
    if geometry:  # per-cell features and the ground truth they are probed for
        blob["geometry"] = geometry
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:16]


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_atomic(path, buffer.getvalue())


def collect(root: Path, records: list[dict], hf, stages: list[Stage], frames: int, pool, out_dir: Path,
            log=print, geometry: str = "") -> dict[str, dict]:  # fmt: skip
    """Features and answers for every record (cached ones reused); returns {id: line}.

    ``geometry`` (``gt.depth``, ``gt.normals``, ``gt.flow``): features per pooled cell, and the
    cells' mean ground truth stored beside them as ``target``."""
    cache = features_dir(out_dir, geometry)
    cache.mkdir(parents=True, exist_ok=True)
    index_path = cache / "samples.jsonl"
    fp = run_fingerprint(hf.fingerprint(), frames, stages, pool, geometry, hf.version)
    by_id = {str(r["id"]): r for r in records}

    def why_stale(line: dict, record: dict | None) -> str | None:
        if record is None:  # outside this run: not kept (the index is rewritten for the run's records)
            return "outside the run"
        if line.get("fingerprint") != fp or line.get("prompt_hash") != build_asks(record, "mcq", False)[0].prompt_hash:
            return RUN_CHANGED
        if line.get("clip_sha256") != record["sha256"]:
            return CLIP_CHANGED
        return None if (cache / f"{record['id']}.npz").is_file() else "features missing"

    done, _, stale = split_cached(read_predictions(index_path), lambda line: line.get("id"), by_id, why_stale)
    for message in stale_lines(stale, "probe features", "computed again"):
        log(message)
    todo = [r for r in records if str(r["id"]) not in done]
    log(f"probe {hf.label}: {len(records)} samples, {len(done)} cached, {len(todo)} to run")
    if todo:
        import torch

        recorder = Recorder(hf.model, stages, visual_tokens=bool(geometry))
        visual_ids = torch.as_tensor(visual_token_ids(hf.model, hf.processor))
        try:
            with open(index_path, "a") as append:
                for i, record in enumerate(todo):
                    ask = build_asks(record, "mcq", False)[0]
                    clip = SampledClip(root / record["video"], frames)
                    video = hf.video(clip, record)
                    inputs = hf.inputs([hf.prompt(ask)], [video])
                    recorder.first_pass(torch.isin(inputs["input_ids"][0].cpu(), visual_ids))
                    response = hf.generate(inputs)[0]
                    recorder.armed = False
                    arrays = stage_features(hf.model, stages, recorder, inputs, pool, cells=bool(geometry))
                    if geometry:
                        arrays["target"] = gt_target(root, record, geometry, video[1]["frames_indices"], pool)
                    _save_npz(cache / f"{record['id']}.npz", arrays)
                    size = sum(a.nbytes for a in arrays.values())
                    if i == 0:
                        log(f"features per sample: {size} bytes (float16; " + ", ".join(f"{k} {v.size}" for k, v in arrays.items()) + ")")
                    line = {"id": str(record["id"]), "fingerprint": fp, "prompt_hash": ask.prompt_hash,
                            "clip_sha256": record["sha256"], "response": response, **score(ask, response),
                            "bytes": size}  # fmt: skip
                    append.write(json.dumps(line) + "\n")
                    append.flush()
                    done[line["id"]] = line
        finally:
            recorder.remove()
    ordered = [done[str(r["id"])] for r in records]
    write_predictions(index_path, ordered)
    return {line["id"]: line for line in ordered}


def load_stage(out_dir: Path, ids: list[str], name: str, geometry: str = "") -> np.ndarray:
    """(n, ...) float32 array ``name`` (a stage's features, or ``target``) for ``ids``."""
    rows = []
    for sample_id in ids:
        with np.load(features_dir(out_dir, geometry) / f"{sample_id}.npz") as data:
            rows.append(data[name].astype(np.float32))
    return np.stack(rows)
