"""Content from files: meshes (OBJ, glTF/GLB, PLY via trimesh), cut-outs (RGBA images as cards)
and images (photo backgrounds, floor and wall textures).

Loaded content is registered in this process under a name derived from the file's content hash,
so a :class:`synth.scene.Node` names it like a built-in shape (``node.shape = "mesh:<hash>"``)
and a :class:`synth.scene.Material` names its texture (``material.image = "image:<hash>"``):
the scene stays plain data, and everything that reads a shape (renderer, tracks, visibility,
shadows) works for files as for primitives.

Registered meshes are float32 ``(N, 12)`` triangle lists: position xyz, unit normal xyz,
texture uv, linear RGBA vertex colour; three vertices per triangle. Like the built-in shapes
(:mod:`synth.meshes`) they fit a 1 m box centred on the origin (largest side 1 m, bounding-box
centre at the origin). Registered images are ``uint8 (H, W, 4)`` sRGB RGBA, top row first, with a
``repeat`` flag (tiled floors) or clamped at their edges.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.degradations.color import srgb_to_linear

MESH_SUFFIXES = (".obj", ".glb", ".gltf", ".ply")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
ALPHA_CUTOFF = 0.5  # as in shaders: texels with less alpha are not part of the object
# Corners whose smooth normal is further than this from their face's normal take the face's
# (keeps a cube's edges sharp when a file gives or trimesh computes averaged normals).
_CREASE_COS = np.cos(np.radians(45.0))

MESHES: dict[str, np.ndarray] = {}
IMAGES: dict[str, tuple[np.ndarray, bool]] = {}


@dataclass(frozen=True)
class Asset:
    """A registered mesh: its shape name, its base-colour texture's image key (``""``: none),
    whether its vertex colours carry its colour, and the source file's sha256."""

    shape: str
    image: str
    colored: bool
    sha256: str


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def registered_mesh(shape: str) -> np.ndarray:
    """The ``(N, 12)`` triangle list registered as ``shape`` (KeyError if none)."""
    return MESHES[shape]


def _register_image(rgba: np.ndarray, repeat: bool = False) -> str:
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    key = "image:" + hashlib.sha256(rgba.tobytes() + bytes([repeat]) + str(rgba.shape).encode()).hexdigest()[:16]
    if key not in IMAGES:
        rgba.setflags(write=False)
        IMAGES[key] = (rgba, repeat)
    return key


def _register_mesh(name: str, data: np.ndarray) -> str:
    if name not in MESHES:
        data = np.ascontiguousarray(data, dtype=np.float32)
        data.setflags(write=False)
        MESHES[name] = data
    return name


def _read_rgba(path: str | Path, key: str) -> np.ndarray:
    """``uint8 (H, W, 4)`` of the image file at ``path``; ``ValueError`` (one line naming ``key``,
    the path and the problem) if it is missing or not an image."""
    from PIL import Image, UnidentifiedImageError

    if not Path(path).is_file():
        raise ValueError(f"{key}={path}: no such file")
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGBA"))
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise ValueError(f"{key}={path}: not a readable image ({type(exc).__name__}); allowed {', '.join(IMAGE_SUFFIXES)}") from None


def load_image(path: str | Path, key: str, repeat: bool = False) -> str:
    """Register the image file at ``path`` as RGBA (tiled if ``repeat``) and return its key;
    ``key`` names the config key in errors."""
    return _register_image(_read_rgba(path, key), repeat)


def _linear(srgb_u8: np.ndarray) -> np.ndarray:
    """uint8 sRGB codes (any shape) -> float64 linear light in [0, 1]."""
    return srgb_to_linear(srgb_u8.astype(np.float64) / 255.0)


def _unit_box(points: np.ndarray) -> tuple[np.ndarray, float]:
    lo, hi = points.min(0), points.max(0)
    extent = float((hi - lo).max())
    return (lo + hi) / 2, extent


def load_mesh(path: str | Path, key: str = "object.mesh") -> Asset:
    """Load and register the mesh file at ``path`` (all of a glTF scene's meshes, merged).

    Normals come from the file (or trimesh computes them), creased at 45 degrees; UVs and the
    base-colour texture (sRGB; times glTF's linear base-colour factor) or the vertex / face colours
    (read as sRGB, as PLY and OBJ writers mean them) are kept.
    Raises ``ValueError`` (one line) when the file does not load or holds no triangles.
    """
    import trimesh

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{key}={path}: no such file")
    sha = file_sha256(path)
    name = f"mesh:{sha[:16]}"
    try:
        mesh = trimesh.load(str(path), force="mesh", process=False)
    except Exception as exc:  # trimesh raises many types for a bad file
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{key}={path}: could not load as a mesh ({reason}); allowed {', '.join(MESH_SUFFIXES)}") from None
    faces = np.asarray(getattr(mesh, "faces", np.zeros((0, 3))), dtype=np.int64).reshape(-1, 3)
    vertices = np.asarray(getattr(mesh, "vertices", np.zeros((0, 3))), dtype=np.float64).reshape(-1, 3)
    if not len(faces) or not len(vertices):
        raise ValueError(f"{key}={path}: holds no triangles (a point cloud or an empty scene?)")
    centre, extent = _unit_box(vertices[faces.ravel()])
    if not extent > 0:
        raise ValueError(f"{key}={path}: its triangles have no extent")
    corners = faces.ravel()
    face_normals = np.repeat(np.asarray(mesh.face_normals, dtype=np.float64), 3, axis=0)
    smooth = np.asarray(mesh.vertex_normals, dtype=np.float64)[corners]
    normals = np.where((np.sum(smooth * face_normals, axis=1) >= _CREASE_COS)[:, None], smooth, face_normals)
    uv = np.zeros((len(corners), 2))
    color = np.ones((len(corners), 4))
    image = ""
    visual = mesh.visual
    if visual.kind == "texture":
        material = visual.material
        pbr = material.to_pbr() if hasattr(material, "to_pbr") else material
        factor = getattr(pbr, "baseColorFactor", None)
        # glTF's base-colour factor is linear RGBA (trimesh keeps it as uint8).
        color[:] = 1.0 if factor is None else np.asarray(factor, dtype=np.float64) / 255.0
        texture = getattr(pbr, "baseColorTexture", None)
        if texture is not None and visual.uv is not None and len(visual.uv) == len(vertices):
            uv = np.asarray(visual.uv, dtype=np.float64)[corners]
            image = _register_image(np.asarray(texture.convert("RGBA")), repeat=True)
    elif visual.kind == "vertex":
        color = np.c_[_linear(np.asarray(visual.vertex_colors)[corners, :3]), np.asarray(visual.vertex_colors)[corners, 3] / 255.0]
    elif visual.kind == "face":
        rgba = np.repeat(np.asarray(visual.face_colors), 3, axis=0)
        color = np.c_[_linear(rgba[:, :3]), rgba[:, 3] / 255.0]
    colored = not np.allclose(color, 1.0)  # white vertex colours need no VERTEX_COLOR pass
    data = np.c_[(vertices[corners] - centre) / extent, normals, uv, color]
    return Asset(_register_mesh(name, data), image, colored, sha)


