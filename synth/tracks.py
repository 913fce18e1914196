"""Per-object tracks for the manifest, from the scene's analytic motion and the camera model."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from synth import meshes
from synth.scene import Scene

# Central difference step for velocities; motion is analytic, so a small step is exact enough.
_VELOCITY_STEP_S = 1e-4
# Image-plane unit vectors (x right, y up) of the direction names that questions and answers use.
DIRECTIONS: dict[str, tuple[float, float]] = {
    "left": (-1.0, 0.0),
    "right": (1.0, 0.0),
    "up": (0.0, 1.0),
    "down": (0.0, -1.0),
    "up-left": (-math.sqrt(0.5), math.sqrt(0.5)),
    "up-right": (math.sqrt(0.5), math.sqrt(0.5)),
    "down-left": (-math.sqrt(0.5), -math.sqrt(0.5)),
    "down-right": (math.sqrt(0.5), -math.sqrt(0.5)),
}
# Keys of a track that hold one entry per frame.
PER_FRAME_KEYS = ("center_px", "bbox_px", "visible", "position", "velocity")


def tracks(scene: Scene, times: np.ndarray, width: int, height: int, visible: np.ndarray) -> list[dict]:
    """One entry per tracked instance (``node.track``; ``instance_id`` as in ground truth) with,
    per frame:

    ``center_px`` [x, y]: the projected object origin (the mesh's bounding-box centre), pixels,
    origin top-left, y down; ``bbox_px`` [x0, y0, x1, y1]: the projected 3D bounding box, unclipped;
    ``visible``: fraction of the object's pixels not hidden (``visible`` (T, N) from
    :meth:`synth.renderer.Renderer.visibility`); ``position`` / ``velocity``: world metres and m/s.
    """
    cam = scene.camera
    first = scene.instances(0.0)
    ids = [i for i, (node, _) in enumerate(first) if node.track]
    out = [{"name": first[i][0].name, "instance_id": i + 1, "center_px": [], "bbox_px": [], "visible": [],
            "position": [], "velocity": []} for i in ids]  # fmt: skip
    for k, t in enumerate(map(float, times)):
        now = scene.instances(t)
        before = scene.instances(t - _VELOCITY_STEP_S)
        after = scene.instances(t + _VELOCITY_STEP_S)
        for j, i in enumerate(ids):
            node, model = now[i]
            corners = meshes.bounds(node.shape) @ model[:3, :3].T + model[:3, 3]
            px, _ = cam.project(np.vstack([model[:3, 3], corners]), t, width, height)
            velocity = (after[i][1][:3, 3] - before[i][1][:3, 3]) / (2 * _VELOCITY_STEP_S)
            entry = out[j]
            entry["center_px"].append([round(float(v), 3) for v in px[0]])
            lo, hi = px[1:].min(0), px[1:].max(0)
            entry["bbox_px"].append([round(float(v), 3) for v in (*lo, *hi)])
            entry["visible"].append(round(float(visible[k, j]), 4))
            entry["position"].append([round(float(v), 5) for v in model[:3, 3]])
            entry["velocity"].append([round(float(v), 5) for v in velocity])
    return out


def concat_tracks(parts: list[list[dict]]) -> list[dict]:
    """Tracks of consecutive chunks of one clip (each from :func:`tracks` on that chunk's times)
    joined into the clip's tracks: per-frame lists concatenated in order."""
    if not parts:
        return []
    out = [{**track, **{k: list(track[k]) for k in PER_FRAME_KEYS}} for track in parts[0]]
    for part in parts[1:]:
        for whole, track in zip(out, part):
            for k in PER_FRAME_KEYS:
                whole[k].extend(track[k])
    return out


def warp_tracks(
    tracks: list[dict], frames: np.ndarray, map_points: Callable[[np.ndarray], np.ndarray] | None = None
) -> list[dict]:
    """Tracks as they appear in a degraded clip: per-frame entries re-indexed by ``frames`` (the
    source frame each output frame shows) and image positions moved by ``map_points`` ((N, 2)
    pixel coordinates in the tracks' convention -> where they land). A box becomes the box of its
    mapped corners and edge midpoints (exact for the centre, tight to a pixel or so for boxes
    under lens distortion); ``visible`` keeps the clean render's value."""
    out = []
    for track in tracks:
        new = {**track, **{k: [track[k][i] for i in frames] for k in PER_FRAME_KEYS}}
        if map_points is not None:
            centres = map_points(np.array(new["center_px"], dtype=np.float64))
            new["center_px"] = [[round(float(v), 3) for v in p] for p in centres]
            boxes = []
            for x0, y0, x1, y1 in new["bbox_px"]:
                xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
                ring = np.array([[x0, y0], [xm, y0], [x1, y0], [x1, ym], [x1, y1], [xm, y1], [x0, y1], [x0, ym]])
                p = map_points(ring)
                boxes.append([round(float(v), 3) for v in (*p.min(0), *p.max(0))])
            new["bbox_px"] = boxes
        out.append(new)
    return out
