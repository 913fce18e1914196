"""The openai adapter against a real HTTP server on 127.0.0.1; the hf adapter on a tiny random model."""

import base64
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image
from support.square_clips import SIZE, make_dataset

from synth.cli import main

API_KEY = "sk-test-not-a-real-key-0123456789"


class FakeChatServer(ThreadingHTTPServer):
    """/v1/chat/completions: 429 then 500 for the first two requests, then the letter of "right"."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ChatHandler)
        self.lock = threading.Lock()
        self.requests = []  # (status sent, parsed body)
        self.failures_left = [429, 500]

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class ChatHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, status, payload, headers=()):
        data = json.dumps(payload).encode()
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server = self.server
        with server.lock:
            if self.path != "/v1/chat/completions" or self.headers.get("Authorization") != f"Bearer {API_KEY}":
                server.requests.append((401, body))
                return self._send(401, {"error": "bad key"})
            status = server.failures_left.pop(0) if server.failures_left else 200
            server.requests.append((status, body))
        if status != 200:
            return self._send(status, {"error": "try again"}, [("Retry-After", "0")] if status == 429 else [])
        prompt = body["messages"][0]["content"][-1]["text"]
        letter = next(line[0] for line in prompt.splitlines() if line[1:] == ". right")
        self._send(200, {"choices": [{"message": {"role": "assistant", "content": f"The answer is {letter}."}}]})


@pytest.fixture
def server():
    srv = FakeChatServer()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_openai_adapter_retries_authenticates_and_sends_frames(tmp_path, server, monkeypatch):
    root = make_dataset(tmp_path / "ds", n=8)
    monkeypatch.setenv("SYNTH_TEST_KEY", API_KEY)
    args = [
        "eval", f"data={root}", "model=openai", "model.name=tiny-vlm", f"model.base_url={server.base_url}",
        "model.api_key_env=SYNTH_TEST_KEY", "model.backoff_s=0.01", "model.concurrency=2", "eval.frames=4",
    ]  # fmt: skip
    assert main(args) == 0
    statuses = [status for status, _ in server.requests]
    assert statuses[:2] == [429, 500] and statuses[2:] == [200] * 8  # both failures retried, none lost
    body = server.requests[-1][1]
    assert body["model"] == "tiny-vlm"
    parts = body["messages"][0]["content"]
    assert [p["type"] for p in parts] == ["image_url"] * 4 + ["text"]  # frames in order, then the prompt
    header, data = parts[0]["image_url"]["url"].split(",", 1)
    assert header == "data:image/png;base64"
    assert np.asarray(Image.open(io.BytesIO(base64.b64decode(data)))).shape == (SIZE, SIZE, 3)
    metrics = json.loads((root / "evals" / "tiny-vlm" / "metrics.json").read_text())
    # The server answers "right" every time: right exactly on the samples whose answer is right.
    assert metrics["accuracy"] == pytest.approx(2 / 8) and metrics["invalid_rate"] == 0
    for path in (root / "evals").rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".md"):
            assert API_KEY not in path.read_text()


def test_openai_video_url_part_carries_the_clip(tmp_path, server, monkeypatch):
    root = make_dataset(tmp_path / "ds", n=1)
    server.failures_left = []
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    args = ["eval", f"data={root}", "model=openai", "model.name=v", f"model.base_url={server.base_url}", "model.video_url=true"]
    assert main(args) == 0
    (part, text) = server.requests[0][1]["messages"][0]["content"]
    assert part["type"] == "video_url"
    clip = (root / "clips" / "s000.mp4").read_bytes()
    assert base64.b64decode(part["video_url"]["url"].split(",", 1)[1]) == clip


def test_openai_wrong_key_fails_in_one_line_without_retrying(tmp_path, server, monkeypatch, capsys):
    root = make_dataset(tmp_path / "ds", n=2)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-key")
    args = ["eval", f"data={root}", "model=openai", "model.name=v", f"model.base_url={server.base_url}",
            "model.backoff_s=0.01", "model.concurrency=1"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "HTTP 401" in err and "sk-wrong-key" not in err
    assert len(server.requests) == 1  # not retried, and the second sample is never asked


def test_openai_gives_up_after_max_retries(tmp_path, server, monkeypatch, capsys):
    root = make_dataset(tmp_path / "ds", n=1)
    server.failures_left = [503] * 10
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    args = ["eval", f"data={root}", "model=openai", "model.name=v", f"model.base_url={server.base_url}",
            "model.backoff_s=0.001", "model.max_retries=2"]  # fmt: skip
    assert main(args) == 2
    assert "HTTP 503" in capsys.readouterr().err
    assert len(server.requests) == 3


def _video_processor_available() -> str:
    """Empty when a transformers video processor can run here, else what is missing."""
    try:
        import transformers  # noqa: F401
    except ImportError:
        return "transformers is not installed"
    try:
        import torchvision  # noqa: F401
    except ImportError:
        return (
            "transformers' video processors need torchvision, and no torchvision wheel matching "
            "this torch (CPU build) installs here"
        )
    return ""


@pytest.mark.skipif(bool(_video_processor_available()), reason=_video_processor_available() or "available")
def test_hf_adapter_runs_a_tiny_random_video_llm(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        LlavaOnevisionConfig,
        LlavaOnevisionForConditionalGeneration,
        LlavaOnevisionImageProcessor,
        LlavaOnevisionProcessor,
        LlavaOnevisionVideoProcessor,
        PreTrainedTokenizerFast,
    )

    words = ["<unk>", "<image>", "<video>", "<pad>", "A", "B", "C", "D", "left", "right", "up", "down"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                                        extra_special_tokens={"image_token": "<image>", "video_token": "<video>"})  # fmt: skip
    side = 28  # 2 x 2 patches of 14 px: a vision tower small enough for a CPU test
    processor = LlavaOnevisionProcessor(
        image_processor=LlavaOnevisionImageProcessor(size={"height": side, "width": side}),
        video_processor=LlavaOnevisionVideoProcessor(size={"height": side, "width": side}),
        tokenizer=tokenizer,
        num_image_tokens=(side // 14) ** 2,
        vision_feature_select_strategy="full",
        chat_template="{% for m in messages %}{% for c in m['content'] %}"
        "{% if c['type'] == 'video' %}<video> {% else %}{{ c['text'] }}{% endif %}{% endfor %}{% endfor %}",
    )
    config = LlavaOnevisionConfig(
        text_config={"model_type": "qwen2", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
                     "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": len(words)},
        vision_config={"model_type": "siglip_vision_model", "hidden_size": 32, "intermediate_size": 64,
                       "num_hidden_layers": 1, "num_attention_heads": 2, "image_size": side, "patch_size": 14},
        image_token_index=1, video_token_index=2, vision_feature_select_strategy="full",
    )  # fmt: skip
    model_dir = tmp_path / "tiny-vlm"
    LlavaOnevisionForConditionalGeneration(config).save_pretrained(model_dir)
    processor.save_pretrained(model_dir)
    root = make_dataset(tmp_path / "ds", n=2)
    assert main(["eval", f"data={root}", "model=hf", f"model.path={model_dir}", "eval.frames=2"]) == 0
    lines = (root / "evals" / "tiny-vlm" / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == 2 and all(isinstance(json.loads(t)["response"], str) for t in lines)
