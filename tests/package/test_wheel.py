"""The wheel works on its own (issue 14 item 2): built with pip, installed into a fresh venv (no
editable install, no source tree on the path, run from an empty directory), it generates,
degrades and evaluates a tiny dataset.

The fresh venv borrows the project venv's third-party packages (torch alone is gigabytes) through
a ``.pth`` line naming that site-packages directory. A directory added by a ``.pth`` line does not
have its own ``.pth`` files processed, so the project's editable-install finder stays inactive:
``synth`` can only come from the wheel, which the test checks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "synth", "scenes", "degradations", "shaders")


def _run(args: list, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> tuple[Path, str]:
    """The wheel, built by pip from a copy of the sources (the checkout gets no build/ folder)."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES + tuple(p.name for p in REPO.glob("LICENSE*")):
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(path, src / name)
    out = tmp_path_factory.mktemp("wheel")
    # The build backend comes from this environment: a test needs no network.
    proc = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", out, src],
                src, dict(os.environ))  # fmt: skip
    (path,) = out.glob("synth-*.whl")
    return path, proc.stdout + proc.stderr


def test_the_wheel_holds_one_top_level_package_and_the_shaders(wheel):
    path, log = wheel
    assert "flat-layout" not in log.lower() and "warning" not in log.lower(), log
    names = zipfile.ZipFile(path).namelist()
    assert {n.split("/")[0] for n in names} == {"synth", path.name.split("-py")[0] + ".dist-info"}
    shaders = {Path(n).name for n in names if n.startswith("synth/shaders/")}
    on_disk = {p.name for p in (REPO / "shaders").iterdir() if p.suffix in (".vert", ".frag", ".glsl")}
    assert on_disk and on_disk <= shaders
    for package in ("scenes", "degradations"):
        modules = {p.name for p in (REPO / package).glob("*.py")}
        assert modules <= {Path(n).name for n in names if n.startswith(f"synth/{package}/")}, package
    # Every package folder lands in the wheel without being listed anywhere (setup.py finds them).
    for folder, name in (("synth", "synth"), ("scenes", "synth/scenes"), ("degradations", "synth/degradations")):
        for init in (REPO / folder).rglob("__init__.py"):
            assert f"{name}/{init.relative_to(REPO / folder).as_posix()}" in names, init


def test_a_fresh_venv_with_only_the_wheel_generates_degrades_and_evaluates(wheel, tmp_path):
    path, _ = wheel
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path,
                     dict(os.environ)).stdout.strip())  # fmt: skip
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "borrowed-project-packages.pth").write_text("".join(f"{p}\n" for p in sorted(borrowed)))
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", path],
         tmp_path, dict(os.environ))  # fmt: skip

    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    where = _run([python, "-c", "import synth, synth.scenes, synth.degradations, synth.shaders as s, importlib.util;"
                  "print(synth.__file__); print(s.__file__);"
                  "print(importlib.util.find_spec('scenes'), importlib.util.find_spec('degradations'))"],
                 work, env).stdout.splitlines()  # fmt: skip
    assert all(Path(p).is_relative_to(site) for p in where[:2]), where
    assert where[2] == "None None", "generic top-level modules must not be importable"

    synth = env_dir / "bin" / "synth"
    small = ["render.width=32", "render.height=32", "clip.seconds=0.4", "clip.fps=10", "progress=false"]
    _run([synth, "generate", "task=direction", "n=2", "out=data/clean", *small], work, env)
    _run([synth, "degrade", "src=data/clean", "out=data/fog", "degradation=[fog]", "degradation.fog.severity=2"],
         work, env)  # fmt: skip
    scored = _run([synth, "eval", "data=data/fog", "model=oracle"], work, env).stdout
    assert "oracle: accuracy 1.000" in scored and "n=2" in scored
    _run([synth, "verify", "data=data/fog"], work, env)
    assert (work / "data" / "fog" / "evals" / "oracle" / "metrics.json").is_file()
    assert sorted(p.name for p in work.iterdir()) == ["data"]  # nothing written outside out=
