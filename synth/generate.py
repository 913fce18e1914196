"""Generation: render a dataset of test clips from a task family.

:func:`generate` takes a :class:`Config` (plain dataclasses; ``synth generate`` composes it
with Hydra, a program builds it directly) and renders every missing sample into ``cfg.out``:
jobs (one per sample and sweep value, the run's shard of them), in this process or a pool of
worker processes, each sample drawn by its task from seeded params, rendered, run through the
camera model and written by :class:`synth.delivery.ClipWriter`, chunk by chunk. Rerunning
resumes; the dataset's identity is the config without its run-only keys.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import re
import signal
import sys
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import numpy as np

from synth import delivery, scenes
from synth.dataset import DatasetWriter, GroundTruthWriter, StagedSample
from synth.errors import UserError
from synth.sampling import ParamDraw, balanced_choice, sample_seed
from synth.scenes.params import FINITE, NON_NEGATIVE, POSITIVE, Range, check_numbers, ranged
from synth.scenes.task import ClipFormat, Task
from synth.tracks import concat_tracks, tracks
from synth.video import EncodeSettings
from synth.weather import KINDS as WEATHER_KINDS
from synth.weather import add_precipitation

# Keys that change how a run executes, not what it produces (excluded from the dataset's identity).
RUN_ONLY_KEYS = ("out", "overwrite", "jobs", "progress", "shard")
# Frames are rendered, degraded, encoded and stored in chunks of about this many bytes of
# per-frame output (frames, linear frames, ground truth), at most CHUNK_FRAMES frames.
CHUNK_BYTES, CHUNK_FRAMES = 32 << 20, 32
# The largest side the renderer draws (GL framebuffer limit), and the bytes one pixel of a rendered
# frame holds on its way out: multisampled colour and depth (8 per sample), the linear float frame
# (12), its sRGB bytes (3); ground truth adds 28, the camera model delivery.CAMERA_BYTES_PER_PIXEL.
MAX_RENDER_SIDE, RENDER_BYTES_PER_PIXEL, GT_BYTES_PER_PIXEL = 8192, 15, 28
# What a worker process holds besides its frames (interpreter, GL context, torch when degrading),
# and what one manifest record holds in memory until the card is written (per sample, per frame).
WORKER_BYTES, RECORD_BYTES, RECORD_BYTES_PER_FRAME = 512 << 20, 8 << 10, 1 << 10


MSAA_SAMPLES = (1, 2, 4, 8, 16)  # the sample counts GL drivers offer; others (3, ...) fail in the driver


@dataclass
class RenderConfig:
    width: int = ranged(Range(1, MAX_RENDER_SIDE), 128)
    height: int = ranged(Range(1, MAX_RENDER_SIDE), 128)
    msaa: int = ranged(Range(1, 16), 4)  # samples per pixel, one of MSAA_SAMPLES
    shadow_size: int = ranged(Range(16, MAX_RENDER_SIDE), 512)  # texels per side of the shadow map


@dataclass
class ClipConfig:
    fps: float = ranged(POSITIVE, 15.0)
    seconds: float = ranged(POSITIVE, 2.0)


@dataclass
class VideoConfig:
    codec: str = "h264"  # h264 | hevc | vp9 | av1
    crf: int = 18
    preset: str = "medium"
    gop: int = ranged(NON_NEGATIVE, 0)  # keyframe interval in frames, 0 = encoder default
    lossless: bool = False  # FFV1 in Matroska, bit-exact RGB


@dataclass
class ContentConfig:
    """Folders the ``setting`` presets of ``synth generate`` draw from."""

    photos: Optional[str] = None  # background photos, for p_real / c_real
    cutouts: Optional[str] = None  # RGBA cut-outs (PNG), for c_syn / c_real


@dataclass
class SweepConfig:
    variable: Optional[str] = None  # a params key, e.g. object.rotation_deg
    values: List[Any] = field(default_factory=list)


@dataclass
class ShardConfig:
    index: int = ranged(NON_NEGATIVE, 0)
    count: int = ranged(Range(1), 1)


def _param_namespaces() -> list[tuple[str, type]]:
    """``XyzParams`` dataclasses in scenes.params become config nodes named ``xyz``."""
    out = []
    for name, obj in vars(scenes.params).items():
        if dataclasses.is_dataclass(obj) and name.endswith("Params") and obj.__module__ == scenes.params.__name__:
            key = re.sub(r"(?<!^)(?=[A-Z])", "_", name[: -len("Params")]).lower()
            out.append((key, obj))
    return out


NAMESPACES = dict(_param_namespaces())

Config = dataclasses.make_dataclass(
    "Config",
    [
        ("task", str, "direction"),
        ("n", int, ranged(Range(1), 16)),
        ("seed", int, ranged(NON_NEGATIVE, 0)),
        ("out", str, ""),
        ("overwrite", bool, False),
        ("gt", bool, False),
        ("jobs", int, ranged(Range(1), 1)),
        ("progress", bool, True),
        ("render", RenderConfig, field(default_factory=RenderConfig)),
        ("clip", ClipConfig, field(default_factory=ClipConfig)),
        ("video", VideoConfig, field(default_factory=VideoConfig)),
        ("sweep", SweepConfig, field(default_factory=SweepConfig)),
        ("shard", ShardConfig, field(default_factory=ShardConfig)),
        *[(key, cls, field(default_factory=cls)) for key, cls in NAMESPACES.items()],
        ("content", ContentConfig, field(default_factory=ContentConfig)),
        ("degradation", Dict[str, Any], field(default_factory=dict)),
    ],
)
Config.__module__ = __name__  # so worker processes can unpickle it (make_dataclass says "types")
Config.__doc__ = "What to generate and how (the structured config of `synth generate`)."


def fixed_params(cfg: Any, changed_only: bool = False) -> dict[str, Any]:
    """Dotted keys with a value in the param namespaces (None = sampled by the task); with
    ``changed_only``, just those that differ from the schema's default (what the user set)."""
    out = {}
    for key, cls in NAMESPACES.items():
        defaults = cls()
        for f in dataclasses.fields(cls):
            value = getattr(getattr(cfg, key), f.name)
            if value is not None and not (changed_only and value == getattr(defaults, f.name)):
                out[f"{key}.{f.name}"] = value
    return out


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=+-]", "_", text)


