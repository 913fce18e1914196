"""`synth export lmms-eval` checked by lmms-eval's own task loader.

lmms-eval's full dependency list breaks Hydra (it pins an older antlr4 runtime), so `make test`
installs lmms-eval and what its task loader imports into .venv/lmms-eval (see
tests/lmms-eval-requirements.txt) and the loader runs in a subprocess with that directory on its
path. Outside `make test`, point SYNTH_LMMS_EVAL_PATH at such a directory.
"""

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.square_clips import make_dataset

from PIL import Image

from synth.cli import main
from synth.models.frames import SampledClip

LMMS_PATH = Path(os.environ.get("SYNTH_LMMS_EVAL_PATH", Path(__file__).parents[2] / ".venv" / "lmms-eval"))
pytestmark = pytest.mark.skipif(
    not (LMMS_PATH / "lmms_eval").is_dir(),
    reason=f"lmms-eval is not installed in {LMMS_PATH} (`make test` installs it there)",
)

PROBE = textwrap.dedent(
    """
    import hashlib, json, sys
    from lmms_eval.tasks import TaskManager, get_task_dict
    manager = TaskManager(include_path=sys.argv[1], include_defaults=False)
    task = get_task_dict(["synth_probe"], manager)["synth_probe"]
    docs = list(task.test_docs())
    doc = docs[0]
    print(json.dumps({
        "tasks": manager.all_tasks, "n": len(docs), "text": task.doc_to_text(doc),
        "visual": [v if isinstance(v, str) else hashlib.md5(v.tobytes()).hexdigest() for v in task.doc_to_visual(doc)],
        "kwargs": task.lmms_eval_specific_kwargs, "target": task.doc_to_target(doc),
        "right": task.process_results(doc, ["The answer is " + "ABCD"[doc["answer_index"]]]),
        "wrong": task.process_results(doc, ["Z"]),
        "mean": task.aggregation()["accuracy"]([1.0, 0.0, 0.0, 1.0]),
    }))
    """
)


def probe(out: Path, tmp_path: Path) -> dict:
    """What lmms-eval's own loader makes of the task directory ``out`` (in a subprocess)."""
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"),
           "HF_DATASETS_CACHE": str(tmp_path / "hf"), "PYTHONPATH": str(LMMS_PATH)}  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", PROBE, str(out)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_lmms_eval_task_loader_accepts_the_export(tmp_path):
    root = make_dataset(tmp_path / "ds", n=5)
    out = tmp_path / "task"
    assert main(["export", "lmms-eval", f"data={root}", f"out={out}", "task=synth_probe"]) == 0
    result = probe(out, tmp_path)
    first = json.loads((root / "manifest.jsonl").read_text().splitlines()[0])
    assert result["tasks"] == ["synth_probe"] and result["n"] == 5
    assert result["text"].startswith(first["question"]) and result["text"].endswith("Answer with the option letter only.")
    assert result["visual"] == [str(out / "data" / "clips" / "s000.mp4")]
    assert result["kwargs"]["default"] == {"visual": "video", "frames": 8}  # synth eval's default frame count
    assert result["target"] == "ABCD"[first["answer_index"]]
    assert result["right"]["accuracy"] == 1.0 and result["wrong"] == {"accuracy": 0.0, "invalid": 1.0}
    assert result["mean"] == 0.5


def test_export_hands_lmms_eval_synth_s_own_frames(tmp_path):
    """visual=frames: lmms-eval's doc_to_visual yields exactly the frames `synth eval eval.frames=5` shows."""
    root = make_dataset(tmp_path / "ds", n=2)
    out = tmp_path / "task"
    assert main(["export", "lmms-eval", f"data={root}", f"out={out}", "task=synth_probe", "frames=5", "visual=frames"]) == 0
    result = probe(out, tmp_path)
    assert result["kwargs"]["default"] == {"visual": "frames", "frames": 5}
    clip = SampledClip(root / "clips" / "s000.mp4", 5)
    expected = [hashlib.md5(Image.fromarray(f).convert("RGB").tobytes()).hexdigest() for f in clip.frames]
    assert len(clip.indices) == 5 and result["visual"] == expected
