"""`synth export vlmevalkit`: the TSV and the dataset class VLMEvalKit's development guide asks for.

VLMEvalKit is not on PyPI and its requirements pin an antlr4 runtime that breaks Hydra, so it is
not installed here: the exported class runs (in a subprocess) on a stand-in for the two things
it imports, `vlmeval.dataset.video_base.VideoBaseDataset` (the constructor's documented contract:
prepare_dataset gives root and data_file, the TSV is read with pandas, `question` and `video`
columns required) and `vlmeval.smp` load/dump. Point SYNTH_VLMEVALKIT_PATH at a VLMEvalKit
checkout whose dependencies are installed to run it on the real base class instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from support.square_clips import make_dataset

from synth.cli import main
from synth.dataset import read_manifest
from synth.models.frames import SampledClip

STAND_IN = {
    "vlmeval/__init__.py": "",
    "vlmeval/dataset/__init__.py": "",
    "vlmeval/smp.py": '''
        import pandas as pd

        def load(path):
            return pd.read_csv(path, sep="\\t" if str(path).endswith(".tsv") else ",")

        def dump(frame, path):
            frame.to_csv(path, index=False)
        ''',
    "vlmeval/dataset/video_base.py": '''
        import numpy as np
        from vlmeval.smp import load

        class VideoBaseDataset:
            MODALITY = "VIDEO"

            def __init__(self, dataset="MMBench-Video", pack=False, nframe=0, fps=-1):
                self.dataset_name = dataset
                ret = self.prepare_dataset(dataset)
                assert ret is not None
                self.data_root, self.data_file = ret["root"], ret["data_file"]
                self.data = load(self.data_file)
                if "index" not in self.data:
                    self.data["index"] = np.arange(len(self.data))
                assert "question" in self.data and "video" in self.data
                self.videos = sorted(set(self.data["video"]))
                self.pack, self.nframe, self.fps = pack, nframe, fps

            def __len__(self):
                return len(self.data)
        ''',
}

RUN = textwrap.dedent(
    """
    import importlib.util, json, sys
    import pandas as pd
    config = json.load(open(sys.argv[1] + "/config.json"))
    (name, entry), = config["data"].items()
    spec = importlib.util.spec_from_file_location("synth_dataset", sys.argv[1] + "/synth_dataset.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cls = getattr(module, entry.pop("class"))
    dataset = cls(**entry)
    prompts = [dataset.build_prompt(i, video_llm=True) for i in range(len(dataset))]
    # A model that always answers B, as VLMEvalKit's inference writes it (one row per sample + prediction).
    data = dataset.data.copy()
    data["prediction"] = "The answer is B."
    data.to_csv(sys.argv[2], sep="\\t", index=False)
    result = dataset.evaluate(sys.argv[2])
    print(json.dumps({"name": name, "prompts": prompts, "result": result.to_dict("records")}))
    """
)


def vlmeval_path(tmp_path: Path) -> Path:
    if os.environ.get("SYNTH_VLMEVALKIT_PATH"):
        return Path(os.environ["SYNTH_VLMEVALKIT_PATH"])
    for name, text in STAND_IN.items():
        (tmp_path / "stand_in" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "stand_in" / name).write_text(textwrap.dedent(text))
    return tmp_path / "stand_in"


def test_vlmevalkit_export_shows_synth_s_frames_and_scores_like_synth(tmp_path):
    root = make_dataset(tmp_path / "ds", n=4)
    out = tmp_path / "vlm"
    assert main(["export", "vlmevalkit", f"data={root}", f"out={out}", "frames=6"]) == 0
    records = read_manifest(root)
    table = pd.read_csv(out / "synth_ds.tsv", sep="\t")  # as VLMEvalKit's load() reads a .tsv
    assert list(table["index"]) == list(range(4)) and list(table["id"]) == [r["id"] for r in records]
    assert [json.loads(c) for c in table["candidates"]] == [r["options"] for r in records]
    assert list(table["answer"]) == ["ABCD"[r["answer_index"]] for r in records]
    assert json.loads((out / "config.json").read_text()) == {
        "data": {"synth_ds": {"class": "SynthVideoMCQ", "dataset": "synth_ds", "nframe": 6}}
    }
    env = {**os.environ, "PYTHONPATH": str(vlmeval_path(tmp_path))}
    proc = subprocess.run([sys.executable, "-c", RUN, str(out), str(tmp_path / "pred.tsv")], capture_output=True,
                          text=True, env=env, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    for record, prompt in zip(records, result["prompts"]):
        *images, text = prompt
        assert text == {"type": "text", "value": table.loc[table["id"] == record["id"], "prompt"].item()}
        shown = np.stack([np.asarray(Image.open(m["value"]).convert("RGB")) for m in images])
        assert [m["type"] for m in images] == ["image"] * 6
        assert np.array_equal(shown, SampledClip(root / record["video"], 6).frames)  # synth eval's frames
    overall = result["result"][0]
    expected = np.mean([r["answer_index"] == 1 for r in records])
    assert overall["category"] == "overall" and overall["n"] == 4 and overall["accuracy"] == expected
    assert overall["invalid"] == 0.0


def test_a_frame_count_other_than_the_export_s_is_refused(tmp_path):
    root = make_dataset(tmp_path / "ds", n=1)
    out = tmp_path / "vlm"
    assert main(["export", "vlmevalkit", f"data={root}", f"out={out}"]) == 0
    code = ("import importlib.util, sys; spec = importlib.util.spec_from_file_location('d', sys.argv[1]); "
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); m.SynthVideoMCQ(nframe=16)")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(vlmeval_path(tmp_path))}
    proc = subprocess.run([sys.executable, "-c", code, str(out / "synth_dataset.py")], capture_output=True, text=True,
                          env=env, timeout=300)  # fmt: skip
    assert proc.returncode != 0 and "use nframe=8" in proc.stderr
