"""model=hf on ten tiny random-weight video-LLM architectures built from configs (no download):
the clip's timing reaches each processor, one-frame clips work, load errors are one line,
likelihood scoring and batching, and `synth eval` + `synth probe` end to end on every one."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("transformers")
pytest.importorskip("torchvision")

from synth.cli import main  # noqa: E402
from synth.models.configs import HFModelConfig  # noqa: E402
from synth.models.frames import SampledClip  # noqa: E402
from synth.models.prompts import build_asks  # noqa: E402
from synth.models.registry import build_model  # noqa: E402
from synth.probe.tiny import ARCHITECTURES, build_tiny  # noqa: E402
from support.paired_squares import FPS, FRAMES, OPTIONS, SIZE, square_frames, write_direction_dataset  # noqa: E402

@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """arch -> directory of its tiny model, built once per test module."""
    base = tmp_path_factory.mktemp("tiny")
    built = {}

    def get(arch: str) -> Path:
        if arch not in built:
            built[arch] = build_tiny(arch, base / arch)
        return built[arch]

    return get


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_direction_dataset(tmp_path_factory.mktemp("ds") / "ds", 4)


def _processed(model_dir: Path, root: Path, record: dict, frames: int = 4):
    hf = build_model(HFModelConfig(path=str(model_dir)))
    clip = SampledClip(root / record["video"], frames)
    video = hf.video(clip, record)
    inputs = hf.inputs([hf.prompt(build_asks(record, "mcq", False)[0])], [video])
    text = "".join(hf.processor.batch_decode(inputs["input_ids"])[0].split())  # the tiny tokenizer spaces words
    return hf, video, inputs, text


# What each processor does with the clip's timing (sampled frames 4, 12, 20, 28 of 32 at 8 fps).
TIMING = {
    # temporal positions: 2 frames per temporal patch / (4 frames per 32 at 8 fps = 1 frame/s) = 2 s
    "qwen2_5_vl": lambda inputs, text: inputs["second_per_grid_ts"].tolist() == [2.0],
    # one timestamp per temporal patch: the mean of its two frames' times
    "qwen3_vl": lambda inputs, text: "<1.0seconds>" in text and "<3.0seconds>" in text,
    "glm46v": lambda inputs, text: "0.5seconds" in text and "2.5seconds" in text,
    "glm4v": lambda inputs, text: "<|end_of_image|>0" in text and "<|end_of_image|>2<" in text,
    # every frame's mm:ss, and the clip's 4 s duration
    "smolvlm": lambda inputs, text: all(f"00:0{s}" in text for s in range(4)) and "0:00:04" in text,
}


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_processor_gets_the_clip_timing(arch, tiny, dataset):
    root, records = dataset
    _, (frames, meta), inputs, text = _processed(tiny(arch), root, records[0])
    assert meta["fps"] == FPS and meta["total_num_frames"] == FRAMES and meta["frames_indices"] == [4, 12, 20, 28]
    assert len(frames) == 4
    if arch in TIMING:
        assert TIMING[arch](inputs, text), text
    else:  # these processors encode no time: the four sampled frames reach the model unsampled again
        shape = (inputs.get("pixel_values_videos") if "pixel_values_videos" in inputs else inputs["pixel_values"]).shape
        grid = inputs.get("video_grid_thw")
        assert (grid is not None and grid[0, 0] == 2) or 4 in shape[:2]


@pytest.mark.parametrize("arch", ["qwen3_vl", "glm4v", "glm46v", "qwen2_5_vl"])
def test_one_frame_fills_the_temporal_patch(arch, tiny, dataset):
    root, records = dataset
    hf, (frames, meta), inputs, _ = _processed(tiny(arch), root, records[0], frames=1)
    assert len(frames) == 2 and (frames[0] == frames[1]).all() and meta["frames_indices"] == [16, 16]
    assert inputs["video_grid_thw"][0, 0] == 1
    assert isinstance(hf.generate(inputs)[0], str)


def test_load_errors_are_one_line(tmp_path, tiny, monkeypatch, capsys, dataset):
    root, _ = dataset
    assert main(["eval", f"data={root}", "model=hf", f"model.path={tmp_path / 'missing'}"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    # SmolVLM's processor without the num2words package: an ImportError, not an OSError
    import transformers.models.smolvlm.processing_smolvlm as smol

    smolvlm = tiny("smolvlm")
    capsys.readouterr()
    monkeypatch.setattr(smol, "num2words", None)
    assert main(["eval", f"data={root}", "model=hf", f"model.path={smolvlm}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("synth: error: model.path=") and "num2words" in err and err.count("\n") == 1
    for bad in ("model.dtype=float8", "model.batch_size=0", "model.device_map=balanced", "eval.scoring=best"):
        assert main(["eval", f"data={root}", "model=hf", f"model.path={tiny('qwen2_vl')}", bad]) == 2
        assert bad.split("=")[0] in capsys.readouterr().err
    if importlib.util.find_spec("accelerate") is None:  # device_map=auto names what it needs
        assert main(["eval", f"data={root}", "model=hf", f"model.path={tiny('qwen2_vl')}", "model.device_map=auto"]) == 2
        assert "accelerate" in capsys.readouterr().err


def test_likelihood_scores_each_option_and_padding_changes_nothing(tiny, dataset):
    root, records = dataset
    record = records[1]
    ask = build_asks(record, "mcq", False)[0]
    one = build_model(HFModelConfig(path=str(tiny("qwen2_5_vl"))))
    four = build_model(HFModelConfig(path=str(tiny("qwen2_5_vl")), batch_size=4))
    clip = SampledClip(root / record["video"], 4)
    alone, batched = one.option_logprobs(ask, clip, record), four.option_logprobs(ask, clip, record)
    assert len(alone) == 4 and all(v < 0 for v in alone)
    np.testing.assert_allclose(alone, batched, atol=1e-4)
    # the letter's log-probability, straight from the logits of the prompt
    import torch

    inputs = one.inputs([one.prompt(ask)], [one.video(clip, record)])
    with torch.inference_mode():
        logp = torch.log_softmax(one.model(**inputs).logits[0, -1].float(), -1)
    letter_ids = [one.processor.tokenizer.convert_tokens_to_ids(letter) for letter in "ABCD"]
    np.testing.assert_allclose(alone, logp[letter_ids].tolist(), atol=1e-4)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_eval_and_probe_end_to_end(arch, tiny, tmp_path):
    root, _ = write_direction_dataset(tmp_path / "ds", 4)
    model = [f"model.path={tiny(arch)}", "model.max_new_tokens=2"]
    assert main(["eval", f"data={root}", "model=hf", *model, "eval.frames=4", "model.batch_size=2"]) == 0
    lines = [json.loads(t) for t in (root / "evals" / arch / "predictions.jsonl").read_text().splitlines()]
    assert len(lines) == 4 and all(isinstance(line["response"], str) for line in lines)
    assert main(["probe", f"data={root}", *model, "eval.frames=4", "probe.folds=2",
                 "probe.stages=[vision,projector,llm.1]"]) == 0  # fmt: skip
    doc = json.loads((root / "evals" / arch / "probe" / "probe.json").read_text())
    assert [s["name"] for s in doc["stages"]] == ["vision", "projector", "llm.1", "llm.1.visual"]
    assert doc["n"] == 4 and doc["metric"] == "accuracy" and all(s["dims"] > 0 for s in doc["stages"])
    assert (root / "evals" / arch / "probe" / "probe.png").stat().st_size > 0


def test_batched_generation_answers_as_one_at_a_time(tiny, dataset, monkeypatch):
    from synth.models.hf import HFModel

    root, _ = dataset
    sizes, generate = [], HFModel.generate

    def counting(self, inputs):
        sizes.append(int(inputs["input_ids"].shape[0]))
        return generate(self, inputs)

    monkeypatch.setattr(HFModel, "generate", counting)
    responses = {}
    for batch in (1, 4):
        args = ["eval", f"data={root}", "model=hf", f"model.path={tiny('qwen2_vl')}", "eval.frames=4",
                "model.max_new_tokens=3", f"model.batch_size={batch}", f"model.label=b{batch}"]  # fmt: skip
        assert main(args) == 0
        lines = (root / "evals" / f"b{batch}" / "predictions.jsonl").read_text().splitlines()
        responses[batch] = {json.loads(t)["id"]: json.loads(t)["response"] for t in lines}
    assert sizes[:4] == [1, 1, 1, 1] and max(sizes[4:]) > 1  # the second run did batch
    assert responses[1] == responses[4]
