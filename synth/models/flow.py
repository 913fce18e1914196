"""``model=flow``: a classical-vision baseline that reads motion from dense optical flow.

It sees the same sampled frames as every model (``eval.frames``), converts them to grey and
runs OpenCV's Farnebäck dense optical flow (Farnebäck 2003, ``cv2.calcOpticalFlowFarneback``)
between consecutive frames. Pixels whose flow is at least ``model.min_px`` pixels per frame
step are *moving*; what it answers depends on the options it is offered:

* direction options (``left``, ``right``, ``up``, ``down`` and the diagonals, task
  ``direction``): every moving pixel votes, weighted by its flow magnitude, for the option whose
  unit vector (image y pointing up) is nearest its flow direction; the most voted option wins;
* ``toward`` / ``away`` (task ``approach``): the divergence of the moving pixels' flow about
  their centroid; expanding flow is ``toward``;
* ``the camera`` / ``the object`` (task ``ego_motion``): ``the camera`` when more than
  ``model.camera_share`` of all pixels move (the whole view flows), else ``the object``.

Anything else (rotation sense, speed comparisons, counting, order, depth, trajectories,
revisits, ``open`` questions whose vocabulary it does not know) it does not answer: the reply
is ``abstain: ...``, which names no option and scores as invalid. When no pixel moves it
abstains too. It reads no question text, names no object: with several moving objects it
reports their pooled motion.
"""

from __future__ import annotations

import numpy as np

from synth.models.base import Model, reply_for_option
from synth.models.frames import SampledClip
from synth.models.prompts import Ask
from synth.tracks import DIRECTIONS

APPROACH = ("toward", "away")
MOVERS = ("the camera", "the object")


def dense_flow(frames: np.ndarray) -> np.ndarray:
    """Farnebäck flow between consecutive frames.

    Args:
        frames: (T, H, W, 3) uint8 sRGB, T >= 2.

    Returns:
        (T-1, H, W, 2) float32: per pixel (dx, dy) in pixels from frame t to t+1, image y down.
    """
    import cv2

    grey = [cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in frames]
    return np.stack(
        [
            cv2.calcOpticalFlowFarneback(a, b, None, pyr_scale=0.5, levels=3, winsize=15, iterations=3,
                                         poly_n=5, poly_sigma=1.2, flags=0)  # fmt: skip
            for a, b in zip(grey[:-1], grey[1:])
        ]
    )


def direction_votes(flow: np.ndarray, options: list[str], min_px: float) -> np.ndarray:
    """Magnitude-weighted votes (len(options),) of the moving pixels for each direction option.

    Args:
        flow: (T-1, H, W, 2) float32 pixels, image y down.
        options: direction names, keys of :data:`DIRECTIONS`.
        min_px: flow magnitude (pixels per step) from which a pixel counts as moving.
    """
    vectors = flow.reshape(-1, 2)
    magnitude = np.linalg.norm(vectors, axis=1)
    moving = vectors[magnitude >= min_px] * np.array([1.0, -1.0])  # image y up, as the options
    units = np.array([DIRECTIONS[o] for o in options])
    nearest = np.argmax(moving @ units.T, axis=1) if len(moving) else np.zeros(0, int)
    return np.bincount(nearest, weights=magnitude[magnitude >= min_px], minlength=len(options))


def divergence(flow: np.ndarray, min_px: float) -> float | None:
    """Mean outward flow (pixels per step) of the moving pixels about their centroid, per frame
    step; positive when the moving region expands. None when nothing moves."""
    outward = []
    for step in flow:
        ys, xs = np.nonzero(np.linalg.norm(step, axis=-1) >= min_px)
        if len(xs) < 2:
            continue
        radial = np.stack([xs - xs.mean(), ys - ys.mean()], axis=1)
        radial /= np.maximum(np.linalg.norm(radial, axis=1, keepdims=True), 1e-6)
        outward.append(float(np.mean(np.sum(step[ys, xs] * radial, axis=1))))
    return float(np.mean(outward)) if outward else None


def moving_share(flow: np.ndarray, min_px: float) -> float:
    """Mean share of pixels per frame step whose flow is at least ``min_px``."""
    return float((np.linalg.norm(flow, axis=-1) >= min_px).mean())


class FlowModel(Model):
    """Dense optical flow (OpenCV Farnebäck), voting the motion; see the module docstring."""

    version = 1  # bump when the flow vote changes its answers

    def answer(self, ask: Ask, clip: SampledClip, record: dict) -> str:
        vocabulary = set(ask.answer_set)
        frames = clip.frames
        if len(frames) < 2:
            return "abstain: flow needs two frames or more"
        if vocabulary <= set(DIRECTIONS):
            kind = "direction"
        elif vocabulary == set(APPROACH):
            kind = "approach"
        elif vocabulary == set(MOVERS):
            kind = "ego_motion"
        else:
            return "abstain: optical flow does not answer this question"
        flow = dense_flow(frames)
        min_px = self.cfg.min_px
        if kind == "direction":
            votes = direction_votes(flow, list(ask.answer_set), min_px)
            if not votes.any():
                return "abstain: nothing moves"
            return reply_for_option(ask, ask.answer_set[int(np.argmax(votes))])
        if kind == "approach":
            outward = divergence(flow, min_px)
            if outward is None:
                return "abstain: nothing moves"
            return reply_for_option(ask, "toward" if outward > 0 else "away")
        camera = moving_share(flow, min_px) > self.cfg.camera_share
        return reply_for_option(ask, "the camera" if camera else "the object")
