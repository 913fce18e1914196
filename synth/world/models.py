"""World models for ``synth world``: each turns a request (conditioning frames + actions +
camera path) into a video of the requested length, (T, H, W, 3) uint8 sRGB, whose first K frames
stand for the conditioning frames.

The request (a dict; the ``command`` protocol sends it as JSON, see docs/world-models.md):
``id``, ``num_frames`` (T), ``fps``, ``width``, ``height``, ``conditioning`` ((K, H, W, 3)
uint8), ``keys`` ((T, 4) uint8, one-hot over W, S, A, D), ``mouse`` ((T, 2) float, [pitch, yaw]
deltas in mouse units), ``camera_to_world`` ((T, 4, 4), OpenCV axes), ``intrinsics`` ((3, 3),
OpenCV), ``action_units`` (metres per key frame, degrees per mouse unit, conventions).

External models: ``command`` (a subprocess speaking JSON lines) and ``python``
(``package.module:function`` called in-process). Reference models that make the score's
validity visible read the ground truth, which no real model sees:

* ``oracle``: the ground-truth render itself;
* ``sliding_window`` (``model.window`` = W): the render, except that an object whose time away
  (:func:`synth.world.revisits.away_frames`) exceeds W frames comes back re-imagined, in that
  frame and every later one (the model remembers what it re-imagined), as ``model.forget`` says
  (:func:`reimagine`): ``color`` (its colour channels rotated), ``place`` (moved right by its
  width) or ``absent`` (gone);
* ``pose_retrieval`` (``model.window`` = W, ``model.retrieve`` = k): the same active window of W
  frames, plus a pose-keyed store of the frames evicted from it (one per pose, rounded to
  ``model.pose_round_m`` and ``model.pose_round_deg``; a later frame at the same pose replaces
  an earlier one). At every frame the k stored frames nearest the camera's pose (distance:
  metres of translation plus radians of rotation) are retrieved into the context, a frame-level
  analogue of WorldKV's pose-keyed KV retrieval: an object coming back after more than W frames
  away is remembered when a retrieved frame shows it, else re-imagined as ``sliding_window``
  does (and kept so);
* ``full_memory``: every earlier frame in the active context (the render itself, no object is
  ever forgotten), at the cost of holding them all;
* ``frozen``: repeats the last conditioning frame;
* ``noise``: uniform random pixels after the conditioning frames, seeded by ``model.seed`` and
  the clip id.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.errors import UserError
from synth.scenes.params import NON_NEGATIVE, POSITIVE, ranged
from synth.models.base import CommandModel, Model
from synth.world.revisits import away_frames


@dataclass
class OracleWorldConfig:
    kind: str = "oracle"
    label: str = ""  # directory name under evals/; default: the kind


@dataclass
class SlidingWindowConfig:
    kind: str = "sliding_window"
    label: str = ""  # default: sliding_window_w<window>
    window: int = 8  # frames remembered
    forget: str = "color"  # how an object away longer comes back: color | place | absent


@dataclass
class PoseRetrievalConfig:
    kind: str = "pose_retrieval"
    label: str = ""  # default: pose_retrieval_w<window>_k<retrieve>
    window: int = 8  # frames in the active window
    retrieve: int = 2  # stored frames retrieved into the context at each frame, nearest pose first
    pose_round_m: float = 0.01  # the store's key: camera position rounded to this (metres) ...
    pose_round_deg: float = 1.0  # ... and its rotation (as a rotation vector) to this (degrees)
    forget: str = "color"  # how an object not retrieved comes back: color | place | absent


@dataclass
class FullMemoryConfig:
    kind: str = "full_memory"
    label: str = ""


@dataclass
class FrozenConfig:
    kind: str = "frozen"
    label: str = ""


@dataclass
class NoiseConfig:
    kind: str = "noise"
    label: str = ""
    seed: int = ranged(NON_NEGATIVE, 0)


@dataclass
class CommandWorldConfig:
    kind: str = "command"
    label: str = ""  # default: the program's file name (the script's after an interpreter)
    cmd: str = ""  # command line, split like a shell would; reads JSON lines on stdin
    timeout_s: float = ranged(POSITIVE, 600.0)  # per clip


@dataclass
class PythonWorldConfig:
    kind: str = "python"
    label: str = ""  # default: the function's name
    entry: str = ""  # package.module:function, importable from the current directory or PYTHONPATH


WORLD_MODEL_CONFIGS = {
    "oracle": OracleWorldConfig,
    "sliding_window": SlidingWindowConfig,
    "pose_retrieval": PoseRetrievalConfig,
    "full_memory": FullMemoryConfig,
    "frozen": FrozenConfig,
    "noise": NoiseConfig,
    "command": CommandWorldConfig,
    "python": PythonWorldConfig,
}


@dataclass
class Truth:
    """What only the renderer knows: the clip's frames (T, H, W, 3) uint8, instance ids
    (T, H, W) int, and the record's ``in_view`` / ``instance_ids``."""

    frames: np.ndarray
    instances: np.ndarray
    in_view: dict[str, list[int]]
    instance_ids: dict[str, int]


