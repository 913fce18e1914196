"""Hydra multirun gives paired datasets; Hydra's submitit launcher runs deterministic shards that
`synth merge` turns into the serial dataset."""

from __future__ import annotations

from pathlib import Path

from synth.dataset import read_manifest
from support.cli import SMALL, synth


def test_multirun_gives_paired_datasets_one_per_value(tmp_path):
    out = tmp_path / "rot"
    synth("generate", "-m", *SMALL, "n=2", "seed=4", f"out={out}", "object.rotation_deg=0,10", cwd=tmp_path)
    a = read_manifest(out / "object.rotation_deg=0")
    b = read_manifest(out / "object.rotation_deg=10")
    assert [r["group"] for r in a] == [r["group"] for r in b]
    for ra, rb in zip(a, b):
        assert (ra["params"]["object.rotation_deg"], rb["params"]["object.rotation_deg"]) == (0.0, 10.0)
        strip = lambda p: {k: v for k, v in p.items() if k != "object.rotation_deg"}  # noqa: E731
        assert strip(ra["params"]) == strip(rb["params"])
        assert ra["sha256"] != rb["sha256"]


def test_a_bad_multirun_value_fails_before_any_job(tmp_path):
    out = tmp_path / "bad"
    proc = synth("generate", "-m", *SMALL, "n=1", f"out={out}", "clip.fps=8,0", check=False, cwd=tmp_path)
    assert proc.returncode == 2 and "clip.fps" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_submitit_shards_merge_into_the_serial_dataset(tmp_path):
    common = [*SMALL, "n=4", "seed=6"]
    serial = tmp_path / "serial"
    synth("generate", *common, f"out={serial}")
    shards = tmp_path / "shards"
    synth("generate", "-m", "hydra/launcher=submitit_local", *common, f"out={shards}",
          "shard.index=0,1", "shard.count=2", cwd=tmp_path)  # fmt: skip
    parts = sorted(Path(shards).iterdir())
    assert [p.name for p in parts] == ["shard.index=0", "shard.index=1"]
    merged = tmp_path / "merged"
    synth("merge", *[f"data={p}" for p in parts], f"out={merged}")
    assert (merged / "manifest.jsonl").read_bytes() == (serial / "manifest.jsonl").read_bytes()
    assert synth("verify", f"data={merged}").returncode == 0


def test_a_launcher_without_a_sweep_writes_the_dataset_at_out(tmp_path):
    """One job through a launcher writes `out=` itself; Hydra's sweep folder used to go there as
    `.hydra`, so the job refused its own output as a folder synth did not make."""
    out = tmp_path / "one"
    proc = synth("generate", "hydra/launcher=joblib", *SMALL, "n=1", f"out={out}", check=False, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["clips", "config.yaml", "dataset.json", "gt", "manifest.jsonl",
                                                     "preview.png"]  # fmt: skip
    assert synth("verify", f"data={out}").returncode == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["one"]


def test_a_launcher_that_is_not_installed_is_one_line(tmp_path):
    """Hydra's own refusal is a dozen lines (the options, its search path, HYDRA_FULL_ERROR)."""
    proc = synth("generate", "hydra/launcher=nope", *SMALL, "n=1", f"out={tmp_path / 'r'}", check=False, cwd=tmp_path)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, lines
    assert lines[0].startswith("synth: error: hydra/launcher=nope: allowed basic, joblib, submitit_local")
    assert list(tmp_path.iterdir()) == []
