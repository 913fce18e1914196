"""The world task family and `synth world`: actions retrace poses, the camera conventions hold,
CIEDE2000 matches its published test pairs, and the reference models prove the score (oracle
perfect, sliding_window exactly past its window, frozen and noise at the bottom)."""

import itertools
import json
import math
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from synth import scenes
from synth.cli import main
from synth.dataset import read_manifest
from synth.degradations.quality import PSNR_CAP_DB as PSNR_CAP
from synth.models.frames import sample_indices
from synth.renderer import Renderer
from synth.sampling import ParamDraw
from synth.scenes.task import ClipFormat
from synth.scenes.world import KEYS, unseen_change_frame
from synth.world.metrics import ciede2000, lab, object_scores
from synth.world.revisits import away_frames, revisits
from synth.world.runner import summarize

DOC = Path(__file__).resolve().parents[2] / "docs" / "world-models.md"

# Sharma, Wu, Dalal (2005), Table 1: (L, a, b) pairs and their CIEDE2000.
SHARMA_PAIRS = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, -1.3802, -84.2814), (50.0, 0.0, -82.7485), 1.0000),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0009), 7.1792),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0011), 7.2195),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((50.0, 2.5, 0.0), (56.0, -27.0, -3.0), 31.9030),
    ((50.0, 2.5, 0.0), (50.0, 3.1736, 0.5854), 1.0000),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
    ((90.9257, -0.5406, -0.9208), (88.6381, -0.8985, -0.7239), 1.5381),
]


def test_ciede2000_matches_sharma_test_pairs():
    first, second, expected = (np.array(column) for column in zip(*SHARMA_PAIRS))
    assert np.abs(ciede2000(first, second) - expected).max() < 5e-5
    assert np.allclose(ciede2000(second, first), expected, atol=5e-5)  # symmetric
    assert ciede2000(first[0], first[0]) == 0.0


def _build(path: str, seed: int = 0, answer: str = "no", clip=ClipFormat(15.0, 30, 48, 48), **fixed):
    draw = ParamDraw(np.random.default_rng(seed), {"world.path": path, **fixed})
    return scenes.get("world").build(draw, answer, clip), clip


@pytest.mark.parametrize("path", ["turn", "walk", "strafe", "orbit"])
def test_paths_leave_the_target_and_retrace_their_poses(path):
    sample, clip = _build(path)
    extra = sample.extra
    keys, mouse = np.array(extra["actions"]["keys"]), np.array(extra["actions"]["mouse"])
    assert keys.shape == (clip.num_frames, len(KEYS)) and keys.sum(1).max() <= 1  # one-hot or no key
    assert not keys[: extra["conditioning_frames"]].any() and not mouse[: extra["conditioning_frames"]].any()
    c2w = np.array(extra["camera_to_world"])
    pairs = extra["same_pose_pairs"]
    assert pairs and all(np.allclose(c2w[i], c2w[j], atol=1e-6) for i, j in pairs)
    # The return leg mirrors the outbound one: frame K + m comes back at frame K + 2 O + H - 2 - m.
    k, o, h = extra["conditioning_frames"], extra["path"]["outbound_frames"], extra["path"]["away_frames"]
    assert [k + o - 2, k + o + h] in pairs
    assert any(j == clip.num_frames - 1 and i == 0 for i, j in pairs)  # back at the start pose
    in_view = extra["in_view"]["target"]
    assert 0 in in_view and clip.num_frames - 1 in in_view
    assert len(in_view) < clip.num_frames  # it left the view


