"""Tests that prove the probe instrument: a planted signal is read where it is and nowhere else,
group identity does not leak across GroupKFold folds, and an interrupted run resumes to the
same probe.json."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

pytest.importorskip("transformers")
pytest.importorskip("torchvision")

from support.paired_squares import write_direction_dataset  # noqa: E402

from synth.cli import main  # noqa: E402
from synth.models.configs import HFModelConfig  # noqa: E402
from synth.models.registry import build_model  # noqa: E402
from synth.probe.probes import out_of_fold, probe_stage  # noqa: E402
from synth.probe.run import ProbeSettings, run_probe  # noqa: E402
from synth.probe.tiny import build_tiny  # noqa: E402


def _planted_model(model_dir):
    """Tiny LLaVA-OneVision whose vision tower outputs each 14-px patch's frame-to-frame change of
    (brightness, brightness-weighted x, brightness-weighted y), embedded by a fixed matrix: the
    motion direction is linear in it. Its projector outputs a constant: the signal stops there."""
    import torch
    from transformers.modeling_outputs import BaseModelOutputWithPooling

    hf = build_model(HFModelConfig(path=str(model_dir), max_new_tokens=1))
    inner = hf.model.model
    width = inner.config.vision_config.hidden_size
    text_width = inner.config.text_config.hidden_size

    class FrameDifferences(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Parameter(torch.randn(3, width, generator=torch.Generator().manual_seed(0)))
            self.dtype, self.device = torch.float32, torch.device("cpu")

        def forward(self, pixel_values, **kwargs):
            w = pixel_values.mean(1) + 1  # (frames, H, W) brightness >= 0
            frames, h, wd = w.shape
            ys, xs = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, wd), indexing="ij")
            moments = torch.stack([w, w * xs, w * ys], dim=-1)  # (frames, H, W, 3)
            patches = moments.reshape(frames, 2, h // 2, 2, wd // 2, 3).mean(dim=(2, 4)).reshape(frames, 4, 3)
            change = torch.cat([torch.zeros_like(patches[:1]), patches[1:] - patches[:-1]])
            tokens = change @ self.embed
            return BaseModelOutputWithPooling(last_hidden_state=tokens, hidden_states=(tokens,))

    class Constant(torch.nn.Module):
        def forward(self, x):
            return torch.ones(*x.shape[:-1], text_width)

    inner.vision_tower = FrameDifferences()
    inner.multi_modal_projector = Constant()
    return hf


def test_planted_signal_is_read_at_its_stage_and_nowhere_after(tmp_path):
    root, records = write_direction_dataset(tmp_path / "ds", 32, jitter=True)
    hf = _planted_model(build_tiny("llava_onevision", tmp_path / "planted"))
    settings = ProbeSettings(stages=["vision", "projector", "llm.1"], folds=4, frames=4)
    doc = run_probe(root, records, hf, settings, log=lambda m: None)
    scores = {s["name"]: s for s in doc["stages"]}
    assert doc["chance"] == 0.25 and doc["metric"] == "accuracy"
    assert scores["vision"]["score"] >= 0.95  # linear in the frame differences
    for name in ("projector", "llm.1", "llm.1.visual"):  # a constant carries nothing
        assert scores[name]["score"] <= doc["chance"] + 0.15, (name, scores[name])
    for s in doc["stages"]:  # permuted labels: chance everywhere
        assert s["control"] <= doc["chance"] + 0.2, s
    assert doc["binding_gap"] == pytest.approx(max(scores[n]["score"] for n in scores if n != "vision") - doc["verbal_accuracy"])


def test_group_identity_does_not_leak_under_group_folds():
    """A paired sweep: two siblings per group share the label; the features encode only the group."""
    from sklearn.model_selection import KFold

    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(40), 2)
    labels = rng.integers(4, size=40)[groups]
    x = rng.normal(size=(40, 512))[groups] + 0.01 * rng.normal(size=(80, 512))
    grouped = probe_stage(x, [str(v) for v in labels], list(groups), folds=5)
    assert grouped["score"] <= 0.4  # chance is 0.25 (ci95 of 80 samples reaches about +-0.1)
    leaky = out_of_fold(x, labels, groups.astype(str), False, 5, splits=KFold(5, shuffle=True, random_state=0).split(x))
    # a sibling in the training folds gives the answer away (both siblings land in one test fold
    # about a fifth of the time, and then it cannot)
    assert (leaky == labels).mean() >= 0.6


def test_interrupted_probe_resumes_to_the_same_result(tmp_path, monkeypatch):
    from synth.models.hf import HFModel

    model_dir = build_tiny("qwen2_vl", tmp_path / "tiny-qwen2_vl")
    clean, _ = write_direction_dataset(tmp_path / "clean", 8)
    resumed = tmp_path / "resumed"
    shutil.copytree(clean, resumed)
    args = [f"model.path={model_dir}", "model.max_new_tokens=1", "eval.frames=4", "probe.folds=2",
            "probe.stages=[vision,projector,llm.0]", "probe.modules=[visual.blocks.0]"]  # fmt: skip
    assert main(["probe", f"data={clean}", *args]) == 0

    generate, calls = HFModel.generate, []

    def interrupted(self, inputs):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return generate(self, inputs)

    monkeypatch.setattr(HFModel, "generate", interrupted)
    assert main(["probe", f"data={resumed}", *args]) == 2
    index = resumed / "evals" / "tiny-qwen2_vl" / "probe" / "features" / "samples.jsonl"
    assert len(index.read_text().splitlines()) == 3 and not (resumed / "evals/tiny-qwen2_vl/probe/probe.json").exists()
    monkeypatch.setattr(HFModel, "generate", generate)
    assert main(["probe", f"data={resumed}", *args]) == 0
    expected = json.loads((clean / "evals/tiny-qwen2_vl/probe/probe.json").read_text())
    assert json.loads((resumed / "evals/tiny-qwen2_vl/probe/probe.json").read_text()) == expected
    assert [s["name"] for s in expected["stages"]] == ["vision", "projector", "llm.0", "llm.0.visual", "module:visual.blocks.0"]


def test_probe_bad_input_is_one_line(tmp_path, capsys):
    root, _ = write_direction_dataset(tmp_path / "ds", 4)
    model_dir = build_tiny("qwen2_vl", tmp_path / "m")
    capsys.readouterr()
    for bad, key in [("probe.target=object.colour", "probe.target=object.colour"), ("probe.stages=[llm.7]", "probe.stages=llm.7"),
                     ("probe.pool=[4,2]", "probe.pool"), ("probe.modules=[nowhere]", "probe.modules")]:  # fmt: skip
        assert main(["probe", f"data={root}", f"model.path={model_dir}", "probe.folds=2", bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"synth: error: {key}") and err.count("\n") == 1, err
    assert not (root / "evals" / "m" / "probe" / "probe.json").exists()


def test_a_second_probe_of_the_same_model_is_refused_naming_the_holder(tmp_path, capsys):
    import os

    from synth.io import folder_lock

    root, _ = write_direction_dataset(tmp_path / "ds", 4)
    model_dir = build_tiny("qwen2_vl", tmp_path / "m")
    capsys.readouterr()
    with folder_lock(root / "evals" / "m" / "probe"):
        assert main(["probe", f"data={root}", f"model.path={model_dir}", "probe.folds=2"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "in use by another synth run" in err and f"pid {os.getpid()}" in err
    assert not (root / "evals" / "m" / "probe" / "probe.json").exists()


def test_gt_cells_average_valid_pixels_per_cell():
    from synth.probe.gt_targets import gt_cells

    depth = np.full((4, 6, 6), np.inf, np.float32)
    depth[:, :3, :3] = np.arange(4, dtype=np.float32)[:, None, None] + 1  # top-left quarter, 1..4 m by frame
    depth[1, 0, 0] = np.inf  # one background pixel inside the object's cell
    cells = gt_cells(depth, [0, 1, 2, 3], (2, 2, 2)).reshape(2, 2, 2)
    # frames (0, 1): 9 pixels at 1 m and 8 at 2 m (one is background); frames (2, 3): 9 at 3 m, 9 at 4 m
    assert cells[0, 0, 0] == pytest.approx((9 * 1 + 8 * 2) / 17) and cells[1, 0, 0] == pytest.approx(3.5)
    assert np.isnan(cells[:, 1]).all() and np.isnan(cells[:, :, 1]).all()  # background only: no value
    normals = np.zeros((2, 4, 4, 3), np.float32)
    normals[:, :, :2] = (0, 0, 1)
    got = gt_cells(normals, [1, 1], (1, 1, 2))
    np.testing.assert_allclose(got[0], (0, 0, 1))
    assert np.isnan(got[1]).all()  # zero normals are background


def test_geometry_target_on_generated_ground_truth(tmp_path):
    from synth.dataset import read_gt

    data = tmp_path / "gt"
    assert main(["generate", "task=direction", "n=6", "gt=true", f"out={data}", "render.width=56", "render.height=56",
                 "clip.seconds=1"]) == 0  # fmt: skip
    model_dir = build_tiny("qwen2_5_vl", tmp_path / "tiny")
    assert main(["probe", f"data={data}", f"model.path={model_dir}", "model.max_new_tokens=1", "eval.frames=4",
                 "probe.folds=2", "probe.target=gt.depth", "probe.pool=[2,2,2]"]) == 0  # fmt: skip
    doc = json.loads((data / "evals" / "tiny" / "probe" / "probe.json").read_text())
    assert doc["metric"] == "r2" and doc["binding_gap"] is None and doc["chance"] == 0
    assert [s["name"] for s in doc["stages"]] == ["vision", "projector", "llm.0.visual", "llm.1.visual"]
    # every cell whose pixels include the object counts once per sample
    records = [json.loads(t) for t in (data / "manifest.jsonl").read_text().splitlines()]
    valid = 0
    for r in records:
        depth = read_gt(data, r["id"])["depth"]
        idx = [int((i + 0.5) * r["num_frames"] / 4) for i in range(4)]
        frames = np.isfinite(np.asarray(depth[idx]))
        valid += sum(frames[t0:t0 + 2, y0:y0 + 28, x0:x0 + 28].any() for t0 in (0, 2) for y0 in (0, 28) for x0 in (0, 28))
    assert all(s["n"] == valid for s in doc["stages"]) and valid > 0


def test_qwen2_5_window_order_is_put_back_in_raster_order(tmp_path):
    """Qwen2.5-VL's vision tower runs in window order and un-permutes only after its merger: the
    probe's layout of the merger's output must equal the tower's own raster-order output."""
    import torch

    from synth.probe.stages import Recorder, Stage, _qwen25_unit_order, grid_layout

    hf = build_model(HFModelConfig(path=str(build_tiny("qwen2_5_vl", tmp_path / "m"))))
    visual = hf.model.model.visual
    grid = torch.tensor([[2, 8, 8]])  # 8 x 8 patches: 4 x 4 merged units in 4 windows of 2 x 2
    pixels = torch.randn(2 * 8 * 8, 3 * 2 * 14 * 14)
    recorder = Recorder(hf.model, [Stage("projector", "projector", "model.visual.merger")])
    recorder.first_pass(visual_mask=None)  # no decoder layer is read here
    with torch.inference_mode():
        raster = visual(pixels, grid_thw=grid).pooler_output
    order = _qwen25_unit_order(hf.model, grid[0])
    assert not torch.equal(order, torch.arange(len(order)))  # the windows do reorder the units
    laid_out = grid_layout(recorder.records[("model.visual.merger", "output")][0], grid[0], 2, True, order)
    torch.testing.assert_close(laid_out, raster.reshape(2, 4, 4, -1))