class WorldModel(Model):
    """Base adapter (labels and fingerprints as for ``synth eval``): :meth:`generate` returns
    the video for one request and sets :attr:`frames_held` for it: ``{"window": frames in the
    active context, "store": frames kept outside it}`` at their peak over the clip, or None when
    the model does not say."""

    frames_held: dict | None = None

    def generate(self, request: dict, truth: Truth) -> np.ndarray:
        raise NotImplementedError


class OracleWorldModel(WorldModel):
    def generate(self, request: dict, truth: Truth) -> np.ndarray:
        return truth.frames.copy()


class SlidingWindowModel(WorldModel):
    def __init__(self, cfg: SlidingWindowConfig):
        super().__init__(cfg)
        if cfg.window < 1:
            raise UserError(f"model.window={cfg.window}: must be an integer >= 1 (frames remembered)")
        if cfg.forget not in FORGET:
            raise UserError(f"model.forget={cfg.forget}: allowed {', '.join(FORGET)}")

    def default_label(self) -> str:
        forget = "" if self.cfg.forget == "color" else f"_{self.cfg.forget}"
        return f"sliding_window_w{self.cfg.window}{forget}"

    def generate(self, request: dict, truth: Truth) -> np.ndarray:
        out = truth.frames.copy()
        k = len(request["conditioning"])
        self.frames_held = {"window": min(self.cfg.window, len(out) - 1), "store": 0}
        for j in range(k, len(out)):
            for name, frames in truth.in_view.items():
                if j in frames and away_frames(frames, j) > self.cfg.window:
                    reimagine(out[j], np.asarray(truth.instances[j]) == truth.instance_ids[name], self.cfg.forget)
        return out


FORGET = ("color", "place", "absent")


def pose_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Metres between two camera-to-world (4, 4) poses' positions plus radians between their rotations."""
    r = a[:3, :3].T @ b[:3, :3]
    angle = np.arccos(np.clip((np.trace(r) - 1) / 2, -1.0, 1.0))
    return float(np.linalg.norm(a[:3, 3] - b[:3, 3]) + angle)


def pose_key(pose: np.ndarray, round_m: float, round_deg: float) -> tuple:
    """The store's key for a camera-to-world (4, 4) pose: position and rotation vector, rounded."""
    from scipy.spatial.transform import Rotation

    rotvec = np.degrees(Rotation.from_matrix(pose[:3, :3]).as_rotvec())
    return (*np.round(pose[:3, 3] / round_m).astype(int), *np.round(rotvec / round_deg).astype(int))


