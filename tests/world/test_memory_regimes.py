"""The three memory regimes a WorldKV user wants to see, on the reference models: a sliding
window fails past its window, pose retrieval with the same window holds at every time away,
full memory holds at a higher memory cost; world.json says what each held, and models behind
model=python|command report it through the protocol."""

import json
import sys

import numpy as np
import pytest

from synth.cli import main
from synth.dataset import read_manifest
from synth.errors import UserError
from synth.world.models import PoseRetrievalConfig, PoseRetrievalModel, pose_distance, pose_key

WINDOW = 6


def _summary(root, label) -> dict:
    return json.loads((root / "evals" / label / "world.json").read_text())


def test_window_retrieval_and_full_memory(world_set):
    root = world_set
    for args in (["model=sliding_window", f"model.window={WINDOW}"], ["model=pose_retrieval", f"model.window={WINDOW}"],
                 ["model=full_memory"]):  # fmt: skip
        assert main(["world", f"data={root}", *args]) == 0
    window = _summary(root, f"sliding_window_w{WINDOW}")
    retrieval = _summary(root, f"pose_retrieval_w{WINDOW}_k2")
    full = _summary(root, "full_memory")
    bins = window["by_time_away"]
    assert any(int(b) > WINDOW for b in bins) and any(int(b) <= WINDOW for b in bins)
    for b, row in bins.items():  # the window fails exactly past W
        assert (row["self_consistency_ssim"] == 1.0) == (int(b) <= WINDOW), b
    for doc in (retrieval, full):  # retrieval and full memory hold at every time away
        assert all(row["self_consistency_ssim"] == 1.0 and row["object_delta_e"] == 0.0 for row in doc["by_time_away"].values())
    frames = read_manifest(root)[0]["num_frames"]
    assert window["frames_held"] == {"window": WINDOW, "store": 0, "window_max": WINDOW, "store_max": 0}
    assert full["frames_held"] == {"window": frames - 1, "store": 0, "window_max": frames - 1, "store_max": 0}
    held = retrieval["frames_held"]
    assert held["window"] == WINDOW and 0 < held["store"]
    assert held["window"] + held["store_max"] < full["frames_held"]["window"]  # less held than full memory

    from synth.report.world import memory_section, world_evaluations

    text = "\n".join(memory_section([(root, *found) for found in world_evaluations(root)]))
    assert "## World models: memory held against consistency" in text
    row = next(line for line in text.splitlines() if line.startswith(f"| pose_retrieval_w{WINDOW}_k2 |"))
    assert row.startswith(f"| pose_retrieval_w{WINDOW}_k2 | {WINDOW} | {held['store']:g} | 1.000")


def test_a_revisit_finds_its_first_visit_in_the_store(world_set):
    """A revisit's pose is its first visit's: distance 0, the same store key."""
    record = next(r for r in read_manifest(world_set) if r["params"]["world.path"] == "turn")
    poses = [np.asarray(p) for p in record["extra"]["camera_to_world"]]
    i, j = record["extra"]["same_pose_pairs"][0]
    assert pose_distance(poses[i], poses[j]) < 1e-6 and pose_key(poses[i], 0.01, 1.0) == pose_key(poses[j], 0.01, 1.0)
    with pytest.raises(UserError, match="model.window"):
        PoseRetrievalModel(PoseRetrievalConfig(window=0))


def test_python_and_command_models_report_frames_held(world_set, tmp_path, monkeypatch, capsys):
    root = world_set
    (tmp_path / "held_model.py").write_text(
        "import numpy as np\n"
        "def generate(request):\n"
        "    cond = request['conditioning']\n"
        "    video = np.concatenate([cond, np.repeat(cond[-1:], request['num_frames'] - len(cond), axis=0)])\n"
        "    return {'video': video, 'frames_held': {'window': 4, 'store': 7}}\n"
        "def bad(request):\n"
        "    return {'video': generate(request)['video'], 'frames_held': {'window': -1}}\n"
    )  # fmt: skip
    (tmp_path / "held_cmd.py").write_text(
        "import json, sys\nimport numpy as np\nfrom PIL import Image\n"
        "for line in sys.stdin:\n"
        "    req = json.loads(line)\n"
        "    cond = np.stack([np.asarray(Image.open(p)) for p in req['conditioning']])\n"
        "    video = np.concatenate([cond, np.repeat(cond[-1:], req['num_frames'] - len(cond), axis=0)])\n"
        "    np.save(req['output'], video)\n"
        "    print(json.dumps({'video': req['output'], 'frames_held': {'window': 3, 'store': 5}}), flush=True)\n"
    )  # fmt: skip
    monkeypatch.chdir(tmp_path)
    assert main(["world", f"data={root}", "model=python", "model.entry=held_model:generate"]) == 0
    assert _summary(root, "generate")["frames_held"] == {"window": 4, "store": 7, "window_max": 4, "store_max": 7}
    assert main(["world", f"data={root}", "model=command", f"model.cmd={sys.executable} held_cmd.py", "limit=1"]) == 0
    assert _summary(root, "held_cmd")["frames_held"]["store"] == 5
    capsys.readouterr()
    assert main(["world", f"data={root}", "model=python", "model.entry=held_model:bad"]) == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert error.startswith("synth: error: model.entry=held_model:bad: frames_held must be")
