"""What every model adapter shares: the :class:`Model` base and the command protocol.

A model turns an :class:`~synth.models.prompts.Ask` about a clip into raw text. The command
protocol (:class:`CommandModel`, :func:`readline`) runs a subprocess that reads one JSON request
per line on stdin and writes one JSON reply per line; the world bench speaks it too.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np

from synth.errors import UserError
from synth.models.configs import CommandModelConfig
from synth.models.frames import SampledClip
from synth.models.parsing import normalize
from synth.models.prompts import NONE_OF_THE_ABOVE, Ask

# scenes.oracle_for(task) -> solver(frames (T,H,W,3) uint8, question, options) -> option index
OracleFor = Callable[[str], Callable[[np.ndarray, str, list], int]]


class Model:
    """Base adapter. ``answer`` is called from up to ``concurrency`` threads at once."""

    concurrency = 1
    uses_frames = True
    # The adapter's code version, part of every cached answer's key (synth.results): bump it in a
    # subclass when a change to its code changes its answers (a reference model's logic, or, for
    # the oracle, any task family's solver), so cached answers are asked again.
    version = 1

    def __init__(self, cfg):
        self.cfg = cfg

    @property
    def label(self) -> str:
        label = self.cfg.label or self.default_label()
        return re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("_") or self.cfg.kind

    def default_label(self) -> str:
        return self.cfg.kind

    def fingerprint(self) -> dict:
        """What determines the answers; a change invalidates cached predictions."""
        return {k: v for k, v in asdict(self.cfg).items() if k not in _NOT_IN_FINGERPRINT}

    def answer(self, ask: Ask, clip: SampledClip, record: dict) -> str:
        raise NotImplementedError

    def close(self) -> None:
        """Release processes or memory."""


# Keys that change how answers are fetched, not what they are.
_NOT_IN_FINGERPRINT = {"label", "timeout_s", "max_retries", "backoff_s", "concurrency", "device", "device_map",
                       "batch_size"}


def reply_for_option(ask: Ask, chosen_text: str) -> str:
    """The reply naming ``chosen_text``: its letter, "None of the above" when it is not offered, or the text."""
    if not ask.options:
        return chosen_text
    wanted = normalize(chosen_text)
    for letter, option in zip(ask.letters, ask.options):
        if normalize(option) == wanted:
            return letter
    if NONE_OF_THE_ABOVE in ask.options:
        return ask.letters[ask.options.index(NONE_OF_THE_ABOVE)]
    return chosen_text


_INTERPRETER = re.compile(r"^(python[\d.]*|pypy[\d.]*|bash|sh|zsh|node|ruby|perl|Rscript|julia)$")


class CommandModel(Model):
    """A subprocess: one JSON request per line on stdin, one JSON reply (``{"response": ...}``) per line.

    Request fields: ``id, variant, rotation, prompt, question, options, video`` (absolute path of
    the clip), ``frame_indices`` (the sampled frames in the order to show them, see
    :mod:`synth.models.frames`; a time control's twin lists them reordered), ``fps``.
    """

    def __init__(self, cfg: CommandModelConfig):
        super().__init__(cfg)
        if not cfg.cmd.strip():
            raise UserError("model.cmd: required for model=command (an executable reading JSON lines)")
        self._argv = shlex.split(cfg.cmd)
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None

    def default_label(self) -> str:
        """The program's name: the script's, when the command starts with an interpreter."""
        program, *rest = self._argv
        if _INTERPRETER.match(Path(program).name):
            program = next((a for a in rest if not a.startswith("-")), program)
        return Path(program).stem

    def _process(self) -> subprocess.Popen:
        """The running process, started on first use; a process that exited is an error, not restarted."""
        if self._proc is not None and self._proc.poll() is not None:
            raise UserError(f"model.cmd={self.cfg.cmd}: the process exited with status {self._proc.returncode}")
        if self._proc is None:
            try:
                self._proc = subprocess.Popen(
                    self._argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
                )
            except OSError as exc:
                raise UserError(f"model.cmd={self.cfg.cmd}: cannot start ({exc.strerror})") from None
        return self._proc

    def answer(self, ask: Ask, clip: SampledClip, record: dict) -> str:
        request = {
            "id": ask.sample_id,
            "variant": ask.variant,
            "rotation": ask.rotation,
            "prompt": ask.prompt,
            "question": ask.question,
            "options": list(ask.options),
            "video": str(clip.path.resolve()),
            "frame_indices": clip.indices,
            "fps": clip.fps,
        }
        line = self.exchange(request)
        try:
            return str(json.loads(line)["response"])
        except (ValueError, KeyError, TypeError):
            raise UserError(f'model.cmd={self.cfg.cmd}: reply is not JSON with a "response" key') from None

    def exchange(self, request: dict, about: str = "") -> str:
        """Send ``request`` as one JSON line and return the reply line (the command protocol, shared
        by every bench that talks to a subprocess); ``about`` names the item in errors."""
        with self._lock:
            proc = self._process()
            try:
                proc.stdin.write(json.dumps(request) + "\n")
                proc.stdin.flush()
            except BrokenPipeError:
                raise UserError(f"model.cmd={self.cfg.cmd}: the process exited") from None
            line = readline(proc, self.cfg.timeout_s)
        if not line:
            what = f" for {about}" if about else ""
            raise UserError(f"model.cmd={self.cfg.cmd}: no reply{what} (the process exited or timed out)")
        return line

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


def readline(proc: subprocess.Popen, timeout_s: float) -> str:
    """One line from ``proc.stdout``; empty on end of file or after ``timeout_s``."""
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout_s)
    return result[0] if result else ""

