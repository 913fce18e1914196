"""synth degrade shows a tqdm bar (clips of a dataset, frames of a single file) when stderr is a
terminal, and stays quiet otherwise."""

from __future__ import annotations

import io
import sys

from synth.cli import main


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def degrade(src, out, monkeypatch, terminal: bool) -> str:
    err = Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["degrade", f"src={src}", f"out={out}", "degradation=[fog]", "degradation.fog.severity=2"]) == 0
    return err.getvalue()


def test_degrade_shows_clips_on_a_terminal_and_nothing_otherwise(tmp_path, monkeypatch):
    from support.square_clips import make_dataset

    src = make_dataset(tmp_path / "src", n=3)
    assert "degrade src" not in degrade(src, tmp_path / "quiet", monkeypatch, terminal=False)
    shown = degrade(src, tmp_path / "shown", monkeypatch, terminal=True)
    assert "degrade src" in shown and "3/3" in shown and "clip" in shown


def test_degrade_of_one_file_counts_its_frames(tmp_path, monkeypatch):
    from support.square_clips import FRAMES, make_dataset

    clip = make_dataset(tmp_path / "src", n=1) / "clips" / "s000.mp4"
    shown = degrade(clip, tmp_path / "out.mp4", monkeypatch, terminal=True)
    assert "degrade s000.mp4" in shown and f"{FRAMES}/{FRAMES}" in shown and "frame" in shown
