"""Shared builders for the evaluator tests: a tiny real `direction`-like dataset and its pixel solver."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from synth.video import EncodeSettings, sha256_file, write_clip

DIRECTIONS = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}
OPTIONS = ["left", "right", "up", "down"]
SIZE = 64
FRAMES = 12


def square_clip(direction: str, start: tuple[int, int], step: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    """(FRAMES, SIZE, SIZE, 3) uint8: a bright 8-px square stepping ``step`` px per frame in ``direction``."""
    dx, dy = DIRECTIONS[direction]
    frames = np.full((FRAMES, SIZE, SIZE, 3), 30, np.uint8)
    for t in range(FRAMES):
        x, y = start[0] + step * dx * t, start[1] + step * dy * t
        frames[t, y : y + 8, x : x + 8] = 230
    if noise:
        frames = np.clip(frames + rng.normal(0, noise, frames.shape), 0, 255).astype(np.uint8)
    return frames


def brightest_centroid(frame: np.ndarray) -> np.ndarray:
    luma = frame.astype(float).mean(axis=-1)
    ys, xs = np.nonzero(luma > 150)
    return np.array([xs.mean(), ys.mean()])


def direction_solver(frames: np.ndarray, question: str, options: list[str]) -> int:
    """Pixel-only solver: displacement of the bright square's centroid from the first to the last frame."""
    dx, dy = brightest_centroid(frames[-1]) - brightest_centroid(frames[0])
    if abs(dx) >= abs(dy):
        word = "right" if dx > 0 else "left"
    else:
        word = "down" if dy > 0 else "up"
    return options.index(word)


def oracle_for(task: str):
    assert task == "direction", task
    return direction_solver


def make_dataset(root: Path, n: int = 16, noise_levels: tuple[float, ...] = (), seed: int = 0) -> Path:
    """A dataset directory: ``n`` clean samples, and for each noise level a noisy copy of each.

    Answers cycle through the four directions (balanced); the option order rotates too, so the
    right letter is spread over A-D. Noisy copies share group and seed with their clean sample.
    """
    rng = np.random.default_rng(seed)
    (root / "clips").mkdir(parents=True)
    records = []
    settings = EncodeSettings(crf=10, preset="ultrafast")
    for i in range(n):
        direction = OPTIONS[i % 4]
        options = OPTIONS[i // 4 % 4 :] + OPTIONS[: i // 4 % 4]
        start = (28, 28)  # 11 steps of up to 2 px stay inside the frame
        speed = [1, 2][i % 2]
        for level in (0.0, *noise_levels):
            sample_id = f"s{i:03d}" + (f"_n{level:g}" if level else "")
            clip = root / "clips" / f"{sample_id}.mp4"
            write_clip(square_clip(direction, start, speed, level, rng), clip, 12, settings)
            records.append(
                {
                    "id": sample_id, "task": "direction", "video": f"clips/{sample_id}.mp4",
                    "fps": 12, "num_frames": FRAMES, "width": SIZE, "height": SIZE,
                    "question": "In which direction does the square move?",
                    "options": options, "answer_index": options.index(direction), "answer": direction,
                    "params": {"motion.direction": direction, "motion.speed": speed, "object.x": float(i)},
                    "seed": i, "group": f"g{i // 2}",
                    "sweep": {"variable": "motion.speed", "value": speed},
                    "degradations": [{"name": "noise", "params": {"severity": level}}] if level else [],
                    "tracks": [], "sha256": sha256_file(clip),
                }
            )  # fmt: skip
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (root / "dataset.json").write_text(json.dumps({"task": "direction", "count": len(records)}))
    return root
