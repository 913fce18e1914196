"""Export a synth dataset as a VLMEvalKit video benchmark: the TSV VLMEvalKit reads, the frames
``synth eval`` shows, and the dataset class VLMEvalKit's development guide asks for.

Layout written under ``out``::

    <name>.tsv            one row per sample (VLMEvalKit reads it with pandas, tab-separated):
                          index, id, video (clip name without .mp4), question, prompt (rendered
                          by synth: question, lettered options, instruction), candidates (JSON
                          list of option texts), answer (the letter), answer_index, task,
                          category (the sample's condition), frames (JSON list, relative to out)
    clips/<id>.mp4        the clips
    frames/<id>/*.png     the ``frames`` frames ``synth eval eval.frames=frames`` shows
    synth_dataset.py      ``SynthVideoMCQ(VideoBaseDataset)``: prepare_dataset, build_prompt (synth's
                          frames as images, then the prompt), evaluate (synth's answer parser)
    synth_parsing.py      a copy of :mod:`synth.models.parsing`, so scores match ``synth eval``
    config.json           the ``--config`` entry for VLMEvalKit's run.py (class, dataset, nframe)

VLMEvalKit finds dataset classes in ``vlmeval.dataset``: copy ``synth_dataset.py`` there and
import it in ``vlmeval/dataset/__init__.py`` (docs/evaluation.md, "VLMEvalKit"). The class
reads its data from the absolute path of ``out`` written into it (``root=`` in the config
overrides it), so export again after moving the folder.

Frames: VLMEvalKit's ``VideoBaseDataset.save_video_frames`` samples ``nframe`` frames with
decord at ``int(i * len / (nframe + 1))``, i = 1..nframe; the class overrides it to return
synth's frames (segment centres, :func:`synth.models.frames.sample_indices`), so a model sees
what ``synth eval`` shows it, for image and video models alike.
"""

from __future__ import annotations

import csv
import inspect
import io
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

CLASS_NAME = "SynthVideoMCQ"
COLUMNS = ("index", "id", "video", "question", "prompt", "candidates", "answer", "answer_index", "task",
           "category", "frames")  # fmt: skip

DATASET_PY = '''"""VLMEvalKit dataset class for a synth export (`synth export vlmevalkit`).

Copy this file into vlmeval/dataset/ and add to vlmeval/dataset/__init__.py (run.py's --config
looks a dataset class up there by name):
    from .synth_dataset import SynthVideoMCQ  # noqa: F401
"""

import importlib.util
import json
import os.path as osp

import pandas as pd

from vlmeval.dataset.video_base import VideoBaseDataset
from vlmeval.smp import dump, load

ROOT = __ROOT__  # the export folder (root= in the dataset config overrides it)
NAME = __NAME__
FRAMES = __FRAMES__


def _parser(root):
    spec = importlib.util.spec_from_file_location("synth_parsing", osp.join(root, "synth_parsing.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class SynthVideoMCQ(VideoBaseDataset):
    """A synth dataset: multiple-choice questions on synth's sampled frames, scored by synth's parser."""

    TYPE = "Video-MCQ"
    MODALITY = "VIDEO"

    def __init__(self, dataset=NAME, nframe=FRAMES, fps=-1, root=ROOT):
        if fps > 0 or nframe != FRAMES:
            raise ValueError(f"{NAME} holds the {FRAMES} frames synth eval shows: use nframe={FRAMES}, "
                             f"or export again with synth export vlmevalkit frames=N")
        self.root = root
        super().__init__(dataset=dataset, nframe=nframe, fps=fps)

    @classmethod
    def supported_datasets(cls):
        return [NAME]

    def prepare_dataset(self, dataset):
        return dict(root=osp.join(self.root, "clips"), data_file=osp.join(self.root, f"{NAME}.tsv"))

    def save_video_frames(self, video):
        """synth's frames for clip ``video`` (the base class would sample its own with decord)."""
        row = self.data[self.data["video"] == video].iloc[0]
        return [osp.join(self.root, path) for path in json.loads(row["frames"])]

    def build_prompt(self, line, video_llm=False):
        if isinstance(line, int):
            line = self.data.iloc[line]
        frames = self.save_video_frames(line["video"])
        return [dict(type="image", value=path) for path in frames] + [dict(type="text", value=line["prompt"])]

    def evaluate(self, eval_file, **judge_kwargs):
        """Accuracy and invalid rate, overall and per category, parsed as synth eval parses."""
        parse_answer = _parser(self.root).parse_answer
        data = load(eval_file)
        parsed = [parse_answer(str(p), json.loads(c)) for p, c in zip(data["prediction"], data["candidates"])]
        data["correct"] = [float(p == int(a)) for p, a in zip(parsed, data["answer_index"])]
        data["invalid"] = [float(p is None) for p in parsed]
        rows = [dict(category="overall", n=len(data), accuracy=data["correct"].mean(), invalid=data["invalid"].mean())]
        for category, part in data.groupby("category"):
            rows.append(dict(category=category, n=len(part), accuracy=part["correct"].mean(),
                             invalid=part["invalid"].mean()))
        result = pd.DataFrame(rows)
        dump(result, osp.splitext(eval_file)[0] + "_acc.csv")
        return result
'''


def export_vlmevalkit(root: Path, records: list[dict], out: Path, frames: int = 8, overwrite: bool = False) -> Path:
    """Write the VLMEvalKit benchmark folder for ``records`` of the dataset at ``root`` (see the
    module docstring); ``frames``: frames per clip as ``synth eval eval.frames`` samples them.
    Returns the TSV path."""
    if frames < 1:
        raise UserError(f"frames={frames}: must be an integer >= 1 (synth eval's eval.frames)")
    name = "synth_" + re.sub(r"[^A-Za-z0-9_]+", "_", root.resolve().name)
    with output_folder(out, "export", overwrite) as tmp:
        rows = []
        (tmp / "clips").mkdir()
        for index, record in enumerate(records):
            source = root / record["video"]
            shutil.copyfile(source, tmp / "clips" / f"{record['id']}{source.suffix}")
            _, paths = save_eval_frames(source, int(record["num_frames"]), frames, tmp / "frames" / str(record["id"]))
            rows.append(
                {
                    "index": index,
                    "id": str(record["id"]),
                    "video": str(record["id"]),
                    "question": record["question"],
                    "prompt": render_prompt(record["question"], record["options"]),
                    "candidates": json.dumps(list(record["options"])),
                    "answer": parsing.LETTERS[int(record["answer_index"])],
                    "answer_index": int(record["answer_index"]),
                    "task": record["task"],
                    "category": condition_label(record),
                    "frames": json.dumps([str(p.relative_to(tmp)) for p in paths]),
                }
            )
        table = io.StringIO()
        writer = csv.DictWriter(table, COLUMNS, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        (tmp / f"{name}.tsv").write_text(table.getvalue())
        (tmp / "synth_parsing.py").write_text(inspect.getsource(parsing))
        dataset_py = DATASET_PY.replace("__ROOT__", json.dumps(str(out.resolve()))).replace("__NAME__", json.dumps(name))
        (tmp / "synth_dataset.py").write_text(dataset_py.replace("__FRAMES__", str(frames)))
        config = {"data": {name: {"class": CLASS_NAME, "dataset": name, "nframe": frames}}}
        (tmp / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return out / f"{name}.tsv"
