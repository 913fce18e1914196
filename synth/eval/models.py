"""Model adapters: each turns an :class:`~synth.eval.prompts.Ask` about a clip into raw text.

Built-ins that make the benchmark's validity visible (no weights, deterministic):

* ``oracle``: the task family's pixel-only solver (injected as ``oracle_for``; ``synth.eval``
  never imports ``scenes``) on the same sampled frames a model sees;
* ``single_frame``: the same solver given only the clip's middle frame;
* ``blind``: question and options only; picks the option sharing most words with the question,
  the first such on ties (so it also exposes answer-position bias);
* ``random``: a seeded uniform pick, stable per (sample, variant, rotation);
* ``flow``: a classical-vision baseline, OpenCV dense optical flow voting the motion
  (:mod:`synth.eval.flow`; direction, approach and ego-motion questions, abstains on others).

External models: ``openai`` (any OpenAI-compatible chat-completions server), ``hf`` (a local
transformers video-LLM) and ``command`` (a subprocess speaking JSON lines).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shlex
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from synth.errors import UserError
from synth.eval.frames import Clip
from synth.eval.parsing import normalize
from synth.eval.prompts import NONE_OF_THE_ABOVE, Ask

# scenes.oracle_for(task) -> solver(frames (T,H,W,3) uint8, question, options) -> option index
OracleFor = Callable[[str], Callable[[np.ndarray, str, list], int]]


# ---------------------------------------------------------------- configs (Hydra config group "model")


@dataclass
class OracleModelConfig:
    kind: str = "oracle"
    label: str = ""  # directory name under evals/; default: the kind


@dataclass
class SingleFrameModelConfig:
    kind: str = "single_frame"
    label: str = ""


@dataclass
class BlindModelConfig:
    kind: str = "blind"
    label: str = ""


@dataclass
class RandomModelConfig:
    kind: str = "random"
    label: str = ""
    seed: int = 0


@dataclass
class FlowModelConfig:
    kind: str = "flow"
    label: str = ""
    min_px: float = 1.0  # flow magnitude (pixels per sampled-frame step) from which a pixel moves
    camera_share: float = 0.3  # ego_motion: "the camera" when more than this share of pixels moves


@dataclass
class OpenAIModelConfig:
    kind: str = "openai"
    label: str = ""  # default: model.name
    name: str = ""  # the served model name, e.g. gpt-4o or Qwen/Qwen2.5-VL-7B-Instruct
    base_url: str = "https://api.openai.com/v1"
    api_key_env: str = "OPENAI_API_KEY"  # the key is read from this variable, never stored
    video_url: bool = False  # send the clip as one video_url part (vLLM) instead of image parts
    image_format: str = "png"  # png (lossless) or jpeg
    max_tokens: int = 64
    temperature: float = 0.0
    timeout_s: float = 120.0
    max_retries: int = 5
    backoff_s: float = 1.0  # first retry wait; doubles each retry (Retry-After wins when given)
    concurrency: int = 4


@dataclass
class HFModelConfig:
    kind: str = "hf"
    label: str = ""  # default: the last part of model.path
    path: str = ""  # a local directory (save_pretrained) or a hub id
    device: str = "cpu"
    dtype: str = "float32"  # float32, bfloat16 or float16
    device_map: str = ""  # "auto": spread the model over the visible GPUs (needs accelerate)
    batch_size: int = 1  # asks per forward pass (generation), options per pass (likelihood)
    max_new_tokens: int = 16


@dataclass
class CommandModelConfig:
    kind: str = "command"
    label: str = ""  # default: the program's file name (the script's after an interpreter)
    cmd: str = ""  # command line, split like a shell would; reads JSON lines on stdin
    timeout_s: float = 300.0


MODEL_CONFIGS = {
    "oracle": OracleModelConfig,
    "random": RandomModelConfig,
    "blind": BlindModelConfig,
    "single_frame": SingleFrameModelConfig,
    "flow": FlowModelConfig,
    "openai": OpenAIModelConfig,
    "hf": HFModelConfig,
    "command": CommandModelConfig,
}


# ---------------------------------------------------------------- adapters


class Model:
    """Base adapter. ``answer`` is called from up to ``concurrency`` threads at once."""

    concurrency = 1
    uses_frames = True

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

    def answer(self, ask: Ask, clip: Clip, record: dict) -> str:
        raise NotImplementedError

    def close(self) -> None:
        """Release processes or memory."""


# Keys that change how answers are fetched, not what they are.
_NOT_IN_FINGERPRINT = {"label", "timeout_s", "max_retries", "backoff_s", "concurrency", "device", "device_map",
                       "batch_size"}


def _reply_for_option(ask: Ask, chosen_text: str) -> str:
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


class OracleModel(Model):
    """The task's pixel solver; it picks from the task's answer set and the reply maps to the offer."""

    def __init__(self, cfg, oracle_for: OracleFor | None):
        super().__init__(cfg)
        if oracle_for is None:
            raise UserError(f"model={cfg.kind}: needs the task families' solvers (scenes.oracle_for)")
        self._oracle_for = oracle_for

    def _frames(self, clip: Clip) -> np.ndarray:
        return clip.frames

    def answer(self, ask: Ask, clip: Clip, record: dict) -> str:
        solver = self._oracle_for(record["task"])
        index = int(solver(self._frames(clip), ask.question, list(ask.answer_set)))
        if not 0 <= index < len(ask.answer_set):
            return f"solver returned option {index}"
        return _reply_for_option(ask, ask.answer_set[index])


class SingleFrameModel(OracleModel):
    """The oracle shown only the middle frame: what a static-image shortcut could reach."""

    def _frames(self, clip: Clip) -> np.ndarray:
        return clip.middle_frame


# Function words carry no hint about the answer; "the" would otherwise tie "None of the above" to most questions.
_STOPWORDS = frozenset("a an the of in on at to is are was does do did which what where how and or it its this that".split())


class BlindModel(Model):
    """Text only: the option sharing most content words with the question, the first on ties."""

    uses_frames = False

    def answer(self, ask: Ask, clip: Clip, record: dict) -> str:
        candidates = ask.options or ask.answer_set
        question_words = set(normalize(ask.question).split()) - _STOPWORDS
        overlap = [len(question_words & set(normalize(o).split())) for o in candidates]
        best = int(np.argmax(overlap))  # argmax returns the first maximum
        return ask.letters[best] if ask.options else candidates[best]


class RandomModel(Model):
    """A uniform pick from a generator seeded by (model.seed, sample id, variant, rotation)."""

    uses_frames = False

    def answer(self, ask: Ask, clip: Clip, record: dict) -> str:
        key = hashlib.sha256("|".join(map(str, ask.key)).encode()).digest()
        rng = np.random.default_rng([self.cfg.seed, int.from_bytes(key[:8], "little")])
        candidates = ask.options or ask.answer_set
        pick = int(rng.integers(len(candidates)))
        return ask.letters[pick] if ask.options else candidates[pick]


def _encode_image(frame: np.ndarray, image_format: str) -> tuple[str, str]:
    """(mime type, base64 text) of one (H, W, 3) uint8 frame."""
    from PIL import Image

    buffer = io.BytesIO()
    pil_format = {"png": "PNG", "jpeg": "JPEG"}[image_format]
    Image.fromarray(frame).save(buffer, format=pil_format, **({"quality": 95} if pil_format == "JPEG" else {}))
    return f"image/{image_format}", base64.b64encode(buffer.getvalue()).decode()


class OpenAIModel(Model):
    """Chat completions over HTTP: frames in order as image parts (or the clip as a video_url part)."""

    def __init__(self, cfg: OpenAIModelConfig):
        super().__init__(cfg)
        if not cfg.name:
            raise UserError("model.name: required for model=openai (the served model, e.g. gpt-4o)")
        if not cfg.base_url.startswith(("http://", "https://")):
            raise UserError(f"model.base_url={cfg.base_url}: must start with http:// or https://")
        if cfg.image_format not in ("png", "jpeg"):
            raise UserError(f"model.image_format={cfg.image_format}: allowed png, jpeg")
        if cfg.concurrency < 1 or cfg.max_retries < 0:
            raise UserError("model.concurrency must be >= 1 and model.max_retries >= 0")
        self.concurrency = cfg.concurrency
        # Read once; kept only in memory and sent only in the Authorization header.
        self._api_key = os.environ.get(cfg.api_key_env, "")
        self._url = cfg.base_url.rstrip("/") + "/chat/completions"

    def default_label(self) -> str:
        return self.cfg.name

    def request_body(self, ask: Ask, clip: Clip) -> dict:
        if self.cfg.video_url:
            data = base64.b64encode(clip.path.read_bytes()).decode()
            media = [{"type": "video_url", "video_url": {"url": f"data:video/mp4;base64,{data}"}}]
        else:
            media = []
            for frame in clip.frames:
                mime, data = _encode_image(frame, self.cfg.image_format)
                media.append({"type": "image_url", "image_url": {"url": f"data:{mime};base64,{data}"}})
        return {
            "model": self.cfg.name,
            "messages": [{"role": "user", "content": media + [{"type": "text", "text": ask.prompt}]}],
            "max_tokens": self.cfg.max_tokens,
            "temperature": self.cfg.temperature,
        }

    def answer(self, ask: Ask, clip: Clip, record: dict) -> str:
        body = json.dumps(self.request_body(ask, clip)).encode()
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        for attempt in range(self.cfg.max_retries + 1):
            wait = self.cfg.backoff_s * 2**attempt
            try:
                request = urllib.request.Request(self._url, data=body, headers=headers, method="POST")
                with urllib.request.urlopen(request, timeout=self.cfg.timeout_s) as reply:
                    return _message_text(json.loads(reply.read()))
            except urllib.error.HTTPError as exc:
                retryable = exc.code == 429 or exc.code >= 500
                if not retryable or attempt == self.cfg.max_retries:
                    raise UserError(f"model.base_url={self.cfg.base_url}: HTTP {exc.code} {exc.reason}") from None
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
                if retry_after and retry_after.replace(".", "", 1).isdigit():
                    wait = float(retry_after)
                why = f"HTTP {exc.code} {exc.reason}"
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                reason = getattr(exc, "reason", exc)
                if attempt == self.cfg.max_retries:
                    raise UserError(f"model.base_url={self.cfg.base_url}: unreachable ({reason})") from None
                why = f"unreachable ({reason})"
            # Say why the run pauses: a dead server would otherwise look like a hang for a minute.
            print(
                f"model=openai: {self.cfg.base_url}: {why}; retry {attempt + 1} of {self.cfg.max_retries} in {wait:g} s",
                file=sys.stderr, flush=True,
            )  # fmt: skip
            time.sleep(wait)
        raise AssertionError("unreachable")  # the loop returns or raises


def _message_text(reply: dict) -> str:
    content = reply["choices"][0]["message"].get("content") or ""
    if isinstance(content, list):  # some servers answer with content parts
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content


_INTERPRETER = re.compile(r"^(python[\d.]*|pypy[\d.]*|bash|sh|zsh|node|ruby|perl|Rscript|julia)$")


class CommandModel(Model):
    """A subprocess: one JSON request per line on stdin, one JSON reply (``{"response": ...}``) per line.

    Request fields: ``id, variant, rotation, prompt, question, options, video`` (absolute path of
    the clip), ``frame_indices`` (the sampled frames, see :mod:`synth.eval.frames`), ``fps``.
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

    def answer(self, ask: Ask, clip: Clip, record: dict) -> str:
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
        with self._lock:
            proc = self._process()
            try:
                proc.stdin.write(json.dumps(request) + "\n")
                proc.stdin.flush()
            except BrokenPipeError:
                raise UserError(f"model.cmd={self.cfg.cmd}: the process exited") from None
            line = _readline(proc, self.cfg.timeout_s)
        if not line:
            raise UserError(f"model.cmd={self.cfg.cmd}: no reply (the process exited or timed out)")
        try:
            return str(json.loads(line)["response"])
        except (ValueError, KeyError, TypeError):
            raise UserError(f'model.cmd={self.cfg.cmd}: reply is not JSON with a "response" key') from None

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


def _readline(proc: subprocess.Popen, timeout_s: float) -> str:
    """One line from ``proc.stdout``; empty on end of file or after ``timeout_s``."""
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout_s)
    return result[0] if result else ""


def build_model(cfg, oracle_for: OracleFor | None = None) -> Model:
    """The adapter for ``cfg`` (one of :data:`MODEL_CONFIGS`)."""
    kind = cfg.kind
    if kind in ("oracle", "single_frame"):
        return (OracleModel if kind == "oracle" else SingleFrameModel)(cfg, oracle_for)
    if kind == "flow":
        from synth.eval.flow import FlowModel  # imports models: loaded on use

        return FlowModel(cfg)
    if kind == "hf":
        from synth.eval.hf_model import HFModel  # imports models (and transformers): loaded on use

        return HFModel(cfg)
    adapters = {
        "random": RandomModel,
        "blind": BlindModel,
        "openai": OpenAIModel,
        "command": CommandModel,
    }
    if kind not in adapters:
        raise UserError(f"model={kind}: allowed {', '.join(MODEL_CONFIGS)}")
    return adapters[kind](cfg)
