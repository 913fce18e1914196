"""Nothing silent: what a record lists is what was applied, and a missing or idle choice is refused
in one line (issue 12 item 2, issue 14 item 4's severity rule). Real CLI, ffmpeg, HTTP socket."""

from __future__ import annotations

import json
import shutil
import socket

import numpy as np
import pytest
import torch
from support.square_clips import make_dataset

import synth.degradations as D
from synth.cli import main
from synth.degradations.registry import IDENTITY
from synth.video import EncodeSettings, write_clip


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("synth: error: ") and "Traceback" not in err[0], err
    return err[0]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("data") / "clean"
    args = ["generate", "task=direction", "n=2", f"out={root}", "render.width=32", "render.height=32",
            "clip.seconds=0.4", "clip.fps=10", "progress=false", "video.lossless=true"]  # fmt: skip
    assert main(args) == 0
    return root


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("src") / "clip.mkv"
    write_clip(rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8), path, 10.0, EncodeSettings(lossless=True))
    return path


def test_identity_table_is_exactly_the_stages_that_change_nothing():
    """A stage is refused as idle iff, at its defaults, the pipeline's output equals no stage at all."""
    video = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    depth = torch.full((4, 32, 32), 3.0)
    bare = D.Pipeline([]).apply(video, fps=10, seed=1, depth=depth)
    for name, spec in D.REGISTRY.items():
        out = D.Pipeline([(name, {})]).apply(video, fps=10, seed=1, depth=depth)
        unchanged = out.shape == bare.shape and np.array_equal(out, bare)
        assert (spec.does_nothing(spec.defaults()) is not None) == unchanged, name
    assert set(IDENTITY) <= set(D.REGISTRY)


@pytest.mark.parametrize(
    "args, named",
    [
        (["degradation=[defocus]"], "degradation.defocus: f_number=0.0 leaves the video unchanged"),
        (["degradation=[rain]"], "degradation.rain: density=0.0 leaves the video unchanged"),
        (["degradation=[lens]", "degradation.lens.k1=0"], "degradation.lens: k1=0"),
        (["degradation=[fog,defocus]", "degradation.fog.severity=2"], "degradation.defocus: f_number=0.0"),
    ],
)
def test_a_listed_stage_that_would_do_nothing_is_refused(clip, tmp_path, capsys, args, named):
    out = tmp_path / "out.mkv"
    assert main(["degrade", f"src={clip}", f"out={out}", "video.lossless=true", *args]) == 2
    line = one_error_line(capsys)
    assert named in line and "severity=1..5" in line
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_generate_refuses_idle_rain_before_rendering(tmp_path, capsys):
    out = tmp_path / "rain"
    assert main(["generate", "task=direction", "n=1", f"out={out}", "degradation=[rain]", "progress=false"]) == 2
    assert "degradation.rain: density=0.0" in one_error_line(capsys)
    assert not out.exists()


def test_explicit_value_wins_over_severity_and_the_record_shows_both(dataset, tmp_path):
    out = tmp_path / "dark"
    args = ["degrade", f"src={dataset}", f"out={out}", "degradation=[low_light]", "degradation.low_light.severity=3",
            "degradation.low_light.ev=-1", "video.lossless=true"]  # fmt: skip
    assert main(args) == 0
    level = D.REGISTRY["low_light"].severity[2]
    for line in (out / "manifest.jsonl").read_text().splitlines():
        (stage,) = json.loads(line)["degradations"]
        params = stage["params"]
        assert params["severity"] == 3 and params["ev"] == -1  # the level, and the explicit value over it
        assert {k: params[k] for k in level if k != "ev"} == {k: v for k, v in level.items() if k != "ev"}
        assert level["ev"] != -1
    # what is recorded is what ran: the record's values alone give the same pixels
    video = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    recorded = {k: v for k, v in params.items() if k != "severity"}
    a = D.Pipeline([("low_light", {"severity": 3, "ev": -1})]).apply(video, fps=10, seed=5)
    b = D.Pipeline([("low_light", recorded)]).apply(video, fps=10, seed=5)
    c = D.Pipeline([("low_light", {"severity": 3})]).apply(video, fps=10, seed=5)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_degrade_without_degradation_says_what_is_missing(dataset, tmp_path, capsys):
    out = tmp_path / "copy"
    assert main(["degrade", f"src={dataset}", f"out={out}"]) == 2
    line = one_error_line(capsys)
    assert "degradation: required" in line and "fog" in line and "low_light" in line
    assert not out.exists()


def test_eval_without_model_says_what_is_missing(dataset, capsys):
    assert main(["eval", f"data={dataset}"]) == 2
    line = one_error_line(capsys)
    assert "model: required" in line and "oracle" in line and "openai" in line
    assert not (dataset / "evals").exists()


@pytest.fixture
def unfinished(dataset, tmp_path):
    """The dataset as it looks while it is still being written: no card, or a card counting fewer."""
    root = tmp_path / "busy"
    shutil.copytree(dataset, root)
    return root


@pytest.mark.parametrize("state", ["no card", "short"])
def test_unfinished_datasets_are_refused_naming_the_key(unfinished, tmp_path, capsys, state):
    if state == "no card":
        (unfinished / "dataset.json").unlink()
    else:
        lines = (unfinished / "manifest.jsonl").read_text().splitlines(keepends=True)
        (unfinished / "manifest.jsonl").write_text(lines[0])  # the card still counts 2
    assert main(["eval", f"data={unfinished}", "model=oracle"]) == 2
    assert f"data={unfinished}: unfinished dataset" in one_error_line(capsys)
    assert not (unfinished / "evals").exists()
    out = tmp_path / "fog"
    assert main(["degrade", f"src={unfinished}", f"out={out}", "degradation=[fog]", "degradation.fog.severity=1"]) == 2
    assert f"src={unfinished}: unfinished dataset" in one_error_line(capsys)
    assert not out.exists()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_openai_says_on_stderr_that_it_retries_and_why(tmp_path, capsys, monkeypatch):
    root = make_dataset(tmp_path / "ds", n=1)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    args = ["eval", f"data={root}", "model=openai", "model.name=v", f"model.base_url={url}",
            "model.backoff_s=0.01", "model.max_retries=2", "model.concurrency=1"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    retries = [line for line in err if line.startswith("model=openai: ")]
    assert len(retries) == 2, err
    for n, line in enumerate(retries, 1):
        assert url in line and "unreachable" in line and "refused" in line.lower()
        assert f"retry {n} of 2 in {0.01 * 2 ** (n - 1):g} s" in line
    assert err[-1].startswith(f"synth: error: model.base_url={url}: unreachable")
