"""Per-token geometry targets (GeoWeaver): ground truth pooled onto the cells visual tokens cover.

``probe.target=gt.depth|gt.normals|gt.flow`` reads the dataset's ground truth (``gt=true``,
through :func:`synth.dataset.read_gt`) at the sampled frames and averages it over each cell of
the same (time bins, rows, columns) grid the tokens are pooled to (``probe.pool``; a grid as fine
as the token grid makes a cell one token). Cells map to the frame as the processor maps the
frame to tokens, the whole frame resized (true of every supported processor for the clips synth
writes; centre-cropping processors would crop a non-square frame first).
"""

from __future__ import annotations

import math

import numpy as np

from synth.errors import UserError

GT_TARGETS = {"gt.depth": "depth", "gt.normals": "normals", "gt.flow": "flow"}


def bins(length: int, count: int) -> list[tuple[int, int]]:
    """The [start, end) ranges adaptive average pooling uses to cut ``length`` into ``count``."""
    return [(math.floor(i * length / count), math.ceil((i + 1) * length / count)) for i in range(count)]


def gt_cells(array: np.ndarray, frame_indices: list[int], pool: tuple[int, int, int]) -> np.ndarray:
    """Mean ground truth per cell.

    Args:
        array: (T, H, W) or (T, H, W, C) ground truth of the whole clip (a memory map is fine: only
            the sampled frames are read). Background pixels (depth ``inf``, a zero normal) are left
            out of the means.
        frame_indices: the sampled frames, in order.
        pool: (time bins, rows, columns).

    Returns:
        (bins * rows * columns, C) float32, NaN for a cell without one valid pixel.
    """
    frames = np.asarray(array[np.asarray(frame_indices)], dtype=np.float64)
    if frames.ndim == 3:
        frames = frames[..., None]
    valid = np.isfinite(frames).all(axis=-1) & (np.abs(frames).sum(axis=-1) > 0 if frames.shape[-1] > 1 else True)
    values = np.where(valid[..., None], frames, 0.0)
    t, h, w, c = values.shape
    out = np.full((*pool, c), np.nan, np.float32)
    for i, (t0, t1) in enumerate(bins(t, pool[0])):
        for j, (y0, y1) in enumerate(bins(h, pool[1])):
            for k, (x0, x1) in enumerate(bins(w, pool[2])):
                count = valid[t0:t1, y0:y1, x0:x1].sum()
                if count:
                    out[i, j, k] = values[t0:t1, y0:y1, x0:x1].sum(axis=(0, 1, 2)) / count
    return out.reshape(-1, c)


def gt_target(root, record: dict, target: str, frame_indices: list[int], pool) -> np.ndarray:
    """:func:`gt_cells` of ``record``'s ground truth named by ``target`` (``gt.depth`` ...)."""
    from synth.dataset import read_gt

    gt = read_gt(root, str(record["id"]))
    name = GT_TARGETS[target]
    if gt is None or name not in gt:
        raise UserError(f"probe.target={target}: sample {record['id']} has no ground truth (make the dataset with gt=true)")
    return gt_cells(gt[name], frame_indices, tuple(pool))