def load_sprite(path: str | Path, key: str = "object.sprite") -> Asset:
    """Register the RGBA image at ``path`` as a cut-out: a card in the plane z = 0 facing +z,
    cropped to the texels with alpha >= 0.5 (so tracks' boxes fit the visible object), its longer
    side 1 m. The renderer discards texels below the cut-off in every pass, so instance masks,
    visibility and shadows follow the alpha. Raises ``ValueError`` (one line) for a file that is
    not an image or has no opaque texel."""
    rgba = _read_rgba(path, key)
    sha = file_sha256(path)
    rows, cols = np.nonzero(rgba[..., 3] >= ALPHA_CUTOFF * 255)
    if not len(rows):
        raise ValueError(f"{key}={path}: no texel has alpha >= {ALPHA_CUTOFF} (nothing to cut out)")
    crop = rgba[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    h, w = crop.shape[:2]
    half = np.array([w, h], dtype=np.float64) / (2 * max(w, h))
    # Two triangles, counter-clockwise from +z; v = 0 at the image's bottom row (GL convention).
    xy = np.array([[-1, -1], [1, -1], [1, 1], [-1, -1], [1, 1], [-1, 1]], dtype=np.float64)
    uv = (xy + 1) / 2
    data = np.c_[xy * half, np.zeros(6), np.tile([0.0, 0.0, 1.0], (6, 1)), uv, np.ones((6, 4))]
    image = _register_image(crop)
    return Asset(_register_mesh(f"sprite:{sha[:16]}", data), image, False, sha)


def textured_plane(repeat: float) -> str:
    """Register a unit plane in y = 0 facing +y (like ``meshes.plane``) whose UVs tile its
    texture ``repeat`` times across, and return its shape name."""
    xz = np.array([[-0.5, 0.5], [0.5, 0.5], [0.5, -0.5], [-0.5, 0.5], [0.5, -0.5], [-0.5, -0.5]])
    uv = (xz * [1, -1] + 0.5) * repeat
    data = np.c_[xz[:, 0], np.zeros(6), xz[:, 1], np.tile([0.0, 1.0, 0.0], (6, 1)), uv, np.ones((6, 4))]
    return _register_mesh(f"plane-uv:{repeat:g}", data)


def files_in(directory: str | Path, suffixes: tuple[str, ...], key: str) -> list[str]:
    """Paths (relative to ``directory``, sorted, ``/``-separated) of its files with ``suffixes``,
    searched recursively. ``ValueError`` if it is not a directory or holds none."""
    root = Path(directory)
    if not root.is_dir():
        raise ValueError(f"{key}={directory}: not a directory")
    found = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    if not found:
        raise ValueError(f"{key}={directory}: holds no {', '.join(suffixes)} files")
    return found


def side_rng(rng: np.random.Generator, key: str) -> np.random.Generator:
    """A generator keyed by the seed of a sample's generator ``rng`` and a parameter key: draws
    from it (which file of a folder, which crop of a photo) leave the sample's main stream, and so
    every other parameter, where they were, and are the same for every member of a sweep group."""
    entropy = rng.bit_generator.seed_seq.entropy
    return np.random.default_rng(np.random.SeedSequence([int(entropy), zlib.crc32(key.encode())]))


def load_photo_crop(path: str | Path, key: str, aspect: float, scale: float, fx: float, fy: float) -> str:
    """Register a crop of the photo at ``path`` and return its key: the largest rectangle of
    width / height ``aspect`` inside the photo, shrunk by ``scale`` (0..1], its top-left corner at
    fractions ``fx``, ``fy`` (0..1) of the room left in the photo."""
    rgba = _read_rgba(path, key)
    h, w = rgba.shape[:2]
    cw = min(w, h * aspect) * scale
    ch = cw / aspect
    x0, y0 = int(round(fx * (w - cw))), int(round(fy * (h - ch)))
    crop = rgba[y0 : y0 + max(1, int(round(ch))), x0 : x0 + max(1, int(round(cw)))]
    return _register_image(crop)