@dataclass(frozen=True)
class Job:
    index: int
    sweep_value: Any = None

    def sample_id(self, cfg: Any) -> str:
        base = f"{cfg.task}-{cfg.seed}-{self.index:06d}"
        if cfg.sweep.variable is None:
            return base
        return f"{base}-{_safe(f'{cfg.sweep.variable}={self.sweep_value}')}"


class SampleMaker:
    """Builds, renders and degrades samples of one config. Owns one renderer (one per process)."""

    def __init__(self, cfg: Any):
        from synth.renderer import Renderer

        self.cfg = cfg
        self.task = scenes.get(cfg.task)
        self.clip = clip_of(cfg)
        self.fixed = fixed_params(cfg)
        # Rain and snow become particles in the scene (streaked by the shutter); the rest of the
        # camera model runs on the rendered linear frames.
        weather = {k: v for k, v in cfg.degradation.items() if k in WEATHER_KINDS}
        rest = {k: v for k, v in cfg.degradation.items() if k not in WEATHER_KINDS}
        self.weather = delivery.build_pipeline(weather).applied() if weather else []
        self.pipeline = delivery.build_pipeline(rest) if rest else None
        self.renderer = Renderer(cfg.render.width, cfg.render.height, cfg.render.msaa, cfg.render.shadow_size)
        self.settings = settings_of(cfg)

    def chunk_frames(self) -> int:
        """Frames per chunk: :data:`CHUNK_BYTES` of what one frame produces, 1 .. CHUNK_FRAMES."""
        per_pixel = 3 + (12 if self.pipeline is not None else 0) + (28 if self.cfg.gt or self.pipeline is not None else 0)
        return int(np.clip(CHUNK_BYTES // (per_pixel * self.clip.width * self.clip.height), 1, CHUNK_FRAMES))

    def _chunks(self, scene, gt: GroundTruthWriter | None, parts: list, linear: bool, depth: bool):
        """Render the clip chunk by chunk: yields (frames, depth or None) per chunk, frames uint8
        sRGB (t, H, W, 3), or float32 linear light with ``linear``; stores ground truth into
        ``gt`` and appends each chunk's tracks to ``parts`` on the way."""
        clip, r, step = self.clip, self.renderer, self.chunk_frames()
        for start in range(0, clip.num_frames, step):
            times = clip.times[start : start + step]
            truth = r.ground_truth(scene, times, clip.fps) if gt is not None or depth else None
            if gt is not None:
                gt.write(start, truth)
            # The frames go to the encoder first; the tracks are computed while it encodes them.
            yield r.render(scene, times, clip.fps, linear=linear), (truth["depth"] if depth else None)
            parts.append(tracks(scene, times, clip.width, clip.height, r.visibility(scene, times)))

    def make(self, job: Job, root: Path) -> tuple[dict, StagedSample]:
        """Render one sample into temporary files under ``root`` (see :class:`StagedSample`) and
        finish its clip: :meth:`render`, then close its writer. Returns the manifest record
        (without ``video``/``sha256``) and the staged files."""
        record, staged, video = self.render(job, root)
        video.close()
        return record, staged

    def render(self, job: Job, root: Path) -> tuple[dict, StagedSample, delivery.ClipWriter]:
        """Render one sample into temporary files under ``root`` (see :class:`StagedSample`) as a
        stream of chunks: each is drawn, degraded, piped to the encoder and its ground truth
        stored before the next, so memory does not grow with the clip's length. Returns the
        manifest record (without ``video``/``sha256``), the staged files and the clip's writer,
        whose encoder may still be working on the last frames: ``close()`` it (it waits for the
        encoder; on failure it removes the clip) before the sample is committed. Closing it after
        the next sample's render lets the encoder's tail overlap that render."""
        cfg, clip = self.cfg, self.clip
        seed = sample_seed(cfg.seed, job.index)
        sample, params = build_sample(self.task, cfg, self.fixed, job, clip)
        scene = sample.scene
        for k, stage in enumerate(self.weather):
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(k,)))
            add_precipitation(scene, stage["name"], clip.width, clip.height, clip.fps, rng, stage["params"])
        applied = [{**stage, "applied_as": "scene particles"} for stage in self.weather]
        fps, shown, pipe = clip.fps, None, self.pipeline
        if pipe is not None:
            shown, _ = pipe.frame_indices(clip.num_frames, clip.fps, seed)  # ground truth of the frames delivered
            fps, applied = pipe.output_fps(clip.fps), applied + pipe.applied()
        staged = delivery.staged_paths(root, job.sample_id(cfg), pipe, self.settings, cfg.gt)
        gt = GroundTruthWriter(staged.gt_tmp, clip.height, clip.width, clip.num_frames, shown) if cfg.gt else None
        parts: list[list[dict]] = []
        video = delivery.ClipWriter(staged.clip_tmp, fps, pipe, self.settings)
        try:
            if pipe is None:
                for frames, _ in self._chunks(scene, gt, parts, linear=False, depth=False):
                    video.write(frames)
            else:
                import torch

                chunks = ((torch.from_numpy(f).permute(0, 3, 1, 2), None if d is None else torch.from_numpy(d))
                          for f, d in self._chunks(scene, gt, parts, linear=True, depth=pipe.needs_depth))  # fmt: skip
                for frames in pipe.stream(chunks, fps=clip.fps, seed=seed, codec=False):  # the writer encodes
                    video.write(frames)
            if not video.frames:
                video.close()  # raises: no frames to encode
        except BaseException:
            video.abort()
            raise
        finally:
            if gt is not None:
                gt.close()
        object_tracks = concat_tracks(parts)
        if pipe is not None:
            object_tracks = delivery.degrade_tracks(pipe, object_tracks, clip.width, clip.height, clip.fps, seed)
        record = {
            "id": job.sample_id(cfg),
            "index": job.index,
            "task": cfg.task,
            "fps": fps,
            "num_frames": video.frames,
            "width": clip.width,
            "height": clip.height,
            "question": sample.question,
            "options": sample.options,
            "answer_index": sample.answer_index,
            "answer": sample.options[sample.answer_index],
            "params": params,
            "seed": seed,
            "group": Job(job.index).sample_id(_no_sweep(cfg)),
            "sweep": None if cfg.sweep.variable is None else {"variable": cfg.sweep.variable, "value": job.sweep_value},
            "degradations": applied,
            "tracks": object_tracks,
            **video.format,
        }
        if sample.extra:
            record["extra"] = sample.extra
        return record, staged, video


