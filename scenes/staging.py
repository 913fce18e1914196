"""The standard stage families build on: camera, lights, background, objects of a named colour
or from files (:mod:`synth.assets`), distractors, a floor and walls, lanes and the 2 x 2 grid."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from synth import assets
from synth.degradations.color import srgb_to_linear
from synth.sampling import ParamDraw
from synth.scene import TEXTURES, Background, Camera, Light, Material, Motion, Node, Scene
from synth.scenes.palette import BACKGROUND_COLORS, CHROMATIC_COLORS, COLORS, FINDABLE_COLORS, SHAPES, SHAPES_3D, TILT_3D_DEG


def camera(draw: ParamDraw, distance: tuple[float, float] = (6.0, 6.0)) -> Camera:
    """Perspective camera on +z looking at the origin, ``camera.fov_deg`` and ``camera.distance``
    drawn, plus the shutter keys (fixed values, recorded so they can be swept)."""
    fov = draw.uniform("camera.fov_deg", 35.0, 50.0)
    dist = draw.uniform("camera.distance", *distance)
    cam = Camera(fov_deg=fov, position=(0.0, 0.0, dist))
    cam.shutter_deg = draw.given("camera.shutter_deg", 0.0)
    cam.shutter_samples = draw.given("camera.shutter_samples", 8)
    if not 0.0 <= cam.shutter_deg <= 360.0:
        raise ValueError(f"camera.shutter_deg={cam.shutter_deg}: allowed 0..360")
    if cam.shutter_samples < 1:
        raise ValueError(f"camera.shutter_samples={cam.shutter_samples}: must be >= 1")
    return cam


def lights(draw: ParamDraw) -> list[Light]:
    """Ambient fill plus one shadow-casting directional key light, all drawn."""
    az = draw.uniform("light.azimuth_deg", -60.0, 60.0)
    el = draw.uniform("light.elevation_deg", 20.0, 70.0)
    intensity = draw.uniform("light.intensity", 0.8, 1.2)
    ambient = draw.uniform("light.ambient", 0.2, 0.35)
    return [
        Light(kind="ambient", intensity=ambient),
        Light(kind="directional", azimuth_deg=az, elevation_deg=el, intensity=intensity),
    ]


def background(draw: ParamDraw, kinds: tuple[str, ...] = ("solid", "gradient"), aspect: float = 1.0) -> Background:
    """``background.kind`` drawn from ``kinds`` (any of the renderer's kinds may be fixed).

    ``background.image_dir``: a folder of photos, one per sample (``background.image``, relative
    to it, and its ``background.image_sha256``), kind ``image``, cropped at random to the view's
    ``aspect`` (``background.crop_scale`` 0.5..1 of the largest such crop, ``crop_x`` /
    ``crop_y`` where it sits). The file and crop come from a side stream of the sample's seed
    (:func:`synth.assets.side_rng`): every member of a sweep group gets the same photo and crop,
    and every other parameter is drawn as without a folder.
    """
    image_dir = draw.fixed.get("background.image_dir")
    kind = draw("background.kind", lambda r: (lambda k: "image" if image_dir else k)(kinds[int(r.integers(len(kinds)))]))
    allowed = ("solid", "gradient", "checker", "noise", "image")
    if kind not in allowed:
        raise ValueError(f"background.kind={kind}: allowed {', '.join(allowed)}")
    name = draw.choice("background.color", list(BACKGROUND_COLORS))
    base = srgb_to_linear(BACKGROUND_COLORS[name])
    other = tuple(min(1.0, c * 2.5 + 0.02) for c in base)
    if image_dir:
        if kind != "image":
            raise ValueError(f"background.kind={kind}: background.image_dir needs kind image (or leave kind unset)")
        return Background(kind="image", color=base, color2=other, scale=8.0, image=_photo(draw, image_dir, aspect))
    image = draw.given("background.image", "")
    if kind == "image" and not image:
        raise ValueError("background.image: a file path is required with background.kind=image")
    return Background(kind=kind, color=base, color2=other, scale=8.0, image=image)


def _photo(draw: ParamDraw, image_dir: str, aspect: float) -> str:
    """The registered crop of this sample's photo from ``image_dir`` (see :func:`background`)."""
    draw.given("background.image_dir", image_dir)
    files = assets.files_in(image_dir, assets.IMAGE_SUFFIXES, "background.image_dir")
    side = assets.side_rng(draw.rng, "background.image")
    rel = draw("background.image", lambda r: files[int(side.integers(len(files)))])
    path = Path(image_dir) / rel
    if not path.is_file():
        raise ValueError(f"background.image={rel}: no such file in background.image_dir={image_dir}")
    draw.given("background.image_sha256", assets.file_sha256(path))
    scale = draw("background.crop_scale", lambda r: side.uniform(0.5, 1.0))
    fx = draw("background.crop_x", lambda r: side.uniform(0.0, 1.0))
    fy = draw("background.crop_y", lambda r: side.uniform(0.0, 1.0))
    if not (0.0 < scale <= 1.0 and 0.0 <= fx <= 1.0 and 0.0 <= fy <= 1.0):
        raise ValueError(f"background.crop_scale={scale}, crop_x={fx}, crop_y={fy}: allowed (0, 1], [0, 1], [0, 1]")
    return assets.load_photo_crop(path, "background.image", aspect, scale, fx, fy)


def view_half_extent(cam: Camera, aspect: float = 1.0) -> float:
    """Half the smaller side of the view, in metres, in the plane z = 0."""
    dist = float(np.linalg.norm(np.asarray(cam.position) - np.asarray(cam.target)))
    half_h = dist * math.tan(math.radians(cam.fov_deg) / 2)
    return half_h * min(1.0, aspect)


def texture(draw: ParamDraw, default: str = "none") -> str:
    """``object.texture``: a procedural texture name (fixed by the user, else ``default``)."""
    value = draw.given("object.texture", default)
    if value not in TEXTURES:
        raise ValueError(f"object.texture={value}: allowed {', '.join(TEXTURES)}")
    return value


def solid_object(name: str, shape: str, color: str, size: float, rotation_deg: float, **node_kw: Any) -> Node:
    """A node of one named colour; 3D shapes get the fixed tilt, all turn by ``rotation_deg``
    about the viewing axis."""
    tilt = TILT_3D_DEG if shape in SHAPES_3D else (0.0, 0.0)
    return Node(
        name=name,
        shape=shape,
        rotation_deg=(tilt[0], tilt[1], rotation_deg),
        scale=(size, size, size),
        material=Material(color=srgb_to_linear(COLORS[color]), specular=0.25, roughness=0.4),
        **node_kw,
    )


def distractors(draw: ParamDraw, avoid_colors: set[str], half_extent: float, count: int) -> list[Node]:
    """``count`` static objects in colours not in ``avoid_colors`` (so the question stays unique)."""
    palette = [c for c in COLORS if c not in avoid_colors]
    nodes = []
    for i in range(count):
        shape = draw.choice(f"distractors.{i}.shape", list(SHAPES))
        color = draw.choice(f"distractors.{i}.color", palette)
        x = draw.uniform(f"distractors.{i}.x", -0.8 * half_extent, 0.8 * half_extent)
        y = draw.uniform(f"distractors.{i}.y", -0.8 * half_extent, 0.8 * half_extent)
        nodes.append(solid_object(f"distractor{i}", shape, color, 0.4, 0.0, position=(x, y, -1.0)))
    return nodes


# -- content from files: meshes, cut-outs, a floor and walls (synth.assets) ------------------

ASSET_KEYS = ("object.mesh", "object.asset_dir", "object.sprite", "object.sprite_dir")


@dataclass
class Look:
    """What a family's object looks like and how its question names it."""

    shape: str  # a built-in shape or a registered mesh / cut-out (synth.assets)
    noun: str  # "red cube", "duck" (a file's stem; with its named colour if the file has none)
    color: str  # the drawn colour name (the object's colour unless the file brings its own)
    material: Material
    tilt_deg: tuple[float, float]  # fixed x / y tilt that shows a 3D object as 3D


def object_look(draw: ParamDraw, shapes: tuple[str, ...], colors: tuple[str, ...]) -> Look:
    """``object.shape`` and ``object.color`` (always drawn, so the stream stays aligned) or, with
    one of ``object.mesh`` / ``object.asset_dir`` (meshes) or ``object.sprite`` /
    ``object.sprite_dir`` (RGBA cut-outs) set, content from a file. A folder gives one file per
    sample (``object.asset``, relative to it), from a side stream of the sample's seed (fixed per
    sweep group); ``object.asset_sha256`` records the file's content. A file's texture or vertex
    colours replace the named colour, which otherwise tints it."""
    shape = draw.choice("object.shape", list(shapes))
    color = draw.choice("object.color", list(colors))
    given = [k for k in ASSET_KEYS if draw.fixed.get(k)]
    if len(given) > 1:
        raise ValueError(f"{given[1]}: set at most one of {', '.join(ASSET_KEYS)}")
    material = Material(color=srgb_to_linear(COLORS[color]), specular=0.25, roughness=0.4)
    if not given:
        return Look(shape, f"{color} {shape}", color, material, TILT_3D_DEG if shape in SHAPES_3D else (0.0, 0.0))
    key = given[0]
    source = draw.given(key, draw.fixed[key])
    sprite = key.startswith("object.sprite")
    if key.endswith("_dir"):
        files = assets.files_in(source, assets.IMAGE_SUFFIXES if sprite else assets.MESH_SUFFIXES, key)
        side = assets.side_rng(draw.rng, "object.asset")
        rel = draw("object.asset", lambda r: files[int(side.integers(len(files)))])
        path = Path(source) / rel
    else:
        path = Path(source)
    asset = assets.load_sprite(path, key) if sprite else assets.load_mesh(path, key)
    draw.given("object.asset_sha256", asset.sha256)
    stem = " ".join(re.split(r"[\s_\-]+", path.stem)).strip() or "object"
    own_colors = bool(asset.image) or asset.colored
    if own_colors:
        material.color = (1.0, 1.0, 1.0)
    material.image, material.vertex_colors = asset.image, asset.colored
    return Look(asset.shape, stem if own_colors else f"{color} {stem}", color, material, (0.0, 0.0) if sprite else TILT_3D_DEG)


def look_object(name: str, look: Look, size: float, rotation_deg: float, **node_kw: Any) -> Node:
    """A node of ``look``, ``size`` metres (its largest side), turned by ``rotation_deg`` about the
    viewing axis after the look's tilt."""
    return Node(name=name, shape=look.shape, rotation_deg=(*look.tilt_deg, rotation_deg), scale=(size,) * 3,
                material=look.material, **node_kw)  # fmt: skip


STAGE_TEXTURES = ("checker", "stripes", "noise")


def _stage_material(draw: ParamDraw, key: str, value: str, tiles: float) -> tuple[str, Material]:
    """Shape and material of a floor / wall: a procedural texture name or an image file, both
    repeated ``tiles`` times across."""
    light, dark = srgb_to_linear((0.75, 0.72, 0.66)), srgb_to_linear((0.35, 0.33, 0.30))
    if value in STAGE_TEXTURES:
        return "plane", Material(color=dark, texture=value, texture_color=light, texture_scale=tiles, specular=0.05)
    if not Path(value).is_file():
        raise ValueError(f"{key}={value}: allowed none, {', '.join(STAGE_TEXTURES)} or an image file")
    draw.given(f"{key}_sha256", assets.file_sha256(value))
    image = assets.load_image(value, key, repeat=True)
    return assets.textured_plane(tiles), Material(color=(1.0, 1.0, 1.0), image=image, specular=0.05)


def place(draw: ParamDraw, cam: Camera, half_extent: float) -> list[Node]:
    """``stage.floor`` / ``stage.walls``: a ground plane just below the view at the objects'
    depth, reaching back to a wall ``2 * half_extent`` behind them that fills the view (so
    perspective tasks sit in a place, not in front of a poster). Each is ``none`` (default),
    a procedural texture (checker, stripes, noise) or an image file, repeated ``stage.floor_tiles``
    times across (a photo on the wall shows once). Untracked nodes: in ground truth, never in ``tracks``."""
    floor = draw.fixed.get("stage.floor") or "none"
    walls = draw.fixed.get("stage.walls") or "none"
    if floor == "none" and walls == "none":
        return []
    tiles = float(draw.given("stage.floor_tiles", draw.fixed.get("stage.floor_tiles", 6.0)))
    if not tiles > 0:
        raise ValueError(f"stage.floor_tiles={tiles}: must be > 0")
    distance = float(np.linalg.norm(np.asarray(cam.position) - np.asarray(cam.target)))
    back = -2.0 * half_extent
    # Wide enough to fill the view at the wall (any aspect up to 2:1).
    span = 2.2 * (distance - back) * math.tan(math.radians(cam.fov_deg) / 2) * 2
    nodes = []
    if floor != "none":
        shape, material = _stage_material(draw, "stage.floor", draw.given("stage.floor", floor), tiles)
        depth = distance - 0.25 - back  # ends just in front of the camera, never behind it
        nodes.append(Node(name="floor", shape=shape, position=(0.0, -1.05 * half_extent, back + depth / 2),
                          scale=(span, 1.0, depth), material=material, cast_shadows=False, track=False))  # fmt: skip
    if walls != "none":
        # A photo on the wall shows once; a pattern repeats like the floor's.
        wall_tiles = tiles if walls in STAGE_TEXTURES else 1.0
        shape, material = _stage_material(draw, "stage.walls", draw.given("stage.walls", walls), wall_tiles)
        nodes.append(Node(name="wall", shape=shape, position=(0.0, 0.0, back), rotation_deg=(90.0, 0.0, 0.0),
                          scale=(span, 1.0, span), material=material, cast_shadows=False, track=False))  # fmt: skip
    return nodes


def two_objects(draw: ParamDraw, shapes: tuple[str, ...] = SHAPES) -> tuple[tuple[str, str], tuple[str, str]]:
    """``(color, shape)`` of ``object.*`` and ``second.*``, in different chromatic colours."""
    first = (draw.choice("object.color", list(FINDABLE_COLORS)), draw.choice("object.shape", list(shapes)))
    others = [c for c in FINDABLE_COLORS if c != first[0]]
    second = (draw.choice("second.color", others), draw.choice("second.shape", list(shapes)))
    return first, second


@dataclass(frozen=True)
class FindableObject:
    """A family's one object, in a colour an oracle can find."""

    shape: str
    color: str
    size: float  # metres
    rotation_deg: float  # about the viewing axis


def findable_object(draw: ParamDraw, shapes: tuple[str, ...], size: tuple[float, float]) -> FindableObject:
    """``object.shape``, ``object.color`` (one an oracle can find), ``object.size`` (metres)
    and ``object.rotation_deg`` of a family's one object."""
    return FindableObject(
        draw.choice("object.shape", list(shapes)),
        draw.choice("object.color", list(FINDABLE_COLORS)),
        draw.uniform("object.size", *size),
        draw.uniform("object.rotation_deg", 0.0, 360.0),
    )


def stage(draw: ParamDraw, cam: Camera, objects: list[Node], avoid_colors: set[str]) -> Scene:
    """The scene around a family's objects: ``distractors.count`` static distractors (none
    unless fixed) in other colours, the drawn lights and background."""
    count = draw.given("distractors.count", 0)
    others = distractors(draw, avoid_colors, view_half_extent(cam), count)
    return Scene(objects=[*objects, *others], camera=cam, lights=lights(draw), background=background(draw))


def horizontal_heading(draw: ParamDraw, key: str, spread_deg: float) -> float:
    """``key``: a heading in degrees (0 = right, counter-clockwise) within ``spread_deg`` of
    horizontal, left or right with equal chance (one draw, uniform over both arcs)."""

    def sample(r: np.random.Generator) -> float:
        u = r.uniform(0.0, 4 * spread_deg)
        return u - spread_deg if u < 2 * spread_deg else u - 3 * spread_deg + 180.0

    return draw(key, sample)


def lane_midpoint(draw: ParamDraw, prefix: str, upper: bool, reach: tuple[float, float], size: float, half: float) -> tuple[float, float]:
    """``{prefix}.x`` / ``{prefix}.y``: the midpoint (metres, plane z = 0) of a path
    reaching ``reach`` = (x, y) metres either side of it, kept inside the upper or lower half
    of the view so two objects in different lanes never overlap."""
    margin = 0.05 * half
    room_x = max(half - reach[0] - size / 2 - margin, 0.0)
    room_y = max(half / 2 - reach[1] - size / 2 - margin, 0.0)
    x = draw.uniform(f"{prefix}.x", -room_x, room_x)
    lane = half / 2 if upper else -half / 2
    y = draw.uniform(f"{prefix}.y", lane - room_y, lane + room_y)
    return x, y


def distinct_colors(draw: ParamDraw, count: int) -> list[str]:
    """``objects.{i}.color`` for ``i < count``, all different, so each object is named (and
    found by an oracle) by its colour alone."""
    chosen: list[str] = []
    for i in range(count):
        chosen.append(draw.choice(f"objects.{i}.color", [c for c in CHROMATIC_COLORS if c not in chosen]))
    return chosen


def grid_centres(half_extent: float, columns: int, rows: int) -> tuple[list[tuple[float, float]], float]:
    """Centres of a ``columns`` x ``rows`` grid over 90 % of the view (row-major, top-left first)
    and the side of its smaller cell, in metres: one object per cell never overlaps another."""
    span = 1.8 * half_extent
    cell_w, cell_h = span / columns, span / rows
    centres = [
        (-span / 2 + (c + 0.5) * cell_w, span / 2 - (r + 0.5) * cell_h) for r in range(rows) for c in range(columns)
    ]
    return centres, min(cell_w, cell_h)


@dataclass
class GridSlot:
    """One object of a 2 x 2 grid stage: its look and the straight path it takes if it moves."""

    shape: str
    color: str
    mid: tuple[float, float]  # path midpoint (or resting place), metres in the plane z = 0
    heading_rad: float  # 0 = right, counter-clockwise


GRID_SLOTS = 4


def grid_slots(draw: ParamDraw, cam: Camera, move_s: float) -> tuple[list[GridSlot], float, float]:
    """``GRID_SLOTS`` objects, one per cell of a 2 x 2 grid, in different chromatic 3D shapes
    (a flat shape facing the light washes out to white, hiding its colour from oracles), and
    ``(slots, size_m, speed_m_per_s)``. Draws ``objects.size``, ``motion.speed`` (a mover covers
    35-45 % of a cell in ``move_s``) and per object ``objects.{i}.color`` / ``.shape`` / ``.x`` /
    ``.y`` (jitter of the midpoint in the cell) / ``.direction_deg``. A mover's path is centred
    where a static object would rest, so no frame tells movers from static objects."""
    centres, cell = grid_centres(view_half_extent(cam), 2, 2)
    size = draw.uniform("objects.size", 0.22 * cell, 0.3 * cell)
    speed = draw.uniform("motion.speed", 0.35 * cell / move_s, 0.45 * cell / move_s)
    # Room left in the cell once the path and the (tilted) object fit, so cells never overlap.
    room = max(cell / 2 - speed * move_s / 2 - 0.75 * size - 0.02 * cell, 0.0)
    colors = distinct_colors(draw, GRID_SLOTS)
    slots = []
    for i, (cx, cy) in enumerate(centres):
        shape = draw.choice(f"objects.{i}.shape", list(SHAPES_3D))
        mid = (cx + draw.uniform(f"objects.{i}.x", -room, room), cy + draw.uniform(f"objects.{i}.y", -room, room))
        heading = math.radians(draw.uniform(f"objects.{i}.direction_deg", 0.0, 360.0))
        slots.append(GridSlot(shape, colors[i], mid, heading))
    return slots, size, speed


def slot_node(index: int, slot: GridSlot, size: float, speed: float, start_s: float, move_s: float) -> Node:
    """The object of ``slot``, moving at ``speed`` for ``move_s`` seconds from ``start_s`` along
    its heading, its path centred on the slot's midpoint (``move_s = 0``: it rests there)."""
    step = np.array([math.cos(slot.heading_rad), math.sin(slot.heading_rad)]) * speed
    start = np.asarray(slot.mid) - step * move_s / 2
    motion = Motion(velocity=(step[0], step[1], 0.0), start_s=start_s, stop_s=start_s + move_s)
    position = (float(start[0]), float(start[1]), 0.0)
    node = solid_object(f"object{index}", slot.shape, slot.color, size, 0.0, position=position, motion=motion)
    # Matte: a broad specular highlight turns a small object's colour pastel in some frames.
    node.material.specular = 0.05
    return node
