"""Golden files: a small spread of real outputs (generate with ground truth, a sweep, the camera model
inside generate, the world and ego-motion families, degrade, eval, the exports) must keep the exact
bytes recorded in tests/golden/hashes.json. Clips depend on the GL renderer, so the test runs where
the renderer string equals the recorded one (Mesa llvmpipe on CI's kind of machine) and is skipped
elsewhere. Refresh after an intended change: SYNTH_UPDATE_GOLDEN=1 pytest tests/generate/test_golden.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden" / "hashes.json"
SMALL = ["render.width=48", "render.height=32", "clip.fps=6", "clip.seconds=1", "progress=false"]
# Files whose bytes name the machine or the run (package versions, absolute paths) are compared by
# the fields that define the content instead.
CARD_KEYS = ("format_version", "count", "answer_balance", "tasks", "renderer")


def _synth(*args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "synth.cli", *args], capture_output=True, text=True)
    assert proc.returncode == 0, f"synth {' '.join(args)}: {proc.stderr}"


def _outputs(root: Path) -> dict[str, str]:
    _synth("generate", "task=direction", "n=4", "seed=3", "gt=true", f"out={root}/gt", *SMALL)
    _synth("generate", "task=rotation", "n=2", "seed=5", "sweep.variable=object.rotation_deg",
           "sweep.values=[0,10]", f"out={root}/sweep", *SMALL)  # fmt: skip
    _synth("generate", "task=direction", "n=2", "seed=4", "degradation=[lens,low_light,compression]",
           "degradation.low_light.severity=3", "degradation.lens.severity=2",
           "degradation.compression.severity=2", f"out={root}/camera", *SMALL)  # fmt: skip
    _synth("generate", "task=world", "n=2", "seed=2", f"out={root}/world", *SMALL, "clip.seconds=6")
    _synth("generate", "task=ego_motion", "n=2", "seed=2", f"out={root}/ego", *SMALL)
    _synth("degrade", f"src={root}/gt", f"out={root}/fog", "degradation=[fog,motion_blur]",
           "degradation.fog.severity=3", "degradation.motion_blur.severity=2")  # fmt: skip
    for model in ("oracle", "flow", "random"):
        _synth("eval", f"data={root}/gt", f"model={model}")
    _synth("export", "llava", f"data={root}/gt", f"out={root}/llava")
    _synth("export", "lmms-eval", f"data={root}/gt", f"out={root}/lmms")
    hashes = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if path.name == "dataset.json":
            card = json.loads(path.read_text())
            hashes[rel] = json.dumps({k: card.get(k) for k in CARD_KEYS}, sort_keys=True)
        elif path.suffix in (".md", ".png", ".html", ".yaml", ".py") and "/clips/" not in rel:
            continue  # reports, plots and task files name paths and versions; their numbers are in json
        else:
            hashes[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def _renderer() -> str:
    from synth.renderer import Renderer

    r = Renderer(2, 2, msaa=1, shadow_size=16)
    try:
        return r.gl_renderer
    finally:
        r.release()


def test_outputs_are_byte_identical_to_the_recorded_ones(tmp_path):
    renderer = _renderer()
    if os.environ.get("SYNTH_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps({"renderer": renderer, "files": _outputs(tmp_path / "recorded")}, indent=1, sort_keys=True) + "\n")
    golden = json.loads(GOLDEN.read_text())
    if golden["renderer"] != renderer:
        pytest.skip(f"golden files were recorded on {golden['renderer']!r}, this is {renderer!r}")
    got = _outputs(tmp_path / "run")
    assert sorted(got) == sorted(golden["files"])
    changed = [k for k in golden["files"] if got[k] != golden["files"][k]]
    assert not changed, f"{len(changed)} files changed: {changed[:10]}"
