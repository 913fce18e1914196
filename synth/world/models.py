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
    the video for one request."""

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
        for j in range(k, len(out)):
            for name, frames in truth.in_view.items():
                if j in frames and away_frames(frames, j) > self.cfg.window:
                    reimagine(out[j], np.asarray(truth.instances[j]) == truth.instance_ids[name], self.cfg.forget)
        return out


FORGET = ("color", "place", "absent")


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


class PythonWorldModel(WorldModel):
    """``model.entry=package.module:function``; the function takes the request dict and returns
    the video as an array (T, H, W, 3) uint8."""

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
        return np.asarray(self._function({k: v for k, v in request.items() if k not in ("conditioning_png", "output")}))


class CommandWorldModel(CommandModel, WorldModel):
    """A subprocess, started once (as for ``synth eval model=command``): one JSON request per
    line on stdin (the request with ``conditioning`` as PNG paths and an ``output`` path), one
    JSON reply per line on stdout: ``{"video": PATH}`` (a ``.npy`` array (T, H, W, 3) uint8, or
    any video file ffmpeg reads) or ``{"error": MESSAGE}``."""

    def generate(self, request: dict, truth: Truth) -> np.ndarray:
        from synth.video import read_clip

        message = {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in request.items()}
        message["conditioning"] = request["conditioning_png"]
        del message["conditioning_png"]
        line = self.exchange(message, about=request["id"])
        try:
            reply = json.loads(line)
            path, error = reply.get("video"), reply.get("error")
        except (ValueError, AttributeError):
            raise UserError(f'model.cmd={self.cfg.cmd}: reply is not JSON with a "video" key') from None
        if error or not path:
            raise UserError(f"model.cmd={self.cfg.cmd}: {error or 'reply has no video path'} (clip {request['id']})")
        path = Path(path)
        if not path.is_file():
            raise UserError(f"model.cmd={self.cfg.cmd}: replied {path}, which does not exist")
        return np.load(path) if path.suffix == ".npy" else read_clip(path)[0]


_ADAPTERS = {
    "oracle": OracleWorldModel,
    "sliding_window": SlidingWindowModel,
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
