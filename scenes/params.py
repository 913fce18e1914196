"""The parameter namespaces users can fix, sweep or multirun from the command line.

Every key a task family draws lives here, so ``synth generate object.rotation_deg=5``,
``sweep.variable=light.azimuth_deg`` and ``-m camera.fov_deg=30,40`` are checked by Hydra's
structured config. ``None`` means "sampled by the task"; a value fixes it for every sample.
A key a task does not draw is rejected for that task (with the list of its keys). Units are
in the names: metres, seconds, degrees; colours by name from :data:`scenes.palette.COLORS`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Optional


@dataclass(frozen=True)
class Range:
    """The values a numeric config key may take: ``low`` .. ``high`` (``low`` excluded with
    ``above``), finite unless ``infinite`` (a key where infinity has a physical meaning, such as
    focus at infinity). NaN is never allowed."""

    low: float = -math.inf
    high: float = math.inf
    above: bool = False
    infinite: bool = False

    def allows(self, value: float) -> bool:
        if isinstance(value, float) and (math.isnan(value) or (math.isinf(value) and not self.infinite)):
            return False
        return (value > self.low if self.above else value >= self.low) and value <= self.high

    def __str__(self) -> str:
        low = f"{'>' if self.above else '>='} {self.low:g}"
        if self.high < math.inf:
            text = f"{self.low:g}..{self.high:g}" if not self.above else f"{low} and <= {self.high:g}"
        else:
            text = low if self.low > -math.inf else "a finite number"
        return text + (" or inf" if self.infinite else "")

    def refusal(self, key: str, value: float) -> str:
        """One line saying why ``value`` is not allowed for ``key``."""
        kind = "not a number; " if value != value else "must be finite; " if value in (math.inf, -math.inf) else ""
        return f"{key}={value}: {kind}allowed {self}"


FINITE = Range()
POSITIVE = Range(0, above=True)  # a size, a distance, a rate: zero means nothing
NON_NEGATIVE = Range(0)
FRACTION = Range(0, 1)


def ranged(rule: Range, default: Any = None) -> Any:
    """A dataclass field whose value must lie in ``rule`` (checked by :func:`check_numbers`)."""
    return dataclasses.field(default=default, metadata={"range": rule})


def check_numbers(node: Any, prefix: str = "") -> None:
    """Raise ``ValueError("key=value: allowed RANGE")`` for the first number of the config
    dataclass ``node`` (nested dataclasses and lists included) outside its field's
    :func:`ranged` rule; a number without a rule must be finite. NaN is never allowed.
    Dict-typed fields are left to the code that reads them (``degradation``: its registry)."""
    for f in dataclasses.fields(node):
        value, key = getattr(node, f.name), f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            check_numbers(value, f"{key}.")
            continue
        rule = f.metadata.get("range", FINITE)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, (int, float)) and not isinstance(item, bool) and not rule.allows(item):
                raise ValueError(rule.refusal(key, item))


@dataclass
class ObjectParams:
    shape: Optional[str] = None  # see scenes.palette.SHAPES_3D / SHAPES_2D
    color: Optional[str] = None  # a name in scenes.palette.COLORS
    size: Optional[float] = ranged(POSITIVE)  # metres, edge / diameter of the unit mesh
    rotation_deg: Optional[float] = None  # about the camera's viewing axis
    texture: Optional[str] = None  # none | checker | stripes | noise
    x: Optional[float] = None  # metres from the view centre (a static object, or at mid-clip)
    y: Optional[float] = None
    color_after: Optional[str] = None  # revisit: the colour it changes to, if it changes
    changes_color: Optional[str] = None  # revisit: yes | no (the answer)
    # Content from files (direction; at most one of the four; see synth.assets):
    mesh: Optional[str] = None  # an OBJ / glTF / GLB / PLY file drawn instead of a primitive
    asset_dir: Optional[str] = None  # a folder of such files: one per sample (object.asset)
    sprite: Optional[str] = None  # an RGBA image (PNG) drawn as a cut-out card
    sprite_dir: Optional[str] = None  # a folder of such images: one per sample (object.asset)
    asset: Optional[str] = None  # the file drawn from asset_dir / sprite_dir, relative to it


@dataclass
class MotionParams:
    direction: Optional[str] = None  # left | right | up | down (+ up-left ... with directions=8)
    directions: int = 4  # 4 or 8 answer directions for task `direction`
    include_static: bool = False  # direction: add "no movement" (the object rests) to the answers
    rest_heading: Optional[str] = None  # direction, resting object: the path it rests on (a direction)
    rest_phase: Optional[float] = ranged(FRACTION)  # direction, resting object: where on that path's visible part (0..1)
    speed: Optional[float] = ranged(POSITIVE)  # m/s
    mid_x: Optional[float] = None  # trajectory midpoint, metres from the view centre
    mid_y: Optional[float] = None
    direction_deg: Optional[float] = None  # heading, 0 = right, counter-clockwise
    first_start_s: Optional[float] = ranged(NON_NEGATIVE)  # order: when the first mover starts
    mover: Optional[str] = None  # ego_motion: the camera | the object (the answer)


@dataclass
class LightParams:
    azimuth_deg: Optional[float] = None  # 0 = from behind the camera, 90 = from the right
    elevation_deg: Optional[float] = ranged(Range(-90, 90))  # 90 = from straight above
    intensity: Optional[float] = ranged(NON_NEGATIVE)  # irradiance of the key light, 1 = unit white
    ambient: Optional[float] = ranged(NON_NEGATIVE)


@dataclass
class BackgroundParams:
    kind: Optional[str] = None  # solid | gradient | checker | noise | image
    color: Optional[str] = None  # a name in scenes.palette.BACKGROUND_COLORS
    image: Optional[str] = None  # path of an image file, for kind=image
    image_dir: Optional[str] = None  # a folder of photos: one per sample (background.image), kind=image
    crop_scale: Optional[float] = ranged(Range(0, 1, above=True))  # image_dir: side of the random crop / the photo's (0.5..1)
    crop_x: Optional[float] = ranged(FRACTION)  # image_dir: crop's left edge, fraction of the room left (0..1)
    crop_y: Optional[float] = ranged(FRACTION)  # image_dir: crop's top edge, fraction of the room left (0..1)


@dataclass
class StageParams:
    """A place for the objects to sit in: a ground plane below them and a wall behind them."""

    floor: Optional[str] = None  # none | checker | stripes | noise | an image file (tiled)
    walls: Optional[str] = None  # none | checker | stripes | noise | an image file (a back wall)
    floor_tiles: float = ranged(POSITIVE, 6.0)  # texture repeats across the floor / wall


@dataclass
class CameraParams:
    # vertical field of view; 0.1 deg is a very long telephoto (narrower underflows the projection)
    fov_deg: Optional[float] = ranged(Range(0.1, 179))
    # metres from the scene centre; up to the far clip plane (synth.scene.Camera.far), past which nothing is drawn
    distance: Optional[float] = ranged(Range(0, 100, above=True))
    shutter_deg: float = ranged(Range(0, 360), 0.0)  # 0 = instantaneous .. 360 = the whole frame interval
    shutter_samples: int = ranged(Range(1, 1024), 8)  # sub-frames integrated when shutter_deg > 0
    turn_deg: Optional[float] = ranged(Range(0, 180, above=True))  # revisit: how far the camera turns away in place
    turn_direction: Optional[str] = None  # revisit: left | right


@dataclass
class DistractorsParams:
    count: int = ranged(Range(0, 64), 0)  # static objects of other colours and shapes


@dataclass
class ObjectsParams:
    # Per-object keys (objects.0.color, objects.0.shape, objects.0.x, ...) have no field: set one with a
    # one-value sweep (sweep.variable=objects.0.color sweep.values=[red]).
    count: Optional[int] = ranged(Range(1, 64))  # count_moving: 3..4, sampled; order: 2 (default) or 3
    moving: Optional[int] = ranged(NON_NEGATIVE)  # count_moving: how many move (the answer)
    first: Optional[int] = ranged(NON_NEGATIVE)  # order: index in the options of the first mover (the answer)
    size: Optional[float] = ranged(POSITIVE)  # metres, all objects


@dataclass
class WallParams:
    distance: Optional[float] = ranged(POSITIVE)  # ego_motion: metres from the objects to the textured wall behind
    texture_x: Optional[float] = None  # ego_motion: where the wall's texture lies, metres (a fresh pattern per sample)
    texture_y: Optional[float] = None


@dataclass
class SecondParams:
    """The second object of speed_compare and depth_order (the first is ``object``)."""

    shape: Optional[str] = None
    color: Optional[str] = None  # must differ from object.color
    size: Optional[float] = ranged(POSITIVE)  # metres (speed_compare; depth_order uses object.size for both)
    direction_deg: Optional[float] = None  # speed_compare: heading, 0 = right, counter-clockwise
    x: Optional[float] = None  # where it is (appears) at mid-clip, metres
    y: Optional[float] = None


@dataclass
class RotationParams:
    direction: Optional[str] = None  # clockwise | counter-clockwise, as the camera sees it (the answer)
    speed_deg_per_s: Optional[float] = ranged(POSITIVE)  # spin rate about the viewing axis


@dataclass
class SpeedCompareParams:
    faster: Optional[str] = None  # first | second: which option is the faster object (the answer)
    ratio: Optional[float] = ranged(Range(0, 1, above=True))  # slower speed / faster speed (motion.speed)


@dataclass
class ApproachParams:
    direction: Optional[str] = None  # toward | away (the answer)
    mid_z_m: Optional[float] = None  # depth at mid-clip, metres in front of (+) the scene centre
    travel_m: Optional[float] = ranged(POSITIVE)  # distance moved along the viewing axis over the clip


@dataclass
class DepthOrderParams:
    closer: Optional[str] = None  # first | second: which option is the closer object (the answer)
    near_distance_m: Optional[float] = ranged(POSITIVE)  # camera to the closer object
    depth_ratio: Optional[float] = ranged(Range(1, above=True))  # farther / closer distance
    camera_speed: Optional[float] = ranged(POSITIVE)  # m/s, sideways
    camera_direction: Optional[str] = None  # left | right


@dataclass
class TrajectoryParams:
    path: Optional[str] = None  # straight | curved | bouncing (the answer)
    side: Optional[str] = None  # left | right: the side a curved or bouncing path turns to
    turn_deg: Optional[float] = ranged(Range(0, 360, above=True))  # curved: heading change over the clip
    bounce_fraction: Optional[float] = ranged(Range(0, 1, above=True))  # bouncing: when it hits the wall, fraction of the clip
    incidence_deg: Optional[float] = ranged(Range(0, 89))  # bouncing: angle between the path and the wall's normal


@dataclass
class WorldParams:
    """``world``: a furnished room, a camera path that leaves the target and comes back."""

    path: Optional[str] = None  # turn | walk | strafe | orbit
    direction: Optional[str] = None  # left | right: which way the path turns or strafes first
    turn_deg: Optional[float] = ranged(POSITIVE)  # turn: yaw away (90..360); orbit: degrees around the pivot
    walk_m: Optional[float] = ranged(POSITIVE)  # walk: metres walked forward after turning round
    strafe_m: Optional[float] = ranged(POSITIVE)  # strafe: metres stepped sideways
    away_frames: Optional[int] = ranged(NON_NEGATIVE)  # frames held at the far point of the path (time away)
    conditioning_frames: int = ranged(Range(1), 2)  # frames at the start pose a world model is given (K)
    step_m: float = ranged(POSITIVE, 0.3)  # metres one frame of a held movement key moves the camera
    turn_rate_deg: float = ranged(POSITIVE, 15.0)  # degrees one mouse unit (one frame of turning) turns the camera
    changes: Optional[str] = None  # yes | no: the target changes while out of view (the answer)
    change: Optional[str] = None  # color | position (drawn) | presence (only when fixed)
    color_after: Optional[str] = None  # colour the target changes to, if it changes colour
    move_m: Optional[float] = None  # sideways shift of the target, if it changes position
    start_presence: Optional[str] = None  # present | absent: the target at the start of a presence clip