def test_camera_conventions_are_opencv():
    """A world point projects through K and the inverse of camera_to_world to the pixel the
    renderer's camera model gives (less its half-pixel offset: OpenCV puts pixel centres on
    integers), in front of the camera (z > 0), and moving the mouse right turns the camera right."""
    sample, clip = _build("orbit", seed=3)
    cam, k = sample.scene.camera, np.array(sample.extra["intrinsics"])
    point = np.array([0.7, 0.4, -2.5])
    for frame in (0, 5, 9):
        t = frame / clip.fps
        c2w = np.array(sample.extra["camera_to_world"][frame])
        assert np.allclose(c2w, cam.camera_to_world(t), atol=1e-5)
        local = np.linalg.inv(c2w) @ np.r_[point, 1.0]
        uv = (k @ local[:3])[:2] / local[2]
        px, depth = cam.project(point[None], t, clip.width, clip.height)
        assert local[2] > 0 and np.allclose(uv, px[0] - 0.5, atol=1e-4) and math.isclose(local[2], depth[0], rel_tol=1e-6)
    assert np.allclose(cam.intrinsics(48, 48)[:2, 2], [23.5, 23.5])
    turn, _ = _build("turn", **{"world.direction": "right"})
    first_yaw = np.array(turn.extra["camera_to_world"][turn.extra["conditioning_frames"]])[:3, 2]
    assert turn.extra["actions"]["mouse"][turn.extra["conditioning_frames"]][1] > 0
    assert first_yaw[0] > 0  # the forward axis swung to +x: a right turn seen from above


def test_change_is_placed_where_the_camera_sees_neither_state():
    assert unseen_change_frame([0, 1, 2, 9, 10], []) == 6  # middle of frames 3..8
    assert unseen_change_frame([0, 1, 2, 9, 10], [4, 5, 6]) == 8  # frames 7, 8 remain
    assert unseen_change_frame([0, 1, 2, 3], []) is None
    for change in ("color", "position", "presence"):
        sample, _ = _build("turn", seed=5, answer="yes", **{"world.change": change})
        frame = sample.extra["change_frame"]
        seen = sample.extra["in_view"]["target"]
        assert frame not in seen and frame in range(1, 30)
    assert away_frames([0, 1, 5, 6, 20], 6) == 3 and away_frames([0, 1, 5, 6, 20], 20) == 13


@pytest.mark.parametrize("path", ["turn", "strafe"])
def test_presence_frames_carry_no_answer(path):
    """Presence changes go both ways, so every frame of a ``yes`` clip is, pixel for pixel, the
    same frame of a ``no`` clip with the same draws (starting in the same state before the
    change, in the other state from it): with ``world.start_presence`` a fair coin apart from the
    answer, no single frame (the first and last included) tells the answer. The target is seen
    in the first frame exactly when it starts present, and in the last when it ends present."""
    clip = ClipFormat(15.0, 30, 32, 32)
    renderer = Renderer(clip.width, clip.height)
    try:
        frames, records = {}, {}
        for answer, start in itertools.product(("yes", "no"), ("present", "absent")):
            fixed = {"world.change": "presence", "world.start_presence": start}
            sample, _ = _build(path, seed=4, answer=answer, clip=clip, **fixed)
            frames[answer, start] = renderer.render(sample.scene, clip.times, clip.fps)
            records[answer, start] = sample
    finally:
        renderer.release()
    change = records["yes", "present"].extra["change_frame"]
    assert change == records["yes", "absent"].extra["change_frame"] and 0 < change < clip.num_frames - 1
    other = {"present": "absent", "absent": "present"}
    for start in ("present", "absent"):
        yes = frames["yes", start]
        assert np.array_equal(yes[:change], frames["no", start][:change])
        assert np.array_equal(yes[change:], frames["no", other[start]][change:])
        assert np.abs(yes[0].astype(int) - yes[-1]).max() > 60  # the oracle's evidence: first and last differ
        assert np.array_equal(frames["no", start][0], frames["no", start][-1])
    ends = {key: (0 in s.extra["in_view"]["target"], clip.num_frames - 1 in s.extra["in_view"]["target"])
            for key, s in records.items()}  # fmt: skip
    assert ends == {("yes", "present"): (True, False), ("yes", "absent"): (False, True),
                    ("no", "present"): (True, True), ("no", "absent"): (False, False)}  # fmt: skip
    questions = {s.question for s in records.values()}
    assert len(questions) == 1 and "appeared or disappeared" in questions.pop()


def test_list_models_names_world_models(capsys):
    assert main(["list", "models"]) == 0
    lines = [line.split(maxsplit=1) for line in capsys.readouterr().out.splitlines()]
    world = [name for name, command in lines if command == "synth world"]
    assert world == ["oracle", "sliding_window", "pose_retrieval", "full_memory", "frozen", "noise", "command", "python"]
    assert ["oracle", "synth eval"] in lines


