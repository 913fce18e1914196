"""`synth export llava|hf`: instruction-tuning exports with per-frame motion targets, loaded back
with `datasets` and checked against the manifest's tracks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from synth.cli import main
from synth.dataset import read_manifest
from synth.export.train import phrase
from synth.models.parsing import LETTERS
from synth.scenes.direction import DIRECTIONS


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ds") / "dir"
    args = ["task=direction", "n=8", "render.width=32", "render.height=32", "clip.fps=4", "clip.seconds=1",
            "distractors.count=1", "progress=false", f"out={out}"]  # fmt: skip
    assert main(["generate", *args]) == 0
    return out


def test_hf_export_loads_with_datasets_and_targets_match_tracks(dataset, tmp_path, monkeypatch):
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "hf"
    assert main(["export", "hf", f"data={dataset}", f"out={out}", "style=mixed", "seed=3"]) == 0
    loaded = datasets.load_dataset(str(out))  # no other argument: the card's YAML names the file
    assert list(loaded) == ["train"]
    rows = {row["id"]: row for row in loaded["train"]}
    records = read_manifest(dataset)
    assert len(rows) == len(records)
    styles = set()
    for record in records:
        row = rows[record["id"]]
        styles.add(row["style"])
        assert (out / row["video"]).read_bytes() == (dataset / record["video"]).read_bytes()
        assert row["answer_text"] == record["answer"]
        if row["style"] == "mcq":
            assert row["answer"] == LETTERS[row["answer_index"]] and row["options"][row["answer_index"]] == record["answer"]
            assert sorted(row["options"]) == sorted(record["options"])
        else:
            assert row["answer"] == record["answer"] and row["options"] == []
        assert row["conversations"][0]["value"].startswith("<image>\n") and row["conversations"][1]["value"] == row["answer"]
        assert len(row["objects"]) == len(record["tracks"]) == 2
        for obj, track in zip(row["objects"], record["tracks"]):
            size = np.array([record["width"], record["height"]])
            np.testing.assert_allclose(np.array(obj["center"]) * size, track["center_px"], atol=1e-3)
            np.testing.assert_allclose(np.array(obj["box"]) * np.tile(size, 2), track["bbox_px"], atol=1e-3)
            assert np.array(obj["motion"]).shape == (record["num_frames"], 2)
            assert obj["visible"] == track["visible"]
        mover, distractor = row["objects"]
        # The mover's unit vector is the answer's direction (image y points down); the static
        # distractor's is zero.
        dx, dy = DIRECTIONS[record["answer"]]
        np.testing.assert_allclose(mover["motion"], [[dx, -dy]] * record["num_frames"], atol=1e-3)
        assert np.all(np.array(distractor["motion"]) == 0.0)
    assert styles == {"open", "mcq"}


def test_llava_export_paraphrases_by_seed_and_is_deterministic(dataset, tmp_path):
    out = tmp_path / "llava"
    assert main(["export", "llava", f"data={dataset}", f"out={out}", "style=open", "video_token=video"]) == 0
    items = json.loads((out / "conversations.json").read_text())
    assert [i["id"] for i in items] == [r["id"] for r in read_manifest(dataset)]
    assert all(i["conversations"][0]["value"].startswith("<video>\n") for i in items)
    assert all(i["answer"] == i["answer_text"] and (out / i["video"]).is_file() for i in items)
    record = read_manifest(dataset)[0]
    asked = [phrase(record, "open", seed)["prompt"] for seed in range(40)]
    assert len(set(asked)) >= 3  # several paraphrases of one question family
    subject = record["question"].removeprefix("Which direction did ").removesuffix(" move?")
    assert all(subject in p for p in asked)
    # Per-sample choice: independent of the other records and stable across runs.
    assert phrase(record, "mcq", 5) == phrase(dict(record), "mcq", 5)
    again = tmp_path / "again"
    assert main(["export", "llava", f"data={dataset}", f"out={again}", "style=open", "video_token=video"]) == 0
    assert (again / "conversations.json").read_bytes() == (out / "conversations.json").read_bytes()


def test_bad_input_is_one_line_and_writes_nothing(dataset, tmp_path, capsys):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["export", "hf", f"data={dataset}", f"out={out}"]) == 2
    assert "out=" in capsys.readouterr().err and (out / "keep.txt").read_text() == "mine"
    fresh = tmp_path / "fresh"
    assert main(["export", "llava", f"data={dataset}", f"out={fresh}", "style=essay"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("synth: error: style=essay") and not fresh.exists()
    assert main(["export", "hf", f"data={dataset}", f"out={fresh}", "split=no-dash"]) == 2
    assert not fresh.exists() and not list(tmp_path.glob(".fresh*"))
