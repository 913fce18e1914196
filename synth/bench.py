"""Speed and memory benchmarks: render, encode, end-to-end generation, worker scaling, memory
and degradation throughput, as rows (metric, value, unit, goal) of a Markdown table.

Timings are wall-clock medians or minima of repeated runs on this machine; end-to-end figures
run the real ``synth`` command line in fresh processes.
"""

from __future__ import annotations

import functools
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np

SIZE, FPS, SECONDS = 256, 30, 4

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
    from synth.scenes.task import ClipFormat
    from synth.sampling import ParamDraw

    clip = ClipFormat(FPS, FPS * SECONDS, SIZE, SIZE)
    fixed = {"camera.shutter_deg": shutter_deg, "background.kind": "gradient"}
    return scenes.get("direction").build(ParamDraw(np.random.default_rng(0), fixed), "left", clip).scene, clip


def bare_loop(size: int, samples: int, dtype: str, frames: int) -> Callable[[], None]:
    """The renderer's limit: a bare moderngl loop of ``frames`` frames that each clear a
    ``size``² target (``samples`` x MSAA, ``dtype`` "f4" RGBA32F or "f2" RGBA16F), draw one
    triangle, resolve it into an RGBA8 target by a framebuffer blit and read back RGB."""
    import moderngl

    ctx = moderngl.create_context(standalone=True, backend="egl")
    prog = ctx.program(
        vertex_shader="#version 330\nin vec2 p;\nvoid main() { gl_Position = vec4(p, 0.0, 1.0); }",
        fragment_shader="#version 330\nout vec4 c;\nvoid main() { c = vec4(0.5, 0.2, 0.1, 1.0); }",
    )
    vbo = ctx.buffer(np.array([-0.8, -0.8, 0.8, -0.8, 0.0, 0.8], "f4").tobytes())
    vao = ctx.vertex_array(prog, [(vbo, "2f", "p")])
    draw = ctx.framebuffer(color_attachments=[ctx.renderbuffer((size, size), 4, samples=samples, dtype=dtype)])
    out = ctx.framebuffer(color_attachments=[ctx.renderbuffer((size, size), 4)])
    buffer = bytearray(size * size * 3)

    def loop() -> None:
        with ctx:
            for _ in range(frames):
                draw.use()
                draw.clear(0.0, 0.0, 0.0, 1.0)
                vao.render()
                ctx.copy_framebuffer(out, draw)
                out.read_into(buffer, components=3, alignment=1)

    return loop


def bench_render(quick: bool, device: str) -> list[Row]:
    from synth.renderer import Renderer

    rows = []
    frames = 30 if quick else FPS * SECONDS
    repeats = 1 if quick else 3
    for msaa in (4, 1):
        r = Renderer(SIZE, SIZE, msaa=msaa)
        for shutter, label in ((0.0, "shutter 0"), (180.0, "8 sub-frames")):
            scene, clip = _direction_scene(shutter)
            times = clip.times[:frames]
            r.render(scene, times[:3], FPS)
            seconds = _best_of(lambda: r.render(scene, times, FPS), repeats)
            goal = ">= 1000 (CPU), >= 10000 (GPU)" if shutter == 0 else ""
            rows.append((f"render {SIZE}² {label}, MSAA {msaa}x", frames / seconds, "frames/s", goal))
        renderer = r.gl_renderer
        r.release()
    # The standard scene against the bare loops, interleaved so that a load that comes and goes
    # hits both alike; each takes its fastest of the rounds.
    r = Renderer(SIZE, SIZE, msaa=4)
    scene, clip = _direction_scene(0.0)
    runs = {"standard": lambda: r.render(scene, clip.times[:frames], FPS)}
    limits = {(4, "f4"): "MSAA 4x RGBA32F", (4, "f2"): "MSAA 4x RGBA16F", (0, "f4"): "no MSAA, RGBA32F"}
    runs.update({label: bare_loop(SIZE, samples, dtype, frames) for (samples, dtype), label in limits.items()})
    best = {name: float("inf") for name in runs}
    cpu = dict(best)  # CPU seconds of this process (all its threads): the work, whatever the load
    for _ in range(1 + 2 * repeats):
        for name, run in runs.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
            cpu[name] = min(cpu[name], time.process_time() - start_cpu)
    r.release()
    for label in limits.values():
        rows.append((f"render limit {SIZE}²: bare clear + 1 triangle + blit resolve + read-back, {label}",
                     frames / best[label], "frames/s", ""))  # fmt: skip
    rows.append((f"render {SIZE}² shutter 0, MSAA 4x, in the same rounds", frames / best["standard"], "frames/s", ""))
    rows.append(("render of the standard scene / its limit (MSAA 4x RGBA32F)",
                 100 * best["MSAA 4x RGBA32F"] / best["standard"], "%", ">= 50"))  # fmt: skip
    rows.append(("the same by CPU time per frame (limit / standard)", 100 * cpu["MSAA 4x RGBA32F"] / cpu["standard"], "%", ""))
    rows.append((f"renderer: {renderer}", float("nan"), "", ""))
    return rows


