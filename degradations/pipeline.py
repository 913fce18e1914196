"""Compose degradations in physical order and run them on linear video or external 8-bit video."""

from __future__ import annotations

import ctypes
import functools
import inspect
import os
import zlib
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch

from synth.degradations._ops import records_grad
from synth.degradations.codec import RoundTrip
from synth.degradations.color import linear_to_srgb, to_uint8, unprocess
from synth.degradations.point_maps import POINT_MAPS
from synth.degradations.optics import source_coordinates
from synth.degradations.registry import DOMAINS, REGISTRY, ParamError, Params, Spec, get

_ORDER = {name: i for i, name in enumerate(REGISTRY)}

# Frames of at least this many pixels (1080p and up) hand the memory their chunk freed back to the
# OS after each chunk: the stages' temporaries of one frame come in varying sizes, and a heap
# that keeps them fragments, growing over hundreds of frames (1080p: 1.6 GB after 30 frames,
# 2.1 GB after 120). Smaller frames keep it: re-faulting the pages costs more than they take.
_TRIM_PIXELS = 1 << 20
try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL("libc.so.6")
except OSError:  # not glibc
    _LIBC = None


def _return_freed_memory() -> None:
    """Give free heap pages back to the OS (glibc ``malloc_trim``; elsewhere nothing to do)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def stage_seed(seed: int, name: str) -> int:
    """Seed of one stage's generator: adding or removing another stage leaves its noise unchanged."""
    return zlib.crc32(f"{seed}:{name}".encode()) & 0x7FFFFFFF


