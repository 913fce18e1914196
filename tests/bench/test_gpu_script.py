"""The GPU run (`make bench-gpu`) as a CPU smoke test: the same sections at tiny sizes, torch on
the CPU and the renderer on whatever EGL offers (llvmpipe here). It must finish and write one row
per measure; its figures are not checked (benchmarks are not tests)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_make_bench_gpu_runs_the_gpu_sections():
    recipe = re.search(r"^bench-gpu:.*\n\t(.+)$", (REPO / "Makefile").read_text(), re.M).group(1)
    assert "synth bench sections=[gpu] device=cuda" in recipe


def test_the_gpu_sections_run_on_the_cpu_at_tiny_sizes(tmp_path):
    out = tmp_path / "bench-gpu.md"
    proc = subprocess.run([sys.executable, "-m", "synth.cli", "bench", "sections=[gpu]", "device=cpu", "quick=true",
                           f"out={out}"], capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = out.read_text()
    for row in ("render 64x64 shutter 0, MSAA 1x", "render 160x90 shutter 0, MSAA 4x", "renderer:",
                "degradations: full non-codec stack (17 stages) 32² cpu", "end-to-end on all cores / encode-only",
                "synth probe, tiny Qwen2-VL"):  # fmt: skip
        assert row in table, table
    values = [line.split("|")[2].strip() for line in table.splitlines() if line.startswith("| ") and "renderer:" not in line]
    assert all(v and v != "nan" for v in values[1:]), table  # every measure produced a number
