"""`synth export llava|hf`: training exports split by scene group, with an integer label and
per-frame motion targets, loaded back with `datasets` and checked against the manifest's tracks."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from synth.cli import main
from synth.dataset import read_manifest
from synth.export.train import motion_targets, phrase, split_of_group
from synth.models.parsing import LETTERS
from synth.scenes.direction import DIRECTIONS

FRACTIONS = ["split.train=0.5", "split.validation=0.25", "split.test=0.25"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """8 direction scenes, each rendered at two rotations (16 samples, 8 groups of 2)."""
    out = tmp_path_factory.mktemp("ds") / "dir"
    args = ["task=direction", "n=8", "render.width=32", "render.height=32", "clip.fps=4", "clip.seconds=1",
            "distractors.count=1", "sweep.variable=object.rotation_deg", "sweep.values=[0,10]",
            "progress=false", f"out={out}"]  # fmt: skip
    assert main(["generate", *args]) == 0
    return out


@pytest.fixture(scope="module")
def hf_export(dataset, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hf") / "hf"
    assert main(["export", "hf", f"data={dataset}", f"out={out}", "style=mixed", "seed=3", *FRACTIONS]) == 0
    return out


def load(out: Path, tmp_path: Path, monkeypatch):
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "cache"))
    return datasets.load_dataset(str(out))  # no other argument: the card's YAML names the files


def test_hf_export_is_a_datasetdict_split_by_group_with_labels(hf_export, dataset, tmp_path, monkeypatch):
    import datasets

    monkeypatch.chdir(tmp_path)  # not the export folder
    loaded = load(hf_export, tmp_path, monkeypatch)
    assert isinstance(loaded, datasets.DatasetDict) and list(loaded) == ["train", "validation", "test"]
    records = {r["id"]: r for r in read_manifest(dataset)}
    groups = {name: set(split["group"]) for name, split in loaded.items()}
    assert not (groups["train"] & groups["validation"] or groups["train"] & groups["test"]
                or groups["validation"] & groups["test"])  # fmt: skip
    assert sum(len(split) for split in loaded.values()) == len(records) == 16
    label = loaded["train"].features["label"]
    assert isinstance(label, datasets.ClassLabel) and label.names == ["left", "right", "up", "down"]
    assert isinstance(loaded["train"].features["video"], datasets.Video)
    for name, split in loaded.items():
        for row in split.cast_column("video", datasets.Video(decode=False)):
            record = records[row["id"]]
            assert row["split"] == name == split_of_group(record["group"], {"train": 0.5, "validation": 0.25, "test": 0.25})
            assert label.int2str(row["label"]) == record["answer"]
            # The clip travels inside the Parquet file: decodable from any working directory.
            assert row["video"]["bytes"] == (dataset / record["video"]).read_bytes()
    # Stable across runs: the same command gives the same files.
    again = tmp_path / "again"
    assert main(["export", "hf", f"data={dataset}", f"out={again}", "style=mixed", "seed=3", *FRACTIONS]) == 0
    for part in sorted((hf_export / "data").iterdir()):
        assert (again / "data" / part.name).read_bytes() == part.read_bytes()


def test_hf_rows_and_per_frame_targets_match_the_manifest(hf_export, dataset, tmp_path, monkeypatch):
    loaded = load(hf_export, tmp_path, monkeypatch)
    rows = {row["id"]: row for split in loaded.values() for row in split.remove_columns("video")}
    styles = set()
    for record in read_manifest(dataset):
        row = rows[record["id"]]
        styles.add(row["style"])
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
            np.testing.assert_allclose(obj["visible"], track["visible"], atol=1e-6)
        mover, distractor = row["objects"]
        # The mover's unit vector is the answer's direction (image y points down) where it is
        # seen; the static distractor's is zero.
        dx, dy = DIRECTIONS[record["answer"]]
        seen = np.array(mover["visible"]) > 0
        np.testing.assert_allclose(np.array(mover["motion"])[seen], [[dx, -dy]] * int(seen.sum()), atol=1e-3)
        assert np.all(np.array(distractor["motion"]) == 0.0)
    assert styles == {"open", "mcq"}


def test_motion_is_zero_where_the_object_is_unseen():
    track = {"name": "cube", "instance_id": 1, "center_px": [[0, 0], [2, 0], [4, 0], [6, 0]],
             "bbox_px": [[0, 0, 1, 1]] * 4, "visible": [1.0, 0.5, 0.0, 0.0]}  # fmt: skip
    (target,) = motion_targets([track], 8, 8)
    assert target["motion"] == [[1.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 0.0]]


def test_card_says_what_a_trainer_needs_and_its_snippet_runs(hf_export, tmp_path):
    card = (hf_export / "README.md").read_text()
    for needed in ("license: cc0-1.0", "| 0 | left |", "Split by scene `group`", "visible > 0", "## Citation",
                   "docs/dataset.md", "| train | 0.5 |"):  # fmt: skip
        assert needed in card, needed
    pytest.importorskip("av")
    snippet = card.split("```python\n")[1].split("```")[0].replace("<this folder>", str(hf_export))
    env = {**os.environ, "HF_DATASETS_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[:4] == ["(4,", "32,", "32,", "3)"]


def test_datasets_video_decodes_the_embedded_clip(hf_export, tmp_path):
    """With torchcodec (and FFmpeg's shared libraries), datasets.Video() itself decodes the column
    (in a subprocess: torchcodec's FFmpeg and the renderer's GL libraries do not share a process)."""
    if importlib.util.find_spec("torchcodec") is None:
        pytest.skip("torchcodec is not installed (datasets.Video() decodes with it)")
    code = (f"import datasets; row = datasets.load_dataset({str(hf_export)!r})['train'][0]; "
            "print(tuple(row['video'].get_frames_in_range(0, row['num_frames']).data.shape))")  # fmt: skip
    env = {**os.environ, "HF_DATASETS_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "(4, 3, 32, 32)"  # (T, C, H, W) uint8


def test_llava_export_has_the_same_splits_and_is_deterministic(dataset, hf_export, tmp_path, monkeypatch):
    out = tmp_path / "llava"
    assert main(["export", "llava", f"data={dataset}", f"out={out}", "style=open", "video_token=video", *FRACTIONS]) == 0
    loaded = load(hf_export, tmp_path, monkeypatch)
    for name in ("train", "validation", "test"):
        items = json.loads((out / f"{name}.json").read_text())
        assert sorted(i["id"] for i in items) == sorted(loaded[name]["id"])
        assert all(i["split"] == name and (out / i["video"]).is_file() for i in items)
        assert all(i["conversations"][0]["value"].startswith("<video>\n") and i["answer"] == i["answer_text"] for i in items)
    again = tmp_path / "again"
    assert main(["export", "llava", f"data={dataset}", f"out={again}", "style=open", "video_token=video", *FRACTIONS]) == 0
    assert (again / "train.json").read_bytes() == (out / "train.json").read_bytes()


def test_phrasing_is_per_sample_and_seeded(dataset):
    record = read_manifest(dataset)[0]
    asked = [phrase(record, "open", seed)["prompt"] for seed in range(40)]
    assert len(set(asked)) >= 3  # several paraphrases of one question family
    subject = record["question"].removeprefix("Which direction did ").removesuffix(" move?")
    assert all(subject in p for p in asked)
    # Per-sample choice: independent of the other records and stable across runs.
    assert phrase(record, "mcq", 5) == phrase(dict(record), "mcq", 5)


def test_a_group_keeps_its_split_when_data_is_added():
    fractions = {"train": 0.8, "validation": 0.1, "test": 0.1}
    splits = [split_of_group(f"g{i}", fractions, seed=1) for i in range(2000)]
    assert splits == [split_of_group(f"g{i}", dict(fractions), seed=1) for i in range(2000)]
    share = {name: splits.count(name) / len(splits) for name in fractions}
    assert all(abs(share[name] - fractions[name]) < 0.03 for name in fractions)
    assert splits != [split_of_group(f"g{i}", fractions, seed=2) for i in range(2000)]


def test_bad_input_is_one_line_and_writes_nothing(dataset, tmp_path, capsys):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["export", "hf", f"data={dataset}", f"out={out}"]) == 2
    assert "out=" in capsys.readouterr().err and (out / "keep.txt").read_text() == "mine"
    fresh = tmp_path / "fresh"
    for fmt, bad, key in (("llava", ["style=essay"], "style=essay"),
                          ("llava", ["split.train=0.9"], "split fractions must sum to 1"),
                          ("llava", ["split.test=-0.1", "split.train=1.0"], "split.test=-0.1"),
                          # a key the format does not read is refused, not ignored
                          ("llava", ["visual=video"], "visual=video: not read by the llava export"),
                          ("lmms-eval", ["style=open"], "style=open: not read by the lmms-eval export"),
                          ("vlmevalkit", ["split.seed=3"], "split: not read by the vlmevalkit export")):  # fmt: skip
        assert main(["export", fmt, f"data={dataset}", f"out={fresh}", *bad]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("synth: error:") and key in err[0] and not fresh.exists()
    assert not list(tmp_path.glob(".fresh*"))
