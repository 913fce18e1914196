"""`synth export lmms-eval` checked by lmms-eval's own task loader, and by lmms-eval's own CLI
against `synth eval model=hf` on a tiny local Qwen2-VL: the same frames, the same answers.

lmms-eval's full dependency list breaks Hydra (it pins an older antlr4 runtime), so `make test`
installs lmms-eval and what its task loader imports into .venv/lmms-eval (see
tests/lmms-eval-requirements.txt) and the loader runs in a subprocess with that directory on its
path. Outside `make test`, point SYNTH_LMMS_EVAL_PATH at such a directory. The CLI test also needs
the CLI's own packages there (docs/evaluation.md, "lmms-eval": filelock<4, aiohttp,
pytablewriter, qwen-vl-utils, decord) and is skipped without them.
"""

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from support.square_clips import make_dataset

from PIL import Image

from synth.cli import main
from synth.dataset import read_manifest
from synth.models.frames import SampledClip
from synth.probe.tiny import build_tiny
from synth.video import read_clip

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
    assert result["visual"] == [str(out / "data" / "frames_clips" / "s000.mp4")]
    assert result["kwargs"]["default"] == {"visual": "frames_clip", "frames": 8}  # synth eval's default frame count
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


def test_the_frames_clip_is_synth_s_frames_bit_for_bit(tmp_path):
    root = make_dataset(tmp_path / "ds", n=2)
    out = tmp_path / "task"
    assert main(["export", "lmms-eval", f"data={root}", f"out={out}", "frames=5"]) == 0
    frames, fps = read_clip(out / "data" / "frames_clips" / "s001.mp4")
    assert fps == 2.0 and np.array_equal(frames, SampledClip(root / "clips" / "s001.mp4", 5).frames)


CLI_PACKAGES = ("qwen_vl_utils", "decord", "pytablewriter", "aiohttp")
# What lmms-eval's qwen2_vl class hands the processor for a doc: qwen-vl-utils reads the video
# (at 2 fps), then the class keeps max_num_frames of it (np.linspace, unique indices).
SEEN = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from qwen_vl_utils import process_vision_info
    from lmms_eval.tasks import TaskManager, get_task_dict
    manager = TaskManager(include_path=sys.argv[1], include_defaults=False)
    task = get_task_dict([sys.argv[2]], manager)[sys.argv[2]]
    seen = {}
    for doc in task.test_docs():
        (path,) = task.doc_to_visual(doc)
        message = [{"role": "user", "content": [{"type": "video", "video": path, "max_pixels": 602112, "min_pixels": 3136}]}]
        _, (video,) = process_vision_info([message])
        keep = np.unique(np.linspace(0, len(video) - 1, int(sys.argv[3]), dtype=int))
        seen[doc["id"]] = video[keep].permute(0, 2, 3, 1).round().to(dtype=__import__("torch").uint8).numpy().tolist()
    print(json.dumps(seen))
    """
)


@pytest.mark.skipif(not all((LMMS_PATH / name).is_dir() for name in CLI_PACKAGES),
                    reason=f"lmms-eval's CLI packages ({', '.join(CLI_PACKAGES)}) are not in {LMMS_PATH}")  # fmt: skip
def test_lmms_eval_cli_and_synth_eval_agree_per_sample(tmp_path):
    """lmms-eval's CLI (qwen2_vl class) on the exported task answers each sample as `synth eval
    model=hf` does on the same tiny Qwen2-VL: it is shown the same frames, bit for bit (56x56
    frames need no resize on either side, Qwen-VL works on 28-pixel blocks)."""
    model = build_tiny("qwen2_vl", tmp_path / "tiny")
    root = tmp_path / "ds"
    assert main(["generate", "task=direction", "n=4", "render.width=56", "render.height=56", "clip.fps=8",
                 "clip.seconds=2", "progress=false", f"out={root}"]) == 0  # fmt: skip
    assert main(["eval", f"data={root}", "model=hf", f"model.path={model}", "model.device=cpu"]) == 0
    ours = {p["id"]: p["response"] for p in map(json.loads, (root / "evals" / "tiny" / "predictions.jsonl").open())}
    task = tmp_path / "task"
    assert main(["export", "lmms-eval", f"data={root}", f"out={task}", "task=synth_par"]) == 0
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "PYTHONPATH": str(LMMS_PATH)}
    seen = subprocess.run([sys.executable, "-c", SEEN, str(task), "synth_par", "8"], capture_output=True, text=True,
                          env=env, timeout=300)  # fmt: skip
    assert seen.returncode == 0, seen.stderr[-2000:]
    for record_id, frames in json.loads(seen.stdout.strip().splitlines()[-1]).items():
        assert np.array_equal(np.array(frames, np.uint8), SampledClip(root / "clips" / f"{record_id}.mp4", 8).frames)
    cli = [sys.executable, "-m", "lmms_eval", "--model", "qwen2_vl", "--model_args",
           f"pretrained={model},device=cpu,device_map=cpu,max_num_frames=8", "--include_path", str(task),
           "--tasks", "synth_par", "--batch_size", "1", "--log_samples", "--output_path", str(tmp_path / "lmms"),
           "--verbosity", "DEBUG"]  # fmt: skip
    proc = subprocess.run(cli, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (samples,) = (tmp_path / "lmms").rglob("*_samples_synth_par.jsonl")
    docs = [json.loads(line) for line in (task / "data" / "test.jsonl").read_text().splitlines()]
    theirs = {docs[int(s["doc_id"])]["id"]: s["filtered_resps"] for s in map(json.loads, samples.open())}
    assert theirs == ours and len(ours) == len(read_manifest(root)) == 4