def _no_sweep(cfg: Any) -> Any:
    return dataclasses.replace(cfg, sweep=SweepConfig())


def clip_of(cfg: Any) -> ClipFormat:
    return ClipFormat(cfg.clip.fps, int(round(cfg.clip.seconds * cfg.clip.fps)), cfg.render.width, cfg.render.height)


def settings_of(cfg: Any) -> EncodeSettings:
    v = cfg.video
    return EncodeSettings(codec=v.codec, crf=v.crf, preset=v.preset, gop=v.gop, lossless=v.lossless)


def build_sample(task: Task, cfg: Any, fixed: dict, job: Job, clip: ClipFormat):
    """The task's sample for ``job`` and its flat params; task ValueErrors become UserErrors."""
    if cfg.sweep.variable is not None:
        fixed = {**fixed, cfg.sweep.variable: job.sweep_value}
    draw = ParamDraw(np.random.default_rng(sample_seed(cfg.seed, job.index)), fixed)
    try:
        answer = balanced_choice(cfg.seed, job.index, task.answers(fixed))
        sample = task.build(draw, answer, clip)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    return sample, draw.values


def validate(cfg: Any) -> None:
    """Every check that needs no rendering, so bad input fails before anything is written."""
    if cfg.task not in scenes.TASKS:
        raise UserError(f"task={cfg.task}: allowed {', '.join(scenes.TASKS)}")
    try:
        check_numbers(cfg)  # every number finite (NaN never) and inside its key's range
    except ValueError as exc:
        raise UserError(str(exc)) from None
    checks = [
        (cfg.render.msaa in MSAA_SAMPLES, f"render.msaa={cfg.render.msaa}: allowed {', '.join(map(str, MSAA_SAMPLES))} "
                                          "(samples per pixel; a GPU offering fewer uses its most)"),
        (cfg.shard.index < cfg.shard.count, f"shard.index={cfg.shard.index}: allowed 0..{cfg.shard.count - 1}"),
        (cfg.shard.count <= cfg.n, f"shard.count={cfg.shard.count}: more shards than samples (n={cfg.n}), so a shard "
                                   f"would hold none; allowed 1..{cfg.n}"),
    ]  # fmt: skip
    for ok, message in checks:
        if not ok:
            raise UserError(message)
    frames = cfg.clip.seconds * cfg.clip.fps
    if not frames < 2**31:
        raise UserError(f"clip.seconds={cfg.clip.seconds}, clip.fps={cfg.clip.fps}: {frames:.3g} frames; at most 2^31")
    if round(frames) < 2:
        raise UserError(f"clip.seconds={cfg.clip.seconds}, clip.fps={cfg.clip.fps}: need at least 2 frames")
    settings = settings_of(cfg)
    settings.validate()
    settings.check_size(cfg.render.width, cfg.render.height)
    pipe = delivery.build_pipeline(cfg.degradation) if cfg.degradation else None
    _check_budget(cfg, round(frames), pipe is not None)
    task, clip, fixed = scenes.get(cfg.task), clip_of(cfg), fixed_params(cfg)
    _, params = build_sample(task, _no_sweep(cfg), fixed, Job(0), clip)
    unknown = sorted(k for k in fixed_params(cfg, changed_only=True) if k not in params)
    if unknown:
        raise UserError(f"{unknown[0]}: not a parameter of task {cfg.task}; its keys: {', '.join(params)}")
    if cfg.sweep.variable is not None:
        if cfg.sweep.variable not in params:
            raise UserError(f"sweep.variable={cfg.sweep.variable}: allowed {', '.join(params)}")
        if not cfg.sweep.values:
            raise UserError("sweep.values: give at least one value, e.g. sweep.values=[0,5,10]")
        namespace, _, name = cfg.sweep.variable.partition(".")
        fields = {f.name: f for f in dataclasses.fields(NAMESPACES[namespace])} if namespace in NAMESPACES else {}
        rule = fields[name].metadata.get("range", FINITE) if name in fields else FINITE
        for value in cfg.sweep.values:
            if isinstance(value, (int, float)) and not isinstance(value, bool) and not rule.allows(value):
                raise UserError(f"sweep.values: {rule.refusal(cfg.sweep.variable, value)}")
            build_sample(task, cfg, fixed, Job(0, value), clip)
    elif cfg.sweep.values:
        raise UserError("sweep.values: set sweep.variable too")


