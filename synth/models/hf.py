"""``model=hf``: a local transformers video-LLM (AutoProcessor + AutoModelForImageTextToText).

The frames are the ones :mod:`synth.models.frames` samples; the processor is told exactly which
they are (``do_sample_frames=False`` plus ``video_metadata``: the clip's true fps, the sampled
frame indices and the clip's total frame count), so architectures that encode time read true
times: Qwen2.5-VL's temporal positions (``second_per_grid_ts``), the timestamps Qwen3-VL, GLM-4.1V,
GLM-4.6V and SmolVLM write into the prompt. Architectures whose temporal patch spans two frames
(Qwen2/2.5/3-VL, GLM) get a one-frame clip repeated, as their processors do for images.

Scoring (``eval.scoring``): ``generate`` decodes greedily (``model.max_new_tokens``);
``likelihood`` scores each option as lmms-eval's loglikelihood requests do: the summed
log-probability of the continuation (the option letter, or the option text for ``open``) after
the prompt, one sequence per option, the best one taken as the reply.

``model.batch_size`` > 1 batches generation across samples (left padding): the evaluator's
threads hand their asks to one queue that runs full batches, a partial one after a short wait.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from synth.errors import UserError
from synth.models.base import Model
from synth.models.frames import SampledClip
from synth.models.prompts import Ask

DTYPES = ("float32", "bfloat16", "float16")
BATCH_WAIT_S = 0.5  # how long a partial batch waits for more asks


def video_metadata(clip: SampledClip, total_frames: int) -> dict:
    """What ``transformers`` needs to know about pre-sampled frames (its ``VideoMetadata`` fields).

    Args:
        clip: the sampled clip (``clip.timeline``: its sampled indices into the clip's
            ``total_frames`` frames, in increasing order even when a twin shows them reordered).
        total_frames: frames in the whole clip.

    Returns:
        dict with ``total_num_frames``, ``fps`` (of the clip, frames/s), ``frames_indices``,
        ``duration`` (s), ``width`` and ``height`` (px).
    """
    frames = clip.frames
    return {
        "total_num_frames": int(total_frames),
        "fps": float(clip.fps),
        "frames_indices": [int(i) for i in clip.timeline],  # a twin's reordering shows in no timestamp
        "duration": total_frames / float(clip.fps),
        "height": int(frames.shape[1]),
        "width": int(frames.shape[2]),
    }


def fit_temporal_patch(frames: np.ndarray, metadata: dict, temporal_patch: int) -> tuple[np.ndarray, dict]:
    """Repeat the last frame (and its index) until a clip fills one temporal patch.

    Qwen-VL and GLM processors cut clips into patches of ``temporal_patch`` frames and refuse a
    shorter clip; their image path repeats a lone image the same way.

    Args:
        frames: (T, H, W, 3) uint8.
        metadata: :func:`video_metadata` of these frames.
        temporal_patch: frames per temporal patch (1 where the architecture has none).

    Returns:
        (max(T, temporal_patch), H, W, 3) frames and the matching metadata.
    """
    missing = temporal_patch - len(frames)
    if missing <= 0:
        return frames, metadata
    frames = np.concatenate([frames, np.repeat(frames[-1:], missing, axis=0)])
    indices = metadata["frames_indices"] + [metadata["frames_indices"][-1]] * missing
    return frames, {**metadata, "frames_indices": indices}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class _Batcher:
    """Collects items handed in by several threads and runs them ``size`` at a time.

    ``run(items) -> results`` is called by one of the waiting threads (never two at once); a
    partial batch runs after ``wait_s`` without a new item.
    """

    def __init__(self, run, size: int, wait_s: float = BATCH_WAIT_S):
        self._run, self._size, self._wait_s = run, size, wait_s
        self._cond = threading.Condition()
        self._queue: list[dict] = []
        self._busy = threading.Lock()

    def submit(self, item):
        slot = {"item": item, "done": False, "result": None, "error": None}
        deadline = time.monotonic() + self._wait_s
        with self._cond:
            self._queue.append(slot)
            self._cond.notify_all()
        while True:
            with self._cond:
                while not slot["done"] and len(self._queue) < self._size and time.monotonic() < deadline:
                    self._cond.wait(max(0.0, deadline - time.monotonic()))
                if slot["done"]:
                    return self._result(slot)
                batch = self._queue[: self._size]  # the oldest items: a full batch, or this one's turn
                del self._queue[: len(batch)]
                if not batch:  # another thread runs this item: wait for it
                    self._cond.wait()
                    continue
            with self._busy:
                try:
                    for s, r in zip(batch, self._run([s["item"] for s in batch]), strict=True):
                        s["result"] = r
                except BaseException as exc:
                    for s in batch:
                        s["error"] = exc
            with self._cond:
                for s in batch:
                    s["done"] = True
                self._cond.notify_all()

    @staticmethod
    def _result(slot):
        if slot["error"] is not None:
            raise slot["error"]
        return slot["result"]


class HFModel(Model):
    """A local transformers video-LLM; see the module docstring."""

    def __init__(self, cfg):
        super().__init__(cfg)
        if not cfg.path:
            raise UserError("model.path: required for model=hf (a save_pretrained directory or hub id)")
        if cfg.dtype not in DTYPES:
            raise UserError(f"model.dtype={cfg.dtype}: allowed {', '.join(DTYPES)}")
        if cfg.batch_size < 1:
            raise UserError(f"model.batch_size={cfg.batch_size}: must be an integer >= 1")
        if cfg.device_map not in ("", "auto"):
            raise UserError(f"model.device_map={cfg.device_map}: allowed auto (or empty: all on model.device)")
        try:
            import torch
            from transformers import AutoModelForImageTextToText, AutoProcessor
        except ImportError:
            raise UserError("model=hf: needs the transformers package (pip install 'synth[hf]')") from None
        if cfg.device_map:
            try:
                import accelerate  # noqa: F401
            except ImportError:
                raise UserError("model.device_map=auto: needs the accelerate package (pip install accelerate)") from None
        self._torch = torch
        try:
            self.processor = AutoProcessor.from_pretrained(cfg.path)
            placement = {"device_map": "auto"} if cfg.device_map else {}
            model = AutoModelForImageTextToText.from_pretrained(cfg.path, dtype=getattr(torch, cfg.dtype), **placement)
            self.model = model if cfg.device_map else model.to(cfg.device)
        except Exception as exc:  # any loader failure (missing file, package, unknown architecture) is bad input
            raise UserError(f"model.path={cfg.path}: cannot load ({_first_line(exc)})") from None
        self.model.eval()
        self.device = self.model.device
        self.concurrency = cfg.batch_size
        self._batcher = _Batcher(self._generate_batch, cfg.batch_size)
        self._likelihood_lock = threading.Lock()  # one likelihood pass at a time: it batches options itself

    def default_label(self) -> str:
        return Path(self.cfg.path.rstrip("/")).name

    # ------------------------------------------------------------ inputs

    def video(self, clip: SampledClip, record: dict) -> tuple[np.ndarray, dict]:
        """The frames and ``video_metadata`` handed to the processor for ``clip``."""
        frames = clip.frames
        total = int(record.get("num_frames") or max(clip.indices) + 1)
        temporal_patch = int(getattr(getattr(self.processor, "video_processor", None), "temporal_patch_size", 1) or 1)
        return fit_temporal_patch(frames, video_metadata(clip, total), temporal_patch)

    def prompt(self, ask: Ask) -> str:
        messages = [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": ask.prompt}]}]
        return self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def inputs(self, texts: list[str], videos: list[tuple[np.ndarray, dict]], padding_side: str = "left"):
        """Processor output (on the model's device) for parallel ``texts`` and ``(frames, metadata)`` videos."""
        self.processor.tokenizer.padding_side = padding_side
        batch = self.processor(
            text=texts,
            videos=[list(frames) for frames, _ in videos],
            video_metadata=[meta for _, meta in videos],
            do_sample_frames=False,  # the frames are already sampled (synth.models.frames)
            padding=True,
            return_tensors="pt",
        ).to(self.device)
        for key, value in batch.items():  # pixels in the model's dtype; timings stay float32
            if key.startswith("pixel_values") and value.is_floating_point():
                batch[key] = value.to(self.model.dtype)
        return batch

    # ------------------------------------------------------------ generation

    def generate(self, inputs) -> list[str]:
        """Greedy replies (new tokens only) for processed ``inputs``."""
        with self._torch.inference_mode():
            output = self.model.generate(**inputs, max_new_tokens=self.cfg.max_new_tokens, do_sample=False)
        new_tokens = output[:, inputs["input_ids"].shape[1] :]
        return self.processor.batch_decode(new_tokens, skip_special_tokens=True)

    def _generate_batch(self, items: list[tuple[Ask, SampledClip, dict]]) -> list[str]:
        texts = [self.prompt(ask) for ask, _, _ in items]
        videos = [self.video(clip, record) for _, clip, record in items]
        return self.generate(self.inputs(texts, videos))

    def answer(self, ask: Ask, clip: SampledClip, record: dict) -> str:
        if self.cfg.batch_size == 1:
            return self._generate_batch([(ask, clip, record)])[0]
        return self._batcher.submit((ask, clip, record))

    # ------------------------------------------------------------ likelihood

    def continuations(self, ask: Ask) -> list[str]:
        """What is scored after the prompt: the option letters, or the answer texts for ``open``."""
        return list(ask.letters) if ask.options else list(ask.answer_set)

    def option_logprobs(self, ask: Ask, clip: SampledClip, record: dict) -> list[float]:
        """Summed log-probability of each continuation after the prompt (one sequence per option)."""
        prompt = self.prompt(ask)
        tokenizer = self.processor.tokenizer
        n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        conts = self.continuations(ask)
        texts = [prompt + c for c in conts]
        n_cont = [len(tokenizer(t, add_special_tokens=False)["input_ids"]) - n_prompt for t in texts]
        video = self.video(clip, record)
        with self._likelihood_lock:
            return self._score(texts, video, n_cont)

    def _score(self, texts: list[str], video, n_cont: list[int]) -> list[float]:
        """Summed log-probability of the last ``n_cont[i]`` tokens of each ``texts[i]`` with ``video``
        (right padding, ``model.batch_size`` sequences per pass)."""
        scores = []
        for start in range(0, len(texts), self.cfg.batch_size):
            chunk = slice(start, start + self.cfg.batch_size)
            inputs = self.inputs(texts[chunk], [video] * len(texts[chunk]), padding_side="right")
            with self._torch.inference_mode():
                logits = self.model(**inputs).logits.float()
            logp = self._torch.log_softmax(logits, dim=-1)
            lengths = inputs["attention_mask"].sum(dim=1).tolist()
            for row, (length, n) in enumerate(zip(lengths, n_cont[chunk])):
                targets = inputs["input_ids"][row, length - n : length]
                # the token at position p is predicted by the logits at p - 1
                picked = logp[row, length - n - 1 : length - 1].gather(-1, targets[:, None])
                scores.append(float(picked.sum()))
        return scores

    def close(self) -> None:
        del self.model