class PoseRetrievalModel(WorldModel):
    """See the module docstring: an active window of W frames and a pose-keyed store of the
    frames evicted from it, the k nearest poses retrieved at every frame."""

    def __init__(self, cfg: PoseRetrievalConfig):
        super().__init__(cfg)
        if cfg.window < 1 or cfg.retrieve < 1:
            raise UserError(f"model.window={cfg.window}, model.retrieve={cfg.retrieve}: both must be integers >= 1")
        if cfg.pose_round_m <= 0 or cfg.pose_round_deg <= 0:
            raise UserError("model.pose_round_m, model.pose_round_deg: must be > 0")
        if cfg.forget not in FORGET:
            raise UserError(f"model.forget={cfg.forget}: allowed {', '.join(FORGET)}")

    def default_label(self) -> str:
        return f"pose_retrieval_w{self.cfg.window}_k{self.cfg.retrieve}"

    def generate(self, request: dict, truth: Truth) -> np.ndarray:
        out = truth.frames.copy()
        poses = np.asarray(request["camera_to_world"], dtype=np.float64)
        k, w = len(request["conditioning"]), self.cfg.window
        in_view = {name: set(frames) for name, frames in truth.in_view.items()}
        store: dict[tuple, int] = {}  # pose key -> the latest evicted frame at that pose
        forgotten: set[str] = set()
        peak = 0
        for j in range(len(out)):
            if j - w - 1 >= 0:  # frame j - w - 1 leaves the window (it holds j - w .. j - 1)
                evicted = j - w - 1
                store[pose_key(poses[evicted], self.cfg.pose_round_m, self.cfg.pose_round_deg)] = evicted
                peak = max(peak, len(store))
            if j < k:
                continue
            nearest = sorted(store.values(), key=lambda f: pose_distance(poses[f], poses[j]))[: self.cfg.retrieve]
            for name, frames in in_view.items():
                if j not in frames:
                    continue
                gap = j - max((f for f in frames if f < j), default=j) - 1  # frames just spent out of view
                if gap > w and not any(f in frames for f in nearest):
                    forgotten.add(name)
                if name in forgotten:
                    reimagine(out[j], np.asarray(truth.instances[j]) == truth.instance_ids[name], self.cfg.forget)
        self.frames_held = {"window": min(w, len(out) - 1), "store": peak}
        return out


class FullMemoryModel(WorldModel):
    """Every earlier frame in the active context: the render, nothing forgotten."""

    def generate(self, request: dict, truth: Truth) -> np.ndarray:
        self.frames_held = {"window": len(truth.frames) - 1, "store": 0}
        return truth.frames.copy()


def held_summary(held: list[dict | None]) -> dict | None:
    """world.json's ``frames_held``: the mean over clips of each clip's ``window`` and ``store``
    peaks (and their largest, ``window_max``, ``store_max``); None when no clip reports them."""
    held = [h for h in held if h]
    if not held:
        return None
    out = {key: round(float(np.mean([h[key] for h in held])), 3) for key in ("window", "store")}
    return {**out, "window_max": max(h["window"] for h in held), "store_max": max(h["store"] for h in held)}


def reimagine(frame: np.ndarray, mask: np.ndarray, how: str) -> None:
    """Re-imagine the object under ``mask`` (H, W) bool in ``frame`` (H, W, 3) uint8, in place:
    ``color`` rotates its colour channels (R, G, B -> G, B, R); ``absent`` paints it with the
    median colour of a 2-pixel ring around it; ``place`` does that and draws its pixels again
    shifted right by its width (clipped at the border)."""
    from scipy.ndimage import binary_dilation

    if not mask.any():
        return
    if how == "color":
        frame[mask] = frame[mask][:, [1, 2, 0]]
        return
    pixels = frame[mask].copy()
    ring = binary_dilation(mask, iterations=2) & ~mask
    frame[mask] = np.median(frame[ring], axis=0) if ring.any() else pixels.mean(0)
    if how == "place":
        ys, xs = np.nonzero(mask)
        x = xs + (xs.max() - xs.min() + 1)
        inside = x < frame.shape[1]
        frame[ys[inside], x[inside]] = pixels[inside]


class FrozenModel(WorldModel):
    def generate(self, request: dict, truth: Truth) -> np.ndarray:
        cond = request["conditioning"]
        return np.concatenate([cond, np.repeat(cond[-1:], request["num_frames"] - len(cond), axis=0)])


class NoiseModel(WorldModel):
    def generate(self, request: dict, truth: Truth) -> np.ndarray:
        key = int.from_bytes(hashlib.sha256(request["id"].encode()).digest()[:8], "little")
        rng = np.random.default_rng([self.cfg.seed, key])
        cond = request["conditioning"]
        shape = (request["num_frames"] - len(cond), request["height"], request["width"], 3)
        return np.concatenate([cond, rng.integers(0, 256, shape, dtype=np.uint8)])