class Pipeline:
    """An ordered camera model built from named degradations.

    ``stages``: ``[(name, params), ...]`` or ``{name: params}``, where params is a dict, the
    degradation's params dataclass, or None (defaults). Whatever order they are listed in, they
    run in :data:`degradations.registry.STAGES` order: linear-light stages, then the ISP encode
    (the ``tone`` curve if listed, else sRGB), then display-encoded stages, frame retiming, and
    the codec last on 8-bit frames. Raises :class:`ParamError` for unknown names or bad values
    (message relative to the degradation, e.g. ``crf=99: allowed 0..51 for h264``).
    ``frame_drop`` with ``target_fps`` changes the frame count; see :meth:`output_fps`.
    """

    def __init__(self, stages: Iterable[tuple[str, Any]] | Mapping[str, Any] = ()):
        items = list(stages.items()) if isinstance(stages, Mapping) else list(stages)
        seen: set[str] = set()
        built: list[tuple[Spec, Params]] = []
        for name, values in items:
            spec = get(name)
            if name in seen:
                raise ParamError(f"degradation '{name}' listed twice")
            seen.add(name)
            built.append((spec, spec.make(values)))
        self.stages = sorted(built, key=lambda sp: _ORDER[sp[0].name])

    def applied(self) -> list[dict[str, Any]]:
        """``[{"name": ..., "params": {...}}]`` in the order applied, parameters as used, plus the
        ``severity`` level they came from when one was given (reports plot against it)."""
        return [
            {"name": s.name, "params": {**p.resolved(), **({"severity": p.severity} if p.severity else {})}}
            for s, p in self.stages
        ]

    @property
    def needs_depth(self) -> bool:
        """True when a listed stage uses per-pixel depth (fog, defocus): pass ``depth`` if known."""
        return any("depth" in inspect.signature(s.fn).parameters for s, _ in self.stages)

    @property
    def codec(self) -> dict[str, Any] | None:
        """The codec stage's resolved parameters (``codec``, ``crf``, ...) when the pipeline ends
        in one (``compression`` always runs last), else None. A file meant to hold the codec's own
        bitstream is encoded with these instead of being decoded and encoded again."""
        return next((p.resolved() for s, p in self.stages if s.domain == "uint8"), None)

    def map_points(self, xy: np.ndarray, width: int, height: int) -> np.ndarray:
        """Where input-image points (N, 2) (pixel centres at integers) land in the output, through
        every geometric stage in order (lens, fisheye); other stages leave points where they are."""
        out = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        for spec, params in self.stages:
            if spec.name in POINT_MAPS:
                out = POINT_MAPS[spec.name](out, width, height, **params.resolved())
        return out

    def warp_labels(
        self, arrays: Mapping[str, np.ndarray], vectors: Iterable[str] = ("flow",), fill: Mapping[str, float] | None = None
    ) -> dict[str, np.ndarray]:
        """Dense per-pixel annotations moved like the picture by every geometric stage (lens,
        fisheye), for ground truth that travels with the video; other stages leave them as they are.

        ``arrays``: name -> (T, H, W, ...) numpy (depth, instance ids, normals, flow...). Each output
        pixel takes the value at the nearest input pixel the warp samples there (labels are never
        blended across an edge); where no ray lands it gets ``fill[name]`` (default NaN for floats,
        0 for integers). Arrays named in ``vectors`` are (T, H, W, 2) pixel displacements (optical
        flow): they are carried through the forward map too, f' = map(p + f(p)) − map(p).
        Returns new arrays of the same shapes and dtypes.
        """
        out = dict(arrays)
        vectors, fill = set(vectors), dict(fill or {})
        for spec, params in self.stages:
            if spec.name not in POINT_MAPS:
                continue
            first = next(iter(out.values()))
            h, w = first.shape[1:3]
            src = source_coordinates(spec.name, h, w, **params.resolved()).numpy().round()
            valid = (src[..., 0] >= 0) & (src[..., 0] <= w - 1) & (src[..., 1] >= 0) & (src[..., 1] <= h - 1)
            sx = np.where(valid, src[..., 0], 0).astype(np.intp)
            sy = np.where(valid, src[..., 1], 0).astype(np.intp)
            fwd = None
            for name, arr in out.items():
                moved = arr[:, sy, sx]
                if name in vectors:
                    if fwd is None:
                        p = np.stack([sx, sy], axis=-1).reshape(-1, 2).astype(np.float64)
                        fwd = POINT_MAPS[spec.name](p, w, h, **params.resolved())
                    target = POINT_MAPS[spec.name]((p + moved.reshape(len(moved), -1, 2)).reshape(-1, 2), w, h,
                                                   **params.resolved())  # fmt: skip
                    moved = (target.reshape(len(moved), -1, 2) - fwd).reshape(moved.shape).astype(arr.dtype)
                empty = fill.get(name, np.nan if np.issubdtype(arr.dtype, np.floating) else 0)
                moved[:, ~valid] = empty
                out[name] = moved
        return out

    def frame_indices(self, num_frames: int, fps: float, seed: int = 0) -> tuple[np.ndarray, float]:
        """Which input frame each output frame shows (T',) and the output rate: what
        :meth:`apply` does with the same ``seed``."""
        idx = torch.arange(num_frames)
        for spec, params in self.stages:
            if spec.domain == "retime":
                step, fps = _retime(spec, params, len(idx), fps, seed)
                idx = idx[step]
        return idx.numpy(), fps

    def output_fps(self, fps: float) -> float:
        """Frame rate of the output for an input at ``fps`` (only ``frame_drop.target_fps`` changes it)."""
        for spec, p in self.stages:
            if spec.domain == "retime" and p.resolved().get("target_fps", 0) > 0:
                fps = p.resolved()["target_fps"]
        return fps

    def apply(
        self, video: torch.Tensor, fps: float = 30.0, seed: int = 0, depth: torch.Tensor | None = None
    ) -> np.ndarray:
        """Run the camera model on a whole clip: :meth:`stream` with the clip as one chunk.

        ``video``: (T, 3, H, W) float32 linear light, scene-referred (1.0 = diffuse white), on any
        device (the work stays there). ``fps``: frames per second. ``seed``: random stages draw
        each frame's numbers from generators keyed by (seed, stage name, frame index), so the
        output is reproducible. ``depth``: optional (T, H, W) metres for fog and defocus.
        Returns (T', H, W, 3) uint8 sRGB.
        """
        if video.ndim != 4 or video.shape[1] != 3:
            raise ValueError(f"video must be (T, 3, H, W), got {tuple(video.shape)}")
        out = list(self.stream([(video, depth)], fps=fps, seed=seed))
        _, _, h, w = video.shape
        return np.concatenate(out) if out else np.empty((0, h, w, 3), np.uint8)

    def stream(
        self,
        chunks: Iterable[tuple[torch.Tensor, torch.Tensor | None]],
        fps: float = 30.0,
        seed: int = 0,
        codec: bool = True,
    ) -> Iterator[np.ndarray]:
        """Run the camera model over a clip that arrives in chunks; yields (t, H, W, 3) uint8 sRGB
        chunks (sizes follow the stages' needs, not the input's).

        ``chunks``: consecutive ``(video, depth)`` pieces of one clip from its first frame on:
        video (t, 3, H, W) float32 linear light, depth (t, H, W) metres or None. Every stage sees
        the frames its temporal reach needs (:data:`registry.REACH`: overlapping windows, margins
        trimmed), retiming maps output to input indices as frames arrive, the codec is one running
        encoder, and random draws are keyed by frame index: the frames out equal :meth:`apply` on
        the whole clip (bit-exact; float work on windows may round differently by at most 1 DN),
        whatever the chunk sizes. Memory: a chunk plus the stages' margins and the codec's lag;
        with frames of :data:`_TRIM_PIXELS` or more, the heap's free pages go back to the OS
        after each chunk, so a long clip does not fragment it.
        ``codec=False`` leaves the codec stage out: the caller encodes the file itself with
        :attr:`codec`'s settings, so the file holds that encoder's own bitstream.
        """
        items: Items = _converted(iter(chunks), "float", "linear")
        domain = "linear"
        groups = _groups([sp for sp in self.stages if codec or sp[0].domain != "uint8"])
        last_float = max((i for i, g in enumerate(groups) if _is_float(g[0][0])), default=-1)
        for i, group in enumerate(groups):
            spec, params = group[0]
            if spec.domain == "retime":
                items = _retimed(spec, params, _converted(items, domain, "retime"), fps, seed)
                domain = "uint8" if domain == "uint8" else "encoded"
                fps = self.output_fps(fps)
            elif spec.domain == "uint8":
                items, domain = _coded(spec, params, _converted(items, domain, "uint8"), fps), "uint8"
            else:
                segment = _Segment(group, domain, fps, seed, to_uint8=i == last_float)
                items, domain = _windowed(segment, items), segment.domain_out
        for data, _ in _converted(items, domain, "uint8"):
            if len(data):
                yield data
            if data.shape[1] * data.shape[2] >= _TRIM_PIXELS:
                _return_freed_memory()

    def apply_numpy(
        self,
        linear: np.ndarray,
        fps: float = 30.0,
        seed: int = 0,
        depth: np.ndarray | None = None,
        device: str | torch.device = "cpu",
    ) -> np.ndarray:
        """:meth:`apply` for renderer output: ``linear`` (T, H, W, 3) float32 linear light and
        ``depth`` (T, H, W) float32 metres as numpy; runs on ``device``; returns (T', H, W, 3) uint8."""
        video = torch.from_numpy(np.require(linear, np.float32, ["C", "W"])).to(device).permute(0, 3, 1, 2)
        d = torch.from_numpy(np.require(depth, np.float32, ["C", "W"])).to(device) if depth is not None else None
        return self.apply(video, fps=fps, seed=seed, depth=d)

    def __repr__(self) -> str:
        return f"Pipeline({[(s.name, p.resolved()) for s, p in self.stages]})"


