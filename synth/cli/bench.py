"""synth bench: measure render, encode, end-to-end, scaling, memory and degradation speed.

  synth bench [quick=true] [out=docs/performance.md] [sections=[render,encode,generate,workers,memory,degrade]]

Prints a markdown table (metric, value, unit, goal) and the machine it ran on; with ``out=`` the
table is also written there. Timings are wall-clock medians of repeated runs on this machine.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List

import numpy as np

from synth.errors import UserError

SECTIONS = ("render", "encode", "generate", "workers", "memory", "degrade")
SIZE, FPS, SECONDS = 256, 30, 4


@dataclass
class Config:
    quick: bool = False
    out: str = ""
    sections: List[str] = field(default_factory=lambda: list(SECTIONS))


Row = tuple[str, float, str, str]


def _best_of(fn: Callable[[], None], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _direction_scene(shutter_deg: float):
    from synth import scenes
    from synth.scenes.base import Clip
    from synth.sampling import ParamDraw

    clip = Clip(FPS, FPS * SECONDS, SIZE, SIZE)
    fixed = {"camera.shutter_deg": shutter_deg, "background.kind": "gradient"}
    return scenes.get("direction").build(ParamDraw(np.random.default_rng(0), fixed), "left", clip).scene, clip


def bench_render(quick: bool) -> list[Row]:
    from synth.renderer import Renderer

    rows = []
    frames = 30 if quick else FPS * SECONDS
    for msaa in (4, 1):
        r = Renderer(SIZE, SIZE, msaa=msaa)
        for shutter, label in ((0.0, "shutter 0"), (180.0, "8 sub-frames")):
            scene, clip = _direction_scene(shutter)
            times = clip.times[:frames]
            r.render(scene, times[:3], FPS)
            seconds = _best_of(lambda: r.render(scene, times, FPS), 1 if quick else 3)
            goal = ">= 1000 (CPU), >= 10000 (GPU)" if shutter == 0 else ""
            rows.append((f"render {SIZE}² {label}, MSAA {msaa}x", frames / seconds, "frames/s", goal))
        renderer = r.gl_renderer
        r.release()
    rows.append((f"renderer: {renderer}", float("nan"), "", ""))
    return rows


def _frames() -> np.ndarray:
    from synth.renderer import Renderer

    scene, clip = _direction_scene(0.0)
    r = Renderer(SIZE, SIZE)
    frames = r.render(scene, clip.times, FPS)
    r.release()
    return frames


def bench_encode(quick: bool) -> list[Row]:
    from synth.video import EncodeSettings, write_clip

    frames = _frames()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        seconds = _best_of(lambda: write_clip(frames, path, FPS, EncodeSettings()), 1 if quick else 3)
    return [(f"encode-only H.264 {SIZE}² (crf 18, medium)", len(frames) / seconds, "frames/s", "the limit")]


def _generate(n: int, out: Path, extra: list[str], env: dict | None = None) -> float:
    args = [sys.executable, "-m", "synth.cli", "generate", "task=direction", f"n={n}", f"out={out}",
            f"render.width={SIZE}", f"render.height={SIZE}", f"clip.fps={FPS}", f"clip.seconds={SECONDS}",
            "progress=false", *extra]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, env={**os.environ, **(env or {})})
    return time.perf_counter() - start


def bench_generate(quick: bool, encode_fps: float | None) -> list[Row]:
    n = 3 if quick else 12
    with tempfile.TemporaryDirectory() as tmp:
        seconds = _generate(n, Path(tmp) / "e2e", [])
    clips_per_min = n / seconds * 60
    rows = [(f"synth generate end-to-end {SIZE}², {FPS} fps, {SECONDS} s (n={n}, process start included)",
             clips_per_min, "clips/min", "")]  # fmt: skip
    if encode_fps:
        encode_clips_per_min = encode_fps / (FPS * SECONDS) * 60
        rows.append(("end-to-end / encode-only", 100 * clips_per_min / encode_clips_per_min, "%", ">= 50"))
    return rows


def bench_workers(quick: bool) -> list[Row]:
    n = 6 if quick else 24
    with tempfile.TemporaryDirectory() as tmp:
        one_core = n / _generate(n, Path(tmp) / "c1", [], env={"LP_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}) * 60
        serial = n / _generate(n, Path(tmp) / "j1", []) * 60
        pool = n / _generate(n, Path(tmp) / "j2", ["jobs=2"]) * 60
    return [
        (f"generate jobs=1, renderer on 1 thread (n={n})", one_core, "clips/min", ""),
        (f"generate jobs=1, renderer on 2 threads (the default, n={n})", serial, "clips/min", ""),
        (f"generate jobs=2 (a process per core, n={n})", pool, "clips/min", ""),
        ("speed-up of jobs=2 over one single-threaded worker", pool / one_core, "x", ">= 1.8"),
        ("speed-up of jobs=2 over the default jobs=1", pool / serial, "x", ""),
    ]


def _peak_rss_mb(n: int, out: Path) -> float:
    code = (
        "import resource, sys; from synth.cli import main; "
        f"main(['generate', 'task=direction', 'n={n}', 'out={out}', 'render.width=64', 'render.height=64', "
        "'clip.fps=8', 'clip.seconds=1', 'progress=false']); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    proc = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return int(proc.stdout.strip().splitlines()[-1]) / 1024


def bench_memory(quick: bool) -> list[Row]:
    sizes = (20, 200) if quick else (100, 2000)
    with tempfile.TemporaryDirectory() as tmp:
        return [(f"peak RSS, n = {n} (64², 8 frames)", _peak_rss_mb(n, Path(tmp) / f"m{n}"), "MB", "flat, < 600")
                for n in sizes]  # fmt: skip


def bench_degrade(quick: bool) -> list[Row]:
    from synth.degradations.bench import degradations_bench

    return [tuple(row) for row in degradations_bench()]


def run(cfg: Config) -> None:
    unknown = [s for s in cfg.sections if s not in SECTIONS]
    if unknown:
        raise UserError(f"sections: unknown {', '.join(unknown)}; allowed {', '.join(SECTIONS)}")
    rows: list[Row] = []
    encode_fps = None
    for section in cfg.sections:
        if section == "encode":
            part = bench_encode(cfg.quick)
            encode_fps = part[0][1]
        elif section == "generate":
            part = bench_generate(cfg.quick, encode_fps)
        else:
            part = globals()[f"bench_{section}"](cfg.quick)
        rows += part
        for row in part:
            print(_line(row), flush=True)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    table = "\n".join(["| metric | value | unit | goal |", "|---|---:|---|---|", *map(_line, rows)])
    text = f"Machine: {machine}\n\n{table}\n"
    print()
    print(text)
    if cfg.out:
        Path(cfg.out).write_text(text)


def _line(row: Row) -> str:
    name, value, unit, goal = row
    shown = "" if value != value else f"{value:,.1f}"  # NaN: an information row
    if isinstance(goal, (int, float)):
        goal = f">= {goal:g}"
    return f"| {name} | {shown} | {unit} | {goal or ''} |"

