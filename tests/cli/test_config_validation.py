"""Numbers at the config boundary (issue 19): every numeric key is finite where infinity means
nothing, positive where zero means nothing, never NaN, and a bad value is one line naming the key
and its allowed range (exit 2, no traceback); infinity works where it has a physical meaning
(focus at infinity). A group option listed twice and an unknown ``+key`` are refused. Budgets are
checked before anything is allocated or decoded, each error saying how to go bigger. Real CLI,
in-process where a run is quick; a subprocess where its memory is measured."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

import pytest

from synth.cli import main
from synth.degradations.codec import FFMPEG

from support.cli import TINY, one_error_line


def refused(capsys, *args: str) -> str:
    assert main(list(args)) == 2
    return one_error_line(capsys)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("data") / "clean"
    assert main(["generate", *TINY, "n=2", f"out={root}", "video.lossless=true"]) == 0
    return root


# -- NaN, infinity, zero and signs -------------------------------------------------------------


@pytest.mark.parametrize(
    "override, words",
    [
        ("motion.speed=nan", ["motion.speed=nan", "not a number", "> 0"]),  # NaN reached the manifest
        ("light.intensity=nan", ["light.intensity=nan", "not a number", ">= 0"]),
        ("object.size=0", ["object.size=0", "> 0"]),  # accepted: a sizeless object
        ("motion.speed=-1", ["motion.speed=-1", "> 0"]),
        ("clip.fps=inf", ["clip.fps=inf", "finite"]),  # traceback (OverflowError)
        ("clip.seconds=inf", ["clip.seconds=inf", "finite"]),
        ("camera.fov_deg=0", ["camera.fov_deg=0", "0.1..179"]),  # traceback (ZeroDivisionError)
        ("camera.fov_deg=5e-324", ["camera.fov_deg=5e-324", "0.1..179"]),  # underflowed to 0: the same traceback
        ("camera.distance=1e300", ["camera.distance=1e+300", "> 0 and <= 100"]),  # traceback (OverflowError)
        ("camera.fov_deg=inf", ["camera.fov_deg=inf", "finite"]),  # "math domain error", no key
        ("seed=-1", ["seed=-1", ">= 0"]),  # traceback (SeedSequence)
        ("render.msaa=0", ["render.msaa=0", "1..16"]),
        ("stage.floor_tiles=inf", ["stage.floor_tiles=inf", "finite"]),
    ],
)
def test_a_number_outside_its_range_is_one_line_naming_the_key_and_the_range(tmp_path, capsys, override, words):
    line = refused(capsys, "generate", *TINY, "n=1", f"out={tmp_path / 'out'}", override)
    assert all(w in line for w in words), line
    assert not (tmp_path / "out").exists()


def test_an_integer_too_large_for_a_float_key_names_the_key(tmp_path, capsys):
    line = refused(capsys, "generate", *TINY, "n=1", f"out={tmp_path / 'o'}", "object.x=1" + "0" * 400)
    assert "object.x=" in line and "too large" in line  # was "int too large to convert to float"


def test_a_swept_value_obeys_its_keys_range(tmp_path, capsys):
    line = refused(capsys, "generate", *TINY, "n=1", f"out={tmp_path / 'o'}", "sweep.variable=object.size",
                   "sweep.values=[0.5,0]")  # fmt: skip
    assert "sweep.values: object.size=0" in line and "> 0" in line


def test_a_degradation_parameter_is_finite_where_infinity_means_nothing(tmp_path, capsys):
    line = refused(capsys, "generate", *TINY, "n=1", f"out={tmp_path / 'o'}", "degradation=[lens]",
                   "degradation.lens.k1=-0.1", "degradation.lens.focal_px=inf")  # fmt: skip
    assert "degradation.lens.focal_px=inf" in line  # gave an all-black clip


def test_focus_at_infinity_is_physical(tmp_path, capsys):
    """``focus_m=inf`` lies in its own range: the thin lens's limit, not a NaN blur radius."""
    out = tmp_path / "far"
    assert main(["generate", *TINY, "n=1", f"out={out}", "degradation=[defocus]", "degradation.defocus.f_number=2",
                 "degradation.defocus.focus_m=inf"]) == 0  # fmt: skip
    assert main(["verify", f"data={out}"]) == 0
    record = json.loads((out / "manifest.jsonl").read_text().splitlines()[0])
    assert record["degradations"][0]["params"]["focus_m"] == float("inf") or "inf" in json.dumps(record["degradations"])