def _retime(spec: Spec, params: Params, frames: int, fps: float, seed: int) -> tuple[torch.Tensor, float]:
    # Indices are drawn on the CPU whatever the video's device, so frame_indices() agrees with apply().
    gen = torch.Generator().manual_seed(stage_seed(seed, spec.name))
    return spec.fn(frames, fps, **params.resolved(), generator=gen)


def _convert(data: Any, have: str, want: str) -> Any:
    """Move data forward through the domains: (any float ->) linear -> (sRGB encode) -> encoded -> uint8."""
    if have == "float":
        return data.to(torch.float32)
    if have == "linear" and DOMAINS.index(want) > DOMAINS.index("encode"):
        data, have = linear_to_srgb(data), "encoded"
    if have == "encoded" and want == "uint8":
        data = to_uint8(data)
    return data


Items = Iterator[tuple[Any, Any]]  # (frames, depth or None) chunks of one clip, in order


def _boxes(items: Items) -> Iterator[list[tuple[Any, Any]]]:
    """Each item of ``items`` in a one-element list for the consumer to ``pop``: a suspended
    generator keeps its local variables, so a chunk bound to a loop variable would stay in memory
    while every later stage works; popped out of its box, it lives only as long as it is used."""
    for item in items:
        box = [item]
        del item
        yield box


