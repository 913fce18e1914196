"""Property tests over config values (issue 19): whatever numbers a user types, ``synth generate``
and ``synth degrade`` end in a verified output or a one-line error (exit 2, no traceback), and
nothing outside the run's temporary root changes. The real CLI entry, in-process; the keys that
set the amount of work (frames, samples, size) draw from hostile but bounded values so every
accepted draw stays quick."""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from synth.cli import main
from synth.degradations import REGISTRY
from synth.video import footage

SMALL = ["task=direction", "render.width=32", "render.height=32", "progress=false"]
HOSTILE = [float("nan"), float("inf"), float("-inf"), 0.0, -0.0, -1.0, 1e-300, 1e300, 5e-324]
NUMBER = st.one_of(st.sampled_from(HOSTILE), st.floats(0.05, 2.0), st.floats(-1e6, 1e6), st.integers(-(10**20), 10**20))
# Scene parameters: any value (they do not change how much is rendered).
SCENE_KEYS = ["motion.speed", "motion.mid_x", "motion.rest_phase", "object.size", "object.rotation_deg", "object.x",
              "camera.fov_deg", "camera.distance", "camera.shutter_deg", "light.intensity", "light.elevation_deg",
              "light.ambient", "stage.floor_tiles"]  # fmt: skip
# Keys that set the amount of work: hostile values, or ones small enough to render at once.
WORK = {
    "clip.fps": st.sampled_from([*HOSTILE, 10.0, 4]),
    "clip.seconds": st.sampled_from([*HOSTILE, 0.4]),
    "n": st.sampled_from([-1, 0, 1, 2, 10**20]),
    "seed": st.sampled_from([-1, 0, 7, 2**64]),
    "render.msaa": st.sampled_from([-1, 0, 1, 4, 10**6]),
    "jobs": st.sampled_from([-1, 0, 1, 10**9]),
}
# At most one of them per draw (none half of the time), so most draws reach the renderer.
ONE_WORK_KEY = st.sampled_from([None, None, None, *WORK]).flatmap(
    lambda k: st.just({}) if k is None else WORK[k].map(lambda v: {k: v}))  # fmt: skip
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _value(v) -> str:
    return repr(v) if isinstance(v, float) and math.isfinite(v) else str(v)


def _strict_json(line: str) -> dict:
    def refuse(name):
        raise AssertionError(f"not JSON: {name} in {line[:200]}")

    return json.loads(line, parse_constant=refuse)


class Sandbox:
    """A temporary root with the run's current folder and output inside; on exit checks that
    nothing appeared beside them (nor in the current folder) and removes it."""

    def __enter__(self) -> Sandbox:
        self.base = Path(tempfile.mkdtemp(prefix="synth-prop-"))
        self.root, self.cwd = self.base / "root", self.base / "cwd"
        self.root.mkdir()
        self.cwd.mkdir()
        self._old = os.getcwd()
        os.chdir(self.cwd)
        return self

    def __exit__(self, *exc) -> None:
        os.chdir(self._old)
        try:
            if exc[0] is None:
                assert sorted(os.listdir(self.base)) == ["cwd", "root"]
                assert os.listdir(self.cwd) == [], os.listdir(self.cwd)
        finally:
            shutil.rmtree(self.base)


def _ended_well(rc: int, capsys) -> bool:
    """True for a clean success; for a refusal, checks it is one line without a traceback."""
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    if rc == 0:
        event("made")
        return True
    assert rc == 2, captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("synth: error: "), lines
    event(f"refused: {lines[0].split(':')[2].split('=')[0].strip()}")
    return False


@PROPERTY
@given(scene=st.dictionaries(st.sampled_from(SCENE_KEYS), NUMBER, max_size=2), work=ONE_WORK_KEY)
def test_generate_ends_in_a_verified_dataset_or_one_line(capsys, scene, work):
    work = {"clip.fps": 10.0, "clip.seconds": 0.4, "n": 1, **work}
    with Sandbox() as box:
        out = box.root / "out"
        args = [*SMALL, *(f"{k}={_value(v)}" for k, v in {**work, **scene}.items()), f"out={out}"]
        if _ended_well(main(["generate", *args]), capsys):
            assert main(["verify", f"data={out}"]) == 0, capsys.readouterr().err
            records = [_strict_json(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
            assert len(records) == work["n"]
            _strict_json((out / "dataset.json").read_text())
        else:
            assert not out.exists()


@st.composite
def degradation(draw):
    name = draw(st.sampled_from(sorted(REGISTRY)))
    keys = draw(st.lists(st.sampled_from(sorted(REGISTRY[name].ranges)), max_size=2, unique=True))
    values = {k: draw(NUMBER) for k in keys}
    if name == "frame_drop" and "target_fps" in values:
        values["target_fps"] = draw(st.sampled_from([*HOSTILE, 5.0, 20.0]))  # the work: output frames
    severity = draw(st.sampled_from([None, -1, 0, 1, 3, 5, 6]))
    return name, values, severity


@PROPERTY
@given(stage=degradation(), seed=st.sampled_from([0, 3, 2**70, -1]))
def test_degrade_ends_in_a_readable_video_or_one_line(capsys, clip, stage, seed):
    name, values, severity = stage
    args = [f"degradation=[{name}]", f"seed={seed}", *(f"degradation.{name}.{k}={_value(v)}" for k, v in values.items())]
    if severity is not None:
        args.append(f"degradation.{name}.severity={severity}")
    with Sandbox() as box:
        suffix = ".mp4" if name == "compression" else ".mkv"
        out = box.root / f"out{suffix}"
        extra = [] if name == "compression" else ["video.lossless=true"]
        if _ended_well(main(["degrade", f"src={clip}", f"out={out}", *args, *extra]), capsys):
            assert footage(out).frames > 0
        else:
            assert not out.exists()