def _frames() -> np.ndarray:
    from synth.renderer import Renderer

    scene, clip = _direction_scene(0.0)
    r = Renderer(SIZE, SIZE)
    frames = r.render(scene, clip.times, FPS)
    r.release()
    return frames


def bench_encode(quick: bool, device: str) -> list[Row]:
    from synth.video import EncodeSettings, write_clip

    frames = _frames()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        seconds = _best_of(lambda: write_clip(frames, path, FPS, EncodeSettings()), 1 if quick else 3)
    return [(f"encode-only H.264 {SIZE}² (crf 18, medium)", len(frames) / seconds, "frames/s", "the limit")]


def _generate(n: int, out: Path, extra: list[str], env: dict | None = None, one_core: bool = False) -> float:
    """Seconds for ``synth generate`` of ``n`` standard clips in a fresh process; with
    ``one_core`` it and its children (the ffmpeg encoders) may run on one CPU only."""
    return _generate_side_by_side(n, [out], extra, env, [min(os.sched_getaffinity(0))] if one_core else [None])


def _generate_side_by_side(
    n: int, outs: list[Path], extra: list[str], env: dict | None, cores: list[int | None]
) -> float:
    """Seconds until ``synth generate`` of ``n`` standard clips into each of ``outs`` is done, one
    fresh process per output started at once, each on its CPU in ``cores`` (its ffmpeg children
    too) or anywhere for None."""
    procs = []
    start = time.perf_counter()
    for out, core in zip(outs, cores):
        args = [sys.executable, "-m", "synth.cli", "generate", "task=direction", f"n={n}", f"out={out}",
                f"render.width={SIZE}", f"render.height={SIZE}", f"clip.fps={FPS}", f"clip.seconds={SECONDS}",
                "progress=false", *extra]  # fmt: skip
        pin = None if core is None else functools.partial(os.sched_setaffinity, 0, {core})
        procs.append(subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      env={**os.environ, **(env or {})}, preexec_fn=pin))  # fmt: skip
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode:
            raise subprocess.CalledProcessError(proc.returncode, proc.args, stderr=err)
    return time.perf_counter() - start


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children and their waited-for
    descendants (a generate run with its encoders)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_generate(quick: bool, device: str) -> list[Row]:
    """End-to-end against encode-only, interleaved in rounds (fastest of each) so that a passing
    load hits both alike: the encoder alone on the clip's frames, and the real CLI writing a
    dataset of ``n`` such clips, and of 2 (the run's one-time costs: process start, imports, GL
    context, dataset card, preview), whose difference is the per-clip rate."""
    from synth.video import EncodeSettings, write_clip

    n, small, rounds = (3, 1, 1) if quick else (12, 2, 2)
    frames = _frames()
    encode, e2e, e2e_small = float("inf"), float("inf"), float("inf")
    cpu = {"encode": float("inf"), "e2e": float("inf"), "small": float("inf")}  # CPU s, children included
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(rounds):
            start, start_cpu = time.perf_counter(), _children_cpu()
            write_clip(frames, Path(tmp) / "clip.mp4", FPS, EncodeSettings())
            encode = min(encode, time.perf_counter() - start)
            cpu["encode"] = min(cpu["encode"], _children_cpu() - start_cpu)
            start_cpu = _children_cpu()
            e2e = min(e2e, _generate(n, Path(tmp) / f"e2e{k}", []))
            cpu["e2e"], start_cpu = min(cpu["e2e"], _children_cpu() - start_cpu), _children_cpu()
            e2e_small = min(e2e_small, _generate(small, Path(tmp) / f"e2e-small{k}", []))
            cpu["small"] = min(cpu["small"], _children_cpu() - start_cpu)
    clips_per_min, encode_clips_per_min = n / e2e * 60, 60 / encode
    steady = (n - small) / max(e2e - e2e_small, 1e-9) * 60
    clip_cpu = (cpu["e2e"] - cpu["small"]) / (n - small)
    cores = len(os.sched_getaffinity(0))
    return [
        (f"synth generate end-to-end {SIZE}², {FPS} fps, {SECONDS} s (n={n}, process start included)",
         clips_per_min, "clips/min", ""),
        ("encode-only in the same rounds", encode_clips_per_min, "clips/min", ""),
        ("end-to-end / encode-only", 100 * clips_per_min / encode_clips_per_min, "%", ""),
        (f"a run of n={small} clips (mostly one-time costs)", e2e_small, "s", ""),
        (f"end-to-end per clip beyond the one-time costs (n={n} less n={small})", steady, "clips/min", ""),
        ("end-to-end per clip / encode-only", 100 * steady / encode_clips_per_min, "%", ">= 50"),
        (f"CPU per clip beyond the one-time costs (n={n} less n={small}; generate with its encoders)",
         1000 * clip_cpu, "ms", ""),
        ("CPU of encode-only per clip", 1000 * cpu["encode"], "ms", ""),
        (f"the most end-to-end / encode-only can reach on {cores} cores, by CPU time (cores x encode / end-to-end)",
         100 * min(cores * cpu["encode"] / max(clip_cpu, 1e-9), 1.0), "%", ""),
    ]  # fmt: skip


