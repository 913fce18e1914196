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
"""

from synth.degradations.atmosphere import fog, rain, snow
from synth.degradations.codec import compression, resample
from synth.degradations.color import linear_to_srgb, srgb_to_linear, to_uint8, unprocess
from synth.degradations.isp import denoise, sharpen, tone, white_balance
from synth.degradations.motion import camera_shake, frame_drop, motion_blur, rolling_shutter
from synth.degradations.optics import chromatic_aberration, defocus, fisheye, lens, vignette
from synth.degradations.pipeline import Pipeline, degrade_stream, degrade_video
from synth.degradations.registry import REGISTRY, STAGES, ParamError, Spec
from synth.degradations.sensor import low_light

__all__ = [
    "REGISTRY", "STAGES", "ParamError", "Pipeline", "Spec", "camera_shake", "chromatic_aberration",
    "compression", "defocus", "degrade_stream", "degrade_video", "denoise", "fisheye", "fog", "frame_drop", "lens",
    "linear_to_srgb", "low_light", "motion_blur", "rain", "resample", "rolling_shutter", "sharpen",
    "snow", "srgb_to_linear", "to_uint8", "tone", "unprocess", "vignette", "white_balance",
]  # fmt: skip
