"""Camera-realistic degradations for any video: optics, atmosphere, motion, sensor, ISP, codec.

Stands alone (torch + kornia + the ffmpeg binary from imageio-ffmpeg); imports nothing from
``synth`` or ``scenes``. Tensors follow one convention: ``video`` is (T, 3, H, W) float32
linear light, scene-referred (1.0 = diffuse white; values may exceed 1 before the sensor clips),
frames are the batch dimension, and work stays on the tensor's device. ``depth`` is (T, H, W)
float32 metres (inf = sky).

Functional API: every degradation is a plain function (``low_light(video, ev=-4)``).
Composable: ``Pipeline([("lens", {"k1": -0.2}), ("low_light", {"severity": 3})]).apply(video)``
orders the stages physically and returns uint8 sRGB; ``degrade_video`` does the same for external
8-bit footage after unprocessing it. ``REGISTRY`` is the table of names, stages, ranges and
severity levels 1..5.

The public names load lazily (PEP 562): importing the package, or its torch-free modules
(``color`` for the sRGB curve on colours and numpy arrays, ``codec``'s table), does not import
torch; the first use of a torch-backed name does.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module of this package that defines it
_HOMES = {
    "fog": "atmosphere", "rain": "atmosphere", "snow": "atmosphere",
    "compression": "codec", "resample": "codec",
    "linear_to_srgb": "color", "srgb_to_linear": "color", "to_uint8": "color", "unprocess": "color",
    "denoise": "isp", "sharpen": "isp", "tone": "isp", "white_balance": "isp",
    "camera_shake": "motion", "frame_drop": "motion", "motion_blur": "motion", "rolling_shutter": "motion",
    "chromatic_aberration": "optics", "defocus": "optics", "fisheye": "optics", "lens": "optics", "vignette": "optics",
    "Pipeline": "pipeline", "degrade_stream": "pipeline", "degrade_video": "pipeline",
    "REGISTRY": "registry", "STAGES": "registry", "ParamError": "registry", "Spec": "registry",
    "low_light": "sensor",
}  # fmt: skip

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