def bench_workers(quick: bool, device: str) -> list[Row]:
    """jobs=2 against one worker on one core and the default, interleaved in rounds (fastest of
    each). The one-core worker's encoder is pinned to its core too: it encodes while the worker
    renders, so unpinned it would already use a second core. Each set-up also runs with 2 clips:
    a run's one-time costs (process and worker start, imports, GL context, dataset card and
    preview; about 1 s here) are the same with one worker or two, so the speed-up per clip
    beyond them ((n - 2) clips over the time difference) is how the workers scale."""
    n, small, rounds = (6, 2, 1) if quick else (24, 2, 2)
    single = {"LP_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    runs = {"one_core": ([], single, True), "serial": ([], None, False), "pool": (["jobs=2"], None, False)}
    best = {(name, m): float("inf") for name in runs for m in (n, small)}
    cores = sorted(os.sched_getaffinity(0))[:2]
    apart = float("inf")  # two separate one-core runs side by side: what two cores can give
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(rounds):
            for name, (extra, env, pinned) in runs.items():
                for m in (n, small):
                    seconds = _generate(m, Path(tmp) / f"{name}{m}-{k}", extra, env=env, one_core=pinned)
                    best[name, m] = min(best[name, m], seconds)
            if len(cores) == 2:
                outs = [Path(tmp) / f"apart{c}-{k}" for c in cores]
                apart = min(apart, _generate_side_by_side(n, outs, [], single, cores))
    one_core, serial, pool = (n / best[name, n] * 60 for name in runs)
    steady = {name: (n - small) / max(best[name, n] - best[name, small], 1e-9) * 60 for name in runs}
    return [
        (f"generate jobs=1 on one core (renderer and encoder, n={n})", one_core, "clips/min", ""),
        (f"generate jobs=1, renderer on 2 threads (the default, n={n})", serial, "clips/min", ""),
        (f"generate jobs=2 (a process per core, n={n})", pool, "clips/min", ""),
        ("speed-up of jobs=2 over one worker on one core", pool / one_core, "x", ""),
        ("speed-up of jobs=2 over the default jobs=1", pool / serial, "x", ""),
        (f"a run of n={small} clips, jobs=1 on one core (mostly one-time costs)", best["one_core", small], "s", ""),
        (f"a run of n={small} clips, jobs=2 (mostly one-time costs)", best["pool", small], "s", ""),
        (f"speed-up of jobs=2 over one worker on one core, per clip beyond the one-time costs (n={n} less n={small})",
         steady["pool"] / steady["one_core"], "x", ">= 1.8"),
        (f"the machine's ceiling: two separate one-core runs of n={n} side by side, clips/s over one alone",
         2 * best["one_core", n] / apart if apart < float("inf") else float("nan"), "x", ""),
    ]  # fmt: skip


def _children_rss_kb(pid: int) -> int:
    """Resident memory (kB) of the processes whose parent is ``pid`` right now (Linux /proc)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                with open(f"/proc/{entry}/status") as f:
                    total += next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except (OSError, ValueError, IndexError):  # gone meanwhile
            continue
    return total


def _peak_rss_mb(args: list[str], command: str = "generate") -> tuple[float, float]:
    """Peak resident memory (MB) of ``synth COMMAND ARGS`` run in a fresh process, and of it with
    its ffmpeg children: its own peak plus the most its children held at once (their resident
    memory summed, read every 50 ms). The kernel's own figure for children (``RUSAGE_CHILDREN``)
    is no use here: a child forked from a 1 GB process keeps that 1 GB as its peak after exec."""
    extra = ["progress=false"] if command == "generate" else []
    code = (
        "import resource, sys; from synth.cli import main; "
        f"main([{command!r}, *{extra!r}, *{args!r}]); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=out, stderr=err, text=True)
        children = 0
        while proc.poll() is None:
            children = max(children, _children_rss_kb(proc.pid))
            time.sleep(0.05)
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            raise subprocess.CalledProcessError(proc.returncode, command, out.read(), err.read())
        own = int(out.read().strip().splitlines()[-1])
    return own / 1024, (own + children) / 1024


def _memory_rows(label: str, peaks: tuple[float, float], goal: str = "") -> list[Row]:
    """Two rows for one :func:`_peak_rss_mb` run: the synth process, and it with its children."""
    return [(f"peak RSS, {label}", peaks[0], "MB", goal), (f"peak RSS, {label}, with its ffmpeg processes", peaks[1], "MB", "")]


def bench_memory(quick: bool, device: str) -> list[Row]:
    sizes = (20, 200) if quick else (100, 2000)
    # Clip length: generate streams frames and ground truth in chunks, so memory must not grow
    # with it (60 s of 640x360 ground truth is 5.8 GB on disk at 15 fps).
    (w, h), fps, lengths = ((320, 180), 15, (2, 8)) if quick else ((640, 360), 15, (4, 60))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            args = ["task=direction", f"n={n}", f"out={tmp}/m{n}", "render.width=64", "render.height=64",
                    "clip.fps=8", "clip.seconds=1"]  # fmt: skip
            rows += _memory_rows(f"n = {n} (64², 8 frames)", _peak_rss_mb(args), "flat, < 600")
        peaks = []
        for seconds in lengths:
            out = Path(tmp) / f"len{seconds}"
            args = ["task=direction", "n=1", f"out={out}", f"render.width={w}", f"render.height={h}",
                    f"clip.fps={fps}", f"clip.seconds={seconds}", "gt=true"]  # fmt: skip
            peaks.append(_peak_rss_mb(args))
            shutil.rmtree(out)
            rows += _memory_rows(f"generate gt=true {w}x{h}, {fps} fps, {seconds} s", peaks[-1])
        rows.append((f"peak RSS {lengths[1]} s / {lengths[0]} s clip", peaks[1][0] / peaks[0][0], "x", "<= 1.3"))
        full_hd = 1 if quick else 4
        args = ["task=direction", "n=1", f"out={tmp}/hd", "render.width=1920", "render.height=1080", "clip.fps=30",
                f"clip.seconds={full_hd}", "gt=true"]  # fmt: skip
        rows += _memory_rows(f"generate gt=true 1920x1080, 30 fps, {full_hd} s", _peak_rss_mb(args), "< 2000")
    return rows


def bench_degrade(quick: bool, device: str) -> list[Row]:
    from synth.degradations.bench import STACK, degradations_bench
    from synth.video import FFMPEG

    rows = [tuple(row) for row in degradations_bench()]
    # `synth degrade` of a user's clip streams it (decode, camera model, encode in chunks): peak
    # memory must not grow with its length, and a minute of 1080p must go through. The source is
    # ffmpeg's testsrc2 pattern (moving, detailed), the stack every non-codec stage at severity 3
    # plus an h264 delivery.
    (w, h), lengths = ((320, 180), (2, 8)) if quick else ((1920, 1080), (4, 60))
    stack = [f"degradation=[{','.join([*STACK, 'compression'])}]", *(f"degradation.{n}.severity=3" for n in STACK)]
    peaks = []
    with tempfile.TemporaryDirectory() as tmp:
        for seconds in lengths:
            src, out = Path(tmp) / f"src{seconds}.mp4", Path(tmp) / f"out{seconds}.mp4"
            subprocess.run([FFMPEG, "-loglevel", "error", "-f", "lavfi", "-i", f"testsrc2=size={w}x{h}:rate=30:duration={seconds}",
                            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(src)], check=True)  # fmt: skip
            start = time.perf_counter()
            peaks.append(_peak_rss_mb([f"src={src}", f"out={out}", *stack], command="degrade"))
            fps = 30 * seconds / (time.perf_counter() - start)
            label = f"synth degrade {w}x{h} 30 fps, {seconds} s, full non-codec stack + h264"
            rows += _memory_rows(label, peaks[-1], "< 2000" if h >= 1080 else "")
            rows.append((f"{label} (process start included)", fps, "frames/s", ""))
            src.unlink()
            out.unlink()
    rows.append((f"peak RSS of degrade, {lengths[1]} s / {lengths[0]} s clip", peaks[1][0] / peaks[0][0], "x", "<= 1.3"))
    return rows


# -- profile of `synth generate` per clip -----------------------------------------------------

# (label, module, attribute path) of the calls the profile times, in the order a clip runs them.
# Nested timers (commit holds sha256 and the manifest line) are reported as they are measured.
PROFILE_STAGES = (
    ("scene: task builds the sample", "synth.generate", "build_sample"),
    ("render (draw + read-back; llvmpipe finishes the draw in the read)", "synth.renderer", "Renderer.render"),
    ("visibility (occlusion queries)", "synth.renderer", "Renderer.visibility"),
    ("tracks (analytic projection)", "synth.generate", "tracks"),
    ("handing chunks to the feeder (waits while 2 are queued; holds the start below)", "synth.video", "VideoWriter.write"),
    ("encoder finish (flush + wait for ffmpeg)", "synth.video", "VideoWriter.close"),
    ("commit (rename, sha256, manifest line)", "synth.dataset", "DatasetWriter.commit"),
    ("  of it sha256 of the clip", "synth.dataset", "sha256_file"),
    ("  of it manifest append + fsync", "synth.dataset", "_append_line"),
)
FEEDER = "feeder thread: chunks into the encoder's pipe"
ENCODER_START = "  of it encoder process and pipe start"
# Paid once per run, not per clip.
PROFILE_ONCE = (
    ("one-time: GL context, shaders, pipeline (SampleMaker)", "synth.generate", "SampleMaker.__init__"),
    ("one-time: dataset card and preview", "synth.dataset", "DatasetWriter.finish"),
)


class _Timers:
    """Wall and thread-CPU seconds spent inside patched functions, keyed by label."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.feeder_tids: set[int] = set()
        self.encoder_pids: list[int] = []

    def wrap(self, label: str, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.wall[label] = self.wall.get(label, 0.0) + time.perf_counter() - wall
                self.cpu[label] = self.cpu.get(label, 0.0) + time.thread_time() - cpu
                self.calls[label] = self.calls.get(label, 0) + 1

        return timed


def _patched(timers: _Timers):
    """(owner, name, original) of every function :func:`profile_generate` replaces by a timed one."""
    import importlib

    from synth import video

    patches = []
    for label, module, path in PROFILE_STAGES + PROFILE_ONCE:
        owner = importlib.import_module(module)
        *classes, name = path.split(".")
        for cls in classes:
            owner = getattr(owner, cls)
        patches.append((owner, name, getattr(owner, name), timers.wrap(label, getattr(owner, name))))
    feed, start = video.VideoWriter._feed, video.VideoWriter._start
    timed_feed_body, timed_start_body = timers.wrap(FEEDER, feed), timers.wrap(ENCODER_START, start)

    def timed_feed(self):  # the feeder thread: its id for the timeline, its CPU time as a stage
        timers.feeder_tids.add(threading.get_native_id())
        return timed_feed_body(self)

    def timed_start(self, *args):  # the encoder's pid, for the timeline
        timed_start_body(self, *args)
        timers.encoder_pids.append(self._proc.pid)

    return patches + [(video.VideoWriter, "_feed", feed, timed_feed), (video.VideoWriter, "_start", start, timed_start)]


def _cpu_ticks(path: str) -> int:
    """utime + stime (clock ticks) of a /proc stat file, 0 once the process or thread is gone."""
    try:
        with open(path) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


class _Timeline:
    """Samples every ``period`` seconds the CPU time of each thread of this process and of the
    encoders it started: per-thread busy time, and how much of the machine's cores sat idle.
    An encoder's last moments before it exits fall between samples (the profile's
    ``RUSAGE_CHILDREN`` row has their full CPU)."""

    def __init__(self, timers: _Timers, period: float = 0.02) -> None:
        self.timers, self.period = timers, period
        self.busy: dict[str, float] = {}  # thread group -> CPU seconds
        self.idle_core_s = 0.0  # core-seconds no thread of the run used
        self.start = self.stop_at = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="profile timeline", daemon=True)

    def _group(self, tid: int) -> str:
        if tid == os.getpid():
            return "main thread (render, tracks, commit)"
        if tid in self.timers.feeder_tids:
            return "feeder thread"
        try:
            name = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
        except OSError:
            name = ""
        return "llvmpipe threads" if name.startswith("llvmpipe") else "other threads of the process"

    def _sample(self) -> dict[str, int]:
        ticks = {f"t{tid}": _cpu_ticks(f"/proc/self/task/{tid}/stat") for tid in map(int, os.listdir("/proc/self/task"))
                 if tid != threading.get_native_id()}  # fmt: skip
        ticks.update({f"p{pid}": _cpu_ticks(f"/proc/{pid}/stat") for pid in self.timers.encoder_pids})
        return ticks

    def _run(self) -> None:
        hz, cores = os.sysconf("SC_CLK_TCK"), len(os.sched_getaffinity(0))
        last, last_t = self._sample(), time.perf_counter()
        while not self._stop.wait(self.period):
            now, now_t = self._sample(), time.perf_counter()
            used = 0.0
            for key, ticks in now.items():
                delta = max(0, ticks - last.get(key, 0)) / hz  # 0 once gone: counts nothing
                group = "encoder processes (ffmpeg, x264)" if key.startswith("p") else self._group(int(key[1:]))
                self.busy[group] = self.busy.get(group, 0.0) + delta
                used += delta
            last.update(now)
            self.idle_core_s += max(0.0, cores * (now_t - last_t) - used)
            last_t = now_t

    def __enter__(self) -> "_Timeline":
        self.start = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.stop_at = time.perf_counter()


def _standard_generate_config(n: int, out: Path):
    """``synth generate task=direction`` of ``n`` clips of 256², 30 fps, 4 s into ``out``."""
    from synth import generate

    cfg = generate.Config(task="direction", n=n, out=str(out), progress=False)
    cfg.render.width = cfg.render.height = SIZE
    cfg.clip.fps, cfg.clip.seconds = FPS, SECONDS
    return cfg


def profile_generate(n: int, out: Path) -> list[Row]:
    """Run ``synth generate`` of ``n`` standard clips (256², 30 fps, 4 s) in this process with
    every stage of a clip timed (wall, and CPU of the thread that runs it) and a timeline of each
    thread's busy time (CPU sampled every 20 ms); returns rows in ms per clip (one-time costs in
    ms per run). CPU figures hold under load; wall figures grow with it."""
    from synth import generate

    cfg = _standard_generate_config(n, out)
    timers = _Timers()
    patches = _patched(timers)
    for owner, name, _, timed in patches:
        setattr(owner, name, timed)
    children = _children_cpu()
    try:
        with _Timeline(timers) as timeline:
            wall, cpu = time.perf_counter(), time.process_time()
            generate.generate(cfg)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        for owner, name, original, _ in reversed(patches):
            setattr(owner, name, original)
    encoder_cpu = _children_cpu() - children
    once = sum(timers.wall.get(label, 0.0) for label, *_ in PROFILE_ONCE)
    per = 1000 / n
    rows: list[Row] = [(f"profile: generate n={n} {SIZE}², {FPS} fps, {SECONDS} s in one process, wall", wall * 1000, "ms", ""),
                       ("profile: load average (1 min) at the end", os.getloadavg()[0], "", "")]  # fmt: skip
    labels = [label for label, *_ in PROFILE_STAGES]
    for label in [*labels[:5], ENCODER_START, *labels[5:], FEEDER]:  # the start happens inside write
        if label in timers.wall:
            rows.append((f"profile per clip: {label}, wall", timers.wall[label] * per, "ms", ""))
            rows.append((f"profile per clip: {label}, CPU of its thread", timers.cpu[label] * per, "ms", ""))
    rows.append(("profile per clip: wall beyond the one-time costs", (wall - once) * per, "ms", ""))
    rows.append(("profile per clip: CPU of this process (all threads)", cpu * per, "ms", ""))
    rows.append(("profile per clip: CPU of the encoder processes", encoder_cpu * per, "ms", ""))
    for label, *_ in PROFILE_ONCE:
        rows.append((f"profile {label}, wall", timers.wall.get(label, 0.0) * 1000, "ms", ""))
    span = timeline.stop_at - timeline.start
    for group, busy in sorted(timeline.busy.items()):
        rows.append((f"timeline: {group}, CPU per clip", busy * per, "ms", ""))
        rows.append((f"timeline: {group}, busy", 100 * busy / span, "% of the run", ""))
    rows.append(("timeline: core time the run left unused (idle, or taken by other processes)",
                 100 * timeline.idle_core_s / (span * len(os.sched_getaffinity(0))), "% of core time", ""))  # fmt: skip
    return rows


def cprofile_generate(n: int, out: Path, top: int = 15) -> str:
    """cProfile's ``top`` functions by own time over ``synth generate`` of ``n`` standard clips
    in this process (its main thread only: llvmpipe's and the encoder's work shows up as the
    GL calls that wait for it)."""
    import cProfile
    import io
    import pstats

    from synth import generate

    cfg = _standard_generate_config(n, out)
    profiler = cProfile.Profile()
    profiler.runcall(generate.generate, cfg)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(top)
    return text.getvalue()


def bench_profile(quick: bool, device: str) -> list[Row]:
    """:func:`profile_generate` of 12 clips (3 with ``quick``), then prints :func:`cprofile_generate`
    of as many (a run of its own: cProfile's overhead would distort the timers)."""
    n = 3 if quick else 12
    with tempfile.TemporaryDirectory() as tmp:
        rows = profile_generate(n, Path(tmp) / "timed")
        print(cprofile_generate(n, Path(tmp) / "cprofile"), flush=True)
    return rows


# -- the GPU run (`make bench-gpu`): render sizes, the camera model on a device, all cores, probe --


def bench_render_sizes(quick: bool, device: str) -> list[Row]:
    """Render of the standard scene at 256² and 1920x1080 (64² and 160x90 with ``quick``), MSAA 1x
    and 4x, frames/s with the read-back to the CPU: EGL takes the GPU where the driver offers one."""
    from synth.renderer import Renderer

    frames = 8 if quick else FPS * SECONDS
    sizes = ((64, 64), (160, 90)) if quick else ((SIZE, SIZE), (1920, 1080))
    scene, clip = _direction_scene(0.0)
    rows, renderer = [], ""
    for width, height in sizes:
        for msaa in (1, 4):
            r = Renderer(width, height, msaa=msaa)
            r.render(scene, clip.times[:3], FPS)
            seconds = _best_of(lambda: r.render(scene, clip.times[:frames], FPS), 1 if quick else 3)
            renderer = r.gl_renderer
            r.release()
            goal = ">= 10000 (GPU)" if (width, height) == (SIZE, SIZE) else ""
            rows.append((f"render {width}x{height} shutter 0, MSAA {msaa}x, read back", frames / seconds, "frames/s", goal))
    rows.append((f"renderer: {renderer}", float("nan"), "", ""))
    return rows


def bench_camera(quick: bool, device: str) -> list[Row]:
    """The camera model's rows (:func:`degradations_bench`) on ``device`` (auto: CUDA if present),
    at 256² (32² with ``quick``)."""
    from synth.degradations.bench import degradations_bench
    from synth.delivery import resolve_device

    size, frames = (32, 4) if quick else (SIZE, 32)
    return [tuple(row) for row in degradations_bench(size, frames, str(resolve_device(device)))]


def bench_all_cores(quick: bool, device: str) -> list[Row]:
    """``synth generate jobs=<cores>`` against x264 alone on every core: one encode-only process
    per core at once (the encoder's limit on this machine), and the CLI writing 4 clips per core
    (1 with ``quick``, at 64², 1 s), fastest of 2 rounds."""
    from synth.renderer import Renderer
    from synth.video import EncodeSettings, write_clip

    cores = len(os.sched_getaffinity(0))
    size, seconds, n = (64, 1, cores) if quick else (SIZE, SECONDS, 4 * cores)
    scene, clip = _direction_scene(0.0)
    r = Renderer(size, size)
    frames = r.render(scene, clip.times[: FPS * seconds], FPS)
    r.release()
    extra = [f"jobs={cores}", f"render.width={size}", f"render.height={size}", f"clip.seconds={seconds}"]
    encode, e2e = float("inf"), float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(1 if quick else 2):
            start = time.perf_counter()
            threads = [threading.Thread(target=write_clip, args=(frames, Path(tmp) / f"c{i}.mp4", FPS, EncodeSettings()))
                       for i in range(cores)]  # fmt: skip
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            encode = min(encode, time.perf_counter() - start)
            e2e = min(e2e, _generate(n, Path(tmp) / f"e2e{k}", extra))
    encode_rate, e2e_rate = cores / encode * 60, n / e2e * 60
    return [
        (f"encode-only H.264 {size}², {seconds} s clips, one x264 per core ({cores} at once)", encode_rate, "clips/min", ""),
        (f"synth generate jobs={cores}, n={n} (process start included)", e2e_rate, "clips/min", ""),
        ("end-to-end on all cores / encode-only on all cores", 100 * e2e_rate / encode_rate, "%", ">= 50"),
    ]  # fmt: skip


def bench_probe(quick: bool, device: str) -> list[Row]:
    """``synth probe`` on a tiny random-weight Qwen2-VL (``python -m synth.probe.tiny``, no
    download) over 16 clips of 64² (8 with ``quick``) on ``device``: the feature pass and probes,
    in a fresh process."""
    from synth.delivery import resolve_device

    n = 8 if quick else 16
    with tempfile.TemporaryDirectory() as tmp:
        model, data = Path(tmp) / "tiny", Path(tmp) / "data"
        subprocess.run([sys.executable, "-m", "synth.probe.tiny", "arch=qwen2_vl", f"out={model}"], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        subprocess.run([sys.executable, "-m", "synth.cli", "generate", "task=direction", f"n={n}", f"out={data}",
                        "render.width=64", "render.height=64", "clip.fps=8", "clip.seconds=1", "progress=false"],
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        args = [sys.executable, "-m", "synth.cli", "probe", f"data={data}", "model=hf", f"model.path={model}",
                f"model.device={resolve_device(device)}", "eval.frames=4", "probe.folds=2"]  # fmt: skip
        start = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - start
    return [(f"synth probe, tiny Qwen2-VL, {n} clips of 64², 4 frames each (process start included)", n / seconds,
             "clips/s", "")]  # fmt: skip


# Section name -> its rows, called with (quick, device): ``quick`` a fast smoke run at small
# sizes, ``device`` where torch runs (auto, cpu, cuda, cuda:N); the renderer takes whatever GPU
# EGL offers.
BENCHES: dict[str, Callable[[bool, str], list[Row]]] = {
    "render": bench_render,
    "encode": bench_encode,
    "generate": bench_generate,
    "workers": bench_workers,
    "memory": bench_memory,
    "degrade": bench_degrade,
    "profile": bench_profile,
    "render_sizes": bench_render_sizes,
    "camera": bench_camera,
    "all_cores": bench_all_cores,
    "probe": bench_probe,
}
# Names that stand for several sections: ``gpu`` is the run for a machine with an NVIDIA GPU
# (`make bench-gpu`, about 10 minutes there; with quick=true a CPU smoke test).
GROUPS: dict[str, tuple[str, ...]] = {"gpu": ("render_sizes", "camera", "all_cores", "probe")}


def machine() -> str:
    """The processor, core count and Python version this runs on."""
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def table(rows: list[Row]) -> str:
    """The Markdown table of ``rows`` under the machine's description."""
    lines = "\n".join(["| metric | value | unit | goal |", "|---|---:|---|---|", *map(table_line, rows)])
    return f"Machine: {machine()}\n\n{lines}\n"


def table_line(row: Row) -> str:
    """One Markdown table row of ``row``."""
    name, value, unit, goal = row
    # NaN: an information row; ratios get two decimals, where 1.76 and 1.84 both read "1.8" with one
    shown = "" if value != value else f"{value:,.2f}" if unit == "x" else f"{value:,.1f}"
    if isinstance(goal, (int, float)):
        goal = f">= {goal:g}"
    return f"| {name} | {shown} | {unit} | {goal or ''} |"