@pytest.mark.parametrize("arch", ["qwen2_vl", "glm4v"])
def test_grid_layout_matches_the_processors_patch_order(arch, tmp_path):
    """Patches whose brightness encodes their (row, column) come out of the processor in merge
    windows; laid out by the probe they must be back in raster order."""
    from synth.probe.stages import grid_layout

    hf = build_model(HFModelConfig(path=str(build_tiny(arch, tmp_path / "m"))))
    rows, cols = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    level = (rows * 8 + cols) * 3 + 20  # 64 distinct brightness levels in 14-px blocks of a 112-px frame
    frame = np.repeat(np.repeat(level, 14, 0), 14, 1).astype(np.uint8)[..., None].repeat(3, -1)
    meta = {"total_num_frames": 2, "fps": 2.0, "frames_indices": [0, 1], "duration": 1.0, "height": 112, "width": 112}
    size = {"shortest_edge": 56 * 56, "longest_edge": 2 * 56 * 56}  # a 56-px frame: 4 x 4 patches of 14 px
    inputs = hf.processor.video_processor(videos=[np.stack([frame, frame])], video_metadata=[meta], size=size,
                                          do_sample_frames=False, return_tensors="pt")  # fmt: skip
    t, h, w = inputs["video_grid_thw"][0].tolist()
    assert t == 1 and h == w == 4  # 4 x 4 patches: 2 x 2 merge windows, so the order matters
    laid = grid_layout(inputs["pixel_values_videos"].float(), inputs["video_grid_thw"][0], 2, merged=False)
    expected = level.reshape(4, 2, 4, 2).mean(axis=(1, 3))  # each patch covers 2 x 2 blocks
    np.testing.assert_array_equal(np.argsort(laid.mean(-1).numpy().ravel()), np.argsort(expected.ravel()))