def test_object_scores_see_colour_place_and_absence():
    """A 6x6 red square on a grey wall, generated recoloured, moved 8 px and removed."""
    wall = np.full((32, 32, 3), 120, np.uint8)
    truth = wall.copy()
    truth[10:16, 10:16] = (200, 30, 30)
    mask = np.zeros((32, 32), bool)
    mask[10:16, 10:16] = True
    moved = wall.copy()
    moved[10:16, 18:24] = (200, 30, 30)
    recoloured = truth.copy()
    recoloured[mask] = (30, 200, 30)
    lab_truth, lab_same, lab_moved, lab_recoloured, lab_gone = lab(np.stack([truth, truth, moved, recoloured, wall]))
    same = object_scores(lab_same, lab_truth, mask)
    assert same == {"delta_e": 0.0, "present": 1.0, "position_px": 0.0}
    shifted = object_scores(lab_moved, lab_truth, mask)
    assert shifted["present"] == 0.0 and shifted["position_px"] == pytest.approx(8.0)
    other = object_scores(lab_recoloured, lab_truth, mask)
    assert other["present"] == 1.0 and other["delta_e"] > 50 and math.isnan(other["position_px"])
    gone = object_scores(lab_gone, lab_truth, mask)
    assert gone["present"] == 0.0 and math.isnan(gone["position_px"]) and gone["delta_e"] > 20
    assert object_scores(lab_same, lab_truth, np.zeros((32, 32), bool)) is None


def test_summary_bins_revisits_and_objects_by_their_own_time_away():
    def revisit(away, psnr, objects):
        scores = {"fidelity_psnr": psnr, "fidelity_ssim": 1.0, "self_consistency_psnr": psnr, "self_consistency_ssim": 1.0}
        return {"time_away": away, **scores, "objects": objects}

    lines = [
        revisit(3, 60.0, [{"time_away": 3, "delta_e": 0.0, "present": 1.0}]),
        revisit(6, 20.0, [{"time_away": 2, "delta_e": 1.0, "present": None}, {"time_away": 6, "delta_e": 40.0, "present": 0.0}]),
    ]
    summary = summarize(lines, bin_frames=5)
    assert list(summary["by_time_away"]) == ["0-4", "5-9"]
    low, high = summary["by_time_away"]["0-4"], summary["by_time_away"]["5-9"]
    assert low["n_revisits"] == 1 and low["fidelity_psnr"] == 60.0 and low["object_delta_e"] == 0.5
    assert low["object_presence"] == 1.0  # the undecidable one is skipped
    assert high["object_delta_e"] == 40.0 and high["object_presence"] == 0.0 and high["fidelity_psnr"] == 20.0
    assert summary["fidelity_psnr"] == 40.0 and summary["n_revisits"] == 2
    assert summarize([])["fidelity_psnr"] is None and summarize([])["by_time_away"] == {}


def _summary(root, label) -> dict:
    return json.loads((root / "evals" / label / "world.json").read_text())


def _lines(root, label) -> list[dict]:
    return [rv for line in (root / "evals" / label / "world_revisits.jsonl").read_text().splitlines()
            for rv in json.loads(line)["revisits"]]  # fmt: skip


