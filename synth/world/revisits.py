"""Which frames of a ``world`` clip revisit which, and how long each object was out of view.

A revisit is a pair from the record's ``extra.same_pose_pairs``: frame ``j`` with the camera
pose of an earlier frame ``i`` (its first visit), some other pose between them, and at least one
object in view at ``j`` that was out of view at some frame between ``i`` and ``j`` (the objects
it revisits). Time away is counted in frames: an object's time away at frame ``j`` is its longest
completed stretch out of view so far (after it was first seen, before ``j``, ended by coming back
into view), and a revisit's is the longest of the objects in view at ``j``: the oldest memory the
frame needs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Revisit:
    frame: int  # j
    first_visit: int  # i
    time_away: int  # frames, the longest of the objects in view at j
    objects: tuple[tuple[str, int], ...]  # (name, its time away) of each object revisited


def away_frames(in_view: list[int], frame: int) -> int:
    """Longest stretch of frames an object was out of view, between two frames in ``in_view``
    (sorted frame indices where it is in view) that are at most ``frame``; 0 if none."""
    seen = [f for f in in_view if f <= frame]
    return max((b - a - 1 for a, b in zip(seen, seen[1:])), default=0)


def revisits(record: dict) -> list[Revisit]:
    """The revisits of a ``world`` record, in frame order (see the module docstring)."""
    extra = record["extra"]
    in_view = {name: list(frames) for name, frames in extra["in_view"].items()}
    views = {name: set(frames) for name, frames in in_view.items()}
    out = []
    for i, j in extra["same_pose_pairs"]:
        visible = [name for name in in_view if j in views[name]]
        revisited = [name for name in visible if any(f not in views[name] for f in range(i + 1, j))]
        if not revisited:
            continue
        away = {name: away_frames(in_view[name], j) for name in visible}
        objects = tuple((name, away[name]) for name in revisited)
        out.append(Revisit(j, i, max(away.values()), objects))
    return out
