"""The parameter namespaces users can fix, sweep or multirun from the command line.

Every key a task family draws lives here, so ``synth generate object.rotation_deg=5``,
``sweep.variable=light.azimuth_deg`` and ``-m camera.fov_deg=30,40`` are checked by Hydra's
structured config. ``None`` means "sampled by the task"; a value fixes it for every sample.
A key a task does not draw is rejected for that task (with the list of its keys). Units are
in the names: metres, seconds, degrees; colours by name from :data:`scenes.palette.COLORS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass
class ObjectParams:
    shape: Optional[str] = None  # see scenes.palette.SHAPES_3D / SHAPES_2D
    color: Optional[str] = None  # a name in scenes.palette.COLORS
    size: Optional[float] = None  # metres, edge / diameter of the unit mesh
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
    rest_phase: Optional[float] = None  # direction, resting object: where on that path's visible part (0..1)
    speed: Optional[float] = None  # m/s
    mid_x: Optional[float] = None  # trajectory midpoint, metres from the view centre
    mid_y: Optional[float] = None
    direction_deg: Optional[float] = None  # heading, 0 = right, counter-clockwise
    first_start_s: Optional[float] = None  # order: when the first mover starts
    mover: Optional[str] = None  # ego_motion: the camera | the object (the answer)


@dataclass
class LightParams:
    azimuth_deg: Optional[float] = None  # 0 = from behind the camera, 90 = from the right
    elevation_deg: Optional[float] = None  # 90 = from straight above
    intensity: Optional[float] = None  # irradiance of the key light, 1 = unit white
    ambient: Optional[float] = None


@dataclass
class BackgroundParams:
    kind: Optional[str] = None  # solid | gradient | checker | noise | image
    color: Optional[str] = None  # a name in scenes.palette.BACKGROUND_COLORS
    image: Optional[str] = None  # path of an image file, for kind=image
    image_dir: Optional[str] = None  # a folder of photos: one per sample (background.image), kind=image
    crop_scale: Optional[float] = None  # image_dir: side of the random crop / the photo's (0.5..1)
    crop_x: Optional[float] = None  # image_dir: crop's left edge, fraction of the room left (0..1)
    crop_y: Optional[float] = None  # image_dir: crop's top edge, fraction of the room left (0..1)


@dataclass
class StageParams:
    """A place for the objects to sit in: a ground plane below them and a wall behind them."""

    floor: Optional[str] = None  # none | checker | stripes | noise | an image file (tiled)
    walls: Optional[str] = None  # none | checker | stripes | noise | an image file (a back wall)
    floor_tiles: float = 6.0  # texture repeats across the floor / wall


@dataclass
class CameraParams:
    fov_deg: Optional[float] = None  # vertical field of view
    distance: Optional[float] = None  # metres from the scene centre
    shutter_deg: float = 0.0  # 0 = instantaneous .. 360 = the whole frame interval
    shutter_samples: int = 8  # sub-frames integrated when shutter_deg > 0
    turn_deg: Optional[float] = None  # revisit: how far the camera turns away in place
    turn_direction: Optional[str] = None  # revisit: left | right


@dataclass
class DistractorsParams:
    count: int = 0  # static objects of other colours and shapes


@dataclass
class ObjectsParams:
    # Per-object keys (objects.0.color, objects.0.shape, objects.0.x, ...) are fixed the same way.
    count: Optional[int] = None  # count_moving: 3..4, sampled; order: 2 (default) or 3
    moving: Optional[int] = None  # count_moving: how many move (the answer)
    first: Optional[int] = None  # order: index in the options of the first mover (the answer)
    size: Optional[float] = None  # metres, all objects


@dataclass
class WallParams:
    distance: Optional[float] = None  # ego_motion: metres from the objects to the textured wall behind
    texture_x: Optional[float] = None  # ego_motion: where the wall's texture lies, metres (a fresh pattern per sample)
    texture_y: Optional[float] = None


@dataclass
class SecondParams:
    """The second object of speed_compare and depth_order (the first is ``object``)."""

    shape: Optional[str] = None
    color: Optional[str] = None  # must differ from object.color
    size: Optional[float] = None  # metres (speed_compare; depth_order uses object.size for both)
    direction_deg: Optional[float] = None  # speed_compare: heading, 0 = right, counter-clockwise
    x: Optional[float] = None  # where it is (appears) at mid-clip, metres
    y: Optional[float] = None


@dataclass
class RotationParams:
    direction: Optional[str] = None  # clockwise | counter-clockwise, as the camera sees it (the answer)
    speed_deg_per_s: Optional[float] = None  # spin rate about the viewing axis


@dataclass
class SpeedCompareParams:
    faster: Optional[str] = None  # first | second: which option is the faster object (the answer)
    ratio: Optional[float] = None  # slower speed / faster speed (motion.speed)


@dataclass
class ApproachParams:
    direction: Optional[str] = None  # toward | away (the answer)
    mid_z_m: Optional[float] = None  # depth at mid-clip, metres in front of (+) the scene centre
    travel_m: Optional[float] = None  # distance moved along the viewing axis over the clip


@dataclass
class DepthOrderParams:
    closer: Optional[str] = None  # first | second: which option is the closer object (the answer)
    near_distance_m: Optional[float] = None  # camera to the closer object
    depth_ratio: Optional[float] = None  # farther / closer distance
    camera_speed: Optional[float] = None  # m/s, sideways
    camera_direction: Optional[str] = None  # left | right


@dataclass
class TrajectoryParams:
    path: Optional[str] = None  # straight | curved | bouncing (the answer)
    side: Optional[str] = None  # left | right: the side a curved or bouncing path turns to
    turn_deg: Optional[float] = None  # curved: heading change over the clip
    bounce_fraction: Optional[float] = None  # bouncing: when it hits the wall, fraction of the clip
    incidence_deg: Optional[float] = None  # bouncing: angle between the path and the wall's normal


@dataclass
class WorldParams:
    """``world``: a furnished room, a camera path that leaves the target and comes back."""

    path: Optional[str] = None  # turn | walk | strafe | orbit
    direction: Optional[str] = None  # left | right: which way the path turns or strafes first
    turn_deg: Optional[float] = None  # turn: yaw away (90..360); orbit: degrees around the pivot
    walk_m: Optional[float] = None  # walk: metres walked forward after turning round
    strafe_m: Optional[float] = None  # strafe: metres stepped sideways
    away_frames: Optional[int] = None  # frames held at the far point of the path (time away)
    conditioning_frames: int = 2  # frames at the start pose a world model is given (K)
    step_m: float = 0.3  # metres one frame of a held movement key moves the camera
    turn_rate_deg: float = 15.0  # degrees one mouse unit (one frame of turning) turns the camera
    changes: Optional[str] = None  # yes | no: the target changes while out of view (the answer)
    change: Optional[str] = None  # color | position (drawn) | presence (only when fixed)
    color_after: Optional[str] = None  # colour the target changes to, if it changes colour
    move_m: Optional[float] = None  # sideways shift of the target, if it changes position
    start_presence: Optional[str] = None  # present | absent: the target at the start of a presence clip
