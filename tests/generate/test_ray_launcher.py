"""Hydra's Ray launcher runs deterministic shards on a local Ray cluster (started by the launcher)
that `synth merge` turns into the serial dataset, as the submitit launcher does
(tests/generate/test_launchers.py). Needs the `ray` extra (`pip install -e ".[ray]"`:
hydra-ray-launcher and Ray); skipped without it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from support.cli import SMALL, synth

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is None or importlib.util.find_spec("ray") is None,
    reason="hydra-ray-launcher and ray are not installed (pip install -e '.[ray]')",
)


def test_ray_shards_merge_into_the_serial_dataset(tmp_path):
    common = [*SMALL, "n=4", "seed=6"]
    serial = tmp_path / "serial"
    synth("generate", *common, f"out={serial}")
    shards = tmp_path / "shards"
    # A local Ray cluster of 2 CPUs, one per shard.
    synth("generate", "-m", "hydra/launcher=ray", "+hydra.launcher.ray.init.num_cpus=2", *common, f"out={shards}",
          "shard.index=0,1", "shard.count=2", cwd=tmp_path)  # fmt: skip
    parts = sorted(p for p in Path(shards).iterdir() if p.is_dir())
    assert [p.name for p in parts] == ["shard.index=0", "shard.index=1"]
    merged = tmp_path / "merged"
    synth("merge", *[f"data={p}" for p in parts], f"out={merged}")
    assert (merged / "manifest.jsonl").read_bytes() == (serial / "manifest.jsonl").read_bytes()
    assert synth("verify", f"data={merged}").returncode == 0
