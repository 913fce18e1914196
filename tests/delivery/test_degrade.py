"""`synth degrade` and `synth calibrate` end to end, through the real CLI and real ffmpeg."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import synth.degradations as D
from synth.cli import main
from synth.video import EncodeSettings, probe, read_clip, write_clip


@pytest.fixture(scope="module")
def src_clip(tmp_path_factory):
    y, x = np.mgrid[0:48, 0:64]
    frames = np.stack([np.stack([x * 3 + 4 * t, y * 4, 255 - x * 2], -1) for t in range(6)])
    frames = frames.clip(0, 255).astype(np.uint8)
    path = tmp_path_factory.mktemp("src") / "clip.mkv"
    write_clip(frames, path, 12.0, EncodeSettings(lossless=True))
    return path, frames


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("data") / "clean"
    args = ["generate", "task=direction", "n=2", f"out={root}", "gt=true", "render.width=64", "render.height=64",
            "clip.seconds=0.4", "clip.fps=10", "progress=false", "video.lossless=true"]  # fmt: skip
    assert main(args) == 0
    return root


def test_degrade_file_writes_the_asked_codec_and_changes_the_picture(src_clip, tmp_path):
    src, frames = src_clip
    out = tmp_path / "low.mp4"
    args = ["degrade", f"src={src}", f"out={out}", "degradation=[lens,low_light,compression]",
            "degradation.lens.k1=-0.2", "degradation.low_light.ev=-4", "degradation.compression.codec=hevc",
            "degradation.compression.crf=38", "video.codec=hevc", "video.crf=10"]  # fmt: skip
    assert main(args) == 0
    assert probe(out)["codec"] == "hevc"
    got, fps = read_clip(out)
    assert got.shape == frames.shape and fps == 12.0
    assert np.abs(got.astype(int) - frames).mean() > 2


def test_lossless_output_adds_nothing_unrequested(src_clip, tmp_path):
    src, frames = src_clip
    out = tmp_path / "same.mkv"
    assert main(["degrade", f"src={src}", f"out={out}", "degradation=[]", "video.lossless=true"]) == 0
    got, _ = read_clip(out)
    assert np.array_equal(got, frames)


def test_degrade_is_reproducible_with_seed(src_clip, tmp_path):
    src, _ = src_clip
    outs = []
    for name, seed in (("a.mkv", 3), ("b.mkv", 3), ("c.mkv", 4)):
        assert main(["degrade", f"src={src}", f"out={tmp_path / name}", "degradation=[low_light]",
                     "degradation.low_light.severity=4", f"seed={seed}", "video.lossless=true"]) == 0  # fmt: skip
        outs.append(read_clip(tmp_path / name)[0])
    assert np.array_equal(outs[0], outs[1]) and not np.array_equal(outs[0], outs[2])


@pytest.mark.parametrize(
    "override, message",
    [
        ("degradation.compression.crf=99", "degradation.compression.crf=99: allowed 0..51 for h264"),
        (
            "degradation.compression.codec=mpeg2",
            "degradation.compression.codec=mpeg2: allowed h264, hevc, vp9, av1, jpeg",
        ),
    ],
)
def test_bad_values_fail_with_one_line_and_write_nothing(src_clip, tmp_path, capsys, override, message):
    src, _ = src_clip
    out = tmp_path / "x.mp4"
    assert main(["degrade", f"src={src}", f"out={out}", "degradation=[compression]", override]) == 2
    assert capsys.readouterr().err.strip() == f"synth: error: {message}"
    assert not out.exists()


def test_unknown_degradation_and_negative_noise(src_clip, tmp_path, capsys):
    src, _ = src_clip
    assert main(["degrade", f"src={src}", f"out={tmp_path / 'x.mp4'}", "degradation=[smog]"]) == 2
    assert "smog" in capsys.readouterr().err
    args = ["degrade", f"src={src}", f"out={tmp_path / 'x.mp4'}", "degradation=[low_light]",
            "degradation.low_light.read_noise_e=-1"]  # fmt: skip
    assert main(args) == 2
    assert capsys.readouterr().err.strip() == "synth: error: degradation.low_light.read_noise_e=-1.0: allowed 0..10000"


def test_refuses_to_overwrite(src_clip, tmp_path):
    src, _ = src_clip
    out = tmp_path / "keep.mkv"
    out.write_bytes(b"precious")
    assert main(["degrade", f"src={src}", f"out={out}", "degradation=[]", "video.lossless=true"]) == 2
    assert out.read_bytes() == b"precious"
    assert main(["degrade", f"src={src}", f"out={out}", "degradation=[]", "video.lossless=true", "overwrite=true"]) == 0
    assert out.read_bytes() != b"precious"


def test_degrade_dataset_keeps_ids_and_lists_degradations(dataset, tmp_path):
    out = tmp_path / "fog"
    args = ["degrade", f"src={dataset}", f"out={out}", "degradation=[fog,frame_drop]",
            "degradation.fog.severity=4", "degradation.frame_drop.target_fps=5"]  # fmt: skip
    assert main(args) == 0
    clean = [json.loads(line) for line in (dataset / "manifest.jsonl").read_text().splitlines()]
    degraded = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert [(r["id"], r["group"], r["answer"]) for r in degraded] == [(r["id"], r["group"], r["answer"]) for r in clean]
    for r in degraded:
        assert [d["name"] for d in r["degradations"]] == ["fog", "frame_drop"]
        assert r["degradations"][0]["params"]["beta_per_m"] == D.REGISTRY["fog"].severity[3]["beta_per_m"]
        frames, fps = read_clip(out / r["video"])
        assert fps == r["fps"] == 5.0 and len(frames) == r["num_frames"] == 2
    assert main(["verify", f"data={out}"]) == 0


def test_generate_applies_the_same_pipeline(dataset, tmp_path):
    root = tmp_path / "gen"
    args = ["generate", "task=direction", "n=1", f"out={root}", "render.width=64", "render.height=64",
            "clip.seconds=0.4", "clip.fps=10", "progress=false", "degradation=[fog,low_light]",
            "degradation.low_light.ev=-3", "degradation.fog.severity=2"]  # fmt: skip
    assert main(args) == 0
    record = json.loads((root / "manifest.jsonl").read_text().splitlines()[0])
    assert [d["name"] for d in record["degradations"]] == ["fog", "low_light"]


def test_calibrate_table_and_gallery(dataset, tmp_path):
    out = tmp_path / "docs"
    assert main(["calibrate", f"data={dataset}", f"out={out}", "clips=1", "frames=2"]) == 0
    text = (out / "degradations.md").read_text()
    rows = re.findall(r"^\| (\w+) \| \w+ \| (\d) \| [^|]* \| ([\d.]+) \| ([\d.]+) \| ([^|]*)\|$", text, re.M)
    assert len(rows) == 5 * len(D.REGISTRY)
    for name, level, psnr, ssim, mark in rows:
        assert (float(ssim) >= 0.95) == ("hard to see" in mark), (name, level)
    for name in D.REGISTRY:
        assert (out / "img" / "degradations" / f"{name}.png").stat().st_size > 1000