def _convert_item(item: tuple[Any, Any], have: str, want: str) -> tuple[Any, Any]:
    data, depth = item
    return _convert(data, have, want), (None if want == "uint8" else depth)


def _converted(items: Items, have: str, want: str) -> Items:
    for box in _boxes(items):
        yield _convert_item(box.pop(), have, want)


class _Frames:
    """The frames of a stream a stage still needs: absolute indices ``start`` .. ``end`` - 1, with
    their depth (or None). Released frames are really freed: what is kept is copied out of the
    chunk it came in, so a few margin frames never pin a whole chunk in memory."""

    def __init__(self) -> None:
        self.data: Any = None
        self.depth: Any = None
        self.start = 0

    @property
    def end(self) -> int:
        return self.start + (len(self.data) if self.data is not None else 0)

    def add(self, data: Any, depth: Any) -> None:
        self.data = data if self.data is None else _cat([self.data, data])
        self.depth = depth if self.depth is None else _cat([self.depth, depth])

    def take(self, index: slice | torch.Tensor) -> tuple[Any, Any]:
        """Frames (and depth) at absolute ``index``: a slice, or a tensor of frame indices."""
        if isinstance(index, slice):
            rel = slice(index.start - self.start, index.stop - self.start)
            return self.data[rel], (self.depth[rel] if self.depth is not None else None)
        rel = index - self.start
        if isinstance(self.data, np.ndarray):  # 8-bit frames (retiming after the last float stage)
            return self.data[rel.numpy()], None
        return self.data[rel.to(self.data.device)], (self.depth[rel.to(self.depth.device)] if self.depth is not None else None)

    def release_before(self, keep: int) -> None:
        keep = max(keep, self.start)
        if keep >= self.end:
            self.data = self.depth = None
        elif keep > self.start:
            self.data, self.depth = (None if x is None else _copy(x[keep - self.start :]) for x in (self.data, self.depth))
        self.start = keep


def _copy(x: Any) -> Any:
    return None if x is None else x.copy() if isinstance(x, np.ndarray) else x.clone()


def _cat(parts: list[Any]) -> Any:
    if parts[0] is None:
        return None
    return np.concatenate(parts) if isinstance(parts[0], np.ndarray) else torch.cat(parts)


def _groups(stages: list[tuple[Spec, Params]]) -> list[list[tuple[Spec, Params]]]:
    """The stages in runs that stream as one: consecutive frame-wise float stages form one run (a
    window of frames goes through all of them at once); a stage that looks at neighbouring
    frames (:data:`registry.REACH`), retiming and the codec each stand alone."""
    groups: list[list[tuple[Spec, Params]]] = []
    for item in stages:
        if groups and _frame_wise(item[0]) and _frame_wise(groups[-1][0][0]):
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


def _is_float(spec: Spec) -> bool:
    """A stage on float frames (linear or display-encoded), not retiming or the codec."""
    return spec.domain not in ("retime", "uint8")


def _frame_wise(spec: Spec) -> bool:
    return spec.reach == (0, 0) and _is_float(spec)


# Frames per part of a window (:meth:`_Segment.run`): sixteen 256² RGB frames (a 32-frame chunk
# makes two parts, one per core here); larger frames make smaller parts (1080p: one frame each).
# Measured at 256² on 2 cores, the 17-stage stack: parts of 4 or 8 frames lost 10-20 % to the
# stages' per-call costs (kernels, generators, particle sets), 16 and 32 were alike on one thread.
PART_ELEMENTS = 16 * 3 * 256 * 256


