"""The model configs (Hydra config group ``model``): one dataclass per adapter kind.

Every config has ``kind`` (the adapter, see :mod:`synth.models.registry`) and ``label`` (the
directory name under ``evals/``; default: chosen by the adapter).
"""

from __future__ import annotations

from dataclasses import dataclass

from synth.scenes.params import FRACTION, NON_NEGATIVE, POSITIVE, Range, ranged


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
    seed: int = ranged(NON_NEGATIVE, 0)


@dataclass
class FlowModelConfig:
    kind: str = "flow"
    label: str = ""
    min_px: float = ranged(POSITIVE, 1.0)  # flow magnitude (pixels per sampled-frame step) from which a pixel moves
    camera_share: float = ranged(FRACTION, 0.3)  # ego_motion: "the camera" when more than this share of pixels moves


@dataclass
class OpenAIModelConfig:
    kind: str = "openai"
    label: str = ""  # default: model.name
    name: str = ""  # the served model name, e.g. gpt-4o or Qwen/Qwen2.5-VL-7B-Instruct
    base_url: str = "https://api.openai.com/v1"
    api_key_env: str = "OPENAI_API_KEY"  # the key is read from this variable, never stored
    video_url: bool = False  # send the clip as one video_url part (vLLM) instead of image parts
    image_format: str = "png"  # png (lossless) or jpeg
    max_tokens: int = ranged(Range(1), 64)
    temperature: float = ranged(Range(0, 2), 0.0)
    timeout_s: float = ranged(POSITIVE, 120.0)
    max_retries: int = ranged(NON_NEGATIVE, 5)
    backoff_s: float = ranged(NON_NEGATIVE, 1.0)  # first retry wait; doubles each retry (Retry-After wins when given)
    concurrency: int = ranged(Range(1, 1024), 4)


@dataclass
class HFModelConfig:
    kind: str = "hf"
    label: str = ""  # default: the last part of model.path
    path: str = ""  # a local directory (save_pretrained) or a hub id
    device: str = "cpu"
    dtype: str = "float32"  # float32, bfloat16 or float16
    device_map: str = ""  # "auto": spread the model over the visible GPUs (needs accelerate)
    batch_size: int = ranged(Range(1), 1)  # asks per forward pass (generation), options per pass (likelihood)
    max_new_tokens: int = ranged(Range(1), 16)


@dataclass
class CommandModelConfig:
    kind: str = "command"
    label: str = ""  # default: the program's file name (the script's after an interpreter)
    cmd: str = ""  # command line, split like a shell would; reads JSON lines on stdin
    timeout_s: float = ranged(POSITIVE, 300.0)


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
