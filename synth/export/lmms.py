"""Export a synth dataset as an lmms-eval task directory.

Layout written under ``out``::

    <task>.yaml          task config (dataset_path: json, test split = data/test.jsonl)
    utils.py             doc_to_visual / doc_to_text / process_results
    synth_parsing.py     a copy of synth.models.parsing, so lmms-eval scores answers exactly as synth does
    data/test.jsonl      one doc per sample (prompt rendered by synth, options, answer index, metadata)
    data/clips/*.mp4     the clips
    data/frames/<id>/    the frames `synth eval` shows (PNG, ``eval.frames`` of them, same indices)
    data/frames_clips/<id>.mp4   the same frames as a lossless clip at 2 fps (:mod:`synth.export.frames`)

What a model sees is set in the YAML's ``lmms_eval_specific_kwargs`` (lmms-eval passes it to
``doc_to_visual``):

* ``visual: frames_clip`` (default) hands over the path of the clip of synth's frames: every
  video model class decodes it whole (qwen-vl-utils resamples at 2 fps, the clip's own rate;
  ``max_num_frames`` / ``max_frames_num`` = ``frames`` then keeps every frame), so the model
  sees exactly the frames ``synth eval`` shows, bit for bit, as a video;
* ``visual: frames`` hands over the same frames as PIL images (a list of images, not a video);
* ``visual: video`` hands over the source clip, and the model class samples its own frames.

The task directory needs no synth install. ``data_files`` in the YAML is an absolute path
(lmms-eval hands it to ``datasets.load_dataset``), so export again after moving the directory.
"""

from __future__ import annotations

import inspect
import json
import re
import shutil
from pathlib import Path

from synth.errors import UserError
from synth.export.frames import save_eval_frames
from synth.io import output_folder
from synth.models import parsing
from synth.models.prompts import render_prompt
from synth.scoring.metrics import condition_label

VISUALS = ("frames_clip", "frames", "video")

UTILS_PY = '''"""lmms-eval hooks for a task exported by `synth export lmms-eval`."""

import importlib.util
import os

_HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("synth_parsing", os.path.join(_HERE, "synth_parsing.py"))
synth_parsing = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(synth_parsing)


def doc_to_visual(doc, lmms_eval_specific_kwargs=None):
    """The clip of synth's frames (visual: frames_clip), those frames as PIL images (visual:
    frames) or the source clip (visual: video)."""
    settings = (lmms_eval_specific_kwargs or {}).get("default", lmms_eval_specific_kwargs or {})
    visual = settings.get("visual", "frames_clip")
    if visual == "frames":
        from PIL import Image

        return [Image.open(os.path.join(_HERE, "data", path)).convert("RGB") for path in doc["frames"]]
    return [os.path.join(_HERE, "data", doc["frames_clip" if visual == "frames_clip" else "video"])]


def doc_to_text(doc, lmms_eval_specific_kwargs=None):
    return doc["prompt"]


def process_results(doc, results):
    parsed = synth_parsing.parse_answer(results[0], doc["options"])
    return {"accuracy": float(parsed == doc["answer_index"]), "invalid": float(parsed is None)}
'''


def _yaml_text(task: str, data_file: Path, frames: int, visual: str) -> str:
    # Written by hand: `!function` tags are lmms-eval's own YAML extension.
    return f"""task: {task}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {json.dumps(str(data_file))}
test_split: test
output_type: generate_until
doc_to_visual: !function utils.doc_to_visual
doc_to_text: !function utils.doc_to_text
doc_to_target: answer_letter
generation_kwargs:
  max_new_tokens: 16
  temperature: 0
  do_sample: false
process_results: !function utils.process_results
lmms_eval_specific_kwargs:
  default:
    # frames_clip: the {frames} frames synth eval shows (eval.frames={frames}) as a lossless 2 fps clip,
    #   decoded whole by video model classes (pass max_num_frames / max_frames_num={frames});
    # frames: the same frames as images; video: the source clip, the model class samples its own frames
    visual: {visual}
    frames: {frames}
metric_list:
  - metric: accuracy
    aggregation: mean
    higher_is_better: true
  - metric: invalid
    aggregation: mean
    higher_is_better: false
metadata:
  version: 1.0
  source: synth
"""


def export_lmms_eval(root: Path, records: list[dict], out: Path, task: str = "", frames: int = 8, visual: str = "frames_clip",
                     overwrite: bool = False) -> Path:  # fmt: skip
    """Write the task directory for ``records`` of the dataset at ``root``; returns the YAML path.

    ``frames``: how many frames per clip to store as synth eval samples them (``eval.frames``);
    ``visual``: what ``doc_to_visual`` hands the model by default, ``frames_clip``, ``frames`` or ``video``;
    ``overwrite``: replace an earlier synth export at ``out`` (the output policy of :mod:`synth.io`).
    """
    if frames < 1:
        raise UserError(f"frames={frames}: must be an integer >= 1 (synth eval's eval.frames)")
    if visual not in VISUALS:
        raise UserError(f"visual={visual}: allowed {', '.join(VISUALS)}")
    task = task or "synth_" + re.sub(r"[^A-Za-z0-9_]+", "_", root.resolve().name)
    with output_folder(out, "export", overwrite) as tmp:
        _write_task(root, records, tmp, out, task, frames, visual)
    return out / f"{task}.yaml"


def _write_task(root: Path, records: list[dict], tmp: Path, out: Path, task: str, frames: int, visual: str) -> None:
    """Fill ``tmp``, the folder that becomes ``out`` (the YAML names the data file there)."""
    clips = tmp / "data" / "clips"
    clips.mkdir(parents=True)
    docs = []
    for record in records:
        source = root / record["video"]
        target = clips / f"{record['id']}{source.suffix}"
        shutil.copyfile(source, target)
        frame_dir = tmp / "data" / "frames" / str(record["id"])
        frames_clip = tmp / "data" / "frames_clips" / f"{record['id']}.mp4"
        frames_clip.parent.mkdir(exist_ok=True)
        indices, frame_paths = save_eval_frames(source, int(record["num_frames"]), frames, frame_dir, frames_clip)
        docs.append(
            {
                "id": str(record["id"]),
                "video": str(target.relative_to(tmp / "data")),
                "frames": [str(path.relative_to(tmp / "data")) for path in frame_paths],
                "frames_clip": str(frames_clip.relative_to(tmp / "data")),
                "frame_indices": indices,
                "prompt": render_prompt(record["question"], record["options"]),
                "question": record["question"],
                "options": list(record["options"]),
                "answer_index": int(record["answer_index"]),
                "answer_letter": parsing.LETTERS[int(record["answer_index"])],
                "task": record["task"],
                "condition": condition_label(record),
                # JSON strings: their keys vary by task, which a columnar loader cannot type.
                "params": json.dumps(record.get("params", {}), sort_keys=True),
                "sweep": json.dumps(record.get("sweep")),
            }
        )
    (tmp / "data" / "test.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (tmp / "synth_parsing.py").write_text(inspect.getsource(parsing))
    (tmp / "utils.py").write_text(UTILS_PY)
    (tmp / f"{task}.yaml").write_text(_yaml_text(task, (out / "data" / "test.jsonl").resolve(), frames, visual))