def part_frames(height: int, width: int) -> int:
    """Frames per part of a window of ``height`` x ``width`` RGB frames (at least one)."""
    return max(1, PART_ELEMENTS // (3 * height * width))


@functools.lru_cache(maxsize=None)
def _frame_pool(workers: int) -> ThreadPoolExecutor:
    """Threads that run parts of a window (torch on one thread in each: the frames are the parallelism)."""
    return ThreadPoolExecutor(workers, thread_name_prefix="synth-camera", initializer=torch.set_num_threads, initargs=(1,))


# a forked child has none of its parent's threads: it starts pools of its own
os.register_at_fork(after_in_child=_frame_pool.cache_clear)


class _Segment:
    """A run of float stages (:func:`_groups`) as one function of consecutive frames: each stage in
    order, with the domain conversions between them, and the final 8-bit conversion when
    ``to_uint8`` (the last float run: retiming and the codec take 8-bit frames as well).

    A window's frames run in parts (:meth:`run`), on CPU threads at once. Every stage treats
    frames independently (random draws are keyed by frame index, a reaching stage gets its margin
    frames), so the parts give the frames the whole window would; and whole chains of stages run
    side by side, where torch's own threads split each operation and wait at its end.
    """

    def __init__(self, group: list[tuple[Spec, Params]], domain: str, fps: float, seed: int, to_uint8: bool):
        self.stages = [(spec, params.resolved()) for spec, params in group]
        self.reach = group[0][0].reach if len(group) == 1 else (0, 0)
        self.domain_in, self.fps, self.seed, self.to_uint8 = domain, fps, seed, to_uint8
        # the domain the frames are in after each stage (the tone curve's output is encoded)
        self.after = [("encoded" if spec.domain == "encode" else spec.domain) for spec, _ in group]
        self.domain_out = "uint8" if to_uint8 else self.after[-1]

    def __call__(self, video: torch.Tensor, depth: torch.Tensor | None, start: int) -> tuple[Any, Any]:
        """The stages on frames ``start`` .. ``start + len(video) - 1`` of the clip (and their depth)."""
        data, have = video, self.domain_in
        for (spec, values), after in zip(self.stages, self.after):
            data = _convert(data, have, spec.domain)
            gen = torch.Generator(device=data.device).manual_seed(stage_seed(self.seed, spec.name))
            context = {"fps": self.fps, "depth": depth, "generator": gen, "index": torch.arange(start, start + len(data))}
            data, have = spec.call(data, values, context), after
        if self.to_uint8:
            return _convert(data, have, "uint8"), None
        return data, depth

    def run(self, held: _Frames, lo: int, hi: int) -> tuple[Any, Any]:
        """Output frames ``lo`` .. ``hi`` - 1, each computed from the frames its reach needs in ``held``.

        On the CPU the frames are cut into parts at multiples of :func:`part_frames` (absolute frame
        numbers, so the cuts depend only on the frame size, never on the thread count), and the
        parts run on ``torch.get_num_threads()`` threads at once, torch on one thread in each. On
        a GPU, or under autograd, the window runs as one part."""
        before, after = self.reach
        size = part_frames(*held.data.shape[-2:])
        parallel = held.data.device.type == "cpu" and not records_grad(held.data)
        cuts = [lo, *range((lo // size + 1) * size, hi, size), hi] if parallel else [lo, hi]

        def part(i: int) -> tuple[Any, Any]:
            a, b = cuts[i], cuts[i + 1]
            s, e = max(held.start, a - before), min(held.end, b + after)
            out, depth = self(*held.take(slice(s, e)), s)
            if (a, b) == (s, e):
                return out, depth
            # margins computed for context only: let them go
            return _copy(out[a - s : b - s]), (_copy(depth[a - s : b - s]) if depth is not None else None)

        workers = min(torch.get_num_threads(), len(cuts) - 1)
        if workers == 1:
            pieces = [part(i) for i in range(len(cuts) - 1)]
        else:
            pieces = list(_frame_pool(workers).map(part, range(len(cuts) - 1)))
        if len(pieces) == 1:
            return pieces[0]
        return _cat([p for p, _ in pieces]), _cat([d for _, d in pieces])


def _windowed(segment: _Segment, items: Items) -> Items:
    """A run of stages over a stream. Output frame i is computed from input frames
    i - before .. i + after (clipped to the clip), as on the whole clip."""
    before, after = segment.reach
    held = _Frames()
    done = 0  # frames output so far

    def run(ready: int) -> tuple[Any, Any]:
        nonlocal done
        piece = segment.run(held, done, ready)
        done = ready
        held.release_before(ready - before)
        return piece

    for box in _boxes(items):
        held.add(*box.pop())
        if held.end - after > done:
            yield run(held.end - after)
    if held.end > done:
        yield run(held.end)


def _retimed(spec: Spec, params: Params, items: Items, fps: float, seed: int) -> Items:
    """Frame drops / stutter / rate change over a stream: the index map of the frames seen so far
    is a prefix of the whole clip's (:func:`motion.frame_drop_indices`), and indices never
    decrease, so frames before the last one shown are released."""
    held = _Frames()
    emitted = 0
    for box in _boxes(items):
        held.add(*box.pop())
        idx, _ = _retime(spec, params, held.end, fps, seed)
        if len(idx) > emitted:
            first, emitted = emitted, len(idx)
            yield _take_and_release(held, idx[first:])


def _take_and_release(held: _Frames, index: torch.Tensor) -> tuple[Any, Any]:
    """The frames at ``index`` (ascending); frames before the last of them are let go."""
    piece = held.take(index)
    held.release_before(int(index[-1]))
    return piece


def _coded(spec: Spec, params: Params, items: Items, fps: float) -> Items:
    """The codec over a stream: one running encoder whose bitstream is decoded as it comes
    (:class:`codec.RoundTrip`)."""
    trip = None
    try:
        for box in _boxes(items):
            if trip is None:
                _, h, w, _ = box[0][0].shape
                trip = RoundTrip(w, h, fps, **params.resolved())
            yield trip.feed(box.pop()[0]), None
        if trip is not None:
            yield trip.finish(), None
            trip = None
    finally:
        if trip is not None:
            trip.abort()


def degrade_video(
    frames: np.ndarray | torch.Tensor,
    pipeline: Pipeline | Iterable[tuple[str, Any]] | Mapping[str, Any],
    fps: float = 30.0,
    seed: int = 0,
    depth: torch.Tensor | None = None,
    device: str | torch.device | None = None,
) -> np.ndarray:
    """Degrade external 8-bit video: (T, H, W, 3) uint8 sRGB in, (T', H, W, 3) uint8 sRGB out.

    The frames are first unprocessed to linear light (inverse sRGB curve) so optics and sensor
    noise act where they physically do. An empty pipeline returns the frames unchanged.
    """
    pipe = pipeline if isinstance(pipeline, Pipeline) else Pipeline(pipeline)
    if not pipe.stages:
        return np.asarray(frames, dtype=np.uint8).copy()
    return pipe.apply(unprocess(frames, device), fps=fps, seed=seed, depth=depth)


def degrade_stream(
    chunks: Iterable[np.ndarray | tuple[np.ndarray, torch.Tensor | None]],
    pipeline: Pipeline,
    fps: float = 30.0,
    seed: int = 0,
    device: str | torch.device | None = None,
    codec: bool = True,
) -> Iterator[np.ndarray]:
    """:func:`degrade_video` over a stream: ``chunks`` are consecutive (t, H, W, 3) uint8 sRGB
    pieces of one clip (or ``(frames, depth)`` pairs, depth (t, H, W) metres); yields uint8 chunks
    (see :meth:`Pipeline.stream`, also for ``codec``). With no stage to run (none listed, or only
    the codec left out) the frames pass through untouched."""
    pairs = ((c, None) if isinstance(c, np.ndarray) else c for c in chunks)
    if not any(codec or spec.domain != "uint8" for spec, _ in pipeline.stages):
        yield from (frames for frames, _ in pairs)
        return
    linear = ((unprocess(frames, device), None if d is None else d.to(device)) for frames, d in pairs)
    yield from pipeline.stream(linear, fps=fps, seed=seed, codec=codec)
