"""Compression delivers what was asked for: when it is the last stage the file is the encoder's own
stream (one encode, no re-encode with video.*), in a container that fits; records name codec and
container and `synth verify` checks them against the file."""

from __future__ import annotations

import json

import numpy as np
import pytest

import synth.degradations as D
from synth.cli import main
from synth.delivery import degrade_seed
from synth.dataset import read_manifest
from synth.video import EncodeSettings, probe, read_clip, write_clip


@pytest.fixture(scope="module")
def src_clip(tmp_path_factory):
    y, x = np.mgrid[0:32, 0:48]
    frames = np.stack([np.stack([x * 5 + 6 * t, y * 7, 255 - x * 4], -1) for t in range(6)]).clip(0, 255)
    path = tmp_path_factory.mktemp("src") / "clip.mkv"
    write_clip(frames.astype(np.uint8), path, 12.0, EncodeSettings(lossless=True))
    return path, frames.astype(np.uint8)


# codec, its quality setting, the container it is delivered in, the name ffmpeg reports
CASES = [("h264", 30, ".mp4", "h264"), ("hevc", 32, ".mp4", "hevc"), ("vp9", 40, ".webm", "vp9"),
         ("av1", 45, ".mp4", "av1"), ("jpeg", 8, ".mkv", "mjpeg")]  # fmt: skip


@pytest.mark.parametrize("codec, crf, suffix, name", CASES, ids=[c[0] for c in CASES])
def test_file_is_the_codecs_stream_and_equals_the_in_pipeline_round_trip(src_clip, tmp_path, codec, crf, suffix, name):
    src, frames = src_clip
    out = tmp_path / f"out{suffix}"
    params = {"codec": codec, "crf": crf, "preset": "ultrafast"}
    args = ["degrade", f"src={src}", f"out={out}", "degradation=[low_light,compression]", "seed=2",
            "degradation.low_light.ev=-2", *(f"degradation.compression.{k}={v}" for k, v in params.items()),
            "video.codec=h264", "video.crf=0"]  # fmt: skip
    assert main(args) == 0
    assert probe(out)["codec"] == name  # the asked bitstream, not video.codec's h264
    got, fps = read_clip(out)
    pipe = D.Pipeline([("low_light", {"ev": -2.0}), ("compression", params)])
    expect = D.degrade_video(frames, pipe, fps=12.0, seed=degrade_seed(2, src.name))
    assert fps == 12.0 and np.array_equal(got, expect)  # no second generation of loss


def test_a_suffix_that_cannot_hold_the_codec_is_refused(src_clip, tmp_path, capsys):
    src, _ = src_clip
    out = tmp_path / "x.webm"
    assert main(["degrade", f"src={src}", f"out={out}", "degradation=[compression]"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"synth: error: out={out}: a h264 stream goes in .mp4, .mov, .mkv") and "\n" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["x", "x.avi", "x.webm"])
def test_without_compression_a_suffix_that_cannot_hold_video_codec_is_refused_up_front(src_clip, tmp_path, capsys, name):
    """No suffix (ffmpeg cannot pick a muxer) or one outside CONTAINERS failed only after the first
    chunk, in ffmpeg's words about a temporary file."""
    src, _ = src_clip
    out = tmp_path / name
    assert main(["degrade", f"src={src}", f"out={out}", "degradation=[lens]", "degradation.lens.severity=2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"synth: error: out={out}: a h264 clip (video.codec) goes in .mp4, .mov, .mkv; name it *.mp4"
    assert list(tmp_path.iterdir()) == []
    upper = tmp_path / "X.MP4"  # suffixes match as ffmpeg matches them, whatever their case
    assert main(["degrade", f"src={src}", f"out={upper}", "degradation=[lens]", "degradation.lens.severity=2"]) == 0
    assert probe(upper)["codec"] == "h264"


def test_dataset_records_name_codec_and_container_and_verify_checks_them(tmp_path):
    clean, hevc = tmp_path / "clean", tmp_path / "hevc"
    assert main(["generate", "task=direction", "n=1", f"out={clean}", "render.width=32", "render.height=32",
                 "clip.seconds=0.5", "clip.fps=8", "progress=false", "video.lossless=true"]) == 0  # fmt: skip
    assert {k: read_manifest(clean)[0][k] for k in ("codec", "container")} == {"codec": "ffv1", "container": "mkv"}
    assert main(["degrade", f"src={clean}", f"out={hevc}", "degradation=[compression]",
                 "degradation.compression.codec=hevc", "degradation.compression.preset=ultrafast"]) == 0  # fmt: skip
    record = read_manifest(hevc)[0]
    assert (record["codec"], record["container"], record["video"].endswith(".mp4")) == ("hevc", "mp4", True)
    assert probe(hevc / record["video"])["codec"] == "hevc"
    assert main(["verify", f"data={hevc}"]) == 0
    # a record that misnames the file's codec or container fails verification, naming both
    manifest = hevc / "manifest.jsonl"
    manifest.write_text(json.dumps({**record, "codec": "h264", "container": "webm"}) + "\n")
    from synth.dataset import verify

    problems = verify(hevc)
    assert any("clip codec is hevc, record says h264" in p for p in problems)
    assert any("record says container webm" in p for p in problems)


def test_generate_delivers_the_codecs_stream_too(tmp_path):
    root = tmp_path / "gen"
    assert main(["generate", "task=direction", "n=1", f"out={root}", "render.width=32", "render.height=32",
                 "clip.seconds=0.5", "clip.fps=8", "progress=false", "degradation=[compression]",
                 "degradation.compression.codec=vp9", "degradation.compression.preset=ultrafast"]) == 0  # fmt: skip
    record = read_manifest(root)[0]
    assert (record["codec"], record["container"]) == ("vp9", "webm")
    assert probe(root / record["video"])["codec"] == "vp9" and record["video"].endswith(".webm")
    assert main(["verify", f"data={root}"]) == 0