def test_reference_models_prove_the_score(world_set, capsys):
    root = world_set
    records = read_manifest(root)
    assert sorted(r["params"]["world.path"] for r in records) == ["orbit", "strafe", "turn", "walk"]
    assert main(["world", f"data={root}", "model=oracle"]) == 0
    oracle = _summary(root, "oracle")
    assert set(oracle) == {"fidelity_psnr", "fidelity_ssim", "self_consistency_psnr", "self_consistency_ssim",
                           "object_delta_e", "object_presence", "n_revisits", "by_time_away", "frames_held"}  # fmt: skip
    assert oracle["n_revisits"] == sum(len(revisits(r)) for r in records) > 0
    for key, perfect in (("fidelity_psnr", PSNR_CAP), ("self_consistency_psnr", PSNR_CAP), ("fidelity_ssim", 1.0),
                         ("self_consistency_ssim", 1.0), ("object_delta_e", 0.0), ("object_presence", 1.0)):  # fmt: skip
        assert oracle[key] == pytest.approx(perfect, abs=1e-6), key
    assert (root / "world" / records[0]["id"] / "inputs.json").is_file()

    # A window longer than any time away: indistinguishable from the oracle.
    assert main(["world", f"data={root}", "model=sliding_window", "model.window=1000"]) == 0
    assert {**_summary(root, "sliding_window_w1000"), "frames_held": None} == oracle

    # A small window: perfect up to time away W, worse right after, in every revisit and bin.
    aways = sorted({rv["time_away"] for rv in _lines(root, "oracle")})
    assert len(aways) >= 2
    window = aways[len(aways) // 2 - 1]
    assert main(["world", f"data={root}", "model=sliding_window", f"model.window={window}"]) == 0
    for rv in _lines(root, f"sliding_window_w{window}"):
        if rv["time_away"] <= window:
            assert rv["fidelity_psnr"] == PSNR_CAP and rv["self_consistency_psnr"] == PSNR_CAP
        else:
            assert rv["fidelity_psnr"] < 40
        for obj in rv["objects"]:
            assert (obj["delta_e"] > 10) == (obj["time_away"] > window)
    bins = _summary(root, f"sliding_window_w{window}")["by_time_away"]
    assert all((bins[b]["fidelity_ssim"] == 1.0) == (int(b) <= window) for b in bins)
    # Forgotten objects that come back gone, or elsewhere: presence and position see it, past W only.
    for forget in ("absent", "place"):
        assert main(["world", f"data={root}", "model=sliding_window", f"model.window={window}", f"model.forget={forget}"]) == 0
        pairs = list(zip((o for rv in _lines(root, "oracle") for o in rv["objects"]),
                         (o for rv in _lines(root, f"sliding_window_w{window}_{forget}") for o in rv["objects"])))  # fmt: skip
        assert all(got == truth for truth, got in pairs if truth["time_away"] <= window)
        lost = [(truth, got) for truth, got in pairs if truth["time_away"] > window]
        if forget == "absent":
            assert np.mean([got["present"] for _, got in lost if got["present"] is not None]) < 0.2
        else:
            moved = [got["position_px"] - truth["position_px"] for truth, got in lost if got["position_px"] is not None]
            assert len(moved) > len(lost) / 2 and np.median(moved) > 2

    # frozen and noise at the bottom; frozen is perfectly self-consistent (why fidelity matters).
    assert main(["world", f"data={root}", "model=frozen"]) == 0
    assert main(["world", f"data={root}", "model=noise"]) == 0
    frozen, noise = _summary(root, "frozen"), _summary(root, "noise")
    for bottom in (frozen, noise):
        for key in ("fidelity_psnr", "fidelity_ssim", "object_presence"):
            assert bottom[key] < oracle[key] - 0.2 * abs(oracle[key]), key
        assert bottom["object_delta_e"] > 10
    assert frozen["self_consistency_psnr"] == PSNR_CAP and noise["fidelity_ssim"] < 0.1

    # Resume: nothing generated again; a different window is a different model.
    capsys.readouterr()
    assert main(["world", f"data={root}", "model=oracle"]) == 0
    assert "4 clips, 4 cached, 0 to generate" in capsys.readouterr().err
    assert _summary(root, "oracle") == oracle

    # synth report: a table per model and the consistency plot, on a dataset with world evaluations only.
    assert main(["report", f"data={root}", f"out={root / 'evals' / 'report'}"]) == 0
    report = (root / "evals" / "report" / "report.md").read_text()
    assert "## World models: revisit consistency" in report and "### sliding_window_w1000" in report
    assert f"| {aways[0]} | " in report and (root / "evals" / "report" / "world_consistency.png").stat().st_size > 1000


def _doc_script() -> str:
    text = DOC.read_text()
    return re.search(r"cat > data/frozen_world_model.py <<'EOF'\n(.*?)\nEOF\n", text, re.S).group(1)


def test_command_and_python_models_speak_the_protocol(world_set, tmp_path, monkeypatch, capsys):
    """The docs' example script (model=command) and an in-process function (model=python) both
    act as frozen models and score exactly like the built-in one."""
    root = world_set
    if not (root / "evals" / "frozen" / "world.json").is_file():
        assert main(["world", f"data={root}", "model=frozen"]) == 0
    script = tmp_path / "frozen_world_model.py"
    script.write_text(_doc_script())
    assert main(["world", f"data={root}", "model=command", f"model.cmd={sys.executable} {script}", "model.label=script"]) == 0
    assert _summary(root, "script") == _summary(root, "frozen")

    (tmp_path / "my_world.py").write_text(
        "import numpy as np\n"
        "def frozen(request):\n"
        "    cond = request['conditioning']\n"
        "    assert request['keys'].shape == (request['num_frames'], 4)\n"
        "    return np.concatenate([cond, np.repeat(cond[-1:], request['num_frames'] - len(cond), 0)])\n"
        "def wrong(request):\n"
        "    return request['conditioning']\n"
    )
    monkeypatch.chdir(tmp_path)
    assert main(["world", f"data={root}", "model=python", "model.entry=my_world:frozen", "model.label=py"]) == 0
    assert _summary(root, "py") == _summary(root, "frozen")
    capsys.readouterr()
    assert main(["world", f"data={root}", "model=python", "model.entry=my_world:wrong"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("synth: error: model wrong: returned a uint8 array shaped (2, 48, 48, 3)")
    assert sum(line.startswith("synth: error") for line in err) == 1 and "Traceback" not in "".join(err)
    assert not (root / "evals" / "wrong").exists()  # nothing generated: no empty lines file or folder left
    assert main(["world", f"data={root}", "model=python", "model.entry=my_world:nothing"]) == 2
    assert main(["world", f"data={root}", "model=command", "model.cmd=/nonexistent/model"]) == 2
    assert not (root / "evals" / "model").exists() and not list((root / "world").rglob(".tmp-*"))
    # Without ground truth: refused before anything is written.
    bare = tmp_path / "bare"
    shutil.copytree(root, bare, ignore=shutil.ignore_patterns("gt", "evals", "world"))
    capsys.readouterr()
    assert main(["world", f"data={bare}", "model=oracle"]) == 2
    assert "has no ground truth" in capsys.readouterr().err and not (bare / "evals").exists()
    # The inputs `synth world` exported (world/<id>/) are synth's: the dataset can still be replaced.
    again = tmp_path / "again"
    shutil.copytree(root, again)
    assert (again / "world").is_dir()
    assert main(["generate", "task=world", "n=1", f"out={again}", "render.width=32", "render.height=32",
                 "clip.seconds=1", "progress=false", "overwrite=true"]) == 0  # fmt: skip
    assert not (again / "world").exists() and main(["verify", f"data={again}"]) == 0


def test_oracle_reads_the_change_off_sampled_frames_at_different_poses():
    """`synth eval` gives the oracle 8 of the 32 frames (2, 6, ..., 30): the first is a step into
    the path, the last at the start pose. Comparing pixels would call every such ``no`` clip
    changed; comparing the objects (less the camera's shift) gets each change kind right."""
    clip = ClipFormat(8.0, 32, 48, 48)
    picks = sample_indices(clip.num_frames, 8)
    oracle = scenes.oracle_for("world")
    renderer = Renderer(clip.width, clip.height)
    try:
        for answer, change in (("no", "color"), ("yes", "color"), ("yes", "position")):
            sample, _ = _build("turn", seed=3, answer=answer, clip=clip, **{"world.change": change, "world.away_frames": 0})
            c2w = np.array(sample.extra["camera_to_world"])
            assert not np.allclose(c2w[picks[0]], c2w[picks[-1]], atol=1e-6)  # the poses differ
            frames = renderer.render(sample.scene, clip.times, clip.fps)[picks]
            assert sample.options[oracle(frames, sample.question, sample.options)] == answer, (answer, change)
    finally:
        renderer.release()