def reported_held(held, where: str) -> dict | None:
    """A model's own ``frames_held`` report (``{"window": int, "store": int}``), checked; None if absent."""
    if held is None:
        return None
    if not isinstance(held, dict) or set(held) != {"window", "store"} or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in held.values()):  # fmt: skip
        raise UserError(f'{where}: frames_held must be {{"window": int >= 0, "store": int >= 0}}, got {held!r}')
    return dict(held)


class PythonWorldModel(WorldModel):
    """``model.entry=package.module:function``; the function takes the request dict and returns
    the video as an array (T, H, W, 3) uint8, or ``{"video": array, "frames_held": {"window":
    int, "store": int}}`` to report the memory it held."""

    def __init__(self, cfg: PythonWorldConfig):
        super().__init__(cfg)
        module_name, _, function = cfg.entry.partition(":")
        if not module_name or not function:
            raise UserError(f"model.entry={cfg.entry}: expected package.module:function")
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise UserError(f"model.entry={cfg.entry}: cannot import {module_name} ({exc})") from None
        self._function = getattr(module, function, None)
        if not callable(self._function):
            raise UserError(f"model.entry={cfg.entry}: {module_name} has no function {function}")

    def default_label(self) -> str:
        return self.cfg.entry.partition(":")[2]

    def generate(self, request: dict, truth: Truth) -> np.ndarray:
        result = self._function({k: v for k, v in request.items() if k not in ("conditioning_png", "output")})
        held = result.get("frames_held") if isinstance(result, dict) else None
        self.frames_held = reported_held(held, f"model.entry={self.cfg.entry}")
        return np.asarray(result["video"] if isinstance(result, dict) else result)


class CommandWorldModel(CommandModel, WorldModel):
    """A subprocess, started once (as for ``synth eval model=command``): one JSON request per
    line on stdin (the request with ``conditioning`` as PNG paths and an ``output`` path), one
    JSON reply per line on stdout: ``{"video": PATH}`` (a ``.npy`` array (T, H, W, 3) uint8, or
    any video file ffmpeg reads; optionally ``"frames_held": {"window": int, "store": int}``) or
    ``{"error": MESSAGE}``."""

    def generate(self, request: dict, truth: Truth) -> np.ndarray:
        from synth.video import read_clip

        message = {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in request.items()}
        message["conditioning"] = request["conditioning_png"]
        del message["conditioning_png"]
        line = self.exchange(message, about=request["id"])
        try:
            reply = json.loads(line)
            path, error, held = reply.get("video"), reply.get("error"), reply.get("frames_held")
        except (ValueError, AttributeError):
            raise UserError(f'model.cmd={self.cfg.cmd}: reply is not JSON with a "video" key') from None
        if error or not path:
            raise UserError(f"model.cmd={self.cfg.cmd}: {error or 'reply has no video path'} (clip {request['id']})")
        self.frames_held = reported_held(held, f"model.cmd={self.cfg.cmd}")
        path = Path(path)
        if not path.is_file():
            raise UserError(f"model.cmd={self.cfg.cmd}: replied {path}, which does not exist")
        return np.load(path) if path.suffix == ".npy" else read_clip(path)[0]


_ADAPTERS = {
    "oracle": OracleWorldModel,
    "sliding_window": SlidingWindowModel,
    "pose_retrieval": PoseRetrievalModel,
    "full_memory": FullMemoryModel,
    "frozen": FrozenModel,
    "noise": NoiseModel,
    "command": CommandWorldModel,
    "python": PythonWorldModel,
}


def build_world_model(cfg) -> WorldModel:
    """The adapter for ``cfg`` (one of :data:`WORLD_MODEL_CONFIGS`)."""
    if cfg.kind not in _ADAPTERS:
        raise UserError(f"model={cfg.kind}: allowed {', '.join(_ADAPTERS)}")
    return _ADAPTERS[cfg.kind](cfg)
