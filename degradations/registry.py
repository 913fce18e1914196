"""The table of named degradations: stage, function, parameters, valid ranges, severity levels.

The parameter dataclass of every degradation is generated from its function's signature, so
the function's defaults (all "off" or mild) are the single source of truth. A parameter's value
resolves, first match wins: the value the user set explicitly; with ``severity`` 1..5, that
level's value from the table (for the keys the table lists); the function's default. So
``severity=3`` plus ``crf=30`` gives level 3's other values and crf 30, and the record
(:meth:`Params.resolved` plus the level) shows both. The severity idea follows Hendrycks &
Dietterich 2019, "Benchmarking neural network robustness to common corruptions" (imagecorruptions).
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import typing
from dataclasses import dataclass
from typing import Any, Callable

from synth.degradations import atmosphere, codec, isp, motion, optics, sensor

# Physical order in which stages are applied (Pipeline sorts by it, then by table order):
# light crosses the atmosphere, the moving camera integrates it over the exposure, the lens
# forms the image, the sensor reads it, the ISP encodes it, transport/codec deliver it.
STAGES = ("atmosphere", "motion", "optics", "sensor", "isp", "codec")
# What a stage's function takes: linear-light tensors, the encode itself, display-encoded
# tensors, a frame-index remap, or 8-bit frames; the pipeline converts between them in this order.
DOMAINS = ("linear", "encode", "encoded", "retime", "uint8")
# Arguments the pipeline supplies, never user parameters.
CONTEXT_ARGS = ("video", "frames", "fps", "depth", "generator", "index")
# Temporal reach of the stages that look at neighbouring frames: (frames before, frames after) a
# frame's output depends on. The pipeline feeds such a stage overlapping windows of a stream;
# every other stage (0, 0) works frame by frame. Retiming and the codec stream on their own.
REACH = {"rolling_shutter": (1, 1)}


class ParamError(ValueError):
    """A degradation parameter out of range; the message is one line ``key=value: allowed ...``."""


@dataclass
class Params:
    """Base of every generated parameter dataclass. Every field but ``severity`` defaults to None
    (not set); ``severity`` 0 = no table, 1..5 = that level's values for the keys not set."""

    def explicit(self) -> dict[str, Any]:
        """The values the user set (fields that are not None), without ``severity``."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "severity"}
        return {k: v for k, v in values.items() if v is not None}

    def resolved(self) -> dict[str, Any]:
        """The parameter values actually used, without ``severity``: explicit values win over the
        severity level's table values, which win over the function's defaults."""
        spec = REGISTRY[self._degradation]
        values = spec.defaults()
        if self.severity:
            values.update(spec.severity[self.severity - 1])
        values.update(self.explicit())
        return values

    def validate(self) -> None:
        """Raise :class:`ParamError` naming the first key out of its allowed range."""
        spec = REGISTRY[self._degradation]
        if not isinstance(self.severity, int) or not 0 <= self.severity <= len(spec.severity):
            raise ParamError(f"severity={self.severity}: allowed 0..{len(spec.severity)} (0 = explicit values)")
        spec.check(self.resolved())


def _fmt(v: float) -> str:
    return "inf" if v == math.inf else f"{v:g}"


@dataclass(frozen=True)
class Spec:
    """One named degradation."""

    name: str
    stage: str
    domain: str
    fn: Callable[..., Any]
    params: type
    severity: tuple[dict[str, Any], ...]
    ranges: dict[str, tuple[float, float]]
    choices: dict[str, tuple[str, ...]]
    extra_check: Callable[[dict[str, Any]], None] | None = None
    reach: tuple[int, int] = (0, 0)

    def make(self, values: Params | dict[str, Any] | None = None) -> Params:
        """A validated params instance from an instance, a dict (unknown keys rejected) or None."""
        if isinstance(values, self.params):
            p = values
        else:
            values = dict(values or {})
            allowed = [f.name for f in dataclasses.fields(self.params)]
            for key in values:
                if key not in allowed:
                    raise ParamError(f"unknown key '{key}'; allowed: {', '.join(allowed)}")
            p = self.params(**values)
        p.validate()
        return p

    def defaults(self) -> dict[str, Any]:
        """The function's default value of every parameter (a fresh copy)."""
        return {k: list(v) if isinstance(v, list) else v for k, v in self.params._defaults.items()}

    def does_nothing(self, values: dict[str, Any]) -> dict[str, Any] | None:
        """The values (a subset of resolved ``values``) that make this degradation leave every
        frame unchanged (see :data:`IDENTITY`), or None if it changes the video."""
        identity = IDENTITY.get(self.name)
        if identity and all(values[k] == v for k, v in identity.items()):
            return {k: values[k] for k in identity}
        return None

    def check(self, values: dict[str, Any]) -> None:
        for key, (lo, hi) in self.ranges.items():
            v = values[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi or v != v:
                raise ParamError(f"{key}={v}: allowed {_fmt(lo)}..{_fmt(hi)}")
        for key, options in self.choices.items():
            if values[key] not in options:
                raise ParamError(f"{key}={values[key]}: allowed {', '.join(options)}")
        if self.extra_check:
            self.extra_check(values)

    def call(self, data: Any, values: dict[str, Any], context: dict[str, Any]) -> Any:
        """Run the function on ``data`` with ``values`` and whichever context arguments it takes."""
        wanted = inspect.signature(self.fn).parameters
        extra = {k: v for k, v in context.items() if k in wanted and k not in ("video", "frames")}
        return self.fn(data, **values, **extra)


def _params_class(name: str, fn: Callable[..., Any]) -> type:
    """``<Name>Params`` dataclass from ``fn``'s keyword parameters (plain types, for Hydra); each
    field defaults to None (not set), the function's defaults are kept in ``_defaults``."""
    fields: list[tuple[str, Any, Any]] = []
    defaults: dict[str, Any] = {}
    for p in inspect.signature(fn).parameters.values():
        if p.name in CONTEXT_ARGS:
            continue  # their annotations (torch types) are not evaluated: a module may import torch lazily
        if isinstance(p.default, (list, tuple)):
            tp, defaults[p.name] = typing.List[float], list(p.default)
        else:
            annotation = p.annotation
            tp = eval(annotation, fn.__globals__) if isinstance(annotation, str) else annotation
            defaults[p.name] = p.default
        fields.append((p.name, typing.Optional[tp], dataclasses.field(default=None)))
    fields.append(("severity", int, dataclasses.field(default=0)))
    cls_name = "".join(part.title() for part in name.split("_")) + "Params"
    namespace = {"_degradation": name, "_defaults": defaults}
    cls = dataclasses.make_dataclass(cls_name, fields, bases=(Params,), namespace=namespace)
    cls.__module__ = __name__
    cls.__doc__ = f"Parameters of ``{name}`` (see :func:`{fn.__module__}.{fn.__name__}`); severity 0..5."
    globals()[cls_name] = cls  # importable by name, so instances pickle
    return cls


def _levels(**columns: list[Any]) -> tuple[dict[str, Any], ...]:
    """Severity table from columns: ``_levels(ev=[-1, -2, ...])`` -> 5 dicts."""
    n = {len(v) for v in columns.values()}
    assert n == {5}, columns
    return tuple({k: v[i] for k, v in columns.items()} for i in range(5))


def _check_compression(values: dict[str, Any]) -> None:
    lo, hi = codec.CODECS[values["codec"]][2]
    if not lo <= values["crf"] <= hi:
        raise ParamError(f"crf={values['crf']}: allowed {lo}..{hi} for {values['codec']}")


def _check_airlight(values: dict[str, Any]) -> None:
    a = values["airlight"]
    if len(a) != 3 or any(not 0 <= float(v) <= 100 for v in a):
        raise ParamError(f"airlight={list(a)}: allowed three linear RGB values 0..100")


def _check_focus(values: dict[str, Any]) -> None:
    if values["focus_m"] <= values["focal_mm"] / 1000:
        raise ParamError(f"focus_m={values['focus_m']}: allowed > focal_mm/1000 = {values['focal_mm'] / 1000:g} m "
                         "(a lens focuses no closer than its focal length), inf = focus at infinity")  # fmt: skip


INF = math.inf
# name: (stage, domain, function, ranges, choices, severity levels 1..5, extra check)
_TABLE: list[tuple[str, str, str, Callable[..., Any], dict, dict, tuple, Any]] = [
    ("fog", "atmosphere", "linear", atmosphere.fog,
     {"beta_per_m": (0, 10), "prior_camera_height_m": (0.01, 1000), "far_m": (0.1, INF)}, {},
     _levels(beta_per_m=[0.005, 0.01, 0.02, 0.05, 0.12]), _check_airlight),
    ("rain", "atmosphere", "linear", atmosphere.rain,
     {"density": (0, 1000), "size_px": (0.1, 50), "speed_px": (0, 1000), "wind": (-10, 10),
      "opacity": (0, 1), "radiance": (0, 100)}, {},
     _levels(density=[2, 4, 8, 12, 20], size_px=[1.0, 1.0, 1.5, 1.5, 2.0],
             opacity=[0.25, 0.3, 0.35, 0.4, 0.45]), None),
    ("snow", "atmosphere", "linear", atmosphere.snow,
     {"density": (0, 1000), "size_px": (0.1, 50), "speed_px": (0, 1000), "wind": (-10, 10),
      "opacity": (0, 1), "radiance": (0, 100)}, {},
     _levels(density=[1, 2, 4, 7, 10], size_px=[2.0, 2.5, 3.0, 3.5, 4.0]), None),
    ("motion_blur", "motion", "linear", motion.motion_blur,
     {"length_px": (0, 512), "angle_deg": (-360, 360)}, {},
     _levels(length_px=[2, 4, 7, 11, 16]), None),
    ("camera_shake", "motion", "linear", motion.camera_shake,
     {"extent_px": (0, 512)}, {}, _levels(extent_px=[2, 4, 7, 11, 16]), None),
    ("rolling_shutter", "motion", "linear", motion.rolling_shutter,
     {"readout_frac": (0, 1)}, {}, _levels(readout_frac=[0.2, 0.4, 0.6, 0.8, 1.0]), None),
    ("defocus", "optics", "linear", optics.defocus,
     {"f_number": (0, 64), "focal_mm": (1, 2000), "focus_m": (0.01, INF), "sensor_width_mm": (1, 100),
      "scene_depth_m": (0.01, INF)}, {},
     _levels(f_number=[8.0, 5.6, 4.0, 2.8, 2.0], focus_m=[0.5] * 5), _check_focus),
    ("chromatic_aberration", "optics", "linear", optics.chromatic_aberration,
     {"magnification": (-0.1, 0.1)}, {}, _levels(magnification=[0.002, 0.004, 0.007, 0.01, 0.015]), None),
    ("lens", "optics", "linear", optics.lens,
     {"k1": (-1, 1), "k2": (-1, 1), "k3": (-1, 1), "p1": (-0.1, 0.1), "p2": (-0.1, 0.1), "focal_px": (0, 1e6)},
     {}, _levels(k1=[-0.05, -0.1, -0.2, -0.3, -0.4]), None),
    ("fisheye", "optics", "linear", optics.fisheye,
     {"fov_deg": (1, 179)}, {}, _levels(fov_deg=[60, 80, 100, 120, 140]), None),
    ("vignette", "optics", "linear", optics.vignette,
     {"fov_deg": (0, 170)}, {}, _levels(fov_deg=[40, 60, 80, 100, 120]), None),
    ("low_light", "sensor", "linear", sensor.low_light,
     {"ev": (-16, 16), "full_well_e": (1, 1e7), "read_noise_e": (0, 1e4), "row_noise_e": (0, 1e4),
      "dark_current_e": (0, 1e6), "bits": (1, 16)}, {},
     _levels(ev=[-1, -2, -3, -4, -5], read_noise_e=[2, 3, 4, 6, 8], row_noise_e=[0, 0.5, 1, 1.5, 2],
             dark_current_e=[0, 1, 2, 4, 8]), None),
    ("overexposure", "sensor", "linear", sensor.low_light,
     {"ev": (-16, 16), "full_well_e": (1, 1e7), "read_noise_e": (0, 1e4), "row_noise_e": (0, 1e4),
      "dark_current_e": (0, 1e6), "bits": (1, 16)}, {},
     _levels(ev=[0.5, 1.0, 1.5, 2.0, 3.0]), None),
    ("white_balance", "isp", "linear", isp.white_balance,
     {"red_gain": (0.01, 100), "blue_gain": (0.01, 100)}, {},
     _levels(red_gain=[1.05, 1.1, 1.2, 1.3, 1.45], blue_gain=[0.95, 0.9, 0.83, 0.77, 0.7]), None),
    ("denoise", "isp", "linear", isp.denoise,
     {"radius_px": (0, 50), "eps": (1e-8, 10)}, {},
     _levels(radius_px=[1, 1, 2, 2, 3], eps=[1e-4, 4e-4, 1e-3, 3e-3, 1e-2]), None),
    ("tone", "isp", "encode", isp.tone,
     {"gamma": (0.1, 10)}, {"curve": ("srgb", "gamma", "filmic")},
     _levels(curve=["gamma"] * 5, gamma=[1.9, 1.7, 1.5, 1.3, 1.1]), None),
    ("sharpen", "isp", "encoded", isp.sharpen,
     {"amount": (0, 10), "sigma_px": (0.1, 20)}, {}, _levels(amount=[0.3, 0.6, 1.0, 1.5, 2.5]), None),
    ("resample", "codec", "encoded", codec.resample,
     {"scale": (0.01, 1)}, {"up_mode": ("nearest", "bilinear", "bicubic")},
     _levels(scale=[0.75, 0.5, 0.35, 0.25, 0.15]), None),
    ("frame_drop", "codec", "retime", motion.frame_drop_indices,
     {"drop_prob": (0, 0.95), "stutter_prob": (0, 1), "stutter_frames": (1, 1000), "target_fps": (0, 1000)}, {},
     _levels(drop_prob=[0.05, 0.1, 0.2, 0.3, 0.5], stutter_prob=[0, 0, 0.02, 0.05, 0.1]), None),
    ("compression", "codec", "uint8", codec.compression,
     {"bitrate_kbps": (0, 1e6), "gop": (0, 10000)}, {"codec": tuple(codec.CODECS), "preset": codec.PRESETS},
     _levels(crf=[23, 28, 33, 38, 45]), _check_compression),
]  # fmt: skip

# Values at which a degradation leaves every frame unchanged (its function returns the input):
# the CLI refuses a listed stage that resolves to them, so a record never lists a no-op as applied.
IDENTITY: dict[str, dict[str, Any]] = {
    "fog": {"beta_per_m": 0}, "rain": {"density": 0}, "snow": {"density": 0},
    "motion_blur": {"length_px": 0}, "camera_shake": {"extent_px": 0}, "rolling_shutter": {"readout_frac": 0},
    "defocus": {"f_number": 0}, "chromatic_aberration": {"magnification": 0},
    "lens": {"k1": 0, "k2": 0, "k3": 0, "p1": 0, "p2": 0}, "vignette": {"fov_deg": 0},
    "white_balance": {"red_gain": 1, "blue_gain": 1}, "denoise": {"radius_px": 0}, "tone": {"curve": "srgb"},
    "sharpen": {"amount": 0}, "resample": {"scale": 1},
    "frame_drop": {"drop_prob": 0, "stutter_prob": 0, "target_fps": 0},
}  # fmt: skip

REGISTRY: dict[str, Spec] = {}
for _name, _stage, _domain, _fn, _ranges, _choices, _sev, _extra in _TABLE:
    REGISTRY[_name] = Spec(
        _name, _stage, _domain, _fn, _params_class(_name, _fn), _sev, _ranges, _choices, _extra, REACH.get(_name, (0, 0))
    )
# the table is the application order: it must follow STAGES, and domains must only advance
for _order in (
    [STAGES.index(s.stage) for s in REGISTRY.values()],
    [DOMAINS.index(s.domain) for s in REGISTRY.values()],
):
    assert _order == sorted(_order)


def get(name: str) -> Spec:
    """The :class:`Spec` called ``name``; :class:`ParamError` listing the names otherwise."""
    if name not in REGISTRY:
        raise ParamError(f"unknown degradation '{name}'; allowed: {', '.join(REGISTRY)}")
    return REGISTRY[name]
