"""The parameter namespaces users can fix, sweep or multirun from the command line.

Every key a task family draws lives here, so ``synth generate object.rotation_deg=5``,
``sweep.variable=light.azimuth_deg`` and ``-m camera.fov_deg=30,40`` are checked by Hydra's
structured config. ``None`` means "sampled by the task"; a value fixes it for every sample.
A key a task does not draw is rejected for that task (with the list of its keys). Units are
in the names: metres, seconds, degrees; colours by name from :data:`scenes.base.COLORS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass
class ObjectParams:
    shape: Optional[str] = None  # see scenes.base.SHAPES_3D / SHAPES_2D
    color: Optional[str] = None  # a name in scenes.base.COLORS
    size: Optional[float] = None  # metres, edge / diameter of the unit mesh
    rotation_deg: Optional[float] = None  # about the camera's viewing axis
    texture: Optional[str] = None  # none | checker | stripes | noise


@dataclass
class MotionParams:
    direction: Optional[str] = None  # left | right | up | down (+ up-left ... with directions=8)
    directions: int = 4  # 4 or 8 answer directions for task `direction`
    speed: Optional[float] = None  # m/s
    mid_x: Optional[float] = None  # trajectory midpoint, metres from the view centre
    mid_y: Optional[float] = None


@dataclass
class LightParams:
    azimuth_deg: Optional[float] = None  # 0 = from behind the camera, 90 = from the right
    elevation_deg: Optional[float] = None  # 90 = from straight above
    intensity: Optional[float] = None  # irradiance of the key light, 1 = unit white
    ambient: Optional[float] = None


@dataclass
class BackgroundParams:
    kind: Optional[str] = None  # solid | gradient | checker | noise | image
    color: Optional[str] = None  # a name in scenes.base.BACKGROUND_COLORS
    image: Optional[str] = None  # path of an image file, for kind=image


@dataclass
class CameraParams:
    fov_deg: Optional[float] = None  # vertical field of view
    distance: Optional[float] = None  # metres from the scene centre
    shutter_deg: float = 0.0  # 0 = instantaneous .. 360 = the whole frame interval
    shutter_samples: int = 8  # sub-frames integrated when shutter_deg > 0


@dataclass
class DistractorsParams:
    count: int = 0  # static objects of other colours and shapes
