"""The shell examples of README.md and docs/*.md run as written, in the order shown.

Convention (for writers of docs):

* A shell example is a fenced block with no language or ``sh``/``bash``/``shell``/``console``
  whose commands start with a known program (``synth``, ``python``, ``cat``, ...). Other blocks
  (directory listings, JSON, Python) are not run.
* Each document runs on its own, top to bottom, in a fresh working directory holding a copy of
  ``docs/`` and links to the rest of the repository; blocks of one document share it, so a later
  example may use what an earlier one wrote (give explicit ``out=`` paths under ``data/``).
* A block that cannot run here is marked on the line before its fence, invisible on the rendered
  page: ``<!-- docs-test: skip REASON -->``. Use it for synopses (``...``, ``a|b`` alternatives,
  ``[optional]`` keys, placeholders such as ``DIR``), and for commands that need a server, a
  cluster, weights, the network or a long time (``make demo``). Skipped blocks are counted and
  printed with their reasons.
* Sizes shrink, commands stay: ``synth`` is run through a shim that rewrites only sizes
  (:func:`shrink`: ``synth generate`` gets ``n`` at most 2 and at most 32x32 pixels,
  ``synth calibrate`` one 4-frame clip), so the documented command line runs otherwise unchanged.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.doc_commands import shrink

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL_INFO = {"", "sh", "bash", "shell", "console"}
PROGRAMS = {"synth", "python", "cat", "make", "export", "for", "pip", "lmms-eval", "ls", "mkdir", "cd", "echo",
            "SYNTH_LMMS_EVAL_PATH", "ffmpeg", "accelerate"}  # fmt: skip
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\b\s*(.*?)\s*-->")
BLOCK_TIMEOUT_S = 900  # catches a hung command; not a time budget


@dataclass
class Block:
    doc: Path
    line: int
    text: str
    skip: str | None  # the reason, when marked


def shell_blocks(doc: Path) -> list[Block]:
    """The shell examples of ``doc`` in order, with their skip marks."""
    text = doc.read_text()
    blocks = []
    for m in re.finditer(r"^```([\w-]*)[^\n]*\n(.*?)^```", text, re.S | re.M):
        info, body = m.group(1).lower(), m.group(2)
        commands = [line.split()[0] for line in body.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        if info not in SHELL_INFO or not commands or commands[0].split("=")[0] not in PROGRAMS:
            continue
        before = [line for line in text[: m.start()].splitlines() if line.strip()]
        mark = SKIP.search(before[-1]) if before else None
        blocks.append(Block(doc, text[: m.start()].count("\n") + 1, body, mark.group(1) or "marked" if mark else None))
    return blocks


SHIM = """#!{python}
import sys

if __name__ == "__main__":  # worker pools (jobs=2) spawn processes that import this file again
    sys.path.insert(0, {tests!r})
    from support.doc_commands import shrink
    from synth.cli import main

    sys.exit(main(shrink(sys.argv[1:])))
"""


def workdir(tmp: Path) -> Path:
    """A fresh working directory: a copy of docs/ (commands may write there), links to the rest."""
    tmp.mkdir(parents=True)
    for item in REPO.iterdir():
        if item.name in ("docs", "data", ".git") or item.name.startswith(".pytest"):
            continue
        (tmp / item.name).symlink_to(item)
    shutil.copytree(REPO / "docs", tmp / "docs", ignore=shutil.ignore_patterns("img"))
    (tmp / "docs" / "img").symlink_to(REPO / "docs" / "img")
    return tmp


def _tail(*outputs: str) -> str:
    text = "".join(outputs)
    return "\n".join(text.strip().splitlines()[-6:])


def run_doc(doc: Path, tmp: Path, env: dict) -> tuple[list[str], list[str], float]:
    """Run ``doc``'s blocks in order; (failures, skipped, seconds)."""
    cwd = workdir(tmp)
    failures, skipped, start = [], [], time.monotonic()
    for block in shell_blocks(doc):
        where = f"{doc.relative_to(REPO)}:{block.line}"
        if block.skip:
            skipped.append(f"{where}: {block.skip}")
            continue
        proc = subprocess.Popen(["bash", "-e", "-o", "pipefail", "-c", block.text], cwd=cwd, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
        try:
            out, err = proc.communicate(timeout=BLOCK_TIMEOUT_S)
        except subprocess.TimeoutExpired:  # end the whole group (a hung synth and its workers)
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()  # the output so far says which command hung
            failures.append(f"{where}: timed out after {BLOCK_TIMEOUT_S} s\n--- output ---\n{_tail(out, err)}")
            break
        if proc.returncode != 0:
            failures.append(f"{where}: exit {proc.returncode}\n{block.text}\n--- output ---\n{_tail(out, err)}")
            break  # later blocks of this document build on this one
    return failures, skipped, time.monotonic() - start


@pytest.fixture(scope="module")
def shim_env(tmp_path_factory) -> dict:
    bin_dir = tmp_path_factory.mktemp("bin")
    shim = bin_dir / "synth"
    shim.write_text(SHIM.format(python=sys.executable, tests=str(Path(__file__).parents[1])))
    shim.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("OPENAI_API_KEY", None)
    return env


def test_shrink_changes_only_sizes():
    documented = ["generate", "task=direction", "n=48", "seed=7", "out=data/dir", "render.width=128", "clip.fps=15"]
    assert shrink(documented) == ["generate", "task=direction", "n=2", "seed=7", "out=data/dir", "render.width=32",
                                  "clip.fps=15", "render.height=32"]  # fmt: skip
    assert shrink(["generate", "n=1", "render.width=16"])[:3] == ["generate", "n=1", "render.width=16"]
    assert shrink(["eval", "data=data/dir", "model=oracle"]) == ["eval", "data=data/dir", "model=oracle"]


def test_every_doc_example_runs_as_written(tmp_path, shim_env):
    results = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {doc: pool.submit(run_doc, doc, tmp_path / doc.stem, shim_env) for doc in DOCS}
        results = {doc: f.result() for doc, f in futures.items()}
    ran = sum(1 for doc in DOCS for b in shell_blocks(doc) if not b.skip)
    skipped = [s for _, s, _ in results.values() for s in s]
    print(f"\ndocs: ran {ran} shell blocks, skipped {len(skipped)} (marked):")
    for line in skipped:
        print("  skip", line)
    for doc, (_, _, seconds) in results.items():
        print(f"  {doc.relative_to(REPO)}: {seconds:.1f} s")
    failures = [f for fails, _, _ in results.values() for f in fails]
    assert not failures, "\n\n".join(failures)


def test_demo_section_quotes_the_makefile():
    """docs/evaluation.md's demo commands are the Makefile's demo recipe (docs/build_eval_doc.py writes them)."""
    sys.path.insert(0, str(REPO / "docs"))
    from build_eval_doc import demo_commands

    text = (REPO / "docs" / "evaluation.md").read_text()
    section = text[text.index("## The demo (what `make demo` runs)") :]
    quoted = re.search(r"^```\n(.*?)^```", section, re.S | re.M).group(1).splitlines()
    assert quoted == demo_commands(), "run `.venv/bin/python docs/build_eval_doc.py` after changing the demo"
