"""Paired direction datasets written by hand for the hf adapter and probe tests: a bright square
leaving the centre, siblings 2k and 2k + 1 share a group (a paired sweep)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from synth.video import EncodeSettings, sha256_file, write_clip

DIRECTIONS = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}
OPTIONS = list(DIRECTIONS)
FPS, FRAMES, SIZE = 8, 32, 56  # 4 s clips: sampled frames 4, 12, 20, 28 sit at 0.5, 1.5, 2.5, 3.5 s


def square_frames(direction: str, offset: tuple[int, int] = (0, 0), size: int = SIZE, frames: int = FRAMES) -> np.ndarray:
    """(frames, size, size, 3) uint8: an 8-px bright square leaving the centre (+ ``offset`` px)
    at 0.5 px per frame."""
    dx, dy = DIRECTIONS[direction]
    out = np.full((frames, size, size, 3), 30, np.uint8)
    for t in range(frames):
        x = size // 2 - 4 + offset[0] + round(0.5 * t * dx)
        y = size // 2 - 4 + offset[1] + round(0.5 * t * dy)
        out[t, y : y + 8, x : x + 8] = 230
    return out


def write_direction_dataset(root: Path, n: int, jitter: bool = False) -> tuple[Path, list[dict]]:
    """``n`` direction samples (answers cycle over the four directions, option order rotates);
    siblings ``2k`` and ``2k + 1`` share a group (a paired sweep). ``jitter``: each clip starts
    up to 6 px off the centre and the option order is drawn (seeded), so no regular design lets
    a probe anti-learn across folds."""
    (root / "clips").mkdir(parents=True)
    settings = EncodeSettings(crf=10, preset="ultrafast")
    rng = np.random.default_rng(0)
    records = []
    for i in range(n):
        direction = OPTIONS[i % 4]
        turn = int(rng.integers(4)) if jitter else i // 4 % 4
        options = OPTIONS[turn:] + OPTIONS[:turn]
        sample_id = f"s{i:03d}"
        offset = tuple(int(v) for v in rng.integers(-6, 7, size=2)) if jitter else (0, 0)
        write_clip(square_frames(direction, offset), root / "clips" / f"{sample_id}.mp4", FPS, settings)
        records.append({
            "id": sample_id, "task": "direction", "video": f"clips/{sample_id}.mp4", "fps": FPS,
            "num_frames": FRAMES, "width": SIZE, "height": SIZE,
            "question": "In which direction does the square move?", "options": options,
            "answer_index": options.index(direction), "answer": direction,
            "params": {"motion.direction": direction, "motion.speed": 0.5 + i % 2}, "seed": i,
            "group": f"g{i // 2}", "sweep": {"variable": "motion.speed", "value": 0.5 + i % 2},
            "degradations": [], "tracks": [], "sha256": sha256_file(root / "clips" / f"{sample_id}.mp4"),
        })  # fmt: skip
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (root / "dataset.json").write_text(json.dumps({"task": "direction", "count": n}))
    return root, records
