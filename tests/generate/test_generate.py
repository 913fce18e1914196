"""`synth generate` / `verify` / `merge` end to end through the real CLI process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from synth.dataset import read_card, read_gt, read_manifest
from synth.video import probe, read_clip

from support.cli import SMALL, synth


def shas(root: Path) -> dict[str, str]:
    return {r["id"]: r["sha256"] for r in read_manifest(root)}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ds") / "dir"
    synth("generate", *SMALL, "n=8", "seed=7", f"out={out}", "gt=true")
    return out


def test_dataset_follows_the_contract(dataset):
    records = read_manifest(dataset)
    card = read_card(dataset)
    assert len(records) == 8 == card["count"]
    assert (dataset / "config.yaml").is_file() and (dataset / "preview.png").is_file()
    assert card["renderer"] and card["format_version"] == 2
    for r in records:
        assert r["answer"] == r["options"][r["answer_index"]]
        info = probe(dataset / r["video"])
        assert (info["codec"], info["pix_fmt"]) == ("h264", "yuv420p")
        assert (info["width"], info["height"]) == (64, 48)
        assert r["num_frames"] == 8 and r["fps"] == 8.0
        for key in ("object.shape", "object.color", "object.size", "object.rotation_deg", "motion.direction",
                    "motion.speed", "light.azimuth_deg", "light.elevation_deg", "light.intensity",
                    "background.kind", "camera.fov_deg"):  # fmt: skip
            assert key in r["params"]
        track = r["tracks"][0]
        assert len(track["center_px"]) == len(track["visible"]) == 8
    # Exactly balanced answers: 8 samples, 4 directions.
    assert card["answer_balance"] == {"down": 2, "left": 2, "right": 2, "up": 2}
    assert synth("verify", f"data={dataset}").returncode == 0


def test_ground_truth_agrees_with_tracks_and_clip(dataset):
    record = read_manifest(dataset)[0]
    gt = read_gt(dataset, record["id"])
    inst, depth, flow = gt["instances"], gt["depth"], gt["flow"]
    assert gt["normals"].shape == (8, 48, 64, 3)
    centre = np.array(record["tracks"][0]["center_px"])
    for k in range(8):
        ys, xs = np.nonzero(inst[k] == 1)
        assert abs(xs.mean() + 0.5 - centre[k, 0]) < 2.5 and abs(ys.mean() + 0.5 - centre[k, 1]) < 2.5
        assert depth[k][inst[k] == 1].max() < depth[k][inst[k] == 0].min()
    mean_flow = np.array([flow[k][inst[k] == 1].mean(0) for k in range(7)])
    assert np.allclose(mean_flow, np.diff(centre, axis=0), atol=0.5)
    # The answer is where the pixels go: direction of the tracked centre.
    d = centre[-1] - centre[0]
    expected = {"left": d[0] < 0, "right": d[0] > 0, "up": d[1] < 0, "down": d[1] > 0}
    assert expected[record["answer"]] and max(abs(d)) > 5


def test_midpoint_is_independent_of_the_answer(tmp_path):
    out = tmp_path / "mid"
    synth("generate", *SMALL, "n=16", "seed=3", f"out={out}", "clip.seconds=0.5")
    mids = {}
    for r in read_manifest(out):
        mids.setdefault(r["answer"], []).append([r["params"]["motion.mid_x"], r["params"]["motion.mid_y"]])
    # The middle frame shows the midpoint: its distribution must not tell the direction. The
    # midpoint is anywhere in the view: each answer's mean (4 samples) stays within 3 standard
    # errors of the centre (tests/eval/test_audit.py probes the frames themselves).
    means = np.array([np.mean(v, axis=0) for v in mids.values()])
    spread = np.std(np.concatenate(list(mids.values())), axis=0)
    assert (np.abs(means) < 3 * spread / np.sqrt(min(len(v) for v in mids.values()))).all()


def test_same_config_and_seed_give_identical_clips_whatever_n(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    synth("generate", *SMALL, "n=2", "seed=11", f"out={a}")
    synth("generate", *SMALL, "n=4", "seed=11", f"out={b}")
    sa, sb = shas(a), shas(b)
    assert sa == {k: sb[k] for k in sa}
    assert (a / "clips").joinpath(f"{next(iter(sa))}.mp4").read_bytes() == (b / "clips").joinpath(f"{next(iter(sa))}.mp4").read_bytes()


def test_lossless_video_is_bit_exact_ffv1(tmp_path):
    out = tmp_path / "ll"
    synth("generate", *SMALL, "n=1", f"out={out}", "video.lossless=true")
    r = read_manifest(out)[0]
    assert r["video"].endswith(".mkv") and probe(out / r["video"])["codec"] == "ffv1"
    from synth.generate import ClipConfig, Config, Job, RenderConfig, SampleMaker, VideoConfig, build_sample

    cfg = Config(render=RenderConfig(64, 48), clip=ClipConfig(8.0, 1.0), video=VideoConfig(lossless=True))
    maker = SampleMaker(cfg)
    scene = build_sample(maker.task, cfg, maker.fixed, Job(0), maker.clip)[0].scene
    frames = maker.renderer.render(scene, maker.clip.times, maker.clip.fps)
    decoded, _ = read_clip(out / r["video"])
    assert np.array_equal(decoded, frames)


def test_resume_after_kill_completes_without_duplicates(tmp_path):
    out = tmp_path / "resume"
    args = [sys.executable, "-m", "synth.cli", "generate", *SMALL, "n=12", "seed=5", f"out={out}"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = out / "manifest.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if manifest.is_file() and manifest.read_text().count("\n") >= 3:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = read_manifest(out)
    assert 3 <= len(partial) < 12 and not (out / "dataset.json").exists()
    synth("generate", *SMALL, "n=12", "seed=5", f"out={out}")
    records = read_manifest(out)
    assert len(records) == 12 == len({r["id"] for r in records})
    assert synth("verify", f"data={out}").returncode == 0
    clean = tmp_path / "clean"
    synth("generate", *SMALL, "n=12", "seed=5", f"out={clean}")
    assert shas(out) == shas(clean)


def test_a_different_config_is_refused_unless_overwrite(dataset, tmp_path):
    before = (dataset / "manifest.jsonl").read_bytes()
    proc = synth("generate", *SMALL, "n=8", "seed=8", f"out={dataset}", "gt=true", check=False)
    assert proc.returncode == 2 and "seed" in proc.stderr and "overwrite=true" in proc.stderr
    assert (dataset / "manifest.jsonl").read_bytes() == before
    other = tmp_path / "other"
    synth("generate", *SMALL, "n=2", "seed=1", f"out={other}")
    synth("generate", *SMALL, "n=2", "seed=2", f"out={other}", "overwrite=true")
    assert {r["seed"] for r in read_manifest(other)}.isdisjoint({r["seed"] for r in read_manifest(dataset)})
    assert read_card(other)["config"]["seed"] == 2


def test_verify_detects_a_modified_clip(tmp_path):
    out = tmp_path / "v"
    synth("generate", *SMALL, "n=2", f"out={out}")
    clip = out / read_manifest(out)[1]["video"]
    data = bytearray(clip.read_bytes())
    data[-10] ^= 0xFF
    clip.write_bytes(bytes(data))
    proc = synth("verify", f"data={out}", check=False)
    assert proc.returncode == 1 and "sha256" in proc.stdout


@pytest.mark.parametrize(
    "override, key",
    [
        ("task=spin", "task"),
        ("colour=red", "colour"),
        ("n=0", "n"),
        ("clip.fps=0", "clip.fps"),
        ("render.width=0", "render.width"),
        ("render.width=63", "render.width"),
        ("render.msaa=3", "render.msaa"),
        ("video.codec=mpeg2", "video.codec"),
        ("video.crf=99", "video.crf"),
        ("video.preset=bogus", "video.preset"),
        ("n=abc", "n"),
        ("object.colr=red", "object.colr"),
        ("object.color=mauve", "object.color"),
        ("camera.shutter_deg=400", "camera.shutter_deg"),
        ("sweep.variable=object.weight", "sweep.variable"),
        ("degradation=[nope]", "degradation"),
    ],
)
def test_bad_input_is_one_line_naming_the_key(tmp_path, override, key):
    out = tmp_path / "bad"
    proc = synth("generate", *SMALL, "n=2", f"out={out}", override, check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("synth: error:") and key in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_an_unrelated_directory_is_never_written(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    proc = synth("generate", *SMALL, "n=1", f"out={tmp_path}", "overwrite=true", check=False)
    assert proc.returncode == 2 and "not a synth dataset" in proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_list_tasks_names_direction_first():
    lines = synth("list", "tasks").stdout.splitlines()
    assert lines[0].split()[0] == "direction"


def test_sweep_changes_only_the_swept_variable(tmp_path):
    out = tmp_path / "sweep"
    synth("generate", *SMALL, "n=2", f"out={out}", "sweep.variable=object.rotation_deg", "sweep.values=[0,5,10]")
    records = read_manifest(out)
    assert len(records) == 6
    for group in {r["group"] for r in records}:
        members = [r for r in records if r["group"] == group]
        assert [m["sweep"]["value"] for m in members] == [0, 5, 10]
        assert [m["params"]["object.rotation_deg"] for m in members] == [0.0, 5.0, 10.0]
        rest = [{k: v for k, v in m["params"].items() if k != "object.rotation_deg"} for m in members]
        assert rest[0] == rest[1] == rest[2]
        assert len({m["sha256"] for m in members}) == 3


def test_parallel_jobs_and_merged_shards_equal_the_serial_run(tmp_path):
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    common = [*SMALL, "n=6", "seed=9"]
    synth("generate", *common, f"out={serial}")
    synth("generate", *common, f"out={parallel}", "jobs=2")
    assert (serial / "manifest.jsonl").read_bytes() == (parallel / "manifest.jsonl").read_bytes()
    shards = [tmp_path / f"shard{i}" for i in range(3)]
    for i, shard in enumerate(shards):
        synth("generate", *common, f"out={shard}", f"shard.index={i}", "shard.count=3")
    merged = tmp_path / "merged"
    synth("merge", *[f"data={s}" for s in shards], f"out={merged}")
    assert (merged / "manifest.jsonl").read_bytes() == (serial / "manifest.jsonl").read_bytes()
    assert synth("verify", f"data={merged}").returncode == 0
    assert json.loads((merged / "dataset.json").read_text())["fingerprint"] == read_card(serial)["fingerprint"]


def test_manifest_and_card_are_strict_json_with_an_infinite_parameter(tmp_path):
    """``focus_m=inf`` (a lens focused at infinity) is recorded as "inf": a bare ``Infinity`` is not
    JSON, and strict readers (jq, JavaScript, Arrow) would refuse the whole manifest."""
    out = tmp_path / "ds"
    synth("generate", *SMALL, "n=1", "degradation=[defocus]", "degradation.defocus.severity=2",
          "degradation.defocus.focus_m=inf", f"out={out}")  # fmt: skip

    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    lines = (out / "manifest.jsonl").read_text().splitlines()
    records = [json.loads(line, parse_constant=refuse) for line in lines]
    card = json.loads((out / "dataset.json").read_text(), parse_constant=refuse)
    assert records[0]["degradations"][0]["params"]["focus_m"] == "inf"
    assert '"inf"' in json.dumps(card)
    assert synth("verify", f"data={out}").returncode == 0


def test_a_worker_that_cannot_start_reports_why_with_its_first_sample(tmp_path):
    """A worker whose set-up fails (here the GL driver refusing 3 samples a pixel, which
    `validate` now stops first) raises that error on its first sample, so a `jobs>1` run reports
    what `jobs=1` would instead of an anonymous dead worker."""
    from synth import generate

    cfg = generate.Config(render=generate.RenderConfig(32, 32, msaa=3), clip=generate.ClipConfig(6.0, 1.0))
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    threads = os.environ.get("LP_NUM_THREADS")
    generate._init_worker(cfg)  # as in a worker process: it sets signals and llvmpipe's threads
    try:
        with pytest.raises(Exception, match="number of samples is invalid"):
            generate._work((tmp_path, generate.Job(0)))
    finally:
        generate._WORKER = None
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        if threads is None:
            os.environ.pop("LP_NUM_THREADS", None)
        else:
            os.environ["LP_NUM_THREADS"] = threads
