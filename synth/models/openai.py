"""``model=openai``: any OpenAI-compatible chat-completions server over HTTP."""

from __future__ import annotations

import base64
import io
import json
import os
import sys
import time
import urllib.error
import urllib.request

import numpy as np

from synth.errors import UserError
from synth.models.base import Model
from synth.models.configs import OpenAIModelConfig
from synth.models.frames import SampledClip
from synth.models.prompts import Ask


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

    def request_body(self, ask: Ask, clip: SampledClip) -> dict:
        if self.cfg.video_url:
            if clip.order is not None:
                raise UserError(
                    "eval.controls with model.video_url=true: the clip file is sent as it is and cannot "
                    "show its frames reordered; allowed: model.video_url=false (frames as images)"
                )
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

    def answer(self, ask: Ask, clip: SampledClip, record: dict) -> str:
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