def test_a_lens_cannot_focus_closer_than_its_focal_length(tmp_path, capsys):
    line = refused(capsys, "generate", *TINY, "n=1", f"out={tmp_path / 'o'}", "degradation=[defocus]",
                   "degradation.defocus.f_number=2", "degradation.defocus.focus_m=0.02")  # fmt: skip
    assert "degradation.defocus.focus_m=0.02" in line and "focal" in line


def test_a_model_key_is_checked_too(dataset, capsys):
    line = refused(capsys, "eval", f"data={dataset}", "model=flow", "model.min_px=nan")  # scored 0, silently
    assert "model.min_px=nan" in line and "> 0" in line
    assert not (dataset / "evals").exists()


# -- duplicated stages and unknown +keys -------------------------------------------------------


def test_a_stage_listed_twice_is_refused(tmp_path, capsys):
    line = refused(capsys, "generate", *TINY, "n=1", f"out={tmp_path / 'o'}", "degradation=[fog,fog]",
                   "degradation.fog.severity=2")  # fmt: skip
    assert "degradation=[fog,fog]" in line and "twice" in line


@pytest.mark.parametrize("key, allowed", [("+render.foo=1", "width, height, msaa, shadow_size"), ("+foo=3", "task, n, seed")])
def test_an_added_key_the_schema_does_not_know_is_refused(tmp_path, capsys, key, allowed):
    line = refused(capsys, "generate", *TINY, "n=1", f"out={tmp_path / 'o'}", key)
    assert f"unknown key '{key[1:].split('=')[0]}'" in line and allowed in line
    assert not (tmp_path / "o").exists()


def test_an_added_degradation_key_is_refused(tmp_path, capsys):
    line = refused(capsys, "generate", *TINY, "n=1", f"out={tmp_path / 'o'}", "degradation=[fog]",
                   "degradation.fog.severity=1", "+degradation.fog.bar=1")  # fmt: skip
    assert "unknown key 'degradation.fog.bar'" in line and "beta_per_m" in line


# -- budgets before work ------------------------------------------------------------------------


def _peak_rss_of_child(args: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess, int]:
    """Run ``synth *args`` in a fresh process capped at 6 GiB of address space (a regression fails
    there instead of exhausting the machine); returns it and its peak RSS in bytes."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))

    code = "import sys, resource; from synth.cli import main; rc = main(sys.argv[1:]); " \
           "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(rc)"  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                          preexec_fn=cap, timeout=300)  # fmt: skip
    *lines, peak = proc.stderr.strip().splitlines()
    proc.stderr = "\n".join(lines)
    return proc, int(peak) * 1024


def test_a_huge_n_is_refused_before_anything_grows(tmp_path):
    proc, peak = _peak_rss_of_child(["generate", *TINY, "n=100000000000000000000", f"out={tmp_path / 'o'}"], dict(os.environ))
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and "n=10^20: 10^20 samples" in proc.stderr
    assert "shard.count=" in proc.stderr and "merge" in proc.stderr  # how to go bigger
    assert peak < 1 << 30
    assert not (tmp_path / "o").exists()


def test_a_render_size_over_the_memory_budget_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SYNTH_MEMORY_GB", "1")
    line = refused(capsys, "generate", *TINY, "n=1", "render.width=8192", "render.height=8192", f"out={tmp_path / 'o'}")
    assert "render.width=8192" in line and "SYNTH_MEMORY_GB" in line and "render smaller" in line


def test_workers_over_the_memory_budget_are_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SYNTH_MEMORY_GB", "2")
    line = refused(capsys, "generate", *TINY, "n=8", "jobs=64", f"out={tmp_path / 'o'}")
    assert "jobs=64" in line and "at most jobs=" in line


def test_a_huge_source_frame_is_refused_before_it_is_decoded(tmp_path):
    """12000x12000 (432 MB a frame, tens of GB in the camera model) passed 2.5 GB before any check."""
    src = tmp_path / "huge.mkv"
    subprocess.run([FFMPEG, "-loglevel", "error", "-f", "lavfi", "-i", "color=c=gray:s=12000x12000:r=1:d=2",
                    "-c:v", "ffv1", str(src)], check=True)  # fmt: skip
    env = {**os.environ, "SYNTH_MEMORY_GB": "4"}
    proc, peak = _peak_rss_of_child(["degrade", f"src={src}", f"out={tmp_path / 'out.mkv'}", "degradation=[fog]",
                                     "degradation.fog.severity=1", "video.lossless=true"], env)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and "12000x12000" in proc.stderr and "SYNTH_MEMORY_GB" in proc.stderr
    assert peak < 1536 << 20  # the interpreter, torch and ffprobe's facts: no frame decoded
    assert not (tmp_path / "out.mkv").exists()
