"""Export a synth dataset as an lmms-eval task directory.

Layout written under ``out``::

    <task>.yaml          task config (dataset_path: json, test split = data/test.jsonl)
    utils.py             doc_to_visual / doc_to_text / process_results
    synth_parsing.py     a copy of synth.eval.parsing, so lmms-eval scores answers exactly as synth does
    data/test.jsonl      one doc per sample (prompt rendered by synth, options, answer index, metadata)
    data/clips/*.mp4     the clips

The task directory needs no synth install. ``data_files`` in the YAML is an absolute path
(lmms-eval hands it to ``datasets.load_dataset``), so export again after moving the directory.
"""

from __future__ import annotations

import inspect
import json
import re
import shutil
from pathlib import Path

from synth.eval import parsing
from synth.eval.metrics import condition_label
from synth.eval.prompts import render_prompt

UTILS_PY = '''"""lmms-eval hooks for a task exported by `synth export lmms-eval`."""

import importlib.util
import os

_HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("synth_parsing", os.path.join(_HERE, "synth_parsing.py"))
synth_parsing = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(synth_parsing)


def doc_to_visual(doc, lmms_eval_specific_kwargs=None):
    return [os.path.join(_HERE, "data", doc["video"])]


def doc_to_text(doc, lmms_eval_specific_kwargs=None):
    return doc["prompt"]


def process_results(doc, results):
    parsed = synth_parsing.parse_answer(results[0], doc["options"])
    return {"accuracy": float(parsed == doc["answer_index"]), "invalid": float(parsed is None)}
'''


def _yaml_text(task: str, data_file: Path) -> str:
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


def export_lmms_eval(root: Path, records: list[dict], out: Path, task: str = "") -> Path:
    """Write the task directory for ``records`` of the dataset at ``root``; returns the YAML path."""
    task = task or "synth_" + re.sub(r"[^A-Za-z0-9_]+", "_", root.resolve().name)
    if out.exists():
        shutil.rmtree(out)
    clips = out / "data" / "clips"
    clips.mkdir(parents=True)
    docs = []
    for record in records:
        source = root / record["video"]
        target = clips / f"{record['id']}{source.suffix}"
        shutil.copyfile(source, target)
        docs.append(
            {
                "id": str(record["id"]),
                "video": str(target.relative_to(out / "data")),
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
    data_file = (out / "data" / "test.jsonl").resolve()
    data_file.write_text("".join(json.dumps(d) + "\n" for d in docs))
    (out / "synth_parsing.py").write_text(inspect.getsource(parsing))
    (out / "utils.py").write_text(UTILS_PY)
    yaml_path = out / f"{task}.yaml"
    yaml_path.write_text(_yaml_text(task, data_file))
    return yaml_path