def _check_budget(cfg: Any, frames: int, degraded: bool) -> None:
    """Refuse, before anything is allocated, a run whose frames, workers or manifest records would
    not fit :func:`synth.delivery.memory_budget`; each error says how to go bigger."""
    budget, gb, count = delivery.memory_budget(), delivery.gigabytes, delivery.count_text
    per_pixel = cfg.render.msaa * 8 + RENDER_BYTES_PER_PIXEL + (GT_BYTES_PER_PIXEL if cfg.gt or degraded else 0)
    per_pixel += delivery.CAMERA_BYTES_PER_PIXEL if degraded else 0
    frame = cfg.render.width * cfg.render.height * per_pixel
    if frame > budget:
        raise UserError(f"render.width={cfg.render.width}, render.height={cfg.render.height}: one frame needs "
                        f"~{gb(frame)} to render{' and degrade' if degraded else ''}, over the memory budget of "
                        f"{gb(budget)}; render smaller (then upscale), lower render.msaa, or raise "
                        f"{delivery.BUDGET_ENV} on a machine with more memory")  # fmt: skip
    worker = WORKER_BYTES + frame * max(1, min(CHUNK_FRAMES, CHUNK_BYTES // frame))
    if cfg.jobs * worker > budget:
        raise UserError(f"jobs={count(cfg.jobs)}: workers of ~{gb(worker)} each need ~{gb(cfg.jobs * worker)}, over the "
                        f"memory budget of {gb(budget)}; use at most jobs={max(1, budget // worker)}, or more "
                        f"machines (shard.count=K shard.index=0..K-1, then synth merge)")  # fmt: skip
    samples = -(-(cfg.n - cfg.shard.index) // cfg.shard.count) * max(1, len(cfg.sweep.values))  # this shard's
    held = samples * (RECORD_BYTES + RECORD_BYTES_PER_FRAME * frames)
    if held > budget:
        shards = cfg.shard.count * -(-held // budget)
        raise UserError(f"n={count(cfg.n)}: {count(samples)} samples of {frames} frames hold ~{gb(held)} of manifest records, over "
                        f"the memory budget of {gb(budget)}; make it in shards (shard.count={count(shards)} "
                        f"shard.index=0..{count(shards - 1)}, then synth merge) or shorter clips")  # fmt: skip


def jobs_of(cfg: Any) -> list[Job]:
    values = list(cfg.sweep.values) if cfg.sweep.variable is not None else [None]
    return [Job(i, v) for i in range(cfg.shard.index, cfg.n, cfg.shard.count) for v in values]


def identity(cfg: Any) -> dict:
    """The config that defines the dataset's content (run-only keys dropped)."""
    from omegaconf import OmegaConf

    data = OmegaConf.to_container(OmegaConf.structured(cfg))
    for key in RUN_ONLY_KEYS:
        data.pop(key, None)
    return data


_WORKER: SampleMaker | Exception | None = None


def _exit_worker(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _init_worker(cfg: Any) -> None:
    global _WORKER
    # The parent answers Ctrl-C (it ends the pool); SIGTERM and SIGHUP (sent by _on_workers when
    # a run stops early) end a worker: see _work (a forked worker starts with the parent's handlers).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    # One process per core: llvmpipe's and torch's own thread pools would only fight over the
    # same cores (set before the GL context exists; a GPU driver ignores it).
    os.environ["LP_NUM_THREADS"] = "1"
    if cfg.degradation:
        import torch

        torch.set_num_threads(1)
    try:
        _WORKER = SampleMaker(cfg)
    except Exception as exc:  # raised by the first sample, so the run reports it as jobs=1 does
        _WORKER = exc


def _work(args: tuple[Path, Job]) -> tuple[dict, StagedSample, str]:
    """Make one sample. While it runs, SIGTERM and SIGHUP end the worker through SystemExit, so
    its encoder is stopped and its partial files removed; between samples they keep their
    default action, killing it at once. (A Python handler runs only in the main thread: an idle
    worker's main thread waits in the pool's queue, which the signal does not wake when the
    kernel hands it to one of llvmpipe's threads; the worker would never exit.)"""
    root, job = args
    if isinstance(_WORKER, Exception):
        raise _WORKER
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit_worker)
    try:
        return (*_WORKER.make(job, root), _WORKER.renderer.gl_renderer)
    finally:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)


def _on_workers(cfg: Any, tasks: list) -> Iterator[tuple[dict, StagedSample, str]]:
    """:func:`_work` over ``tasks`` on ``cfg.jobs`` worker processes, results in order, at most two
    tasks a worker submitted ahead. At the end the workers leave on the pool's own message, no
    signal. If the caller stops early (an error, Ctrl-C) the workers still at work are ended at
    once (SIGTERM: see :func:`_work`); a worker that dies (the out-of-memory killer) ends the run
    with a :class:`UserError` instead of waiting forever for its sample."""
    ctx = multiprocessing.get_context(_start_method())
    others = set(multiprocessing.active_children())  # a caller's own processes are left alone
    with ProcessPoolExecutor(cfg.jobs, mp_context=ctx, initializer=_init_worker, initargs=(cfg,)) as pool:
        ahead: deque = deque()
        finished = False
        try:
            for task in tasks:
                ahead.append(pool.submit(_work, task))
                if len(ahead) > 2 * cfg.jobs:
                    yield ahead.popleft().result()
            while ahead:
                yield ahead.popleft().result()
            finished = True
        except BrokenProcessPool:
            raise UserError(
                f"jobs={cfg.jobs}: a worker process ended abruptly (killed, e.g. by the out-of-memory killer); "
                "finished samples are kept: rerun the same command to complete it, with fewer jobs if memory ran out"
            ) from None
        finally:
            if not finished:
                for future in ahead:
                    future.cancel()
                for worker in set(multiprocessing.active_children()) - others:
                    worker.terminate()


def _start_method() -> str:
    """How worker processes start: forked from this one on Linux while torch is not loaded here
    (its OpenMP pool does not survive a fork; numpy's BLAS threads re-arm themselves through
    ``pthread_atfork``, and the parent holds no GL context), which skips each worker's
    interpreter start and imports (about 0.4 s of a 24-clip run at 256²); else a fresh
    interpreter ("spawn")."""
    fork_ok = sys.platform == "linux" and "torch" not in sys.modules
    return "fork" if fork_ok else "spawn"


class Progress:
    """A one-line progress bar on stderr (a line per 10 % when stderr is not a terminal)."""

    def __init__(self, total: int, enabled: bool, label: str):
        self.total, self.enabled, self.label = total, enabled and total > 0, label
        self.done, self.start, self.last_decile = 0, time.monotonic(), -1

    def step(self) -> None:
        self.done += 1
        if not self.enabled:
            return
        rate = self.done / max(time.monotonic() - self.start, 1e-9)
        text = f"{self.label} {self.done}/{self.total} [{'#' * (20 * self.done // self.total):<20}] {rate:.1f} clips/s"
        if sys.stderr.isatty():
            print(f"\r{text}", end="\n" if self.done == self.total else "", file=sys.stderr, flush=True)
        elif 10 * self.done // self.total != self.last_decile:
            self.last_decile = 10 * self.done // self.total
            print(text, file=sys.stderr, flush=True)


def default_out(cfg: Any) -> str:
    """Where a dataset goes without ``out=``."""
    return f"data/{cfg.task}"


def generate(cfg: Any) -> Path:
    """Validate, then render every missing sample of ``cfg`` into ``cfg.out``; returns the path."""
    validate(cfg)
    root = Path(cfg.out or default_out(cfg))
    with DatasetWriter(root, identity(cfg), overwrite=cfg.overwrite) as writer:
        _fill(cfg, writer)
    return writer.out


def _close_and_commit(writer: DatasetWriter, record: dict, staged: StagedSample, video: delivery.ClipWriter) -> None:
    """Wait for ``video``'s encoder to finish the staged clip, then commit the sample."""
    video.close()
    writer.commit(record, staged)


def _fill(cfg: Any, writer: DatasetWriter) -> None:
    """Render every sample of ``cfg`` that ``writer`` does not hold yet, then finish it."""
    todo = [j for j in jobs_of(cfg) if not writer.done(j.sample_id(cfg))]
    progress = Progress(len(todo), cfg.progress, f"generate {cfg.task}")
    renderer_name = None
    if cfg.jobs == 1:
        maker = SampleMaker(cfg)
        renderer_name = maker.renderer.gl_renderer
        # A sample is committed after the next one is rendered, so that its encoder finishes
        # the clip while the renderer already draws the next.
        pending = None
        try:
            for job in todo:
                previous, pending = pending, maker.render(job, writer.root)
                if previous is not None:
                    _close_and_commit(writer, *previous)
                    progress.step()
            last, pending = pending, None
            if last is not None:
                _close_and_commit(writer, *last)
                progress.step()
        finally:
            if pending is not None:  # a failure: stop its encoder; a rerun renders it again
                pending[2].abort()
        maker.renderer.release()
    else:
        for record, staged, renderer_name in _on_workers(cfg, [(writer.root, j) for j in todo]):
            writer.commit(record, staged)
            progress.step()
    if renderer_name is None:
        from synth.renderer import Renderer

        probe = Renderer(2, 2, msaa=1, shadow_size=16)
        renderer_name = probe.gl_renderer
        probe.release()
    order = {j.sample_id(cfg): n for n, j in enumerate(jobs_of(cfg))}
    writer.records.sort(key=lambda r: order.get(r["id"], len(order)))
    shard = None if cfg.shard.count == 1 else {"index": cfg.shard.index, "count": cfg.shard.count}
    writer.finish({"renderer": renderer_name, "shard": shard})

